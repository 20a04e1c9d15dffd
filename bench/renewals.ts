// Renewal run benchmark (issue 4 §7): 100,000 subscriptions due on one day, renewed by the job — renewals/s and total time
// (target: under 60 s on 2 cores), with the ledger balanced afterwards.
//
//   npm run bench:renewals            (standalone; also the last step of `npm run bench`)
//
// What it does (loopback only; bounded in time; cleaned up even on failure):
//  1. An embedded PostgreSQL in a fresh temp dir under /tmp (port BENCH_RENEWALS_PG_PORT), migrated and demo-seeded.
//  2. In bulk SQL (owner connection): BENCH_RENEWAL_CUSTOMERS customers of Demo Telecom (SGD, 9% tax) each with an owner,
//     points given by one balanced ledger entry (BENCH_RENEWAL_SHORT_PERCENT of them get none, so their groups fail),
//     5 catalog prices, BENCH_RENEWAL_SUBSCRIPTIONS active monthly subscriptions spread evenly over the customers, all expiring
//     on the same day, and an add-on with a pending lower quantity on every tenth subscription.
//  3. `runRenewals` as the worker runs it (app role, row-level security on, system scope), as of 7 days before that expiry:
//     the timed phase. Then the figures are checked: every subscription renewed or failed exactly once, a renewal charge per
//     renewed subscription and period, and `checkLedger` on the whole database.
//  4. Prints renewals/s, total time, the per-group outcome counts and the ledger check; writes bench/renewals-results.json.
//
// Env: BENCH_RENEWAL_SUBSCRIPTIONS (100000) BENCH_RENEWAL_CUSTOMERS (20000) BENCH_RENEWAL_SHORT_PERCENT (5)
//      BENCH_RENEWAL_BATCH (500 groups per transaction) BENCH_RENEWALS_PG_PORT (54380) BENCH_MAX_MINUTES (20: hard stop)
//      BENCH_OUT (bench/renewals-results.json)
import { guardRun, removeLeftovers } from './bench-kit.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import pino from 'pino';
import { checkLedger } from '../src/ledger/check-ledger.ts';
import { openDatabase, type DatabaseHandle, type Db } from '../src/platform/database.ts';
import { startEmbeddedPostgres, stopServerOnDataDir, type EmbeddedDatabase } from '../src/platform/embedded-postgres.ts';
import { migrateToLatest } from '../src/platform/migrate.ts';
import { seedDemo } from '../src/platform/seed.ts';
import { SandboxGateway } from '../src/gateway/sandbox.ts';
import { runRenewals, type RenewalRunResult } from '../src/subscriptions/renewals/run-renewals.ts';
import { renewalStepMillis } from '../src/subscriptions/renewals/renew-groups.ts';
import { RENEWALS_BATCH } from '../src/subscriptions/renewals/renewals-tasks.ts';

const REPO = path.resolve(import.meta.dirname, '..');
const TMP_PREFIX = 'folio-renewals-bench-';
const TARGET_SECONDS = 60;
/** Every subscription expires here; the run is as of 7 days before. */
const EXPIRY = '2027-01-15';
const ANCHOR = '2026-11-15';
const PERIOD_START = '2026-12-15';
const AS_OF = new Date('2027-01-08T02:00:00Z');

export interface RenewalBenchOptions {
  subscriptions: number;
  customers: number;
  shortPercent: number;
  batch: number;
  pgPort: number;
  maxMinutes: number;
  out: string;
}

