import { sql } from 'kysely';
import type { Logger } from 'pino';
import { inScope, type Db, type Trx } from '../platform/database.ts';
import { moneyText } from '../money/money.ts';
import { enqueueNotificationsBulk, recipientsOf, type BulkNotificationInput } from '../subscriptions/renewals/bulk-writes.ts';
import { usableMicrosSql } from './wallets.repo.ts';
import { LOW_BALANCE_DEFAULT_MICROS, LOW_BALANCE_FALLBACK_MICROS } from './low-balance.ts';

/**
 * The low balance sweep, run by the worker every minute (low-balance-tasks.ts), in one system-scope transaction of a
 * few set-based statements, each bounded by `limit`:
 * 1. Arm: every wallet of an open customer (active or suspended: a suspended one's renewals still spend its points, ADR
 *    0038's amendment of 2026-12-07, second; a closed one is never alerted) whose usable points are above its threshold gets a row in state 'above'
 *    (a new row), or goes back to 'above' (from 'alerted'). A wallet that never was above its threshold is never
 *    alerted: a new customer with no points hears nothing.
 * 2. Alert: armed rows (enabled) whose usable points are at or below the threshold, of customers without auto top-up on
 *    in that currency, go to 'alerted' (locked with SKIP LOCKED: two workers never alert the same row twice) and their
 *    organisation's owner (its admins when it has none: `recipientsOf`) gets one `low_balance` notification, in the same
 *    transaction.
 * Usable points are computed as the auto top-up sweep computes them: points - reserved + the credit limit while it has
 * not expired.
 */
export interface LowBalanceSweepDeps {
  db: Db;
  log?: Logger;
}

export interface LowBalanceSweepResult {
  armed: number;
  alerted: number;
}

export const LOW_BALANCE_BATCH = 500;

/** The defaults as a table `d(currency, micros)`; a currency not in it: 5 major units (`LOW_BALANCE_FALLBACK_MICROS`). */
function defaultsCte() {
  const entries = Object.entries(LOW_BALANCE_DEFAULT_MICROS);
  return sql`defaults (currency, micros) as (
    select * from unnest(${entries.map(([c]) => c)}::text[], ${entries.map(([, m]) => m.toString())}::bigint[]))`;
}
const thresholdOf = (alert: string) => sql`coalesce(${sql.ref(`${alert}.threshold_micros`)}, d.micros, ${LOW_BALANCE_FALLBACK_MICROS.toString()}::bigint)`;

export async function runLowBalanceSweep(deps: LowBalanceSweepDeps, options: { now?: Date; limit?: number } = {}): Promise<LowBalanceSweepResult> {
  const now = options.now ?? new Date();
  const limit = options.limit ?? LOW_BALANCE_BATCH;
  const result = await inScope(deps.db, { kind: 'system' }, async (trx) => {
    const armed = await arm(trx, now, limit);
    const alerted = await alert(trx, now, limit);
    return { armed, alerted };
  });
  if (result.armed > 0 || result.alerted > 0) deps.log?.info(result, 'low balance sweep');
  return result;
}

