import type { Logger } from 'pino';
import type { Principal } from '../platform/context.ts';
import { systemClock, type Clock } from '../platform/clock.ts';
import { inScope, type Db } from '../platform/database.ts';
import type { Gateway } from '../gateway/gateway.ts';
import { askAboutStaleCharge, countSettled, missProvesNothingCharged, type StaleSettleCounts } from '../gateway/stale-charge.ts';
import { chargeKey } from './charge-top-up.ts';
import { completeTopUp, keptPendingOutcome, type AuditActor, type TopUpOutcome } from './complete-top-up.ts';
import { lockTopUp } from './top-up-views.ts';

/**
 * The worker's settling of card top-ups whose charge answer was lost: a portal or automatic top-up is committed
 * `pending` before its card is charged, and completed from the charge's answer. A crash, a timeout or a lost answer in
 * between leaves it pending with no charge reference; the gateway's webhook completes a charge that was made, but one
 * that never reached the gateway, or whose webhook stopped being retried, left it pending for good. Every few minutes
 * (the `settle_stale_top_ups` cron task) this asks the gateway what became of each such top-up, oldest first, a
 * bounded batch per run, once it is STALE_TOP_UP_MINUTES old, and completes it as the charge's own answer would have
 * (the same rules as the invoice payments' settler, src/invoices/settle-stale-pay-attempts.ts):
 * - succeeded: points, the paid Top-up invoice, the receipt (completeTopUp); should its invoice number have been issued
 *   meanwhile, it stays pending with its charge and the reason (docs/adr/0041, third amendment);
 * - failed at the gateway: failed with the card's reason, the person told;
 * - pending (a delayed card): its charge reference recorded; the webhook completes it;
 * - not found: nothing was charged: failed (`not_received`), the person told — only once the request is older than the
 *   gateway's lookup lag too, counted from the last time it was sent (its creation, or a portal retry: `resumed_at`).
 * Renewal top-ups are not its business: the renewal run charges them again with the same key. Each top-up is settled
 * in ONE transaction, only if still pending with no charge reference once locked; whoever settled it meanwhile wins.
 * A gateway error, an answer that does not match (amount, currency) or any error of one top-up leaves it for the next
 * run and does not stop the others.
 */
export const SETTLE_STALE_TOP_UPS_TASK = 'settle_stale_top_ups';
/** A pending top-up is asked about once this old: the card request gives up within 90 seconds (Stripe adapter: 30 s, three tries). */
export const STALE_TOP_UP_MINUTES = 10;
/** How many top-ups one run asks about at most (oldest first); the rest wait for the next run. */
export const SETTLE_STALE_TOP_UPS_BATCH = 100;
/** The failure code of a top-up whose charge request never reached the gateway (nothing was charged). */
export const NOT_RECEIVED = 'not_received';

export interface SettleStaleTopUpsDeps {
  db: Db;
  gateway: Gateway;
  log: Logger;
  clock?: Clock;
}

/** Top-ups asked about, and what became of them (StaleSettleCounts). */
export interface SettleStaleTopUpsResult extends StaleSettleCounts {
  examined: number;
}

const ACTOR: AuditActor = { principal: { kind: 'system', job: SETTLE_STALE_TOP_UPS_TASK } satisfies Principal, requestId: null, ip: null, userAgent: null };

export async function settleStaleTopUps(deps: SettleStaleTopUpsDeps, options: { limit?: number } = {}): Promise<SettleStaleTopUpsResult> {
  const clock = deps.clock ?? systemClock;
  const staleBefore = new Date(clock.now().getTime() - STALE_TOP_UP_MINUTES * 60_000);
  const result: SettleStaleTopUpsResult = { examined: 0, succeeded: 0, failed: 0, pending: 0, notReceived: 0, untouched: 0, errors: 0 };
  const candidates = await inScope(deps.db, { kind: 'system' }, (trx) => trx.selectFrom('topUps')
    .select(['id', 'partnerId', 'currency', 'amountMicros', 'feeMicros', 'createdAt', 'resumedAt'])
    .where('status', '=', 'pending').where('chargeRef', 'is', null).where('renewalFor', 'is', null)
    .where('gateway', '=', deps.gateway.name).where('createdAt', '<=', staleBefore)
    .orderBy('createdAt').orderBy('id').limit(options.limit ?? SETTLE_STALE_TOP_UPS_BATCH)
    .execute());

  for (const topUp of candidates) {
    result.examined++;
    const log = deps.log.child({ topUpId: topUp.id, partnerId: topUp.partnerId });
    const askedAtMs = clock.now().getTime();
    const answer = await askAboutStaleCharge(deps.gateway, {
      lookup: { idempotencyKey: chargeKey(topUp.id), reference: { key: 'topUpId', value: topUp.id } },
      currency: topUp.currency, amountMicros: BigInt(topUp.amountMicros) + BigInt(topUp.feeMicros), staleMinutes: STALE_TOP_UP_MINUTES, sent: topUp, askedAtMs,
    }, log, 'top-up');
    if (answer.kind === 'skip') {
      result[answer.counted]++;
      continue;
    }
    const found = answer.found;
    const outcome: TopUpOutcome = !found
      ? { status: 'failed', code: NOT_RECEIVED, chargeRef: null, reason: 'the card gateway never received this charge (its answer was lost before it arrived); nothing was charged' }
      : found.status === 'failed'
        ? { status: 'failed', code: found.failureCode, reason: found.failureReason, chargeRef: found.chargeRef }
        : { status: found.status, chargeRef: found.chargeRef };
    try {
      const settle = (o: TopUpOutcome) => inScope(deps.db, { kind: 'partner', partnerId: topUp.partnerId }, async (trx) => {
        const locked = await lockTopUp(trx, topUp.partnerId, topUp.id);
        if (!locked || locked.status !== 'pending' || locked.chargeRef !== null) return false; // settled meanwhile: theirs stands
        if (!found && !missProvesNothingCharged(deps.gateway, STALE_TOP_UP_MINUTES, { createdAt: topUp.createdAt, resumedAt: locked.resumedAt }, askedAtMs)) return false; // a retry sent it again meanwhile
        return (await completeTopUp(trx, ACTOR, { partnerId: topUp.partnerId, topUpId: topUp.id, outcome: o, source: 'webhook' })).applied;
      });
      let settled: boolean;
      try {
        settled = await settle(outcome);
      } catch (err) {
        // Charged, but its invoice number was issued meanwhile: kept pending with its charge; the webhook completes it later.
        const pending = keptPendingOutcome(err, outcome);
        if (!pending) throw err;
        settled = await settle(pending);
      }
      countSettled(result, found, settled, log, 'top-up');
    } catch (err) {
      log.error({ err }, 'could not settle a stale top-up; left pending for the next run');
      result.errors++;
    }
  }
  return result;
}
