import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope, type Trx } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { partnerCaller } from '../access/caller.ts';
import { CURRENCIES, formatDecimal, isCurrency, type Currency } from '../money/money.ts';
import { lowPointsThresholdMicros, selectCustomers, toCustomerSummary, USABLE_MICROS, usableBelowLookup } from '../customers/customer-views.ts';
import { loadRenewals, type RenewalsView } from './renewals.ts';

export type Granularity = 'day' | 'month';

export interface DashboardInput {
  /** First day shown (UTC), `YYYY-MM-DD`; default: 29 days before `to`. */
  from?: string | undefined;
  /** Last day shown (UTC), included; default: today. */
  to?: string | undefined;
  /** Default: the partner's default currency. */
  currency?: string | undefined;
  /** Default: `day` up to 92 days, else `month`. */
  granularity?: Granularity | undefined;
}

export interface DashboardPoint {
  /** First day of the period, `YYYY-MM-DD`. */
  period: string;
  revenue: string;
  cost: string;
  margin: string;
}

export interface DashboardView {
  currency: string;
  from: string;
  to: string;
  granularity: Granularity;
  series: DashboardPoint[];
  totals: {
    revenue: string;
    cost: string;
    margin: string;
    /** Margin / revenue, in percent with one decimal ("42.5"); null without revenue. */
    marginPercent: string | null;
    /**
     * Per ledger account (`revenue:usage`, `cost:subscription`, `sales_returns`, ...): revenue credits, costs and returns
     * (credit notes, termination refunds, goodwill points: what `sales_returns` was debited) as positive amounts.
     */
    byAccount: Array<{ account: string; amount: string }>;
  };
  lowPoints: {
    /** Usable points below this (the currency's low-points threshold). */
    threshold: string;
    count: number;
    /** The lowest first, at most 10. */
    customers: Array<{ id: string; name: string; status: string; points: string; usable: string }>;
  };
  /** Null until the subscriptions of issue 4 exist on this database. */
  renewals: RenewalsView | null;
}

/** The widest period one request may ask for. */
export const MAX_DAYS = 731;
const DAY_MS = 86_400_000;

function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

function parseDay(value: string, field: string): Date {
  const d = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || isoDay(d) !== value) {
    throw new DomainError('validation_failed', `${field} is not a date`, [{ path: field, message: 'a date such as 2026-11-30' }]);
  }
  return d;
}

/** Every period start from `from` to `to` (both UTC days), so days without postings show as zero. */
function periods(from: Date, to: Date, granularity: Granularity): string[] {
  const out: string[] = [];
  const cursor = granularity === 'day' ? new Date(from) : new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), 1));
  while (cursor <= to) {
    out.push(isoDay(cursor));
    if (granularity === 'day') cursor.setUTCDate(cursor.getUTCDate() + 1);
    else cursor.setUTCMonth(cursor.getUTCMonth() + 1);
  }
  return out;
}

/** Sums of the partner's revenue:*, sales_returns and cost:* postings per period and account, in one currency. */
async function postingSums(trx: Trx, partnerId: string, currency: string, from: Date, toExclusive: Date, granularity: Granularity) {
  const accounts = await trx
    .selectFrom('ledgerAccounts')
    .select(['id', 'code'])
    .where('partnerId', '=', partnerId)
    .where('currency', '=', currency)
    .where(sql<boolean>`(code like 'revenue:%' or code like 'cost:%' or code = 'sales_returns')`)
    .execute();
  if (accounts.length === 0) return { accounts, rows: [] };
  const { rows } = await sql<{ period: string; accountId: string; totalMicros: string }>`
    select to_char(date_trunc(${granularity}, p.posted_at at time zone 'UTC'), 'YYYY-MM-DD') as period,
           p.account_id as "accountId", sum(p.amount_micros)::text as "totalMicros"
      from postings p
     where p.partner_id = ${partnerId}
       and p.account_id in (${sql.join(accounts.map((a) => a.id))})
       and p.posted_at >= ${from} and p.posted_at < ${toExclusive}
     group by 1, 2`.execute(trx);
  return { accounts, rows };
}

function percent(numerator: bigint, denominator: bigint): string | null {
  if (denominator === 0n) return null;
  // one decimal, half away from zero
  const tenths = (numerator * 2000n) / denominator;
  const rounded = tenths >= 0n ? (tenths + 1n) / 2n : (tenths - 1n) / 2n;
  const sign = rounded < 0n ? '-' : '';
  const abs = rounded < 0n ? -rounded : rounded;
  return `${sign}${abs / 10n}.${abs % 10n}`;
}

