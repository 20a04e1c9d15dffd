import type { Logger } from 'pino';
import type { Principal } from '../platform/context.ts';
import { systemClock, type Clock } from '../platform/clock.ts';
import { inScope, type Db } from '../platform/database.ts';
import type { Gateway } from '../gateway/gateway.ts';
import { askAboutStaleCharge, countSettled, missProvesNothingCharged, type StaleSettleCounts } from '../gateway/stale-charge.ts';
import { lockWallet } from '../wallet/wallets.repo.ts';
import { completeInvoicePayment, invoiceChargeKey, type PayOutcome } from './complete-invoice-payment.ts';
import { STALE_PAY_ATTEMPT_MINUTES } from './pay-invoice.ts';

/**
 * The worker's settling of portal pay attempts whose card answer was lost (docs/adr/0013, amendment of 2026-12-05, later): an
 * attempt left `pending` with no charge reference (a crash, a timeout, a lost answer) blocks its invoice (Finance's
 * allocations, credit notes and voids answer 409) and holds the customer's points until something settles it. Every
 * few minutes (the `settle_stale_pay_attempts` cron task) this asks the gateway what became of each such attempt,
 * oldest first, a bounded batch per run, once it is STALE_PAY_ATTEMPT_MINUTES old (the card request gives up within
 * 90 seconds: the Stripe adapter's 30 s timeout, three tries), and settles it as the charge's own answer would have:
 * - succeeded: completed (ONE entry, the invoice paid, the points hold settled, audit, receipt: completeInvoicePayment);
 * - failed (declined at the gateway): failed, the points hold released, the user told;
 * - pending (a delayed card): its charge reference recorded; the gateway's webhook completes it, as any delayed card;
 * - not found: the request never reached the gateway, so nothing was charged: failed (`not_received`), the hold
 *   released, the user told. Only once the attempt is older than the gateway's lookup lag too (`chargeLookupLagMs`:
 *   Stripe's search index may trail its writes by up to an hour during its outages; the sandbox by nothing): before
 *   that a miss proves nothing and the attempt is left for a later run. "Older" counts from the last time a charge
 *   request was sent for it: its creation, or a portal pay that sent it again (`resumed_at`, migration 0056, written
 *   under the wallet lock before the pay sends it). Checked again once locked, against the time the gateway was asked:
 *   a pay that sent it again meanwhile (its request may reach the gateway after the look-up) leaves it pending.
 * Each attempt is settled in ONE transaction, by the system principal, and only if it is still pending with no charge
 * reference once locked (the wallet, then the attempt: the lock order of every money change): a webhook, a portal
 * resume or another run that settled it meanwhile wins and this one changes nothing. A gateway error, an answer that
 * does not match the attempt (amount, currency) or any error of one attempt leaves it as it is for the next run and
 * does not stop the others.
 */
export const SETTLE_STALE_PAY_ATTEMPTS_TASK = 'settle_stale_pay_attempts';
/** How many attempts one run asks about at most (oldest first); the rest wait for the next run. */
export const SETTLE_STALE_PAY_ATTEMPTS_BATCH = 100;

/** The failure code of an attempt whose charge request never reached the gateway (nothing was charged). */
export const NOT_RECEIVED = 'not_received';

export interface SettleStalePayAttemptsDeps {
  db: Db;
  gateway: Gateway;
  log: Logger;
  clock?: Clock;
}

export interface SettleStalePayAttemptsOptions {
  /** At most this many attempts (default SETTLE_STALE_PAY_ATTEMPTS_BATCH). */
  limit?: number;
}

/** Attempts asked about, and what became of them (StaleSettleCounts: completed as paid, failed at the gateway, delayed with its charge recorded, never received; left untouched; errors). */
export interface SettleStalePayAttemptsResult extends StaleSettleCounts {
  examined: number;
}

const ACTOR = {
  principal: { kind: 'system', job: SETTLE_STALE_PAY_ATTEMPTS_TASK } satisfies Principal as Principal,
  requestId: null, ip: null, userAgent: null,
};

