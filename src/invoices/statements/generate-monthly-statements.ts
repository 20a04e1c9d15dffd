import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { applyBps, isCurrency, moneyText, roundToMinorUnit, type Currency } from '../../money/money.ts';
import { spreadTax } from '../invoice-totals.ts';
import { systemClock, type Clock } from '../../platform/clock.ts';
import type { Principal } from '../../platform/context.ts';
import { inScope, type Db, type Trx } from '../../platform/database.ts';
import { newId } from '../../platform/ids.ts';
import { recordAudit } from '../../audit/record-audit.ts';
import { DomainError } from '../../platform/errors.ts';
import type { BillTo } from '../invoices.db-types.ts';
import { nextInvoiceNumbers } from '../invoice-numbers.ts';
import { enqueueNotificationsBulk, insertUnnest, recipientsOf, type BulkNotificationInput } from '../../subscriptions/renewals/bulk-writes.ts';
import { monthLabel, monthPeriod, usageCategoryOf, type Bucket, type StatementSummary, type UsageCategory } from './statement-summary.ts';
import { formatBilledTime } from '../../usage/billed-time.ts';

/**
 * Monthly statements (issue 5 §1), by the scheduled job on the 1st (statement-tasks.ts) or by hand for one month:
 * for every customer of every partner (or of one partner) with points activity in the month or points held, one
 * statement per customer and month, read from the LEDGER alone: the postings of the customer's points account
 * (`points:{c}`, in the customer's currency), which carry their kind and feed type (migration 0016).
 *
 * - Period: [first day 00:00 UTC, first day of the next month 00:00 UTC), by `postings.posted_at`.
 * - Closing points = -(account balance now - postings posted since the period end); opening = closing + what the period
 *   posted. Both come from ONE statement (one snapshot): balance and postings always agree. Opening + movements = closing
 *   is asserted per statement, and a statement's opening is checked against the previous month's closing (a warning
 *   in the log if they differ: only a posting back-dated into a month already stated could cause it).
 * - Buckets (by kind, then feed type): calls -> usage, by destination category (the rate's description, e.g. "Singapore
 *   mobile", through the call's `usage_calls` row and prefix; the tax the calls paid, its `tax_micros`, ADR 0032, summed
 *   beside their amount); subscription renewals and reactivations -> renewals;
 *   refunds and cancelled purchases -> credits; other subscription charges and invoices paid from points -> purchases;
 *   top-ups -> topUps; points issued or taken back -> credits; anything else -> other (shape: statement-summary.ts).
 * - A Monthly invoice per statement with charges: informational (the charges were paid from points as they were used,
 *   docs/adr/0008: nothing new is owed, so no ledger entry), status paid, amount paid = total, nothing due, numbered from
 *   the partner's monthly series (one `nextInvoiceNumbers` call per batch), bill-to snapshot of the billing contact.
 *   Its usage lines are pre-tax with their tax beside them (subtotal + tax = total, as every invoice); its other lines
 *   are points paid, their tax on their own invoices (see buildStatement). A
 *   month with no charges (only top-ups or credits, or points held) gets its statement row without an invoice: an
 *   invoice of nothing would only be noise in the invoice list. Customers with no activity and no points get nothing.
 * - Set-based: `batchSize` customers per transaction (partner scope, row-level security on), a handful of statements
 *   per batch whatever its size: one read of the batch's customers, one GROUP BY over their postings, a few multi-row
 *   INSERTs, one audit event (`statement.generated`), the owners' notifications in bulk.
 * - Restartable and safe twice: a batch is one transaction holding a per-partner-and-month advisory lock; it skips
 *   customers that have the month's statement already (unique (partner, customer, period_start) is the last guard), so
 *   a crash loses at most the batch in flight, and a second run, at once or later, writes nothing twice.
 */
export const STATEMENT_JOB_LABEL = 'monthly_statements';
const SYSTEM: { principal: Principal; requestId: null; ip: null; userAgent: null } = {
  principal: { kind: 'system', job: STATEMENT_JOB_LABEL }, requestId: null, ip: null, userAgent: null,
};

export interface StatementDeps {
  db: Db;
  log: Logger;
  clock?: Clock;
}

export interface StatementRunOptions {
  /** The month stated, `YYYY-MM`; it must have ended. */
  month: string;
  /** Only this partner's customers (default: every partner's). */
  partnerId?: string;
  /** Customers per transaction; 1..5000 (default 1000). */
  batchSize?: number;
}