/** Step 1: rows for wallets above their threshold, in state 'above'. Returns how many were armed. */
async function arm(trx: Trx, now: Date, limit: number): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    with ${defaultsCte()},
    above as (
      select w.partner_id, w.customer_id, w.currency
      from wallets w
      join customers c on c.partner_id = w.partner_id and c.id = w.customer_id and c.status <> 'closed'
      join ledger_accounts a on a.id = w.points_account_id
      left join low_balance_alerts l on l.partner_id = w.partner_id and l.customer_id = w.customer_id and l.currency = w.currency
      left join defaults d on d.currency = w.currency
      where (l.state is null or l.state = 'alerted')
        and ${usableMicrosSql(now)} > ${thresholdOf('l')}
      order by w.partner_id, w.customer_id, w.currency
      limit ${limit}),
    armed as (
      insert into low_balance_alerts as l (partner_id, customer_id, currency, state, changed_at)
      select partner_id, customer_id, currency, 'above', ${now}::timestamptz from above
      on conflict (partner_id, customer_id, currency) do update set state = 'above', changed_at = excluded.changed_at
        where l.state = 'alerted'
      returning 1)
    select count(*)::int as n from armed`.execute(trx);
  return rows[0]?.n ?? 0;
}

interface AlertedRow {
  partnerId: string;
  customerId: string;
  currency: string;
  customerName: string;
  usableMicros: string;
  thresholdMicros: string;
}

/** Step 2: armed rows at or below their threshold go to 'alerted', each with its notification. Returns how many. */
async function alert(trx: Trx, now: Date, limit: number): Promise<number> {
  const { rows } = await sql<AlertedRow>`
    with ${defaultsCte()},
    due as (
      select l.partner_id, l.customer_id, l.currency, c.name as customer_name, ${usableMicrosSql(now)} as usable_micros, ${thresholdOf('l')} as threshold_micros
      from low_balance_alerts l
      join customers c on c.partner_id = l.partner_id and c.id = l.customer_id and c.status <> 'closed'
      join wallets w on w.partner_id = l.partner_id and w.customer_id = l.customer_id and w.currency = l.currency
      join ledger_accounts a on a.id = w.points_account_id
      left join defaults d on d.currency = l.currency
      where l.state = 'above' and l.enabled
        and ${usableMicrosSql(now)} <= ${thresholdOf('l')}
        and not exists (
          select 1 from auto_top_up_settings s
          where s.partner_id = l.partner_id and s.customer_id = l.customer_id and s.currency = l.currency and s.enabled)
      order by l.partner_id, l.customer_id, l.currency
      limit ${limit}
      for update of l skip locked)
    update low_balance_alerts l set state = 'alerted', changed_at = ${now}
    from due
    where l.partner_id = due.partner_id and l.customer_id = due.customer_id and l.currency = due.currency
    returning l.partner_id as "partnerId", l.customer_id as "customerId", l.currency, due.customer_name as "customerName",
      due.usable_micros::text as "usableMicros", due.threshold_micros::text as "thresholdMicros"`.execute(trx);
  if (rows.length === 0) return 0;

  const byPartner = new Map<string, AlertedRow[]>();
  for (const r of rows) byPartner.set(r.partnerId, [...(byPartner.get(r.partnerId) ?? []), r]);
  const notifications: BulkNotificationInput[] = [];
  for (const [partnerId, alerted] of byPartner) {
    const recipients = await recipientsOf(trx, partnerId, [...new Set(alerted.map((r) => r.customerId))]);
    for (const r of alerted) {
      const { subject, bodyText } = lowBalanceMessage(r);
      for (const to of recipients.get(r.customerId) ?? []) {
        notifications.push({ partnerId, customerId: r.customerId, userId: to.userId, toEmail: to.email, kind: 'low_balance', subject, bodyText });
      }
    }
  }
  await enqueueNotificationsBulk(trx, notifications);
  return rows.length;
}

/** The subject and text of a low balance notification. */
export function lowBalanceMessage(r: { currency: string; customerName: string; usableMicros: string; thresholdMicros: string }): { subject: string; bodyText: string } {
  const currency = r.currency.trim();
  const money = (micros: string) => moneyText(BigInt(micros), currency);
  const usable = money(r.usableMicros);
  return {
    subject: `Low balance: ${usable} of points left`,
    bodyText: [
      `${r.customerName} has ${usable} of usable points left, at or below your low balance alert of ${money(r.thresholdMicros)}.`,
      '',
      'Calls, renewals and purchases paid from points need usable points: when they run out, calls stop and renewals paid from points fail.',
      '',
      'To top up, open the Points tab of the portal and top up by card, or turn on auto top-up there so that your card tops up your points when they run low.',
      '',
      "You can change this alert's threshold, or turn it off, in the Points tab.",
    ].join('\n'),
  };
}
