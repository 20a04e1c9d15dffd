import { sql } from 'kysely';
import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { partnerIdOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { isUniqueViolation } from '../access/pg-errors.ts';
import { newId } from '../platform/ids.ts';
import { formatDecimal, isCurrency } from '../money/money.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { postEntry, type PostingInput } from '../ledger/post-entry.ts';
import { chargeWallet } from '../wallet/charge-wallet.ts';
import { CALL_ID_KEY } from './ingest-calls.ts';
import { releaseReservation, settleReservation } from '../wallet/reservations.ts';
import { lockWallet } from '../wallet/wallets.repo.ts';
import { alreadyCharged, callRateOf, findLiveCall, holdOf, liveCallView, liveCallViewSchema, rateSeconds, type LiveCallView } from './live-calls.repo.ts';

export const endLiveCallBody = z.strictObject({ durationSeconds: z.number().int().min(0).max(86_400) });

export const endLiveCallResultSchema = z.object({
  outcome: z.enum(['charged', 'duplicate']),
  callId: z.string(),
  detail: z.string(),
  /** Null when the call id was charged by a batch and never started live. */
  call: liveCallViewSchema.nullable(),
});
export type EndLiveCallResult = z.infer<typeof endLiveCallResultSchema>;

/**
 * A call ended: rate min(duration, covered seconds) on the call's own rate, settle the hold with the charge (price and
 * its tax at the rate copied at start, ADR 0032: price to `revenue:usage`, tax to `tax_payable`, cost to `platform_payable`) and write its `usage_calls` row — one transaction, one audit event
 * (`usage.live_call_ended`) named by the entry. A call id charged already answers `duplicate` and charges nothing.
 *
 * The call-id namespace is shared with the batch (`POST /usage/calls`): whoever inserts the `usage_calls` row first
 * charges the call. The row names its journal entry, checked when its statement ends (migration 0045), so it is written
 * after the entry. A batch that charged the same call id meanwhile (its row committed between this transaction's look
 * and its insert) stops the insert at the calls' unique key: the whole transaction is rolled back and run again, and
 * then sees the call charged elsewhere.
 */
export async function endLiveCall(ctx: Ctx, input: { callId: string; durationSeconds: number }): Promise<EndLiveCallResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await endLiveCallOnce(ctx, input);
    } catch (err) {
      if (!(err instanceof ChargedMeanwhileError) || attempt >= MAX_ATTEMPTS) throw err;
    }
  }
}

/** Runs of the ending transaction at most: a second sees the concurrent charge that stopped the first. */
const MAX_ATTEMPTS = 3;

class ChargedMeanwhileError extends Error {
  constructor() {
    super('the call id was charged by another transaction meanwhile');
  }
}