export interface StatementRunResult {
  month: string;
  partners: number;
  /** Customers looked at (all of them, with or without a statement). */
  customers: number;
  statements: number;
  invoices: number;
  /** Customers whose statement for the month existed already (an earlier or concurrent run). */
  alreadyStated: number;
  notifications: number;
  /**
   * Partners whose statements this run could not write (their batch in flight rolled back whole), with why: the others'
   * are written all the same, and a later run (the job's retry) writes what these lack once the cause is gone.
   */
  failed: { partnerId: string; code: string; detail: string }[];
}

export const DEFAULT_STATEMENT_BATCH = 1000;
const MAX_STATEMENT_BATCH = 5000;
/** Bigger than any posting id: "no posting since the period start". */
const NO_POSTING = '9223372036854775807';

export async function generateMonthlyStatements(deps: StatementDeps, options: StatementRunOptions): Promise<StatementRunResult> {
  const period = monthPeriod(options.month);
  if (!period) throw new RangeError(`month must be YYYY-MM, not "${options.month}"`);
  const now = (deps.clock ?? systemClock).now();
  if (period.end.getTime() > now.getTime()) throw new RangeError(`${options.month} has not ended yet: statements are for months that have ended`);
  const batchSize = Math.min(Math.max(Math.trunc(options.batchSize ?? DEFAULT_STATEMENT_BATCH), 1), MAX_STATEMENT_BATCH);
  const result: StatementRunResult = { month: options.month, partners: 0, customers: 0, statements: 0, invoices: 0, alreadyStated: 0, notifications: 0, failed: [] };

  const { partnerIds, firstPostingId } = await inScope(deps.db, { kind: 'system' }, async (trx) => {
    const partners = await trx.selectFrom('partners').select('id')
      .$if(options.partnerId !== undefined, (q) => q.where('id', '=', options.partnerId!))
      .orderBy('id').execute();
    // The lowest posting id posted in or after the period: every posting the statements read has an id at least this, so
    // each customer's read is one short range of the (account_id, id desc) index instead of the account's whole history.
    // Exact (a minimum, not a guess), found once per run through the BRIN index on posted_at.
    const { rows } = await sql<{ first: string | null }>`select min(id)::text as first from postings where posted_at >= ${period.start}`.execute(trx);
    return { partnerIds: partners.map((p) => p.id), firstPostingId: rows[0]?.first ?? null };
  });

  for (const partnerId of partnerIds) {
    result.partners++;
    const labels = new Map<string, { category: string; label: string }>();
    let after = '';
    try {
      for (;;) {
        const batch = await withRetry(() => inScope(deps.db, { kind: 'partner', partnerId }, (trx) =>
          statementBatch(trx, deps.log, { partnerId, month: options.month, period, after, limit: batchSize, firstPostingId, issuedAt: now, labels })));
        result.customers += batch.customers;
        result.statements += batch.statements;
        result.invoices += batch.invoices;
        result.alreadyStated += batch.alreadyStated;
        result.notifications += batch.notifications;
        if (batch.customers < batchSize || batch.lastCustomerId === null) break;
        after = batch.lastCustomerId;
      }
    } catch (err) {
      // One partner's failure (its Monthly number format reaching a number already issued, docs/adr/0041; or a fault)
      // never keeps the other partners' customers from their statements.
      result.failed.push(await recordPartnerFailure(deps, partnerId, options.month, err));
    }
  }
  if (result.statements > 0) deps.log.info({ ...result, failed: result.failed.length }, 'monthly statements generated');
  return result;
}

/**
 * A partner's statements not written this run: logged as an error, and, when it is something the partner's staff can
 * put right (a domain error: the Monthly number format would issue a number again), told on the partner's audit trail
 * as `statement.generation_failed` with the reason, in a transaction of its own (the batch rolled back).
 */
async function recordPartnerFailure(deps: StatementDeps, partnerId: string, month: string, err: unknown): Promise<StatementRunResult['failed'][number]> {
  const domain = err instanceof DomainError ? err : null;
  const failure = { partnerId, code: domain?.code ?? 'internal_error', detail: domain ? domain.message : 'An unexpected error; the server log has it' };
  deps.log.error({ err, partnerId, month }, 'monthly statements not generated for a partner');
  if (domain) {
    await inScope(deps.db, { kind: 'partner', partnerId }, (trx) => recordAudit(trx, SYSTEM, {
      partnerId, customerId: null, app: 'invoice', action: 'statement.generation_failed', targetType: 'statement_run', targetId: month,
      changes: { month: { after: month }, code: { after: domain.code }, reason: { after: domain.message } },
    }));
  }
  return failure;
}

