// Monthly statements benchmark (issue 5 §5): statements for 10,000 customers, total time, statements/s, peak RSS.
//
//   npm run bench:statements          (standalone; also a step of `npm run bench`)
//
// What it does (loopback only; bounded in time; cleaned up even on failure):
//  1. An embedded PostgreSQL in a fresh temp dir under /tmp (port BENCH_STATEMENTS_PG_PORT), migrated and demo-seeded (people only).
//  2. In bulk SQL (owner connection), for BENCH_STATEMENT_CUSTOMERS customers of Demo Telecom (SGD), each with an owner and a
//     points wallet, BENCH_STATEMENT_MONTHS months of activity ending with the stated month (October 2026), every month:
//     a top-up of 50.00, BENCH_STATEMENT_CALLS calls (one batch entry, one points posting each, with their usage_calls rows,
//     on the demo rate plan's five destinations) and a renewal of 21.80; then a top-up in November (after the period).
//     Balanced journal entries, running balances after each posting, postings in time order (ids follow posted_at).
//  3. `generateMonthlyStatements` for October as the worker runs it (app role, row-level security on): the timed phase.
//     Then a second run (nothing to write), and the figures checked: one statement and one Monthly invoice per customer,
//     every closing balance equal to an independent sum of the account's postings before 1 November, numbers gapless.
//  4. Prints total seconds, statements/s, peak RSS, the plan of one batch's ledger read; writes bench/statements-results.json.
//
// Env: BENCH_STATEMENT_CUSTOMERS (10000) BENCH_STATEMENT_CALLS (30) BENCH_STATEMENT_MONTHS (4) BENCH_STATEMENT_BATCH (1000)
//      BENCH_STATEMENTS_PG_PORT (54386) BENCH_MAX_MINUTES (20: hard stop) BENCH_OUT (bench/statements-results.json)
import { guardRun, removeLeftovers } from './bench-kit.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import pino from 'pino';
import { openDatabase, type DatabaseHandle, type Db } from '../src/platform/database.ts';
import { startEmbeddedPostgres, stopServerOnDataDir, type EmbeddedDatabase } from '../src/platform/embedded-postgres.ts';
import { migrateToLatest } from '../src/platform/migrate.ts';
import { seedDemo } from '../src/platform/seed.ts';
import { DEMO_SGD_RATES } from '../src/products/demo-usage.ts';
import { insertRates, newRatePlanId } from '../src/products/rate-plans.repo.ts';
import { DEFAULT_STATEMENT_BATCH, generateMonthlyStatements, ledgerRead } from '../src/invoices/statements/generate-monthly-statements.ts';

const REPO = path.resolve(import.meta.dirname, '..');
const TMP_PREFIX = 'folio-statements-bench-';
const MONTH = '2026-10';
const PERIOD_END = '2026-11-01';

interface Options {
  customers: number;
  calls: number;
  months: number;
  batch: number;
  pgPort: number;
  maxMinutes: number;
  out: string;
}

