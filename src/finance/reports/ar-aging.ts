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

const amount = z.string().describe('decimal string in the report currency');
const bucketsSchema = {
  current: amount.describe('due on or after the as-of day (not yet overdue)'),
  days1To30: amount,
  days31To60: amount,
  days61To90: amount,
  over90: amount,
  totalDue: amount.describe('the receivable: amount due on open Purchase invoices (what receivable:{c} holds, as the trial balance shows it)'),
  unappliedCredit: amount.describe("money received from the customer not yet applied to an invoice (its unapplied account), shown apart; not deducted"),
  topUpDueNotReceivable: amount.describe('due on unpaid Top-up invoices: deposits asked for, NOT a receivable (nothing is owed for a supply, no receivable is posted: ADR 0012); shown apart, in no bucket and not in totalDue'),
};

export const arAgingSchema = z.object({
  currency: z.string(),
  asOf: z.string().describe('YYYY-MM-DD: days past due are counted at the end of this day (UTC)'),
  rows: z.array(z.object({
    customer: z.object({ id: z.string(), name: z.string() }),
    openInvoices: z.number().int().describe('open Purchase invoices (unpaid Top-up invoices are not counted: see topUpDueNotReceivable)'),
    ...bucketsSchema,
  })).describe('one row per customer with open invoices, unapplied credit or an unpaid Top-up invoice, largest total due first'),
  totals: z.object({ customers: z.number().int(), openInvoices: z.number().int(), ...bucketsSchema }),
});
export type ArAging = z.infer<typeof arAgingSchema>;

const BUCKETS = ['current', 'days1To30', 'days31To60', 'days61To90', 'over90', 'totalDue', 'unappliedCredit', 'topUpDueNotReceivable'] as const;
type Bucket = (typeof BUCKETS)[number];

interface AgingRow {
  customerId: string;
  name: string;
  openInvoices: number;
  current: string;
  days1To30: string;
  days31To60: string;
  days61To90: string;
  over90: string;
  totalDue: string;
  unappliedCredit: string;
  topUpDueNotReceivable: string;
}

/**
 * One statement: the partner's open invoices in the currency (awaiting payment or partly paid, issued by the end of the as-of
 * day), read through the `invoices_open_due` partial index. The aged receivable is the Purchase invoices' amount due (never an
 * informational statement), summed per customer in buckets of days past due at the as-of day (the due day itself is
 * current): exactly what `receivable:{c}` holds (invariant 5, checkLedger's `receivable_matches_invoices_due`), so AR
 * aging's total due ties to the trial balance's receivable. An unpaid Top-up invoice asks for a deposit and posts no
 * receivable (ADR 0012): its amount due is shown apart (`topUpDueNotReceivable`), in no bucket. Beside them each
 * customer's unapplied credit (credit balance of `unapplied:{c}`).
 */
export function arAgingQuery(partnerId: string, currency: Currency, asOf: string) {
  const endOfDay = new Date(Date.parse(`${asOf}T00:00:00.000Z`) + 86_400_000);
  return sql<AgingRow>`
    with aged as (
      select i.customer_id, (count(*) filter (where r.receivable))::int as open_invoices,
        sum(i.amount_due_micros) filter (where r.receivable and d.days <= 0) as current,
        sum(i.amount_due_micros) filter (where r.receivable and d.days between 1 and 30) as d30,
        sum(i.amount_due_micros) filter (where r.receivable and d.days between 31 and 60) as d60,
        sum(i.amount_due_micros) filter (where r.receivable and d.days between 61 and 90) as d90,
        sum(i.amount_due_micros) filter (where r.receivable and d.days > 90) as over90,
        sum(i.amount_due_micros) filter (where r.receivable) as total,
        sum(i.amount_due_micros) filter (where not r.receivable) as top_up
      from invoices i
      cross join lateral (select i.type = 'purchase' as receivable) r
      cross join lateral (select ${asOf}::date - (i.due_at at time zone 'UTC')::date as days) d
      where i.partner_id = ${partnerId} and i.status in ('awaiting_payment', 'partially_paid')
        and i.currency = ${currency} and i.type in ('purchase', 'top_up') and not i.informational
        and i.issued_at < ${endOfDay}
      group by i.customer_id
    ), credit as (
      select a.customer_id, -a.balance_micros as unapplied
      from ledger_accounts a
      where a.partner_id = ${partnerId} and a.currency = ${currency} and a.code = 'unapplied' and a.balance_micros <> 0
    )
    select c.id as "customerId", c.name, coalesce(g.open_invoices, 0) as "openInvoices",
      coalesce(g.current, 0)::text as current, coalesce(g.d30, 0)::text as "days1To30", coalesce(g.d60, 0)::text as "days31To60",
      coalesce(g.d90, 0)::text as "days61To90", coalesce(g.over90, 0)::text as over90, coalesce(g.total, 0)::text as "totalDue",
      coalesce(u.unapplied, 0)::text as "unappliedCredit", coalesce(g.top_up, 0)::text as "topUpDueNotReceivable"
    from aged g
    full join credit u on u.customer_id = g.customer_id
    join customers c on c.id = coalesce(g.customer_id, u.customer_id) and c.partner_id = ${partnerId}
    order by coalesce(g.total, 0) desc, c.name, c.id`;
}