/**
 * The partner dashboard (Customer app home): revenue, cost and margin per day or month from the ledger (postings of the
 * revenue:*, sales_returns and cost:* accounts: revenue is net, what revenue accounts were credited less what sales_returns
 * was debited (credit notes, termination refunds, goodwill points; ADR 0010); cost what cost accounts were debited), customers
 * whose usable points are low, and renewals due this week and failed ones.
 */
export async function getDashboard(ctx: Ctx, input: DashboardInput): Promise<DashboardView> {
  const { partnerId } = partnerCaller(ctx.principal);
  const now = ctx.clock.now();
  const to = input.to ? parseDay(input.to, 'to') : parseDay(isoDay(now), 'to');
  const from = input.from ? parseDay(input.from, 'from') : new Date(to.getTime() - 29 * DAY_MS);
  if (from > to) throw new DomainError('rule_violation', 'from is after to', [{ path: 'from', message: 'on or before to' }]);
  const days = Math.round((to.getTime() - from.getTime()) / DAY_MS) + 1;
  if (days > MAX_DAYS) throw new DomainError('rule_violation', `At most ${MAX_DAYS} days at once`, [{ path: 'from', message: `at most ${MAX_DAYS} days before to` }]);
  const granularity: Granularity = input.granularity ?? (days <= 92 ? 'day' : 'month');

  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const partner = await trx.selectFrom('partners').select('defaultCurrency').where('id', '=', partnerId).executeTakeFirstOrThrow();
    const currencyCode = input.currency ?? partner.defaultCurrency;
    const currency: Currency = isCurrency(currencyCode) ? currencyCode : 'SGD';
    // The currency's decimals, more only when a sum has them (call charges are sub-cent).
    const fmt = (m: bigint) => formatDecimal(m, currency, CURRENCIES[currency]);

    const { accounts, rows } = await postingSums(trx, partnerId, currencyCode, from, new Date(to.getTime() + DAY_MS), granularity);
    const codeOf = new Map(accounts.map((a) => [a.id, a.code]));
    const byPeriod = new Map<string, { revenue: bigint; cost: bigint }>();
    const byAccount = new Map<string, bigint>();
    for (const r of rows) {
      const code = codeOf.get(r.accountId)!;
      const amount = BigInt(r.totalMicros);
      const p = byPeriod.get(r.period) ?? { revenue: 0n, cost: 0n };
      // Net revenue (ADR 0010): what revenue accounts were credited less what sales_returns was debited.
      if (code.startsWith('revenue:')) p.revenue += -amount;
      else if (code === 'sales_returns') p.revenue -= amount;
      else p.cost += amount;
      byPeriod.set(r.period, p);
      byAccount.set(code, (byAccount.get(code) ?? 0n) + (code.startsWith('revenue:') ? -amount : amount));
    }
    let revenue = 0n;
    let cost = 0n;
    const series = periods(from, to, granularity).map((period) => {
      const p = byPeriod.get(period) ?? { revenue: 0n, cost: 0n };
      revenue += p.revenue;
      cost += p.cost;
      return { period, revenue: fmt(p.revenue), cost: fmt(p.cost), margin: fmt(p.revenue - p.cost) };
    });

    const threshold = lowPointsThresholdMicros(currencyCode);
    const lowest = await selectCustomers(trx, partnerId)
      .where('c.currency', '=', currencyCode)
      .where('c.status', '<>', 'closed')
      .where(usableBelowLookup(null))
      .orderBy(USABLE_MICROS)
      .orderBy('c.id')
      .limit(10)
      .execute();
    const counted = await trx
      .selectFrom('customers as c')
      .select(sql<number>`count(*)::int`.as('count'))
      .where('c.partnerId', '=', partnerId)
      .where('c.currency', '=', currencyCode)
      .where('c.status', '<>', 'closed')
      .where(usableBelowLookup(null))
      .executeTakeFirstOrThrow();

    return {
      currency: currencyCode,
      from: isoDay(from),
      to: isoDay(to),
      granularity,
      series,
      totals: {
        revenue: fmt(revenue), cost: fmt(cost), margin: fmt(revenue - cost), marginPercent: percent(revenue - cost, revenue),
        byAccount: [...byAccount.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([account, amount]) => ({ account, amount: fmt(amount) })),
      },
      lowPoints: {
        threshold: fmt(threshold),
        count: counted.count,
        customers: lowest.map(toCustomerSummary).map((c) => ({ id: c.id, name: c.name, status: c.status, points: c.points, usable: c.usable })),
      },
      renewals: await loadRenewals(trx, partnerId, now),
    };
  });
}