function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): RenewalBenchOptions {
  const int = (name: string, fallback: number, min: number, max: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be a whole number from ${min} to ${max}`);
    return n;
  };
  const subscriptions = int('BENCH_RENEWAL_SUBSCRIPTIONS', 100_000, 10, 2_000_000);
  return {
    subscriptions,
    customers: Math.min(int('BENCH_RENEWAL_CUSTOMERS', Math.max(1, Math.floor(subscriptions / 5)), 1, 1_000_000), subscriptions),
    shortPercent: int('BENCH_RENEWAL_SHORT_PERCENT', 5, 0, 100),
    batch: int('BENCH_RENEWAL_BATCH', RENEWALS_BATCH, 1, 5000),
    pgPort: int('BENCH_RENEWALS_PG_PORT', int('FOLIO_BENCH_PG_PORT', 54380, 1024, 65535), 1024, 65535),
    maxMinutes: int('BENCH_MAX_MINUTES', 20, 1, 240),
    out: env.BENCH_OUT ?? path.join(REPO, 'bench', 'renewals-results.json'),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmtInt = (n: number) => n.toLocaleString('en-US');

/** The bench's data, in bulk SQL. Returns how many customers were left without points. */
export async function load(owner: Db, o: RenewalBenchOptions): Promise<{ partnerId: string; shortCustomers: number }> {
  const partnerId = (await sql<{ id: string }>`select id from partners where slug = 'demo-telecom'`.execute(owner)).rows[0]!.id;
  await sql`update partner_settings set tax_rate_bps = 900 where partner_id = ${partnerId}`.execute(owner);
  // Catalog: 5 products, one variant and one monthly SGD price each (9.00 .. 49.00, cost 40%).
  await sql`
    insert into products (id, partner_id, sku, name, type, tax_category)
      select 'prd_bench' || g, ${partnerId}, 'BENCH-' || g, 'Bench product ' || g, 'app_licence', 'standard' from generate_series(1, 5) g`.execute(owner);
  await sql`
    insert into product_variants (id, partner_id, product_id, name)
      select 'var_bench' || g, ${partnerId}, 'prd_bench' || g, 'Standard' from generate_series(1, 5) g`.execute(owner);
  await sql`
    insert into product_prices (id, partner_id, variant_id, cycle, currency, price_micros, cost_micros)
      select 'prc_bench' || g, ${partnerId}, 'var_bench' || g, 'monthly', 'SGD', (g * 10 - 1) * 1000000, (g * 4) * 1000000 from generate_series(1, 5) g`.execute(owner);
  // Customers and their owners.
  await sql`
    insert into customers (id, partner_id, name, currency)
      select 'cus_bench' || lpad(g::text, 8, '0'), ${partnerId}, 'Bench customer ' || g, 'SGD' from generate_series(1, ${o.customers}::int) g`.execute(owner);
  await sql`
    insert into users (id, kind, partner_id, customer_id, customer_role, email, name, status, email_verified_at)
      select 'usr_bench' || lpad(g::text, 8, '0'), 'customer', ${partnerId}, 'cus_bench' || lpad(g::text, 8, '0'), 'owner',
        'owner' || g || '@bench-renewals.test', 'Owner ' || g, 'active', now()
      from generate_series(1, ${o.customers}::int) g`.execute(owner);
  // Points: every customer but the short ones gets 1,000.00 SGD, in one balanced entry (Dr bank / Cr points:{c} each).
  const shortEvery = o.shortPercent === 0 ? 0 : Math.max(1, Math.round(100 / o.shortPercent));
  await sql`
    insert into ledger_accounts (id, partner_id, currency, code, customer_id, kind)
      select 'acc_bench' || lpad(g::text, 8, '0'), ${partnerId}, 'SGD', 'points', 'cus_bench' || lpad(g::text, 8, '0'), 'liability'
      from generate_series(1, ${o.customers}::int) g`.execute(owner);
  await sql`
    insert into wallets (partner_id, customer_id, currency, points_account_id)
      select ${partnerId}, 'cus_bench' || lpad(g::text, 8, '0'), 'SGD', 'acc_bench' || lpad(g::text, 8, '0') from generate_series(1, ${o.customers}::int) g`.execute(owner);
  await sql`
    insert into ledger_accounts (id, partner_id, currency, code, customer_id, kind)
      values ('acc_bench_bank', ${partnerId}, 'SGD', 'bank', null, 'asset')
      on conflict do nothing`.execute(owner);
  await owner.transaction().execute(async (trx) => {
    await sql`
      insert into journal_entries (id, partner_id, currency, customer_id, kind, cause_type, cause_id, description, audit_event_id)
        values ('je_bench_points', ${partnerId}, 'SGD', null, 'points_issued', 'bench', 'bench', 'Bench points', null)`.execute(trx);
    await sql`
      insert into postings (entry_id, partner_id, currency, account_id, customer_id, amount_micros, balance_after_micros, kind, description, cause_type, cause_id)
        select 'je_bench_points', ${partnerId}, 'SGD', 'acc_bench' || lpad(g::text, 8, '0'), 'cus_bench' || lpad(g::text, 8, '0'),
          -1000000000, -1000000000, 'points_issued', 'Bench points', 'bench', 'bench'
        from generate_series(1, ${o.customers}::int) g
        where ${shortEvery}::int = 0 or g % ${shortEvery}::int <> 0`.execute(trx);
    await sql`
      insert into postings (entry_id, partner_id, currency, account_id, customer_id, amount_micros)
        select 'je_bench_points', ${partnerId}, 'SGD', (select id from ledger_accounts where partner_id = ${partnerId} and currency = 'SGD' and code = 'bank'),
          null, -sum(amount_micros) from postings where entry_id = 'je_bench_points'`.execute(trx);
  });
  const shortCustomers = shortEvery === 0 ? 0 : Math.floor(o.customers / shortEvery);
  // Subscriptions: spread evenly over the customers, all expiring on EXPIRY; an add-on (3 -> 1 at renewal) on every tenth.
  await sql`
    insert into subscriptions (id, partner_id, customer_id, product_id, variant_id, price_id, currency, cycle, quantity, status, auto_renew,
        renew_by_card, anchor_at, current_period_start, current_period_end, activated_at, created_at, updated_at)
      select 'sub_bench' || lpad(g::text, 9, '0'), ${partnerId}, 'cus_bench' || lpad((1 + g % ${o.customers}::int)::text, 8, '0'),
        'prd_bench' || (1 + g % 5), 'var_bench' || (1 + g % 5), 'prc_bench' || (1 + g % 5), 'SGD', 'monthly', 1 + g % 3, 'active', true, false,
        ${ANCHOR}::timestamptz, ${PERIOD_START}::timestamptz, ${EXPIRY}::timestamptz, ${ANCHOR}::timestamptz, ${ANCHOR}::timestamptz, ${ANCHOR}::timestamptz
      from generate_series(1, ${o.subscriptions}::int) g`.execute(owner);
  await sql`
    insert into subscription_add_ons (id, partner_id, customer_id, subscription_id, product_id, variant_id, price_id, quantity, pending_quantity, created_at, updated_at)
      select 'sao_bench' || lpad(g::text, 9, '0'), ${partnerId}, 'cus_bench' || lpad((1 + g % ${o.customers}::int)::text, 8, '0'),
        'sub_bench' || lpad(g::text, 9, '0'), 'prd_bench' || (1 + (g + 1) % 5), 'var_bench' || (1 + (g + 1) % 5), 'prc_bench' || (1 + (g + 1) % 5),
        3, 1, ${PERIOD_START}::timestamptz, ${PERIOD_START}::timestamptz
      from generate_series(10, ${o.subscriptions}::int, 10) g`.execute(owner);
  return { partnerId, shortCustomers };
}

export async function runRenewalBench(o: RenewalBenchOptions = optionsFromEnv(), log: (l: string) => void = (l) => console.log(l)): Promise<Record<string, unknown>> {
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
  const release = guardRun('renewals bench', o.maxMinutes, cleanup, log);

  try {
    log(`renewals bench: ${fmtInt(o.subscriptions)} subscriptions over ${fmtInt(o.customers)} customers due on one day, ${o.shortPercent}% of customers without points, `
      + `${o.batch} groups per transaction, ${os.availableParallelism()} cores (nproc), PostgreSQL port ${o.pgPort}`);
    await removeLeftovers(TMP_PREFIX, o.pgPort, log);
    dir = fs.mkdtempSync(path.join('/tmp', TMP_PREFIX));
    fs.chmodSync(dir, 0o755);
    let t0 = performance.now();
    embedded = await startEmbeddedPostgres({ dataDir: dir, port: o.pgPort, log: () => {} });
    owner = openDatabase(embedded.url, { appRole: false, max: 4 });
    await migrateToLatest(owner);
    await seedDemo(owner.db, 'folio-demo-2026');
    log(`  postgres start, migrate, seed: ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    t0 = performance.now();
    const { shortCustomers } = await load(owner.db, o);
    await sql`vacuum (analyze) subscriptions, subscription_add_ons, wallets, ledger_accounts, users, customers, postings, journal_entries`.execute(owner.db);
    await sql`checkpoint`.execute(owner.db);
    log(`  load (bulk SQL) + vacuum analyze + checkpoint: ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    app = openDatabase(embedded.url, { appRole: true, max: 4 });
    const gateway = new SandboxGateway({ db: app.db, webhookSecret: 'whsec_bench', settleAfterMs: 5_000 });
    const deps = { db: app.db, gateway, log: pino({ level: 'warn' }) };

    const loadBefore = os.loadavg()[0]!;
    t0 = performance.now();
    const result: RenewalRunResult = await runRenewals(deps, { asOf: AS_OF, batchSize: o.batch });
    const seconds = (performance.now() - t0) / 1000;
    const loadAfter = os.loadavg()[0]!;
    const handled = result.renewedSubscriptions + result.failedSubscriptions;
    const expectedFailed = Math.round(o.subscriptions * shortCustomers / o.customers);
    const renewalsPerSecond = result.renewedSubscriptions / seconds;

    // The figures checked.
    t0 = performance.now();
    // Only the bench's own subscriptions (the demo seed may hold a few due the same day).
    const counts = (await sql<{ renewed: string; failed: string; charges: string; doubles: string; invoices: string }>`
      select
        (select count(*) from subscriptions where id like 'sub_bench%' and current_period_end = '2027-02-15T00:00:00Z')::text as renewed,
        (select count(*) from subscriptions where id like 'sub_bench%' and renewal_failed_at is not null)::text as failed,
        (select count(*) from subscription_charges where subscription_id like 'sub_bench%' and kind = 'renewal')::text as charges,
        (select count(*) from (select 1 from subscription_charges where kind in ('purchase', 'renewal', 'reactivation')
           group by subscription_id, period_start having count(*) > 1) d)::text as doubles,
        (select count(distinct invoice_id) from subscription_charges where subscription_id like 'sub_bench%' and kind = 'renewal')::text as invoices`.execute(owner.db)).rows[0]!;
    const others = handled - Number(counts.renewed) - Number(counts.failed);
    const problems = await checkLedger(owner.db);
    const checkSeconds = (performance.now() - t0) / 1000;
    const ok = problems.length === 0 && Number(counts.doubles) === 0 && Number(counts.charges) === Number(counts.renewed)
      && Number(counts.renewed) + Number(counts.failed) === o.subscriptions && Number(counts.failed) === expectedFailed;

    const summary = {
      measuredAt: new Date().toISOString(),
      cores: os.availableParallelism(),
      loadAverage1m: { before: Number(loadBefore.toFixed(2)), after: Number(loadAfter.toFixed(2)) },
      subscriptions: o.subscriptions,
      customers: o.customers,
      batchGroupsPerTransaction: o.batch,
      renewedSubscriptions: result.renewedSubscriptions,
      renewedGroups: result.renewedGroups,
      failedSubscriptions: result.failedSubscriptions,
      failedGroups: result.failedGroups,
      benchRenewed: Number(counts.renewed),
      benchFailed: Number(counts.failed),
      otherSubscriptionsHandled: others,
      expectedFailedSubscriptions: expectedFailed,
      invoices: Number(counts.invoices),
      renewalCharges: Number(counts.charges),
      periodsChargedTwice: Number(counts.doubles),
      totalSeconds: Number(seconds.toFixed(2)),
      renewalsPerSecond: Math.round(renewalsPerSecond),
      targetSeconds: TARGET_SECONDS,
      target: seconds < TARGET_SECONDS ? 'pass' : 'miss',
      ledgerCheck: problems.length === 0 ? 'balanced' : problems.slice(0, 5),
      checkSeconds: Number(checkSeconds.toFixed(1)),
      consistent: ok,
      stepSeconds: Object.fromEntries([...renewalStepMillis].map(([k, v]) => [k, Number((v / 1000).toFixed(2))])),
    };
    log('');
    log(`  renewal run:           ${fmtInt(handled)} subscriptions handled in ${seconds.toFixed(2)} s (target < ${TARGET_SECONDS} s: ${summary.target}; `
      + `machine load ${loadBefore.toFixed(1)} -> ${loadAfter.toFixed(1)})`);
    log(`  renewals/s:            ${fmtInt(Math.round(renewalsPerSecond))} (${fmtInt(result.renewedSubscriptions)} renewed in ${fmtInt(result.renewedGroups)} groups, `
      + `${fmtInt(Number(counts.invoices))} invoices)`);
    log(`  failed (no points):    ${fmtInt(result.failedSubscriptions)} subscriptions in ${fmtInt(result.failedGroups)} groups (expected ~${fmtInt(expectedFailed)})`);
    if (others !== 0) log(`  (also handled: ${others} demo-seed subscriptions due the same day)`);
    log(`  periods charged twice: ${counts.doubles}`);
    log(`  time per step (s):     ${[...renewalStepMillis].map(([k, v]) => `${k} ${(v / 1000).toFixed(2)}`).join(', ')}`);
    log(`  checkLedger:           ${problems.length === 0 ? 'balanced (no problem found)' : `${problems.length} problems: ${JSON.stringify(problems.slice(0, 3))}`} (${checkSeconds.toFixed(1)} s)`);
    fs.writeFileSync(o.out, `${JSON.stringify(summary, null, 2)}\n`);
    log(`  written: ${path.relative(REPO, o.out)}`);
    if (!ok) throw new Error('renewals bench: the figures do not add up (see above)');
    return summary;
  } finally {
    release();
    await cleanup();
  }
}

const invokedDirectly = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  try {
    await runRenewalBench();
  } catch (err) {
    console.error(err);
    process.exitCode = 1;
  }
}