export async function arAgingRows(db: Executor, partnerId: string, currency: Currency, asOf: string): Promise<AgingRow[]> {
  return (await arAgingQuery(partnerId, currency, asOf).execute(db)).rows;
}

/** Accounts receivable aging per customer (issue 6 §4), with a totals row; amounts as decimal strings. */
export async function getArAging(ctx: Ctx, input: ReportInput): Promise<ArAging> {
  const { partnerId } = partnerCaller(ctx.principal);
  const { asOf, today } = reportDay(ctx, input.asOf);
  // What is owed now, aged at today or at a day to come (how today's amounts will have aged by then). A past day would
  // age today's amounts as if they were that day's (payments and credit notes made since would be missing from it):
  // refused. What was owed at the end of a past day is the trial balance's receivable at that day.
  if (asOf < today) {
    throw new DomainError('rule_violation', `asOf ${asOf} is before today (${today}, UTC): AR aging ages what is owed now; for a past day, see the trial balance's receivable`,
      [{ path: 'asOf', message: `today (${today}) or a day to come` }]);
  }
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const currency = await reportCurrency(trx, partnerId, input.currency);
    const rows = await arAgingRows(trx, partnerId, currency, asOf);
    const sums = Object.fromEntries(BUCKETS.map((b) => [b, 0n])) as Record<Bucket, bigint>;
    let openInvoices = 0;
    const shown = rows.map((r) => {
      openInvoices += r.openInvoices;
      const amounts = Object.fromEntries(BUCKETS.map((b) => {
        const micros = BigInt(r[b]);
        sums[b] += micros;
        return [b, money(micros, currency)];
      })) as Record<Bucket, string>;
      return { customer: { id: r.customerId, name: r.name }, openInvoices: r.openInvoices, ...amounts };
    });
    const totals = Object.fromEntries(BUCKETS.map((b) => [b, money(sums[b], currency)])) as Record<Bucket, string>;
    return { currency, asOf, rows: shown, totals: { customers: rows.length, openInvoices, ...totals } };
  });
}

export const AR_AGING_CSV_HEADER = [
  'customerId', 'customer', 'currency', 'asOf', 'openInvoices', 'current', 'days1To30', 'days31To60', 'days61To90', 'over90', 'totalDue', 'unappliedCredit',
  'topUpDueNotReceivable',
] as const;

/** The same report as CSV: header, one line per customer, then a `TOTAL` line. */
export function arAgingCsv(report: ArAging): string {
  const line = (id: string, name: string, n: number, b: Record<Bucket, string>) =>
    csvRow([id, name, report.currency, report.asOf, n, ...BUCKETS.map((k) => b[k])]);
  return csvRow(AR_AGING_CSV_HEADER)
    + report.rows.map((r) => line(r.customer.id, r.customer.name, r.openInvoices, r)).join('')
    + line('TOTAL', `${report.totals.customers} customers`, report.totals.openInvoices, report.totals);
}