/** Retry a batch that lost a deadlock, a serialisation race or (without the lock: never) a unique race; it rolled back whole. */
async function withRetry<T>(fn: () => Promise<T>, attempts = 4): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (i >= attempts || (code !== '40P01' && code !== '40001' && code !== '23505')) throw err;
      await new Promise((resolve) => setTimeout(resolve, 20 * i));
    }
  }
}

interface CustomerRow {
  id: string;
  name: string;
  currency: string;
  billingName: string | null;
  billingEmail: string | null;
  billingPhone: string | null;
  billingAddress: string | null;
  accountId: string | null;
  done: boolean;
  previousClosing: string | null;
}

interface MoveRow {
  accountId: string;
  balance: string;
  /** Null: the account had no posting since the period start. */
  bucket: BucketName | 'after' | null;
  prefix: string | null;
  n: number;
  amount: string | null;
  seconds: string;
  /** Usage: the tax included in `amount` (the calls' `usage_calls.tax_micros`); '0' for the other buckets. */
  tax: string;
  /** Usage: the tax rate these calls were charged at (`usage_calls.tax_rate_bps`); 0 for the other buckets. */
  rate: number;
  /** Usage: these calls were rated on a zero-rated rate (`usage_calls.zero_rated`, rate 0); false for the other buckets. */
  zeroRated: boolean;
}

type BucketName = 'usage' | 'renewals' | 'purchases' | 'top_ups' | 'credits' | 'other';

interface BatchInput {
  partnerId: string;
  month: string;
  period: { start: Date; end: Date; startDate: string; endDate: string };
  after: string;
  limit: number;
  firstPostingId: string | null;
  issuedAt: Date;
  /** Usage categories by `currency|prefix`, kept for the partner's whole run. */
  labels: Map<string, { category: string; label: string }>;
}

interface BatchResult {
  customers: number;
  lastCustomerId: string | null;
  statements: number;
  invoices: number;
  alreadyStated: number;
  notifications: number;
}

interface Built {
  customer: CustomerRow;
  currency: Currency;
  openingMicros: bigint;
  closingMicros: bigint;
  summary: StatementSummary;
  /** The Monthly invoice's lines: `amountMicros` pre-tax, `taxMicros` its tax, both whole minor units. */
  lines: { kind: string; description: string; amountMicros: bigint; taxMicros: bigint; taxRateBps: number; taxCategory: 'standard' | 'zero_rated' }[];
}

/**
 * A Monthly invoice's totals from its lines (ADR 0012's shape: subtotal = sum of nets, tax = sum of line taxes, total =
 * subtotal + tax; amount paid = total). Only usage lines carry tax: the other lines were taxed on their own invoices.
 */
function invoiceTotalsOf(lines: Built['lines']): { subtotalMicros: bigint; taxMicros: bigint; totalMicros: bigint } {
  for (const l of lines) {
    assert(l.amountMicros > 0n && l.taxMicros >= 0n, `a Monthly invoice line is positive, its tax not negative: ${l.description}`);
    assert(l.kind === 'usage' || (l.taxMicros === 0n && l.taxRateBps === 0), `only usage lines carry tax on a Monthly invoice: ${l.description}`);
  }
  const subtotalMicros = lines.reduce((s, l) => s + l.amountMicros, 0n);
  const taxMicros = lines.reduce((s, l) => s + l.taxMicros, 0n);
  const totalMicros = subtotalMicros + taxMicros;
  assert.equal(lines.reduce((s, l) => s + l.amountMicros + l.taxMicros, 0n), totalMicros, 'a Monthly invoice\'s lines add up to its total');
  return { subtotalMicros, taxMicros, totalMicros };
}

