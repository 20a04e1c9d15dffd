import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { formatDecimal, isCurrency, type Currency } from '../../money/money.ts';
import type { Trx } from '../../platform/database.ts';
import type { StatementView } from '../invoice-view-types.ts';

/**
 * The monthly statement's figures as stored in `statements.summary` (jsonb), written by generate-monthly-statements.ts.
 * Every amount is exact decimal-string micros of the customer's currency (never rounded: the ledger's own figures);
 * counts are ledger postings on the customer's points account posted in the period [periodStart, periodEnd).
 *
 * ```json
 * { "version": 1,
 *   "usage": [{ "category": "singapore_mobile", "label": "Singapore mobile", "calls": 12, "seconds": 3600,
 *               "amountMicros": "9592000", "taxMicros": "792000" }],        // points paid, and the tax included in them
 *   "renewals":  { "count": 1, "amountMicros": "54500000" },   // points spent: subscription renewals and reactivations
 *   "purchases": { "count": 0, "amountMicros": "0" },          // points spent: subscription purchases, add-ons, invoices paid from points
 *   "topUps":    { "count": 1, "amountMicros": "50000000" },   // points added: card and automatic top-ups
 *   "credits":   { "count": 0, "amountMicros": "0" },          // points added: points issued (less taken back), refunds
 *   "other":     { "count": 0, "amountMicros": "0" },          // points spent by anything else (negative: points it added)
 *   "chargesMicros": "63300000" }                              // usage + renewals + purchases + other: what the month cost
 * ```
 * Spent buckets are signed as points spent, added buckets as points added, so a reversal inside a bucket nets out and
 *   closing = opening + topUps + credits - (usage + renewals + purchases + other)
 * holds exactly (checked when the statement is built).
 *
 * Tax on calls (ADR 0032): a usage category's `amountMicros` is what the points paid for its calls, tax included, and
 * `taxMicros` the tax in it (the sum of the calls' `usage_calls.tax_micros`); its pre-tax amount is the difference. The
 * field was added without a new version: summaries written before it have no `taxMicros`, and read as "0" (calls
 * carried no tax then, so their amount was all pre-tax). Still `version: 1`; `readStatementSummary` is the one reader.
 */
export interface StatementSummary {
  version: 1;
  usage: UsageCategory[];
  renewals: Bucket;
  purchases: Bucket;
  topUps: Bucket;
  credits: Bucket;
  other: Bucket;
  chargesMicros: string;
}

export interface UsageCategory {
  category: string;
  label: string;
  calls: number;
  seconds: number;
  /** Points paid for the category's calls, tax included. */
  amountMicros: string;
  /** The tax included in `amountMicros` (absent from summaries written before ADR 0032: read as "0"). */
  taxMicros: string;
}

/** A summary as stored: written before ADR 0032, a usage category has no `taxMicros`. */
type StoredStatementSummary = Omit<StatementSummary, 'usage'> & { usage: (Omit<UsageCategory, 'taxMicros'> & { taxMicros?: string })[] };

/** `statements.summary` as read from the database (jsonb, or its text), every usage category with its `taxMicros`. */
export function readStatementSummary(stored: unknown): StatementSummary {
  const summary = (typeof stored === 'string' ? JSON.parse(stored) : stored) as StoredStatementSummary;
  assert(summary && summary.version === 1, 'a version 1 statement summary');
  return { ...summary, usage: summary.usage.map((u) => ({ ...u, taxMicros: u.taxMicros ?? '0' })) };
}

export interface Bucket {
  count: number;
  amountMicros: string;
}

/** A statement row as read for a view: `period_start::text`, `period_end::text` (dates), micros as text. */
export interface StatementRow {
  currency: string;
  periodStart: string;
  periodEnd: string;
  openingPointsMicros: string;
  closingPointsMicros: string;
  summary: unknown;
}

function currencyOf(code: string): Currency {
  assert(isCurrency(code), `a known currency: ${code}`);
  return code;
}

/** The statement as the screen and the PDF show it (docs/contracts/invoices-api.md `statement`), amounts in the customer's currency. */
export function statementViewOf(row: StatementRow): StatementView {
  const currency = currencyOf(row.currency.trim());
  const summary = readStatementSummary(row.summary);
  const money = (micros: string) => formatDecimal(BigInt(micros), currency);
  const bucket = (b: Bucket) => ({ count: b.count, amount: money(b.amountMicros) });
  return {
    periodStart: row.periodStart,
    periodEnd: row.periodEnd,
    openingPoints: money(row.openingPointsMicros),
    closingPoints: money(row.closingPointsMicros),
    usage: summary.usage.map((u) => ({ category: u.category, label: u.label, calls: u.calls, seconds: u.seconds, amount: money(u.amountMicros), tax: money(u.taxMicros) })),
    renewals: bucket(summary.renewals),
    purchases: bucket(summary.purchases),
    topUps: bucket(summary.topUps),
    credits: bucket(summary.credits),
    other: bucket(summary.other),
  };
}

/** The statement behind a Monthly invoice, or null (any invoice that is not a statement's). Inside the caller's scope. */
export async function statementOfInvoice(trx: Trx, input: { partnerId: string; invoiceId: string }): Promise<StatementView | null> {
  const { rows } = await sql<StatementRow>`
    select s.currency, s.period_start::text as "periodStart", s.period_end::text as "periodEnd",
      s.opening_points_micros::text as "openingPointsMicros", s.closing_points_micros::text as "closingPointsMicros", s.summary
    from statements s
    where s.partner_id = ${input.partnerId} and s.invoice_id = ${input.invoiceId}`.execute(trx);
  return rows[0] ? statementViewOf(rows[0]) : null;
}

/** `YYYY-MM` -> its period [first day 00:00 UTC, first day of the next month). Null when not a month. */
export function monthPeriod(month: string): { start: Date; end: Date; startDate: string; endDate: string } | null {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
  if (!m) return null;
  const year = Number(m[1]);
  const index = Number(m[2]) - 1;
  if (year < 2000 || year > 9998) return null;
  const start = new Date(Date.UTC(year, index, 1));
  const end = new Date(Date.UTC(year, index + 1, 1));
  return { start, end, startDate: start.toISOString().slice(0, 10), endDate: end.toISOString().slice(0, 10) };
}

/** The month that ended most recently before `at` (`YYYY-MM`): on 1 December, November. */
export function monthJustEnded(at: Date): string {
  const previous = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() - 1, 1));
  return previous.toISOString().slice(0, 7);
}

const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** `2026-11` -> `November 2026`. */
export function monthLabel(month: string): string {
  const [year, mm] = month.split('-');
  return `${MONTH_NAMES[Number(mm) - 1]} ${year}`;
}

/**
 * A usage category's key and label, from the call's rate (the destination as the partner names it in its rate table,
 * e.g. "Singapore mobile" for prefixes 658 and 659 alike). Calls rated without a prefix fall into "Other calls".
 */
export function usageCategoryOf(prefix: string | null, description: string | null): { category: string; label: string } {
  if (prefix === null) return { category: 'other_calls', label: 'Other calls' };
  const label = description?.trim() ? description.trim() : `Calls to +${prefix}`;
  const slug = label.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 60);
  return { category: slug === '' ? `prefix_${prefix}` : slug, label };
}
