import { sql } from 'kysely';
import type { Principal } from '../platform/context.ts';
import { inScope, type Trx } from '../platform/database.ts';
import { newId } from '../platform/ids.ts';
import { formatDecimal } from '../money/money.ts';
import { readWallet, usableMicrosSql } from '../wallet/wallets.repo.ts';
import { utcDay } from './dates.ts';
import { feeFor, policyInForce } from './top-up-policy.ts';
import { chargeAndComplete, type TopUpDeps } from './charge-top-up.ts';
import { completeTopUp, type AuditActor } from './complete-top-up.ts';
import { currencyOf, selectTopUps, type TopUpRow } from './top-up-views.ts';
import { takenTopUpNumber } from './top-up-number.ts';

/**
 * Auto top-up, run by the worker every minute (src/topup/topup-tasks.ts): customers with auto top-up on, whose usable
 * points are at or below their threshold and who had no attempt today (UTC), a bounded batch at a time. A suspended
 * organisation is topped up as an active one: its renewals still charge its points (ADR 0038, decision 4) and its owner
 * may still top up by hand, so the standing instruction keeps running; a closed one never (ADR 0038, amendment of
 * 2026-12-07, second). Each one is handled on its own:
 * 1. One transaction: the settings row locked (SKIP LOCKED: two workers never take the same customer), everything
 *    checked again, the day marked as attempted, and the top-up row written `pending` with `auto_for_date` = today
 *    (unique per customer and day: at most one a day even if the day mark were lost). A policy that refuses the
 *    amount, or a missing card, fails the top-up right there (notified, audited, listed).
 * 2. The saved card charged outside any transaction, then completed like a portal top-up (entry kind `auto_top_up`).
 * Failures are never silent: the top-up is `failed` with its reason, the owner gets `auto_top_up_failed`, the trail
 * has `top_up.failed`.
 */
export const AUTO_TOP_UP_ACTOR: AuditActor = { principal: { kind: 'system', job: 'auto_top_up' } satisfies Principal, requestId: null, ip: null, userAgent: null };

export interface SweepResult {
  attempted: number;
  succeeded: number;
  pending: number;
  failed: number;
}

export async function runAutoTopUpSweep(deps: TopUpDeps, options: { now?: Date; limit?: number } = {}): Promise<SweepResult> {
  const now = options.now ?? new Date();
  const today = utcDay(now);
  const limit = options.limit ?? 100;
  const due = await inScope(deps.db, { kind: 'system' }, async (trx) => {
    const { rows } = await sql<{ partnerId: string; customerId: string }>`
      select s.partner_id as "partnerId", s.customer_id as "customerId"
      from auto_top_up_settings s
      join customers c on c.partner_id = s.partner_id and c.id = s.customer_id and c.status <> 'closed'
      left join wallets w on w.partner_id = s.partner_id and w.customer_id = s.customer_id and w.currency = s.currency
      left join ledger_accounts a on a.id = w.points_account_id
      where s.enabled
        and (s.last_attempted_on is null or s.last_attempted_on < ${today}::date)
        and coalesce(${usableMicrosSql(now)}, 0)
            <= s.threshold_micros
      order by s.last_attempted_on nulls first, s.customer_id
      limit ${limit}`.execute(trx);
    return rows;
  });
  const result: SweepResult = { attempted: 0, succeeded: 0, pending: 0, failed: 0 };
  for (const c of due) {
    try {
      const row = await attemptAutoTopUp(deps, c, today);
      if (!row) continue;
      result.attempted++;
      result[row.status === 'succeeded' ? 'succeeded' : row.status === 'pending' ? 'pending' : 'failed']++;
    } catch (err) {
      // One customer's trouble never stops the others; the day is marked only if step 1 committed.
      deps.log.error({ err, customerId: c.customerId }, 'auto top-up attempt failed');
    }
  }
  if (result.attempted > 0) deps.log.info(result, 'auto top-up sweep');
  return result;
}