async function statementBatch(trx: Trx, log: Logger, input: BatchInput): Promise<BatchResult> {
  const { partnerId, period } = input;
  // One run at a time per partner and month: a second run waits here, then finds this batch's statements and skips them.
  await sql`select pg_advisory_xact_lock(hashtextextended(${`folio:statements:${partnerId}:${input.month}`}, 0))`.execute(trx);

  const previousStart = new Date(Date.UTC(period.start.getUTCFullYear(), period.start.getUTCMonth() - 1, 1)).toISOString().slice(0, 10);
  const { rows: customers } = await sql<CustomerRow>`
    select c.id, c.name, c.currency, c.billing_name as "billingName", c.billing_email as "billingEmail", c.billing_phone as "billingPhone",
      c.billing_address as "billingAddress", w.points_account_id as "accountId",
      exists (select 1 from statements s where s.partner_id = c.partner_id and s.customer_id = c.id and s.period_start = ${period.startDate}::date) as done,
      (select s.closing_points_micros::text from statements s
        where s.partner_id = c.partner_id and s.customer_id = c.id and s.period_start = ${previousStart}::date) as "previousClosing"
    from customers c
    left join wallets w on w.partner_id = c.partner_id and w.customer_id = c.id and w.currency = c.currency
    where c.partner_id = ${partnerId} and c.id > ${input.after}
    order by c.id
    limit ${input.limit}`.execute(trx);
  const result: BatchResult = {
    customers: customers.length, lastCustomerId: customers.at(-1)?.id ?? null, statements: 0, invoices: 0,
    alreadyStated: customers.filter((c) => c.done).length, notifications: 0,
  };
  // No wallet: never any points activity, nothing to state.
  const todo = customers.filter((c) => !c.done && c.accountId !== null);
  if (todo.length === 0) return result;

  // ONE statement (one snapshot): each account's balance now and its postings since the period start, grouped by
  // bucket (and, for calls, by rated prefix). Walks (account_id, id desc) from the run's first posting id upwards.
  const accountIds = todo.map((c) => c.accountId!);
  const { rows: moves } = await ledgerRead({ partnerId, accountIds, period, firstPostingId: input.firstPostingId }).execute(trx);

  const byAccount = new Map<string, MoveRow[]>();
  for (const m of moves) {
    const list = byAccount.get(m.accountId) ?? [];
    list.push(m);
    byAccount.set(m.accountId, list);
  }
  await loadLabels(trx, partnerId, todo, moves, input.labels);

  const built: Built[] = [];
  for (const customer of todo) {
    const rows = byAccount.get(customer.accountId!);
    assert(rows && rows.length > 0, 'every wallet has its points account');
    const b = buildStatement(customer, rows, input.labels);
    if (!b) continue;
    if (customer.previousClosing !== null && BigInt(customer.previousClosing) !== b.openingMicros) {
      log.warn({ partnerId, customerId: customer.id, month: input.month, previousClosing: customer.previousClosing, opening: b.openingMicros.toString() },
        'statement opening differs from the previous month\'s closing (a posting back-dated into a stated month?)');
    }
    built.push(b);
  }
  if (built.length === 0) return result;

  // Monthly invoices: one per statement with charges, consecutive numbers in one call (the series row stays locked to commit).
  const invoiced = built.filter((b) => b.lines.length > 0);
  const numbers = invoiced.length > 0 ? await nextInvoiceNumbers(trx, partnerId, 'monthly', input.issuedAt, invoiced.length) : [];
  const invoiceIdOf = new Map<Built, { id: string; number: string; subtotalMicros: bigint; taxMicros: bigint; totalMicros: bigint }>();
  invoiced.forEach((b, i) => invoiceIdOf.set(b, { id: newId('inv'), number: numbers[i]!, ...invoiceTotalsOf(b.lines) }));
  await insertInvoices(trx, partnerId, input, invoiced.map((b) => ({ built: b, ...invoiceIdOf.get(b)! })));

  const statementIds = built.map(() => newId('stm'));
  await sql`
    insert into statements (id, partner_id, customer_id, invoice_id, currency, period_start, period_end, opening_points_micros, closing_points_micros, summary)
    select id, ${partnerId}, customer_id, invoice_id, currency, ${period.startDate}::date, ${period.endDate}::date, opening, closing, summary
    from unnest(${statementIds}::text[], ${built.map((b) => b.customer.id)}::text[], ${built.map((b) => invoiceIdOf.get(b)?.id ?? null)}::text[],
                ${built.map((b) => b.currency)}::text[], ${built.map((b) => b.openingMicros.toString())}::bigint[],
                ${built.map((b) => b.closingMicros.toString())}::bigint[], ${built.map((b) => JSON.stringify(b.summary))}::jsonb[])
      as s(id, customer_id, invoice_id, currency, opening, closing, summary)`.execute(trx);
  result.statements = built.length;
  result.invoices = invoiced.length;

  // One audit event for the batch (the trail's chain is per partner: thousands of rows would serialise it for nothing).
  await recordAudit(trx, SYSTEM, {
    partnerId, customerId: null, app: 'invoice', action: 'statement.generated', targetType: 'statement_batch', targetId: `${input.month}:${statementIds[0]}`,
    changes: {
      month: { after: input.month },
      statements: { after: built.length },
      invoices: { after: invoiced.length },
      invoiceNumbers: { after: numbers.length > 0 ? `${numbers[0]} .. ${numbers.at(-1)}` : null },
      customers: { after: `${built[0]!.customer.id} .. ${built.at(-1)!.customer.id}` },
    },
  });

  // The customer's owner (or its admins when it has none) hears about it: one message per statement, in bulk.
  const recipients = await recipientsOf(trx, partnerId, built.map((b) => b.customer.id));
  const notifications: BulkNotificationInput[] = [];
  for (const b of built) {
    const invoice = invoiceIdOf.get(b) ?? null;
    const message = statementMessage(b, input.month, invoice?.number ?? null);
    for (const r of recipients.get(b.customer.id) ?? []) {
      notifications.push({ partnerId, customerId: b.customer.id, userId: r.userId, toEmail: r.email, kind: 'monthly_statement', ...message });
    }
  }
  await enqueueNotificationsBulk(trx, notifications);
  result.notifications = notifications.length;
  return result;
}

