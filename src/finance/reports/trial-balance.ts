import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Currency } from '../../money/money.ts';
import type { Ctx } from '../../platform/context.ts';
import { scopeOf } from '../../platform/context.ts';
import { inScope, type Executor } from '../../platform/database.ts';
import { partnerCaller } from '../../access/caller.ts';
import { DomainError } from '../../platform/errors.ts';
import { csvRow } from '../../audit/csv.ts';
import { money, reportCurrency, reportDay, type ReportInput } from './report-common.ts';

export const trialBalanceSchema = z.object({
  currency: z.string(),
  asOf: z.string().describe('YYYY-MM-DD: balances at the end of this day (UTC); today or a past day (a day to come is a 422 rule_violation naming asOf)'),
  byCustomer: z.boolean(),
  rows: z.array(z.object({
    code: z.string().describe('ledger account code (bank, receivable, points, revenue:usage, ...)'),
    kind: z.string().describe('asset, liability, revenue, contra_revenue or expense'),
    customer: z.object({ id: z.string(), name: z.string() }).nullable().describe('byCustomer: the customer of a customer account'),
    customers: z.number().int().nullable().describe('a customer account code aggregated: how many customer accounts it sums; null otherwise'),
    debit: z.string().describe('positive balance, decimal string; "0.00" when the balance is a credit'),
    credit: z.string().describe('negative balance shown positive'),
  })),
  totals: z.object({ debit: z.string(), credit: z.string() }),
  balanced: z.boolean().describe('total debits equal total credits (always true: a difference is an invariant broken, answered 500)'),
});
export type TrialBalance = z.infer<typeof trialBalanceSchema>;

export interface TrialBalanceInput extends ReportInput {
  byCustomer?: boolean | undefined;
}

interface BalanceRow {
  code: string;
  kind: string;
  customerId: string | null;
  name: string | null;
  customers: number | null;
  balance: string;
}

/**
 * Balances of every ledger account of one partner and currency at the end of `endOfDay`'s day. Today (`current`): the
 * balances the posting trigger keeps on the account rows. A past day: each balance less the postings posted after that day
 * (equal to the sum of the postings posted up to it, checkLedger's invariant, and far fewer rows to read for a recent day);
 * accounts opened after that day (no balance then) are left out. Customer accounts are summed per code unless `byCustomer`.
 */
export function trialBalanceQuery(partnerId: string, currency: Currency, opts: { current: boolean; endOfDay: Date; byCustomer: boolean }) {
  const later = opts.current
    ? sql`select null::text as account_id, 0::numeric as total where false`
    : sql`select p.account_id, sum(p.amount_micros) as total from postings p
          where p.partner_id = ${partnerId} and p.currency = ${currency} and p.posted_at >= ${opts.endOfDay}
          group by p.account_id`;
  // An account opened after the day had no postings by then: left out, unless (mis-dated) it had a balance.
  const opened = opts.current ? sql`true` : sql`(a.created_at < ${opts.endOfDay} or a.balance_micros <> coalesce(l.total, 0))`;
  const balances = sql`
    select a.code, a.kind, a.customer_id, a.balance_micros - coalesce(l.total, 0) as balance
    from ledger_accounts a left join later l on l.account_id = a.id
    where a.partner_id = ${partnerId} and a.currency = ${currency} and ${opened}`;
  return opts.byCustomer
    ? sql<BalanceRow>`
        with later as (${later}), b as (${balances})
        select b.code, b.kind, b.customer_id as "customerId", c.name, null::int as customers, b.balance::text as balance
        from b left join customers c on c.id = b.customer_id and c.partner_id = ${partnerId}
        order by b.code, c.name nulls first, b.customer_id`
    : sql<BalanceRow>`
        with later as (${later}), b as (${balances})
        select b.code, min(b.kind) as kind, null::text as "customerId", null::text as name,
          case when bool_or(b.customer_id is not null) then count(b.customer_id)::int end as customers, sum(b.balance)::text as balance
        from b group by b.code order by b.code`;
}

export async function trialBalanceRows(
  db: Executor, partnerId: string, currency: Currency, opts: { current: boolean; endOfDay: Date; byCustomer: boolean },
): Promise<BalanceRow[]> {
  return (await trialBalanceQuery(partnerId, currency, opts).execute(db)).rows;
}