export async function settleStalePayAttempts(deps: SettleStalePayAttemptsDeps, options: SettleStalePayAttemptsOptions = {}): Promise<SettleStalePayAttemptsResult> {
  const clock = deps.clock ?? systemClock;
  const now = clock.now();
  const staleBefore = new Date(now.getTime() - STALE_PAY_ATTEMPT_MINUTES * 60_000);
  const result: SettleStalePayAttemptsResult = { examined: 0, succeeded: 0, failed: 0, pending: 0, notReceived: 0, untouched: 0, errors: 0 };
  const candidates = await inScope(deps.db, { kind: 'system' }, (trx) => trx.selectFrom('invoicePayAttempts')
    .select(['id', 'partnerId', 'customerId', 'currency', 'cardMicros', 'createdAt', 'resumedAt'])
    .where('status', '=', 'pending').where('chargeRef', 'is', null).where('cardMicros', '>', '0')
    .where('gateway', '=', deps.gateway.name).where('createdAt', '<=', staleBefore)
    .orderBy('createdAt').orderBy('id').limit(options.limit ?? SETTLE_STALE_PAY_ATTEMPTS_BATCH)
    .execute());

  for (const attempt of candidates) {
    result.examined++;
    const log = deps.log.child({ attemptId: attempt.id, partnerId: attempt.partnerId });
    // A miss proves "never charged" only for requests sent at least this long before the gateway was asked.
    const askedAtMs = clock.now().getTime();
    const answer = await askAboutStaleCharge(deps.gateway, {
      lookup: { idempotencyKey: invoiceChargeKey(attempt.id), reference: { key: 'invoicePaymentAttemptId', value: attempt.id } },
      currency: attempt.currency, amountMicros: BigInt(attempt.cardMicros), staleMinutes: STALE_PAY_ATTEMPT_MINUTES, sent: attempt, askedAtMs,
    }, log, 'invoice payment');
    if (answer.kind === 'skip') {
      result[answer.counted]++;
      continue;
    }
    const found = answer.found;
    const sentLongBefore = (a: { createdAt: Date | string; resumedAt: Date | string | null }) => missProvesNothingCharged(deps.gateway, STALE_PAY_ATTEMPT_MINUTES, a, askedAtMs);
    const outcome: PayOutcome = !found
      ? { status: 'failed', code: NOT_RECEIVED, chargeRef: null, reason: 'the card gateway never received this payment (its answer was lost before it arrived); nothing was charged' }
      : found.status === 'failed'
        ? { status: 'failed', code: found.failureCode, reason: found.failureReason, chargeRef: found.chargeRef }
        : { status: found.status, chargeRef: found.chargeRef };
    try {
      const settled = await inScope(deps.db, { kind: 'partner', partnerId: attempt.partnerId }, async (trx) => {
        await lockWallet(trx, { partnerId: attempt.partnerId, customerId: attempt.customerId, currency: attempt.currency });
        const locked = await trx.selectFrom('invoicePayAttempts').select(['status', 'chargeRef', 'createdAt', 'resumedAt']).where('partnerId', '=', attempt.partnerId)
          .where('id', '=', attempt.id).forUpdate().executeTakeFirstOrThrow();
        if (locked.status !== 'pending' || locked.chargeRef !== null) return false; // settled meanwhile: theirs stands
        if (!found && !sentLongBefore(locked)) return false; // a pay sent it again meanwhile: its request may be on its way
        const completion = await completeInvoicePayment(trx, { ...ACTOR, clock }, {
          partnerId: attempt.partnerId, attempt: { id: attempt.id }, outcome, source: 'webhook',
        });
        return completion.applied;
      });
      countSettled(result, found, settled, log, 'invoice payment');
    } catch (err) {
      log.error({ err }, 'could not settle a stale invoice payment; left pending for the next run');
      result.errors++;
    }
  }
  return result;
}