/**
 * The batch's ledger read, as one statement: each points account's balance now, and its postings since the period start
 * grouped by bucket (calls also by rated prefix, with their billed seconds). Each account's postings are one range of
 * `postings_account (account_id, id desc)` from the run's first posting id (a LATERAL per account: given the whole list
 * at once, the planner walks the primary key over every posting of the month, for every batch); each call's
 * `usage_calls` row by primary key (LATERAL too: a hash join would read the whole usage table for every batch).
 * Exported for the bench's EXPLAIN.
 */
export function ledgerRead(input: { partnerId: string; accountIds: readonly string[]; period: { start: Date; end: Date }; firstPostingId: string | null }) {
  const { partnerId, period } = input;
  return sql<MoveRow>`
    with moves as (
      select m.account_id, m.bucket, case when m.bucket = 'usage' then u.prefix end as prefix,
        case when m.bucket = 'usage' then coalesce(u.tax_rate_bps, 0) else 0 end as rate,
        m.bucket = 'usage' and coalesce(u.zero_rated, false) as zero_rated,
        count(*)::int as n, sum(m.amount_micros)::text as amount, coalesce(sum(u.billed_seconds) filter (where m.bucket = 'usage'), 0)::text as seconds,
        -- The tax each call's points paid (ADR 0032), signed as its posting: a posting that gave a call's points back
        -- (none does today) would give its tax back too.
        coalesce(sum(case when m.amount_micros < 0 then -u.tax_micros else u.tax_micros end) filter (where m.bucket = 'usage'), 0)::text as tax
      from (
        select p.account_id, p.amount_micros, p.cause_type, p.cause_id,
          case
            when p.posted_at >= ${period.end} then 'after'
            when p.feed_type = 'call' then 'usage'
            when p.kind in ('subscription_renewal', 'subscription_reactivation') then 'renewals'
            when p.kind in ('subscription_refund', 'subscription_purchase_cancelled') then 'credits'
            when p.feed_type in ('subscription', 'purchase') then 'purchases'
            when p.feed_type = 'top_up' then 'top_ups'
            when p.feed_type = 'credit' then 'credits'
            else 'other'
          end as bucket
        from unnest(${[...input.accountIds]}::text[]) as acct(id)
        cross join lateral (
          select * from postings p
          where p.account_id = acct.id and p.partner_id = ${partnerId} and p.id >= ${input.firstPostingId ?? NO_POSTING}::bigint
            and p.customer_id is not null -- customers' accounts: served by postings_customer_feed (migration 0040)
          offset 0 -- kept a subquery per account (not flattened into one join), so it stays one index range each
        ) p
        -- Outside the subquery, so that it filters the range instead of adding a BRIN scan of the whole month per account.
        where p.posted_at >= ${period.start}
      ) m
      left join lateral (
        select c.prefix, c.billed_seconds, c.tax_micros, c.tax_rate_bps, c.zero_rated from usage_calls c
        where m.bucket = 'usage' and m.cause_type = 'call' and c.partner_id = ${partnerId} and c.id = m.cause_id
        offset 0 -- likewise: one primary-key lookup per call
      ) u on true
      group by 1, 2, 3, 4, 5
    )
    select a.id as "accountId", a.balance_micros::text as balance, m.bucket, m.prefix, coalesce(m.n, 0) as n, m.amount, coalesce(m.seconds, '0') as seconds,
      coalesce(m.tax, '0') as tax, coalesce(m.rate, 0) as rate, coalesce(m.zero_rated, false) as "zeroRated"
    from ledger_accounts a
    left join moves m on m.account_id = a.id
    where a.id = any(${[...input.accountIds]}::text[]) and a.partner_id = ${partnerId}`;
}