/**
 * The first journal entry of the partner's currency that does not balance at the end of a past day: its postings are
 * posted on both sides of the day's end (an entry's postings carry one `posted_at`; demo data once broke that). Read only
 * when the totals differ, to name it in the assertion; null when none is (then the stored balances are at fault:
 * `npm run ledger:check`).
 */
async function firstEntrySplitAt(db: Executor, partnerId: string, currency: Currency, endOfDay: Date): Promise<string | null> {
  const { rows } = await sql<{ entryId: string }>`
    select p.entry_id as "entryId" from postings p
     where p.partner_id = ${partnerId} and p.currency = ${currency}
       and p.entry_id in (select l.entry_id from postings l where l.partner_id = ${partnerId} and l.currency = ${currency} and l.posted_at >= ${endOfDay})
     group by p.entry_id
    having coalesce(sum(p.amount_micros) filter (where p.posted_at < ${endOfDay}), 0) <> 0
     order by p.entry_id limit 1`.execute(db);
  return rows[0]?.entryId ?? null;
}

/**
 * The trial balance of the partner's ledger in one currency (issue 6 §4): every account, debits and credits, equal totals.
 * `asOf` is today or a past day: a day to come has no balances yet (today's would be shown as if they were its), so it is
 * refused with a 422 rule_violation naming `asOf` (a well-formed day against the report's rule: docs/adr/0040). Unequal totals are a broken invariant (every
 * entry balances): an assertion (500, logged) whose message names the first entry split across the day's end.
 */
export async function getTrialBalance(ctx: Ctx, input: TrialBalanceInput): Promise<TrialBalance> {
  const { partnerId } = partnerCaller(ctx.principal);
  const { asOf, today, endOfDay } = reportDay(ctx, input.asOf);
  if (asOf > today) {
    throw new DomainError('rule_violation', `asOf ${asOf} is after today (${today}, UTC): a trial balance is drawn up at today or a past day`,
      [{ path: 'asOf', message: `a day up to today (${today})` }]);
  }
  const byCustomer = input.byCustomer ?? false;
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const currency = await reportCurrency(trx, partnerId, input.currency);
    const current = asOf === today;
    const rows = await trialBalanceRows(trx, partnerId, currency, { current, endOfDay, byCustomer });
    let debit = 0n;
    let credit = 0n;
    const shown = rows.map((r) => {
      const balance = BigInt(r.balance);
      if (balance > 0n) debit += balance;
      else credit -= balance;
      return {
        code: r.code, kind: r.kind, customer: r.customerId ? { id: r.customerId, name: r.name ?? '' } : null, customers: r.customers,
        debit: money(balance > 0n ? balance : 0n, currency), credit: money(balance < 0n ? -balance : 0n, currency),
      };
    });
    if (debit !== credit) {
      const entryId = current ? null : await firstEntrySplitAt(trx, partnerId, currency, endOfDay);
      assert.fail(`trial balance of ${partnerId} ${currency} at ${asOf}: debits ${debit} <> credits ${credit}; ${entryId
        ? `first unbalanced entry at that day: ${entryId} (its postings are dated on both sides of the day's end)`
        : 'no entry is split across the day: the stored balances disagree with their postings (npm run ledger:check)'}`);
    }
    return { currency, asOf, byCustomer, rows: shown, totals: { debit: money(debit, currency), credit: money(credit, currency) }, balanced: true };
  });
}

export const TRIAL_BALANCE_CSV_HEADER = ['code', 'kind', 'customerId', 'customer', 'customers', 'currency', 'asOf', 'debit', 'credit'] as const;

/** The same report as CSV: header, one line per account (or code), then a `TOTAL` line. */
export function trialBalanceCsv(report: TrialBalance): string {
  return csvRow(TRIAL_BALANCE_CSV_HEADER)
    + report.rows.map((r) => csvRow([r.code, r.kind, r.customer?.id, r.customer?.name, r.customers, report.currency, report.asOf, r.debit, r.credit])).join('')
    + csvRow(['TOTAL', null, null, null, null, report.currency, report.asOf, report.totals.debit, report.totals.credit]);
}
