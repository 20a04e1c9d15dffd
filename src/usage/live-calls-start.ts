import { z } from 'zod';
import type { RateTaxCategory } from '../platform/db-types.ts';
import type { Ctx } from '../platform/context.ts';
import { partnerIdOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError, unknownId } from '../platform/errors.ts';
import { newId } from '../platform/ids.ts';
import { formatDecimal, isCurrency } from '../money/money.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { EARLIEST_CALL_START, EARLIEST_CALL_START_MS, FUTURE_START_TOLERANCE_MS } from './ingest-calls.ts';
import { reservePoints } from '../wallet/reservations.ts';
import { lockWallet } from '../wallet/wallets.repo.ts';
import { callRecordSchema } from './call-record.ts';
import { normaliseNumber } from './rating.ts';
import { partnerTaxRateBps } from '../subscriptions/pricing.ts';
import {
  alreadyCharged, callRateOf, coverage, DEFAULT_MAX_SECONDS, defaultPlanOf, findLiveCall, holdOf, HOLD_GRACE_SECONDS, liveCallView,
  longestPrefixRate, MAX_LIVE_CALL_SECONDS, RESERVATION_CAUSE, type LiveCallView,
} from './live-calls.repo.ts';

/** A call starting, as the switch sends it: the batch record's fields without the duration, plus how long it may last. */
export const startLiveCallBody = callRecordSchema.omit({ durationSeconds: true }).extend({
  maxSeconds: z.number().int().min(1).max(MAX_LIVE_CALL_SECONDS).optional().describe(`Longest the call may last; default ${DEFAULT_MAX_SECONDS}`),
});
export type StartLiveCallInput = z.infer<typeof startLiveCallBody>;

class ConcurrentStartError extends Error {
  constructor() {
    super('the same call id was started concurrently');
  }
}

/**
 * A call starts: hold the price of `maxSeconds` (or of as many seconds as usable points cover) on the customer's points,
 * and copy its rate. Starting an active call again answers it unchanged (a retry); a call id that ended, failed or was
 * charged already is 409. See live-calls.repo.ts for the decisions.
 */
export async function startLiveCall(ctx: Ctx, input: StartLiveCallInput): Promise<LiveCallView> {
  const partnerId = partnerIdOf(ctx.principal);
  const outbound = input.direction === 'outbound';
  const destination = normaliseNumber(outbound ? input.to : input.from);
  const origin = normaliseNumber(outbound ? input.from : input.to);
  if (!destination || !origin) {
    const bad = normaliseNumber(input.from) ? 'to' : 'from';
    throw new DomainError('validation_failed', `${bad} must be a phone number`, [{ path: bad, message: 'not a phone number' }]);
  }
  // The batch route's rule (ingest-calls.ts): a call does not start later than a day after now (switch clocks drift).
  if (Date.parse(input.startedAt) > ctx.clock.now().getTime() + FUTURE_START_TOLERANCE_MS) {
    throw new DomainError('rule_violation', 'startedAt: in the future', [{ path: 'startedAt', message: 'in the future (more than a day after now)' }]);
  }
  if (Date.parse(input.startedAt) < EARLIEST_CALL_START_MS) {
    throw new DomainError('rule_violation', `startedAt: before ${EARLIEST_CALL_START}`, [{ path: 'startedAt', message: `before ${EARLIEST_CALL_START}: a switch clock fault?` }]);
  }
  const maxSeconds = input.maxSeconds ?? DEFAULT_MAX_SECONDS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(ctx, partnerId, input, destination, maxSeconds);
    } catch (err) {
      if (!(err instanceof ConcurrentStartError) || attempt >= 2) throw err;
    }
  }
}