/** Usage categories of the prefixes this batch saw that the run does not know yet: one read of the default plans' rates. */
async function loadLabels(trx: Trx, partnerId: string, todo: readonly CustomerRow[], moves: readonly MoveRow[], labels: Map<string, { category: string; label: string }>): Promise<void> {
  const currencyOfAccount = new Map(todo.map((c) => [c.accountId!, c.currency.trim()]));
  const missing = new Set<string>();
  for (const m of moves) {
    if (m.bucket !== 'usage' || m.prefix === null) continue;
    const key = `${currencyOfAccount.get(m.accountId)}|${m.prefix}`;
    if (!labels.has(key)) missing.add(key);
  }
  if (missing.size === 0) return;
  const prefixes = [...new Set([...missing].map((k) => k.split('|')[1]!))];
  const { rows } = await sql<{ currency: string; prefix: string; description: string | null }>`
    select rp.currency, r.prefix, r.description
    from rates r join rate_plans rp on rp.id = r.rate_plan_id and rp.partner_id = r.partner_id
    where r.partner_id = ${partnerId} and rp.is_default and r.prefix = any(${prefixes}::text[])`.execute(trx);
  const found = new Map(rows.map((r) => [`${r.currency.trim()}|${r.prefix}`, r.description]));
  // A prefix no longer in the default plan keeps a label of its own ("Calls to +65").
  for (const key of missing) labels.set(key, usageCategoryOf(key.split('|')[1]!, found.get(key) ?? null));
}