/** One customer's automatic top-up for `today`, or null when it is not due after all (or another worker has it). */
export async function attemptAutoTopUp(deps: TopUpDeps, key: { partnerId: string; customerId: string }, today: string): Promise<TopUpRow | null> {
  const prepared = await inScope(deps.db, { kind: 'partner', partnerId: key.partnerId }, async (trx) => {
    const settings = await trx
      .selectFrom('autoTopUpSettings')
      .select(['currency', 'enabled', 'thresholdMicros', 'amountMicros', 'savedCardId', sql<string | null>`last_attempted_on::text`.as('lastAttemptedOn')])
      .where('partnerId', '=', key.partnerId).where('customerId', '=', key.customerId)
      .forUpdate().skipLocked()
      .executeTakeFirst();
    if (!settings || !settings.enabled || (settings.lastAttemptedOn !== null && settings.lastAttemptedOn >= today)) return null;
    // Closed since the sweep read it (closing does not wait for this row): a closed organisation buys no points.
    const customer = await trx.selectFrom('customers').select('status').where('partnerId', '=', key.partnerId).where('id', '=', key.customerId).executeTakeFirst();
    if (!customer || customer.status === 'closed') return null;
    const currency = currencyOf(settings.currency);
    const wallet = await readWallet(trx, { ...key, currency });
    if ((wallet?.usableMicros ?? 0n) > BigInt(settings.thresholdMicros)) return null;
    await trx.updateTable('autoTopUpSettings').set({ lastAttemptedOn: today }).where('partnerId', '=', key.partnerId).where('customerId', '=', key.customerId).execute();

    const amount = BigInt(settings.amountMicros);
    const policy = await policyInForce(trx, key.partnerId, currency, today);
    const card = settings.savedCardId === null ? undefined : await trx
      .selectFrom('savedCards').select(['id', 'gatewayCustomerRef', 'methodRef'])
      .where('partnerId', '=', key.partnerId).where('customerId', '=', key.customerId).where('id', '=', settings.savedCardId)
      .where('gateway', '=', deps.gateway.name).where('removedAt', 'is', null)
      .executeTakeFirst();
    const id = newId('top');
    await trx
      .insertInto('topUps')
      .values({
        id, ...key, userId: null, currency, amountMicros: amount, feeMicros: feeFor(policy, amount), status: 'pending', auto: true, autoForDate: today,
        policyEffectiveFrom: policy.effectiveFrom, policyVersionId: policy.versionId, gateway: deps.gateway.name, savedCardId: card?.id ?? null, requestKey: null, chargeRef: null,
        invoiceId: null, entryId: null, failureCode: null, failureReason: null, updatedAt: new Date(), completedAt: null,
      })
      .execute();
    // Refused before any money moves: recorded and told, in this same transaction.
    const refusal = amount < policy.minimumMicros
      ? { code: 'below_minimum', reason: `the auto top-up amount is below the minimum top-up of ${formatDecimal(policy.minimumMicros, currency)} ${currency} now in force` }
      : !card ? { code: 'no_saved_card', reason: 'the saved card for auto top-up is no longer available' } : await numberRefusal(trx, key.partnerId);
    if (refusal) {
      const done = await completeTopUp(trx, AUTO_TOP_UP_ACTOR, { partnerId: key.partnerId, topUpId: id, outcome: { status: 'failed', ...refusal, chargeRef: null }, source: 'charge' });
      return { row: done.row, card: null };
    }
    const row = await selectTopUps(trx, key.partnerId).where('t.id', '=', id).executeTakeFirstOrThrow();
    return { row, card: card! };
  });
  if (!prepared) return null;
  if (!prepared.card) return prepared.row;
  const charged = await chargeAndComplete(deps, AUTO_TOP_UP_ACTOR, prepared.row, {
    kind: 'saved', customerRef: prepared.card.gatewayCustomerRef, methodRef: prepared.card.methodRef,
  });
  if (charged.error) deps.log.warn({ topUpId: prepared.row.id, code: charged.error.code }, 'auto top-up refused by the gateway');
  return charged.row;
}

/**
 * A charge whose paid Top-up invoice could not be numbered is not made (docs/adr/0041): the attempt fails before any
 * money moves, with a reason the owner (told, as of any failed auto top-up) and staff (its audit event) can act on.
 */
async function numberRefusal(trx: Trx, partnerId: string): Promise<{ code: string; reason: string } | null> {
  const taken = await takenTopUpNumber(trx, partnerId, new Date());
  return taken
    ? { code: 'document_number_taken', reason: `the top-up invoice could not be numbered: ${taken.number} was already issued on ${taken.issuedOn}; the provider must change its top-up number format in Portal Settings` }
    : null;
}