async function endLiveCallOnce(ctx: Ctx, input: { callId: string; durationSeconds: number }): Promise<EndLiveCallResult> {
  const partnerId = partnerIdOf(ctx.principal);
  return inScope(ctx.db, { kind: 'partner', partnerId }, async (trx) => {
    const found = await findLiveCall(trx, partnerId, input.callId);
    if (!found) {
      if (await alreadyCharged(trx, partnerId, input.callId)) {
        return { outcome: 'duplicate', callId: input.callId, detail: 'This call id was charged before; nothing changed', call: null };
      }
      throw notFound('Live call');
    }
    const wallet = { partnerId, customerId: found.customerId, currency: found.currency };
    await lockWallet(trx, wallet);
    const call = (await findLiveCall(trx, partnerId, input.callId, { forUpdate: true }))!;
    if (call.status === 'ended') {
      return { outcome: 'duplicate', callId: call.callId, detail: 'This call ended before; nothing changed', call: liveCallView(call, await holdOf(trx, partnerId, call.reservationId)) };
    }
    if (call.status === 'failed') throw new DomainError('state_conflict', `Call ${call.callId} failed: it cannot end`);
    const currency = isCurrency(call.currency) ? call.currency : 'SGD';
    const hold = await holdOf(trx, partnerId, call.reservationId);

    // Charged by a batch already (committed before this look): release the hold, charge nothing more.
    if (await alreadyCharged(trx, partnerId, call.callId)) {
      if (hold?.status === 'active') await releaseReservation(trx, { partnerId, reservationId: call.reservationId! });
      await recordAudit(trx, ctx, {
        partnerId, customerId: call.customerId, app: 'usage', action: 'usage.live_call_ended', targetType: 'call', targetId: call.id,
        changes: { callId: { after: call.callId }, chargedElsewhere: { after: true }, durationSeconds: { after: input.durationSeconds } },
      });
      const closed = await trx
        .updateTable('liveCalls').set({ status: 'ended', chargedElsewhere: true, durationSeconds: input.durationSeconds, closedAt: sql`now()` })
        .where('partnerId', '=', partnerId).where('id', '=', call.id)
        .returningAll().executeTakeFirstOrThrow();
      return { outcome: 'duplicate', callId: call.callId, detail: 'This call id was charged before (by a batch); the hold was released and nothing more charged', call: liveCallView(closed, await holdOf(trx, partnerId, call.reservationId)) };
    }

    const chargedSeconds = Math.min(input.durationSeconds, call.coveredSeconds);
    const rated = rateSeconds(callRateOf(call), chargedSeconds);
    // What the points pay: the price and its tax, at the rate copied when the call started (ADR 0032).
    const chargeMicros = rated.priceMicros + rated.taxMicros;
    const entryId = rated.priceMicros > 0n || rated.costMicros > 0n ? newId('je') : null;
    const auditEventId = await recordAudit(trx, ctx, {
      partnerId, customerId: call.customerId, app: 'usage', action: 'usage.live_call_ended', targetType: 'call', targetId: call.id,
      changes: {
        callId: { after: call.callId }, durationSeconds: { after: input.durationSeconds }, billedSeconds: { after: rated.billedSeconds },
        amount: { after: formatDecimal(chargeMicros, currency, 6) }, tax: { after: formatDecimal(rated.taxMicros, currency, 6) },
        hold: { before: formatDecimal(BigInt(call.holdMicros), currency, 6) },
      },
    });
    const costPostings: PostingInput[] = rated.costMicros > 0n
      ? [{ code: 'cost:usage', amountMicros: rated.costMicros }, { code: 'platform_payable', amountMicros: -rated.costMicros }]
      : [];
    const entry = { entryId: entryId ?? undefined, kind: 'call_charge', causeType: 'call', causeId: call.id, description: `Call to ${call.toNumber}, ${rated.billedSeconds} s`, auditEventId };
    const taxPostings: PostingInput[] = rated.taxMicros > 0n ? [{ code: 'tax_payable', amountMicros: -rated.taxMicros }] : [];
    const charge = chargeMicros > 0n
      ? {
        amountMicros: chargeMicros, useCreditLimit: call.useCreditLimit, entry,
        counterPostings: [{ code: 'revenue:usage' as const, amountMicros: -rated.priceMicros }, ...taxPostings, ...costPostings],
      }
      : null;
    if (hold?.status === 'active') {
      await settleReservation(trx, { partnerId, reservationId: call.reservationId!, charge });
    } else if (charge) {
      // The hold expired (the worker released it): charge as a batch record would, if usable points still cover it.
      await chargeWallet(trx, { ...charge, wallet });
    }
    if (!charge && costPostings.length > 0) {
      await postEntry(trx, { ...entry, partnerId, currency: call.currency, customerId: call.customerId, postings: costPostings });
    }
    // After the entry it names. No "on conflict": the look above found the call id free, so a conflict here is a
    // batch that committed it meanwhile, and the transaction starts over (endLiveCall).
    try {
      await trx
        .insertInto('usageCalls')
        .values({
          id: call.id, partnerId, customerId: call.customerId, callId: call.callId, fromNumber: call.fromNumber, toNumber: call.toNumber,
          direction: call.direction, startedAt: call.startedAt, durationSeconds: input.durationSeconds, billedSeconds: rated.billedSeconds,
          prefix: call.prefix, currency: call.currency, priceMicros: rated.priceMicros, costMicros: rated.costMicros, taxMicros: rated.taxMicros, taxRateBps: call.taxRateBps, zeroRated: call.zeroRated, entryId,
        })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err) && (err as { constraint?: unknown }).constraint === CALL_ID_KEY) throw new ChargedMeanwhileError();
      throw err;
    }
    const ended = await trx
      .updateTable('liveCalls')
      .set({
        status: 'ended', durationSeconds: input.durationSeconds, billedSeconds: rated.billedSeconds, priceMicros: rated.priceMicros,
        costMicros: rated.costMicros, taxMicros: rated.taxMicros, entryId, closedAt: sql`now()`,
      })
      .where('partnerId', '=', partnerId).where('id', '=', call.id)
      .returningAll().executeTakeFirstOrThrow();
    const view: LiveCallView = liveCallView(ended, await holdOf(trx, partnerId, call.reservationId));
    const cut = input.durationSeconds > call.coveredSeconds ? ` (${input.durationSeconds} s reported; charged up to the ${call.coveredSeconds} s covered)` : '';
    return { outcome: 'charged', callId: call.callId, detail: `Charged ${view.amount} ${call.currency} for ${rated.billedSeconds} s${cut}`, call: view };
  });
}