/** One customer's statement from its account's rows, or null when there is nothing to state (no activity, no points). */
function buildStatement(customer: CustomerRow, rows: readonly MoveRow[], labels: ReadonlyMap<string, { category: string; label: string }>): Built | null {
  const code = customer.currency.trim();
  assert(isCurrency(code), `a known currency: ${code}`);
  const currency: Currency = code;
  const balanceNow = BigInt(rows[0]!.balance);
  let postedAfter = 0n;
  let postedInPeriod = 0n;
  let periodPostings = 0;
  const sums = { renewals: [0, 0n], purchases: [0, 0n], top_ups: [0, 0n], credits: [0, 0n], other: [0, 0n] } as Record<Exclude<BucketName, 'usage'>, [number, bigint]>;
  const usage = new Map<string, { category: string; label: string; calls: number; seconds: number; micros: bigint; tax: bigint }>();
  // The same calls by category and the tax rate they were charged at: the Monthly invoice's usage lines.
  // Keyed by rate, and zero-rated calls (rate 0 too) apart from calls charged at rate 0 for another reason.
  const usageAtRate = new Map<string, Map<string, { rate: number; zeroRated: boolean; calls: number; seconds: number; micros: bigint; tax: bigint }>>();
  for (const r of rows) {
    if (r.bucket === null) continue;
    const amount = BigInt(r.amount ?? '0');
    if (r.bucket === 'after') {
      postedAfter += amount;
      continue;
    }
    postedInPeriod += amount;
    periodPostings += r.n;
    if (r.bucket === 'usage') {
      const { category, label } = r.prefix === null ? usageCategoryOf(null, null) : labels.get(`${code}|${r.prefix}`)!;
      const u = usage.get(category) ?? { category, label, calls: 0, seconds: 0, micros: 0n, tax: 0n };
      u.calls += r.n;
      u.seconds += Number(r.seconds);
      u.micros += amount;
      u.tax += BigInt(r.tax);
      usage.set(category, u);
      const rates = usageAtRate.get(category) ?? usageAtRate.set(category, new Map()).get(category)!;
      assert(!r.zeroRated || (r.rate === 0 && BigInt(r.tax) === 0n), 'zero-rated calls are charged at rate 0, without tax');
      const rateKey = r.zeroRated ? 'zero_rated' : String(r.rate);
      const at = rates.get(rateKey) ?? { rate: r.rate, zeroRated: r.zeroRated, calls: 0, seconds: 0, micros: 0n, tax: 0n };
      at.calls += r.n;
      at.seconds += Number(r.seconds);
      at.micros += amount;
      at.tax += BigInt(r.tax);
      rates.set(rateKey, at);
    } else {
      const s = sums[r.bucket];
      assert(s, `a known statement bucket: ${r.bucket}`);
      s[0] += r.n;
      s[1] += amount;
    }
  }
  // Points are the negation of the (liability) account's balance: a debit spends points.
  const closingMicros = -(balanceNow - postedAfter);
  const openingMicros = closingMicros + postedInPeriod;
  if (periodPostings === 0 && openingMicros === 0n) return null;

  const spent = (k: 'renewals' | 'purchases' | 'other'): Bucket => ({ count: sums[k][0], amountMicros: sums[k][1].toString() });
  const added = (k: 'top_ups' | 'credits'): Bucket => ({ count: sums[k][0], amountMicros: (-sums[k][1]).toString() });
  const usageList: UsageCategory[] = [...usage.values()]
    .sort((a, b) => (a.micros === b.micros ? a.label.localeCompare(b.label) : a.micros > b.micros ? -1 : 1))
    .map((u) => ({ category: u.category, label: u.label, calls: u.calls, seconds: u.seconds, amountMicros: u.micros.toString(), taxMicros: u.tax.toString() }));
  const usageMicros = [...usage.values()].reduce((s, u) => s + u.micros, 0n);
  const charges = usageMicros + sums.renewals[1] + sums.purchases[1] + sums.other[1];
  // Opening + movements = closing, exactly (every posting of the period is in exactly one bucket).
  assert.equal(openingMicros + -sums.top_ups[1] + -sums.credits[1] - charges, closingMicros, `statement of ${customer.id} reconciles`);

  const summary: StatementSummary = {
    version: 1,
    usage: usageList,
    renewals: spent('renewals'),
    purchases: spent('purchases'),
    topUps: added('top_ups'),
    credits: added('credits'),
    other: spent('other'),
    chargesMicros: charges.toString(),
  };

  // The Monthly invoice's lines: the month's charges by category, each amount rounded ONCE to whole minor units with
  // roundToMinorUnit (ADR 0001). The points movement itself is exact micros (calls are charged to the micro), so the
  // invoice total can differ from `chargesMicros` by less than half a minor unit per rounded figure; the statement
  // summary keeps the exact figures, and the points balance is never adjusted to the rounded lines (nothing is charged here).
  // - Usage: one line per category and tax rate the calls were charged at (`usage_calls.tax_rate_bps`: a rate changed
  //   during the month gives a category two lines), its amount the calls' pre-tax price (points paid - tax), rounded
  //   once. The tax is ADR 0012's: per rate, rounded once on the sum of that rate's lines and spread over them by
  //   largest remainder, so the invoice's tax is the rate x its taxable subtotal, as on every invoice. (The calls
  //   paid their tax to the micro, ADR 0032: the two differ by less than a minor unit per line.) Calls charged without
  //   tax (rate 0, or before ADR 0032) are a line at rate 0.
  // - Renewals, purchases and other charges are what the points paid, tax included: their tax is on their own
  //   invoices (ADR 0008), so their line carries none here (rate 0, tax 0; `taxedOnOwnInvoice` tells the screen and PDF).
  // A line that rounds to zero or less (a reversal larger than its charges, or under half a minor unit) is left out: lines are positive.
  const lines: Built['lines'] = [];
  const addLine = (kind: string, description: string, micros: bigint, taxRateBps = 0, taxCategory: 'standard' | 'zero_rated' = 'standard') => {
    const rounded = roundToMinorUnit(micros, currency);
    if (rounded > 0n) lines.push({ kind, description: description.slice(0, 500), amountMicros: rounded, taxMicros: 0n, taxRateBps, taxCategory });
  };
  for (const u of usageList) {
    // Zero-rated calls first, then by rate; a zero-rated line always says so, a rate only when the category has several.
    const rates = [...usageAtRate.get(u.category)!.values()].sort((a, b) => Number(b.zeroRated) - Number(a.zeroRated) || a.rate - b.rate);
    for (const at of rates) {
      const rateNote = at.zeroRated ? ' (zero-rated)' : rates.length > 1 ? ` (tax ${at.rate / 100}%)` : '';
      addLine('usage', `${u.label}: ${at.calls} ${at.calls === 1 ? 'call' : 'calls'}, ${formatBilledTime(at.seconds)}${rateNote}`, at.micros - at.tax, at.rate,
        at.zeroRated ? 'zero_rated' : 'standard');
    }
  }
  for (const rate of new Set(lines.map((l) => l.taxRateBps))) {
    if (rate === 0) continue;
    const atRate = lines.filter((l) => l.taxRateBps === rate);
    const tax = applyBps(atRate.reduce((s, l) => s + l.amountMicros, 0n), rate, currency);
    spreadTax(currency, tax, atRate.map((l) => l.amountMicros)).forEach((share, i) => (atRate[i]!.taxMicros = share));
  }
  addLine('subscription_renewal', `Subscription renewals (${sums.renewals[0]})`, sums.renewals[1]);
  addLine('purchase', `Purchases paid from points (${sums.purchases[0]})`, sums.purchases[1]);
  addLine('other_charge', `Other charges (${sums.other[0]})`, sums.other[1]);
  return { customer, currency, openingMicros, closingMicros, summary, lines };
}