async function start(ctx: Ctx, partnerId: string, input: StartLiveCallInput, destination: string, maxSeconds: number): Promise<LiveCallView> {
  return inScope(ctx.db, { kind: 'partner', partnerId }, async (trx) => {
    const customer = await trx.selectFrom('customers').select(['id', 'currency', 'status']).where('partnerId', '=', partnerId).where('id', '=', input.customerId).executeTakeFirst();
    if (!customer) throw unknownId('customer_not_found', 'customerId', 'Customer');
    if (customer.status !== 'active' || !isCurrency(customer.currency)) throw new DomainError('state_conflict', `Customer is ${customer.status}`);
    const currency = customer.currency;
    const wallet = { partnerId, customerId: customer.id, currency };
    // The wallet lock first (as every spend takes it): starts, ends and fails of this customer's calls queue here.
    const locked = await lockWallet(trx, wallet);

    const existing = await findLiveCall(trx, partnerId, input.callId);
    if (existing) {
      if (existing.status === 'active' && existing.customerId === customer.id) return liveCallView(existing, await holdOf(trx, partnerId, existing.reservationId));
      throw new DomainError('state_conflict', `Call ${input.callId} was started before and is ${existing.status === 'active' ? 'running for another customer' : existing.status}`);
    }
    if (await alreadyCharged(trx, partnerId, input.callId)) throw new DomainError('state_conflict', `Call ${input.callId} was charged already`);

    const plan = await defaultPlanOf(trx, partnerId, currency);
    if (!plan) throw new DomainError('rule_violation', `No rate plan in ${currency}`);
    let rateRow: { prefix: string; pricePerMinuteMicros: string; costPerMinuteMicros: string; taxCategory: RateTaxCategory } | null = null;
    if (input.direction === 'outbound') {
      rateRow = (await longestPrefixRate(trx, partnerId, plan.id, destination)) ?? null;
      if (!rateRow) throw new DomainError('rule_violation', `No rate for destination ${input.to}`, [{ path: 'to', message: 'no rate for this destination' }]);
    }
    // The call keeps the tax rate it starts with: the partner's, or 0 for a zero-rated destination (ADR 0032).
    const zeroRated = rateRow?.taxCategory === 'zero_rated';
    const taxRateBps = zeroRated ? 0 : await partnerTaxRateBps(trx, partnerId);
    const snapshot = {
      taxRateBps,
      zeroRated,
      prefix: rateRow?.prefix ?? null,
      pricePerMinuteMicros: rateRow?.pricePerMinuteMicros ?? '0',
      costPerMinuteMicros: rateRow?.costPerMinuteMicros ?? '0',
      firstIncrementSeconds: plan.firstIncrementSeconds,
      nextIncrementSeconds: plan.nextIncrementSeconds,
      minimumChargeMicros: plan.minimumChargeMicros,
    };
    const useCreditLimit = plan.whenInsufficient === 'use_credit_limit';
    const available = useCreditLimit ? locked.usableMicros : locked.pointsMicros - locked.reservedMicros;
    const covered = coverage(callRateOf(snapshot), maxSeconds, available);
    if (!covered) throw new DomainError('insufficient_points', 'Not enough points for the first billing block of this call');

    const id = newId('cal');
    await recordAudit(trx, ctx, {
      partnerId, customerId: customer.id, app: 'usage', action: 'usage.live_call_started', targetType: 'call', targetId: id,
      changes: {
        callId: { after: input.callId }, to: { after: input.to }, direction: { after: input.direction },
        hold: { after: formatDecimal(covered.holdMicros, currency, 6) }, coveredSeconds: { after: covered.coveredSeconds },
      },
    });
    const hold = covered.holdMicros > 0n
      ? await reservePoints(trx, {
        wallet, amountMicros: covered.holdMicros, useCreditLimit, causeType: RESERVATION_CAUSE, causeId: id, ttlSeconds: covered.coveredSeconds + HOLD_GRACE_SECONDS,
      })
      : null;
    const row = await trx
      .insertInto('liveCalls')
      .values({
        id, partnerId, customerId: customer.id, callId: input.callId, fromNumber: input.from, toNumber: input.to, direction: input.direction,
        startedAt: input.startedAt, currency, ratePlanId: plan.id, ...snapshot, useCreditLimit,
        maxSeconds, coveredSeconds: covered.coveredSeconds, holdMicros: covered.holdMicros, reservationId: hold?.id ?? null,
        durationSeconds: null, billedSeconds: null, entryId: null, closedAt: null,
      })
      .onConflict((oc) => oc.columns(['partnerId', 'callId']).doNothing())
      .returningAll()
      .executeTakeFirst();
    // Another customer's start of the same call id committed meanwhile: start over (it is then found above).
    if (!row) throw new ConcurrentStartError();
    return liveCallView(row, hold ? { status: 'active', expiresAt: hold.expiresAt } : null);
  });
}
