// Finance reports benchmark (issue 6 §7): accounts receivable aging and the trial balance (today and a past day) over a
// ledger of BENCH_FINANCE_POSTINGS postings (10,000,000), BENCH_FINANCE_CUSTOMERS customers (10,000) and
// BENCH_FINANCE_INVOICES open invoices (50,000): time of each report through its use case (as the API calls it: the app
// role under row-level security, partner scope), several runs, p50 against the 2 s target, and EXPLAIN ANALYZE of each query.
//
//   npm run bench:finance        (or: npm exec -- node bench/finance-reports.ts)
//
// 1. An embedded PostgreSQL in a fresh temp dir under /tmp (port BENCH_FINANCE_PG_PORT, 54397), migrated and demo-seeded.
// 2. Bulk SQL (generate_series), every entry balanced, in time order over the last 400 days: a top-up per customer
//    (Dr bank / Cr points:{c}), call charges (Dr points:{c} / Cr revenue:usage), one Purchase invoice issued per open
//    invoice (Dr receivable:{c} / Cr revenue:one_time, the invoice row due 30 days after issue), and unapplied money for one
//    customer in ten (Dr bank / Cr unapplied:{c}). For speed the load skips the triggers (session_replication_role =
//    replica) and does their work itself (account balances); secondary indexes are dropped for the load and rebuilt.
//    Then: every account's balance equals the sum of its postings, receivables equal the invoices due, the books sum to 0.
// 3. Each report BENCH_FINANCE_RUNS times (5) after one warm-up: AR aging, trial balance today, trial balance at a past day
//    (BENCH_FINANCE_PAST_DAYS ago, 30), the same with byCustomer, each followed by the EXPLAIN (ANALYZE, BUFFERS) of its
//    query; then, once, the naive past trial balance (sum of every posting up to the day) for comparison. Results in
//    bench/finance-reports-results.json, written after each case.
//
// Env: BENCH_FINANCE_POSTINGS (10000000) BENCH_FINANCE_CUSTOMERS (10000) BENCH_FINANCE_INVOICES (50000)
//      BENCH_FINANCE_PG_PORT (54397) BENCH_FINANCE_RUNS (5) BENCH_FINANCE_PAST_DAYS (30) BENCH_MAX_MINUTES (8: hard stop)
//      BENCH_FINANCE_OUT (bench/finance-reports-results.json)
import { guardRun, removeLeftovers } from './bench-kit.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql, type RawBuilder } from 'kysely';
import pino from 'pino';
import { resolveAccounts } from '../src/ledger/accounts.ts';
import { inScope, openDatabase, type DatabaseHandle, type Db } from '../src/platform/database.ts';
import { startEmbeddedPostgres, stopServerOnDataDir, type EmbeddedDatabase } from '../src/platform/embedded-postgres.ts';
import { migrateToLatest } from '../src/platform/migrate.ts';
import { seedDemo } from '../src/platform/seed.ts';
import { loadConfig } from '../src/platform/config.ts';
import { systemClock } from '../src/platform/clock.ts';
import type { Ctx } from '../src/platform/context.ts';
import { addDays, utcDay } from '../src/topup/dates.ts';
import { arAgingQuery, getArAging } from '../src/finance/reports/ar-aging.ts';
import { getTrialBalance, trialBalanceQuery } from '../src/finance/reports/trial-balance.ts';

const REPO = path.resolve(import.meta.dirname, '..');
const TMP_PREFIX = 'folio-finance-bench-';
const TARGET_MS = 2000;

function envInt(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw.replaceAll('_', ''));
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  return v;
}