async function insertInvoices(
  trx: Trx, partnerId: string, input: BatchInput,
  invoices: readonly { built: Built; id: string; number: string; subtotalMicros: bigint; taxMicros: bigint; totalMicros: bigint }[],
): Promise<void> {
  if (invoices.length === 0) return;
  const at = input.issuedAt.toISOString();
  const notes = `Statement of ${monthLabel(input.month)}: the charges below were paid from your points as they were used. For your information only: nothing to pay.`;
  const billTo = (c: CustomerRow): BillTo => ({ name: c.billingName ?? c.name, email: c.billingEmail, phone: c.billingPhone, address: c.billingAddress });
  await sql`
    insert into invoices (id, partner_id, customer_id, type, status, number, currency, subtotal_micros, tax_micros, total_micros, amount_due_micros,
                          amount_paid_micros, informational, bill_to, notes, period_start, period_end, issued_at, due_at, paid_at, updated_at)
    select id, ${partnerId}, customer_id, 'monthly', 'paid', number, currency, subtotal, tax, total, 0,
           total, true, bill_to, ${notes}, ${input.period.startDate}::date, ${input.period.endDate}::date, ${at}::timestamptz, ${at}::timestamptz, ${at}::timestamptz, ${at}::timestamptz
    from unnest(${invoices.map((i) => i.id)}::text[], ${invoices.map((i) => i.built.customer.id)}::text[], ${invoices.map((i) => i.number)}::text[],
                ${invoices.map((i) => i.built.currency)}::text[], ${invoices.map((i) => i.subtotalMicros.toString())}::bigint[],
                ${invoices.map((i) => i.taxMicros.toString())}::bigint[], ${invoices.map((i) => i.totalMicros.toString())}::bigint[],
                ${invoices.map((i) => JSON.stringify(billTo(i.built.customer)))}::jsonb[])
      as i(id, customer_id, number, currency, subtotal, tax, total, bill_to)`.execute(trx);
  const lineRows = invoices.flatMap((i) => i.built.lines.map((l, position) => [
    i.id, partnerId, i.built.customer.id, position + 1, l.kind, l.description, 1, l.amountMicros, l.amountMicros, l.amountMicros, l.taxMicros, l.taxCategory, l.taxRateBps,
  ] as const));
  for (let i = 0; i < lineRows.length; i += 5000) {
    await insertUnnest(trx, 'invoice_lines', [
      ['invoice_id', 'text'], ['partner_id', 'text'], ['customer_id', 'text'], ['position', 'int'], ['kind', 'text'], ['description', 'text'], ['quantity', 'int'],
      ['unit_amount_micros', 'bigint'], ['gross_micros', 'bigint'], ['amount_micros', 'bigint'], ['tax_micros', 'bigint'], ['tax_category', 'text'], ['tax_rate_bps', 'int'],
    ], lineRows.slice(i, i + 5000));
  }
}

function statementMessage(b: Built, month: string, invoiceNumber: string | null): { subject: string; bodyText: string } {
  const money = (micros: bigint | string) => moneyText(BigInt(micros), b.currency);
  const s = b.summary;
  const lines = [
    `Your statement for ${monthLabel(month)}${invoiceNumber ? ` (${invoiceNumber})` : ''}.`,
    '',
    `Opening points:  ${money(b.openingMicros)}`,
    // A category's amount is what the points paid, tax included (ADR 0032): the tax in it is said beside it.
    ...s.usage.map((u) => `${u.label}: ${u.calls} ${u.calls === 1 ? 'call' : 'calls'}, ${formatBilledTime(u.seconds)}: ${money(u.amountMicros)}`
      + (BigInt(u.taxMicros) !== 0n ? ` (of which tax ${money(u.taxMicros)})` : '')),
    ...(s.renewals.count > 0 ? [`Renewals (${s.renewals.count}): ${money(s.renewals.amountMicros)}`] : []),
    ...(s.purchases.count > 0 ? [`Purchases (${s.purchases.count}): ${money(s.purchases.amountMicros)}`] : []),
    ...(s.other.count > 0 ? [`Other (${s.other.count}): ${money(s.other.amountMicros)}`] : []),
    ...(s.topUps.count > 0 ? [`Top-ups (${s.topUps.count}): ${money(s.topUps.amountMicros)}`] : []),
    ...(s.credits.count > 0 ? [`Credits (${s.credits.count}): ${money(s.credits.amountMicros)}`] : []),
    `Closing points:  ${money(b.closingMicros)}`,
    '',
    invoiceNumber
      ? 'The charges were paid from your points as you used them: this statement is for your information, there is nothing to pay.'
      : 'No charges this month: nothing to pay.',
  ];
  return { subject: `Your ${monthLabel(month)} statement${invoiceNumber ? ` ${invoiceNumber}` : ''}: closing points ${money(b.closingMicros)}`, bodyText: lines.join('\n') };
}