function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): Options {
  const int = (name: string, fallback: number, min: number, max: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be a whole number from ${min} to ${max}`);
    return n;
  };
  return {
    customers: int('BENCH_STATEMENT_CUSTOMERS', 10_000, 1, 1_000_000),
    calls: int('BENCH_STATEMENT_CALLS', 30, 1, 1000),
    months: int('BENCH_STATEMENT_MONTHS', 4, 1, 24),
    batch: int('BENCH_STATEMENT_BATCH', DEFAULT_STATEMENT_BATCH, 1, 5000),
    pgPort: int('BENCH_STATEMENTS_PG_PORT', 54386, 1024, 65535),
    maxMinutes: int('BENCH_MAX_MINUTES', 20, 1, 240),
    out: env.BENCH_OUT ?? path.join(REPO, 'bench', 'statements-results.json'),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmtInt = (n: number) => n.toLocaleString('en-US');

/** The bench's data, in bulk SQL (owner connection). Returns the partner and how many postings were written. */
async function load(owner: Db, o: Options): Promise<{ partnerId: string; postings: number }> {
  const partnerId = (await sql<{ id: string }>`select id from partners where slug = 'demo-telecom'`.execute(owner)).rows[0]!.id;
  // The demo's default SGD rate plan (its rates name the usage categories: Singapore fixed, Singapore mobile, ...).
  await owner.transaction().execute(async (trx) => {
    const ratePlanId = newRatePlanId();
    await trx.insertInto('ratePlans').values({
      id: ratePlanId, partnerId, name: 'Standard SGD', currency: 'SGD', firstIncrementSeconds: 60, nextIncrementSeconds: 60, minimumChargeMicros: 0n, isDefault: true,
    }).execute();
    await insertRates(trx, partnerId, ratePlanId, DEMO_SGD_RATES);
  });
  const cus = (g: string) => sql.raw(`'cus_bst' || lpad(${g}::text, 8, '0')`);
  await sql`
    insert into customers (id, partner_id, name, currency)
      select ${cus('g')}, ${partnerId}, 'Statement customer ' || g, 'SGD' from generate_series(1, ${o.customers}::int) g`.execute(owner);
  await sql`
    insert into users (id, kind, partner_id, customer_id, customer_role, email, name, status, email_verified_at)
      select 'usr_bst' || lpad(g::text, 8, '0'), 'customer', ${partnerId}, ${cus('g')}, 'owner', 'owner' || g || '@bench-statements.test', 'Owner ' || g, 'active', now()
      from generate_series(1, ${o.customers}::int) g`.execute(owner);
  await sql`
    insert into ledger_accounts (id, partner_id, currency, code, customer_id, kind)
      select 'acc_bst' || lpad(g::text, 8, '0'), ${partnerId}, 'SGD', 'points', ${cus('g')}, 'liability' from generate_series(1, ${o.customers}::int) g`.execute(owner);
  await sql`
    insert into wallets (partner_id, customer_id, currency, points_account_id)
      select ${partnerId}, ${cus('g')}, 'SGD', 'acc_bst' || lpad(g::text, 8, '0') from generate_series(1, ${o.customers}::int) g`.execute(owner);
  await sql`
    insert into ledger_accounts (id, partner_id, currency, code, customer_id, kind)
      values ('acc_bst_card', ${partnerId}, 'SGD', 'card_clearing', null, 'asset'), ('acc_bst_usage', ${partnerId}, 'SGD', 'revenue:usage', null, 'revenue'),
             ('acc_bst_subs', ${partnerId}, 'SGD', 'revenue:subscription', null, 'revenue')
      on conflict do nothing`.execute(owner);
  const account = async (code: string) => (await sql<{ id: string }>`select id from ledger_accounts where partner_id = ${partnerId} and currency = 'SGD' and code = ${code} and customer_id is null`.execute(owner)).rows[0]!.id;
  const card = await account('card_clearing');
  const usage = await account('revenue:usage');
  const subs = await account('revenue:subscription');

  const firstMonth = new Date(Date.UTC(2026, 10 - o.months, 1)).toISOString().slice(0, 10); // October back o.months - 1 months
  let postings = 0;
  await owner.transaction().execute(async (trx) => {
    // Every customer posting of every month (k: month index, s: 0 top-up, 1..calls calls, calls+1 renewal), then November's top-up.
    await sql`
      create temp table bench_moves on commit drop as
      select g, k, s, 'acc_bst' || lpad(g::text, 8, '0') as account_id, ${cus('g')} as customer_id,
        case when s = 0 then 'je_bst_t_' || g || '_' || k when s > ${o.calls}::int then 'je_bst_r_' || g || '_' || k else 'je_bst_c_' || g || '_' || k end as entry_id,
        case when s = 0 then 'top_up' when s > ${o.calls}::int then 'subscription_renewal' else 'call_charge' end as kind,
        case when s = 0 then 'top_up' when s > ${o.calls}::int then 'subscription' else 'call' end as cause_type,
        case when s = 0 then 'top_bst_' || g || '_' || k when s > ${o.calls}::int then 'sub_bst_' || g else 'cal_bst_' || g || '_' || k || '_' || s end as cause_id,
        (array['65', '658', '659', '1', '44'])[1 + s % 5] as prefix,
        30 + (g * 7 + s * 13) % 600 as duration,
        ceil((30 + (g * 7 + s * 13) % 600) / 60.0)::int * 60 as billed,
        case when s = 0 then -50000000::bigint
             when s > ${o.calls}::int then 21800000::bigint
             else (ceil((30 + (g * 7 + s * 13) % 600) / 60.0)::int * (array[30000, 60000, 60000, 20000, 50000])[1 + s % 5])::bigint end as amount,
        (${firstMonth}::date + make_interval(months => k))::timestamptz
          + case when s = 0 then make_interval(days => 1, secs => g % 86400)
                 when s > ${o.calls}::int then make_interval(days => 14, secs => g % 86400)
                 else make_interval(days => 2, secs => (g * 31 + s * 7919) % (25 * 86400)) end as posted_at
      from generate_series(1, ${o.customers}::int) g, generate_series(0, ${o.months - 1}::int) k, generate_series(0, ${o.calls + 1}::int) s
      union all
      select g, ${o.months}::int, 0, 'acc_bst' || lpad(g::text, 8, '0'), ${cus('g')}, 'je_bst_t_' || g || '_nov', 'top_up', 'top_up', 'top_bst_' || g || '_nov',
        null, 0, 0, -10000000::bigint, ${PERIOD_END}::timestamptz + make_interval(days => 4, secs => g % 86400)
      from generate_series(1, ${o.customers}::int) g`.execute(trx);
    await sql`
      insert into journal_entries (id, partner_id, currency, customer_id, kind, cause_type, cause_id, description, audit_event_id, posted_at)
        select entry_id, ${partnerId}, 'SGD', min(customer_id), min(kind), min(case when kind = 'call_charge' then 'call_batch' else cause_type end),
          min(case when kind = 'call_charge' then 'cbt_' || entry_id else cause_id end), min(case when kind = 'top_up' then 'Card top-up' when kind = 'call_charge' then 'Calls' else 'Renewal' end),
          null, min(posted_at)
        from bench_moves group by entry_id`.execute(trx);
    const { numAffectedRows } = await sql`
      insert into postings (entry_id, partner_id, currency, account_id, customer_id, amount_micros, balance_after_micros, kind, description, cause_type, cause_id, posted_at)
        select entry_id, ${partnerId}, 'SGD', account_id, customer_id, amount, balance_after, kind, description, cause_type, cause_id, posted_at
        from (
          select entry_id, account_id, customer_id, amount, sum(amount) over (partition by account_id order by posted_at, s rows unbounded preceding) as balance_after,
            kind, case when kind = 'top_up' then 'Card top-up' when kind = 'call_charge' then 'Call, ' || billed || ' s' else 'Renewal' end as description,
            cause_type, cause_id, posted_at, 0 as side
          from bench_moves
          union all
          select entry_id, case min(kind) when 'top_up' then ${card} when 'call_charge' then ${usage} else ${subs} end, null, -sum(amount), null,
            null, null, null, null, max(posted_at), 1
          from bench_moves group by entry_id
        ) x
        order by posted_at, side`.execute(trx);
    postings = Number(numAffectedRows ?? 0n);
    await sql`
      insert into usage_calls (id, partner_id, customer_id, call_id, from_number, to_number, direction, started_at, duration_seconds, billed_seconds, prefix, currency,
                               price_micros, cost_micros, entry_id, created_at)
        select cause_id, ${partnerId}, customer_id, cause_id, '6560000000', prefix || '12345678', 'outbound', posted_at, duration, billed, prefix, 'SGD', amount, 0, entry_id, posted_at
        from bench_moves where kind = 'call_charge'`.execute(trx);
  });
  return { partnerId, postings };
}

export async function runStatementBench(o: Options = optionsFromEnv(), log: (l: string) => void = (l) => console.log(l)): Promise<Record<string, unknown>> {
  let embedded: EmbeddedDatabase | null = null;
  let owner: DatabaseHandle | null = null;
  let app: DatabaseHandle | null = null;
  let dir: string | null = null;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await app?.close().catch(() => {});
    await owner?.close().catch(() => {});
    if (embedded) await Promise.race([embedded.stop(), sleep(20_000)]).catch(() => {});
    if (dir) {
      await stopServerOnDataDir(path.join(dir, 'pg'), log);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  // Hard bound on the whole run, and a clean stop on Ctrl-C.
  const release = guardRun('statements bench', o.maxMinutes, cleanup, log);

  try {
    log(`statements bench: ${fmtInt(o.customers)} customers, ${o.months} months of activity (a top-up, ${o.calls} calls and a renewal each month), `
      + `statements for ${MONTH}, ${o.batch} customers per transaction, ${os.availableParallelism()} cores (nproc), PostgreSQL port ${o.pgPort}`);
    await removeLeftovers(TMP_PREFIX, o.pgPort, log);
    dir = fs.mkdtempSync(path.join('/tmp', TMP_PREFIX));
    fs.chmodSync(dir, 0o755);
    let t0 = performance.now();
    embedded = await startEmbeddedPostgres({ dataDir: dir, port: o.pgPort, log: () => {} });
    owner = openDatabase(embedded.url, { appRole: false, max: 4 });
    await migrateToLatest(owner);
    // Without the demo's activity: its postings would be stamped today with the lowest ids, unlike a real ledger (ids follow time).
    await seedDemo(owner.db, 'folio-demo-2026', { activity: false });
    log(`  postgres start, migrate, seed: ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    t0 = performance.now();
    const { partnerId, postings } = await load(owner.db, o);
    await sql`vacuum (analyze) postings, journal_entries, usage_calls, ledger_accounts, wallets, customers, users`.execute(owner.db);
    await sql`checkpoint`.execute(owner.db);
    const totalPostings = Number((await sql<{ n: string }>`select count(*)::text as n from postings`.execute(owner.db)).rows[0]!.n);
    log(`  load (bulk SQL) + vacuum analyze + checkpoint: ${((performance.now() - t0) / 1000).toFixed(1)} s (${fmtInt(postings)} postings written, ${fmtInt(totalPostings)} in the ledger)`);

    app = openDatabase(embedded.url, { appRole: true, max: 4 });
    const deps = { db: app.db, log: pino({ level: 'warn' }) };
    const loadBefore = os.loadavg()[0]!;
    t0 = performance.now();
    const result = await generateMonthlyStatements(deps, { month: MONTH, batchSize: o.batch });
    const seconds = (performance.now() - t0) / 1000;
    const loadAfter = os.loadavg()[0]!;
    t0 = performance.now();
    const rerun = await generateMonthlyStatements(deps, { month: MONTH, batchSize: o.batch });
    const rerunSeconds = (performance.now() - t0) / 1000;
    const peakRssMiB = process.resourceUsage().maxRSS / 1024;

    // The figures checked, independently of the code measured.
    t0 = performance.now();
    const check = (await sql<{ statements: string; invoices: string; wrongClosing: string; wrongOpening: string; minSeq: string; maxSeq: string }>`
      with truth as (
        select account_id, -sum(amount_micros) filter (where posted_at < ${PERIOD_END}::timestamptz) as closing,
          -sum(amount_micros) filter (where posted_at < ${`${MONTH}-01`}::timestamptz) as opening
        from postings where account_id like 'acc_bst%' group by account_id
      )
      select
        (select count(*) from statements s where s.customer_id like 'cus_bst%' and s.period_start = ${`${MONTH}-01`}::date)::text as statements,
        (select count(*) from invoices i where i.customer_id like 'cus_bst%' and i.type = 'monthly' and i.informational and i.status = 'paid' and i.amount_due_micros = 0)::text as invoices,
        (select count(*) from statements s join wallets w on w.partner_id = s.partner_id and w.customer_id = s.customer_id join truth t on t.account_id = w.points_account_id
          where s.customer_id like 'cus_bst%' and s.closing_points_micros <> t.closing)::text as "wrongClosing",
        (select count(*) from statements s join wallets w on w.partner_id = s.partner_id and w.customer_id = s.customer_id join truth t on t.account_id = w.points_account_id
          where s.customer_id like 'cus_bst%' and s.opening_points_micros <> coalesce(t.opening, 0))::text as "wrongOpening",
        (select min(right(number, 6)::int) from invoices where partner_id = ${partnerId} and type = 'monthly')::text as "minSeq",
        (select max(right(number, 6)::int) from invoices where partner_id = ${partnerId} and type = 'monthly')::text as "maxSeq"`.execute(owner.db)).rows[0]!;
    const checkSeconds = (performance.now() - t0) / 1000;

    // The plan of one batch's ledger read (warm cache), as generate-monthly-statements.ts runs it.
    const firstId = (await sql<{ id: string }>`select min(id)::text as id from postings where posted_at >= ${`${MONTH}-01`}::timestamptz`.execute(owner.db)).rows[0]!.id;
    const accounts = (await sql<{ id: string }>`select points_account_id as id from wallets where customer_id like 'cus_bst%' order by customer_id limit ${o.batch}`.execute(owner.db)).rows.map((r) => r.id);
    const plan = (await sql<{ 'QUERY PLAN': string }>`explain (analyze, buffers, costs off) ${ledgerRead({
      partnerId, accountIds: accounts, period: { start: new Date(`${MONTH}-01T00:00:00Z`), end: new Date(`${PERIOD_END}T00:00:00Z`) }, firstPostingId: firstId,
    })}`.execute(owner.db)).rows.map((r) => r['QUERY PLAN'].replace(/'\{[^}]{200,}\}'/g, `'{...${accounts.length} accounts}'`));

    const expected = o.customers;
    const ok = result.statements >= expected && Number(check.statements) === expected && Number(check.invoices) === expected
      && Number(check.wrongClosing) === 0 && Number(check.wrongOpening) === 0 && rerun.statements === 0
      && Number(check.maxSeq) - Number(check.minSeq) + 1 === result.invoices;
    const summary = {
      measuredAt: new Date().toISOString(),
      cores: os.availableParallelism(),
      loadAverage1m: { before: Number(loadBefore.toFixed(2)), after: Number(loadAfter.toFixed(2)) },
      customers: o.customers,
      monthsOfActivity: o.months,
      callsPerCustomerPerMonth: o.calls,
      postingsInLedger: totalPostings,
      batchCustomersPerTransaction: o.batch,
      statements: result.statements,
      invoices: result.invoices,
      notifications: result.notifications,
      totalSeconds: Number(seconds.toFixed(2)),
      statementsPerSecond: Math.round(result.statements / seconds),
      rerunSeconds: Number(rerunSeconds.toFixed(2)),
      rerunStatements: rerun.statements,
      peakRssMiB: Math.round(peakRssMiB),
      wrongClosing: Number(check.wrongClosing),
      wrongOpening: Number(check.wrongOpening),
      checkSeconds: Number(checkSeconds.toFixed(1)),
      consistent: ok,
      batchPlan: plan,
    };
    log('');
    log(`  statements for ${MONTH}:  ${fmtInt(result.statements)} (+ ${fmtInt(result.invoices)} Monthly invoices, ${fmtInt(result.notifications)} notifications) in ${seconds.toFixed(2)} s `
      + `(machine load ${loadBefore.toFixed(1)} -> ${loadAfter.toFixed(1)})`);
    log(`  statements/s:            ${fmtInt(summary.statementsPerSecond)}`);
    log(`  rerun (nothing to do):   ${rerunSeconds.toFixed(2)} s, ${rerun.statements} statements written`);
    log(`  peak RSS (node):         ${summary.peakRssMiB} MiB`);
    log(`  checked:                 ${check.statements} statements, ${check.invoices} informational paid invoices, ${check.wrongClosing} wrong closings, `
      + `${check.wrongOpening} wrong openings, numbers ${check.minSeq}..${check.maxSeq} (${checkSeconds.toFixed(1)} s)`);
    log('  one batch\'s ledger read (warm):');
    for (const line of plan) log(`    ${line}`);
    fs.writeFileSync(o.out, `${JSON.stringify(summary, null, 2)}\n`);
    log(`  written: ${path.relative(REPO, o.out)}`);
    if (!ok) throw new Error('statements bench: the figures do not add up (see above)');
    return summary;
  } finally {
    release();
    await cleanup();
  }
}

const invokedDirectly = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  try {
    await runStatementBench();
  } catch (err) {
    console.error(err);
    process.exitCode = 1;
  }
}