const o = {
  postings: envInt('BENCH_FINANCE_POSTINGS', 10_000_000, 10_000, 100_000_000),
  customers: envInt('BENCH_FINANCE_CUSTOMERS', 10_000, 10, 1_000_000),
  invoices: envInt('BENCH_FINANCE_INVOICES', 50_000, 10, 10_000_000),
  pgPort: envInt('BENCH_FINANCE_PG_PORT', 54397, 1024, 65535),
  runs: envInt('BENCH_FINANCE_RUNS', 5, 1, 100),
  pastDays: envInt('BENCH_FINANCE_PAST_DAYS', 30, 1, 399),
  maxMinutes: envInt('BENCH_MAX_MINUTES', 8, 1, 240),
  out: process.env.BENCH_FINANCE_OUT ?? path.join(REPO, 'bench', 'finance-reports-results.json'),
};
const log = (line: string) => console.log(line);
const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: readonly number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** The ledger and invoices, in bulk (see the header). Returns the partner id. */
async function load(owner: Db): Promise<string> {
  const partnerId = (await owner.selectFrom('partners').select('id').where('slug', '=', 'demo-telecom').executeTakeFirstOrThrow()).id;
  const C = o.customers;
  const I = o.invoices;
  const U = Math.ceil(C / 10);
  const entries = Math.floor(o.postings / 2);
  if (entries < C + I + U) throw new Error(`BENCH_FINANCE_POSTINGS too small for ${C} customers and ${I} invoices`);
  const accounts = await owner.transaction().execute((trx) => resolveAccounts(trx, partnerId, 'SGD', [
    { code: 'bank' }, { code: 'revenue:usage' }, { code: 'revenue:one_time' },
  ]));
  const bank = accounts.get('bank|')!;
  const usage = accounts.get('revenue:usage|')!;
  const oneTime = accounts.get('revenue:one_time|')!;

  await owner.transaction().execute(async (trx) => {
    await sql`insert into customers (id, partner_id, name, currency)
      select 'cus_fbench' || lpad(k::text, 10, '0'), ${partnerId}, 'Bench Customer ' || lpad(k::text, 6, '0'), 'SGD' from generate_series(1, ${C}::int) k`.execute(trx);
    await sql`insert into ledger_accounts (id, partner_id, currency, code, customer_id, kind)
      select 'acc_fb' || c.code || lpad(k::text, 10, '0'), ${partnerId}, 'SGD', c.code, 'cus_fbench' || lpad(k::text, 10, '0'), c.kind
      from generate_series(1, ${C}::int) k
      cross join (values ('points', 'liability'), ('receivable', 'asset'), ('unapplied', 'liability')) c(code, kind)
      where c.code <> 'unapplied' or k <= ${U}::int`.execute(trx);
  });

  const secondary = (await sql<{ name: string; def: string }>`
    select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as def from pg_index i
    where i.indrelid in ('postings'::regclass, 'journal_entries'::regclass)
      and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)`.execute(owner)).rows;
  for (const ix of secondary) await sql`drop index ${sql.raw(ix.name)}`.execute(owner);

  // Entry n (1..E) at now - 400 days + n * step. Kinds: n <= C a top-up; every `stride`-th after that an invoice (while
  // fewer than I); every stride-th shifted by half an unapplied payment (while fewer than U); the rest call charges.
  const stride = Math.floor((entries - C) / (I + 1));
  const kindOf = sql`case
      when n <= ${C}::bigint then 'top'
      when (n - ${C}::bigint) % ${stride}::bigint = 0 and (n - ${C}::bigint) / ${stride}::bigint <= ${I}::bigint then 'inv'
      when (n - ${C}::bigint) % ${stride}::bigint = ${Math.floor(stride / 2)}::bigint and (n - ${C}::bigint) / ${stride}::bigint < ${U}::bigint then 'una'
      else 'call' end`;
  const chunkSize = 1_000_000;
  const started = Date.now();
  for (let n0 = 1; n0 <= entries; n0 += chunkSize) {
    const n1 = Math.min(entries, n0 + chunkSize - 1);
    const chunk = sql`select n, kind, ts, 'je_fbench' || lpad(n::text, 12, '0') as entry_id,
        case kind when 'top' then n when 'inv' then ((n - ${C}::bigint) / ${stride}::bigint - 1) % ${C}::bigint + 1
                  when 'una' then (n - ${C}::bigint) / ${stride}::bigint + 1 else n % ${C}::bigint + 1 end as k,
        case kind when 'top' then 1000000000000 when 'inv' then 100000000 + (n % 997) * 10000 when 'una' then 25000000 else 100000 + (n % 50) * 10000 end as amount
      from (select n, ${kindOf} as kind,
              now() - interval '400 days' + n * (interval '400 days' / ${entries}::bigint) as ts
            from generate_series(${n0}::bigint, ${n1}::bigint) n) x`;
    const rows = sql`select c.*, 'cus_fbench' || lpad(c.k::text, 10, '0') as customer_id from (${chunk}) c`;
    await Promise.all([
      owner.transaction().execute(async (trx) => {
        await sql`set local session_replication_role = replica`.execute(trx);
        await sql`set local synchronous_commit = off`.execute(trx);
        await sql`insert into journal_entries (id, partner_id, currency, customer_id, kind, cause_type, cause_id, description, audit_event_id, posted_at)
          select entry_id, ${partnerId}, 'SGD', customer_id,
            case kind when 'top' then 'points_issued' when 'inv' then 'invoice_issued' when 'una' then 'payment_received' else 'call_charge' end,
            case kind when 'inv' then 'invoice' else 'bench' end,
            case kind when 'inv' then 'inv_fbench' || lpad(n::text, 12, '0') else 'bench' || n end, 'Bench entry', null, ts
          from (${rows}) r order by n`.execute(trx);
        await sql`insert into invoices (id, partner_id, customer_id, type, status, number, currency, subtotal_micros, tax_micros, total_micros,
            amount_due_micros, issued_at, due_at, created_at, updated_at)
          select 'inv_fbench' || lpad(n::text, 12, '0'), ${partnerId}, customer_id, 'purchase', 'awaiting_payment', 'FB-' || n, 'SGD', amount, 0, amount,
            amount, ts, ts + interval '30 days', ts, ts
          from (${rows}) r where kind = 'inv' order by n`.execute(trx);
      }),
      owner.transaction().execute(async (trx) => {
        await sql`set local session_replication_role = replica`.execute(trx);
        await sql`set local synchronous_commit = off`.execute(trx);
        await sql`insert into postings (entry_id, partner_id, currency, account_id, customer_id, amount_micros, posted_at)
          select entry_id, ${partnerId}, 'SGD',
            case when j = 1 then case kind when 'top' then ${bank} when 'inv' then 'acc_fbreceivable' || lpad(k::text, 10, '0')
                                           when 'una' then ${bank} else 'acc_fbpoints' || lpad(k::text, 10, '0') end
                 else case kind when 'top' then 'acc_fbpoints' || lpad(k::text, 10, '0') when 'inv' then ${oneTime}
                                when 'una' then 'acc_fbunapplied' || lpad(k::text, 10, '0') else ${usage} end end,
            case when (j = 1 and kind in ('inv', 'call')) or (j = 2 and kind in ('top', 'una')) then customer_id end,
            case j when 1 then amount else -amount end, ts
          from (${rows}) r cross join generate_series(1, 2) j order by n, j`.execute(trx);
      }),
    ]);
    log(`  ${fmtInt(n1 * 2)} postings in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  // What the skipped trigger does: balances follow their postings. The accounts date from before the first posting.
  await owner.transaction().execute(async (trx) => {
    await sql`set local work_mem = '256MB'`.execute(trx);
    await sql`update ledger_accounts set created_at = now() - interval '401 days' where partner_id = ${partnerId}`.execute(trx);
    await sql`update ledger_accounts a set balance_micros = s.total
      from (select account_id, sum(amount_micros) as total from postings where partner_id = ${partnerId} group by account_id) s
      where a.id = s.account_id and a.partner_id = ${partnerId}`.execute(trx);
  });
  const t = Date.now();
  const queue = [...secondary];
  await Promise.all([0, 1].map(async () => {
    for (let ix = queue.shift(); ix; ix = queue.shift()) {
      const def = ix.def;
      await owner.transaction().execute(async (trx) => {
        await sql`set local maintenance_work_mem = '512MB'`.execute(trx);
        await sql.raw(def).execute(trx);
      });
    }
  }));
  log(`  ${secondary.length} indexes rebuilt in ${((Date.now() - t) / 1000).toFixed(0)} s`);
  return partnerId;
}

/** The invariants the reports rely on, on the loaded data (the ledger's own checks, restricted to what is cheap). */
async function verify(owner: Db, partnerId: string): Promise<void> {
  const r = (await sql<{ unbalanced: string; receivable: string; total: string }>`select
      (select count(*) from (select a.id from ledger_accounts a
        left join (select account_id, sum(amount_micros) s from postings group by account_id) p on p.account_id = a.id
        where a.partner_id = ${partnerId} and a.balance_micros <> coalesce(p.s, 0)) x)::text as unbalanced,
      (select count(*) from (select customer_id, balance_micros from ledger_accounts where partner_id = ${partnerId} and code = 'receivable') a
        full join (select customer_id, sum(amount_due_micros) d from invoices where partner_id = ${partnerId}
                   and status in ('awaiting_payment', 'partially_paid') and type = 'purchase' group by customer_id) i
          on i.customer_id = a.customer_id
        where coalesce(a.balance_micros, 0) <> coalesce(i.d, 0))::text as receivable,
      (select sum(balance_micros) from ledger_accounts where partner_id = ${partnerId} and currency = 'SGD')::text as total`.execute(owner)).rows[0]!;
  if (r.unbalanced !== '0' || r.receivable !== '0' || r.total !== '0') throw new Error(`the loaded ledger does not hold: ${JSON.stringify(r)}`);
}

async function explain(app: Db, partnerId: string, query: RawBuilder<unknown>): Promise<string> {
  return inScope(app, { kind: 'partner', partnerId }, async (trx) => {
    const rows = (await sql<{ 'QUERY PLAN': string }>`explain (analyze, buffers) ${query}`.execute(trx)).rows;
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  });
}

async function main(): Promise<void> {
  let embedded: EmbeddedDatabase | null = null;
  let owner: DatabaseHandle | null = null;
  let app: DatabaseHandle | null = null;
  let dir: string | null = null;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    // PostgreSQL first: a query still running (stopped by the watchdog) ends with it, and the pools close at once.
    if (embedded) await Promise.race([embedded.stop(), sleep(20_000)]).catch(() => {});
    await Promise.race([Promise.all([app?.close(), owner?.close()]), sleep(5_000)]).catch(() => {});
    if (dir) {
      await stopServerOnDataDir(path.join(dir, 'pg'), log);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  // Hard bound on the whole run, and a clean stop on Ctrl-C.
  const release = guardRun('finance reports bench', o.maxMinutes, cleanup, log);

  const t0 = Date.now();
  try {
    log(`finance reports bench: ${fmtInt(o.postings)} postings, ${fmtInt(o.customers)} customers, ${fmtInt(o.invoices)} open invoices, ${os.availableParallelism()} cores, PostgreSQL port ${o.pgPort}`);
    await removeLeftovers(TMP_PREFIX, o.pgPort, log);
    dir = fs.mkdtempSync(path.join('/tmp', TMP_PREFIX));
    fs.chmodSync(dir, 0o755);
    embedded = await startEmbeddedPostgres({ dataDir: dir, port: o.pgPort, log: () => {} });
    owner = openDatabase(embedded.url, { appRole: false, max: 3 });
    await migrateToLatest(owner);
    await seedDemo(owner.db, 'folio-demo-2026', { activity: false });
    const partnerId = await load(owner.db);
    await sql`vacuum (analyze) postings, journal_entries, invoices, ledger_accounts, customers`.execute(owner.db);
    await sql`checkpoint`.execute(owner.db);
    const loadSeconds = (Date.now() - t0) / 1000;
    log(`loaded in ${loadSeconds.toFixed(0)} s; verifying ...`);
    await verify(owner.db, partnerId);
    const counts = (await sql<{ postings: string; invoices: string; accounts: string; size: string }>`select
      (select count(*) from postings)::text as postings,
      (select count(*) from invoices where status in ('awaiting_payment', 'partially_paid'))::text as invoices,
      (select count(*) from ledger_accounts)::text as accounts,
      pg_size_pretty(pg_total_relation_size('postings')) as size`.execute(owner.db)).rows[0]!;
    log(`  ${fmtInt(Number(counts.postings))} postings (${counts.size} with indexes), ${fmtInt(Number(counts.invoices))} open invoices, ${fmtInt(Number(counts.accounts))} accounts: balances, receivables and the books check out`);

    app = openDatabase(embedded.url, { appRole: true, max: 2 });
    const ctx: Ctx = {
      db: app.db, config: loadConfig({ FOLIO_PUBLIC_URL: 'http://localhost:3000' }), log: pino({ level: 'warn' }), clock: systemClock,
      principal: { kind: 'staff', userId: 'usr_bench', partnerId, email: 'finance@demo.test', name: 'Bench', apps: new Set(['finance']), sessionId: 'ses_bench' },
      requestId: null, ip: null, userAgent: null,
    };
    const today = utcDay(new Date());
    const past = addDays(today, -o.pastDays);
    const endOfPast = new Date(Date.parse(`${past}T00:00:00.000Z`) + 86_400_000);

    const cases: Array<{ name: string; run: () => Promise<unknown>; explain: RawBuilder<unknown>; check?: (r: unknown) => string }> = [
      {
        name: 'AR aging (today)', run: () => getArAging(ctx, { currency: 'SGD' }), explain: arAgingQuery(partnerId, 'SGD', today),
        check: (r) => { const a = r as Awaited<ReturnType<typeof getArAging>>; return `${fmtInt(a.totals.customers)} customers, ${fmtInt(a.totals.openInvoices)} invoices, due ${a.totals.totalDue} (over 90: ${a.totals.over90})`; },
      },
      {
        name: 'trial balance (today)', run: () => getTrialBalance(ctx, { currency: 'SGD' }),
        explain: trialBalanceQuery(partnerId, 'SGD', { current: true, endOfDay: new Date(), byCustomer: false }),
        check: (r) => { const b = r as Awaited<ReturnType<typeof getTrialBalance>>; return `${b.rows.length} rows, debits ${b.totals.debit} = credits ${b.totals.credit}`; },
      },
      {
        name: `trial balance (${o.pastDays} days ago)`, run: () => getTrialBalance(ctx, { currency: 'SGD', asOf: past }),
        explain: trialBalanceQuery(partnerId, 'SGD', { current: false, endOfDay: endOfPast, byCustomer: false }),
        check: (r) => { const b = r as Awaited<ReturnType<typeof getTrialBalance>>; return `${b.rows.length} rows, debits ${b.totals.debit} = credits ${b.totals.credit}`; },
      },
      {
        name: 'trial balance (today, byCustomer)', run: () => getTrialBalance(ctx, { currency: 'SGD', byCustomer: true }),
        explain: trialBalanceQuery(partnerId, 'SGD', { current: true, endOfDay: new Date(), byCustomer: true }),
        check: (r) => `${(r as Awaited<ReturnType<typeof getTrialBalance>>).rows.length} rows`,
      },
      {
        name: `trial balance (${o.pastDays} days ago, byCustomer)`, run: () => getTrialBalance(ctx, { currency: 'SGD', asOf: past, byCustomer: true }),
        explain: trialBalanceQuery(partnerId, 'SGD', { current: false, endOfDay: endOfPast, byCustomer: true }),
        check: (r) => `${(r as Awaited<ReturnType<typeof getTrialBalance>>).rows.length} rows`,
      },
    ];
    // The naive reading of a past trial balance, for comparison: every posting up to the day, summed per account.
    const naive = sql`select a.code, sum(p.amount_micros) from postings p join ledger_accounts a on a.id = p.account_id
      where p.partner_id = ${partnerId} and p.currency = 'SGD' and p.posted_at < ${endOfPast} group by a.code`;

    const results: Array<Record<string, unknown>> = [];
    const writeOut = () => fs.writeFileSync(o.out, `${JSON.stringify({
      when: new Date().toISOString(), cores: os.availableParallelism(),
      size: { postings: Number(counts.postings), openInvoices: Number(counts.invoices), accounts: Number(counts.accounts), customers: o.customers, postingsTable: counts.size },
      loadSeconds: round(loadSeconds), targetMs: TARGET_MS, results,
    }, null, 2)}\n`);
    for (const c of cases) {
      const first = await c.run(); // warm-up
      const samples: number[] = [];
      for (let i = 0; i < o.runs; i++) {
        const s = performance.now();
        await c.run();
        samples.push(performance.now() - s);
      }
      samples.sort((a, b) => a - b);
      const p50 = round(percentile(samples, 50));
      log(`  ${c.name.padEnd(44)} p50 ${String(p50).padStart(8)} ms  (min ${round(samples[0]!)}, max ${round(samples.at(-1)!)})  ${p50 < TARGET_MS ? 'PASS' : 'MISS'}  ${c.check?.(first) ?? ''}`);
      const plan = await explain(app.db, partnerId, c.explain);
      log(`EXPLAIN ANALYZE: ${c.name}\n${plan}\n`);
      results.push({ name: c.name, runs: samples.length, p50Ms: p50, minMs: round(samples[0]!), maxMs: round(samples.at(-1)!), targetMs: TARGET_MS, pass: p50 < TARGET_MS, result: c.check?.(first) ?? null, plan });
      writeOut();
    }
    // The naive past trial balance, once, for comparison (EXPLAIN ANALYZE runs it): every posting up to the day, summed.
    log(`baseline: sum of every posting up to ${o.pastDays} days ago (once) ...`);
    const s = performance.now();
    const plan = await explain(app.db, partnerId, naive);
    const ms = round(performance.now() - s);
    log(`  baseline (sum of postings up to the day)      ${ms} ms\nEXPLAIN ANALYZE: baseline\n${plan}\n`);
    results.push({ name: `baseline: sum of postings up to ${o.pastDays} days ago`, runs: 1, p50Ms: ms, targetMs: null, pass: null, plan });
    writeOut();
    log(`\nwritten ${path.relative(REPO, o.out)}; total ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  } finally {
    release();
    await cleanup();
  }
}

await main();
