// Customer app benchmark (issue 4 §7): the customer list and detail API with 10,000 customers — p50/p99 latency and req/s.
//
//   npm run bench:customers            (standalone; also a step of `npm run bench`)
//
// What it does (loopback only; bounded in time; cleaned up even on failure):
//  1. An embedded PostgreSQL in a fresh temp dir under /tmp (port BENCH_CUSTOMERS_PG_PORT, 54390), migrated and demo-seeded.
//  2. In bulk SQL (owner connection): BENCH_CUSTOMER_COUNT (10,000) customers of Demo Telecom — 80% SGD, 10% MYR, 10% USD; 1 in
//     20 suspended, 1 in 50 closed; a billing contact each; an owner user each; the SGD ones a points wallet, three in four of
//     them with points from one balanced ledger entry (so "low points" matches about a quarter of them).
//  3. The API server in this process on 127.0.0.1 (random port), signed in as admin@demo.test; autocannon in a child process
//     (bench/load.ts) drives one scenario at a time: the first page, a search, a filter (low points), the detail of 200
//     random customers in turn. Each scenario first gets a warm-up, then BENCH_SECONDS at BENCH_CONNECTIONS.
//  4. Then each scenario again one request at a time (200 requests: the latency one user sees, with no queueing).
//  5. Prints a table (req/s, p50, p99, errors) and writes bench/customers-results.json.
//
// Env: BENCH_CUSTOMER_COUNT (10000) BENCH_CUSTOMERS_PG_PORT (54390) BENCH_SECONDS (10) BENCH_WARMUP_SECONDS (2)
//      BENCH_CONNECTIONS (10) BENCH_MAX_MINUTES (10: hard stop) BENCH_WAIT_QUIET_SECONDS (60: at most, for the machine's load
//      average to drop below its core count before measuring) BENCH_OUT (bench/customers-results.json)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pino from 'pino';
import type { Options as LoadOptions, Result as LoadResult } from 'autocannon';
import { loadConfig } from '../src/platform/config.ts';
import { inScope, openDatabase, type DatabaseHandle } from '../src/platform/database.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/platform/embedded-postgres.ts';
import { migrateToLatest } from '../src/platform/migrate.ts';
import { seedDemo } from '../src/platform/seed.ts';
import { buildServer, type FolioApp } from '../src/platform/server.ts';
import { resolveAccounts } from '../src/ledger/accounts.ts';
import { checkLedger } from '../src/ledger/check-ledger.ts';
import { customerListQuery, idPartPattern, likePattern, type ListCustomersInput } from '../src/customers/list-customers.ts';

const REPO = path.resolve(import.meta.dirname, '..');
const TMP_PREFIX = 'folio-customers-bench-';
const STAFF_EMAIL = 'admin@demo.test';

function envInt(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw.replaceAll('_', ''));
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  return v;
}

const options = {
  customers: envInt('BENCH_CUSTOMER_COUNT', 10_000, 10, 1_000_000),
  pgPort: envInt('BENCH_CUSTOMERS_PG_PORT', 54390, 1024, 65535),
  seconds: envInt('BENCH_SECONDS', 10, 1, 120),
  warmupSeconds: envInt('BENCH_WARMUP_SECONDS', 2, 0, 60),
  connections: envInt('BENCH_CONNECTIONS', 10, 1, 256),
  maxMinutes: envInt('BENCH_MAX_MINUTES', 10, 1, 120),
  waitQuietSeconds: envInt('BENCH_WAIT_QUIET_SECONDS', 60, 0, 3600),
  out: process.env.BENCH_OUT ?? path.join(REPO, 'bench', 'customers-results.json'),
};

interface Scenario {
  name: string;
  description: string;
  requests: { path: string }[];
}

interface ScenarioResult {
  name: string;
  description: string;
  connections: number;
  seconds: number;
  requests: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  errors: number;
  non2xx: number;
  rowsPerPage: number;
}

function runLoad(load: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(import.meta.dirname, 'load.ts'), JSON.stringify(load)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`load generator exited with code ${code}`));
      try {
        resolve(JSON.parse(out) as LoadResult);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}

/** Sign in through the API as staff; the emailed 2FA code is read from the outbox (owner connection). */
async function signIn(baseUrl: string, owner: DatabaseHandle, email: string, password: string): Promise<string> {
  const post = (url: string, body: unknown) =>
    fetch(`${baseUrl}${url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  let res = await post('/api/v1/auth/login', { email, password });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { status: string; challengeId?: string };
  if (body.status === 'two_factor_required') {
    const mail = await owner.db
      .selectFrom('notifications').select('subject')
      .where('toEmail', '=', email).where('kind', '=', 'two_factor_code')
      .orderBy('createdAt', 'desc').executeTakeFirst();
    const code = /\b(\d{6})\b/.exec(mail?.subject ?? '')?.[1];
    if (!code) throw new Error(`no sign-in code found for ${email}`);
    res = await post('/api/v1/auth/login/verify', { challengeId: body.challengeId, code });
    if (res.status !== 200) throw new Error(`2FA failed: ${res.status} ${await res.text()}`);
  }
  const cookie = res.headers.getSetCookie()[0]?.split(';')[0];
  if (!cookie) throw new Error('no session cookie');
  return cookie;
}

const WORDS = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Stark', 'Wayne', 'Wonka', 'Tyrell', 'Soylent', 'Cyberdyne', 'Aperture'];

/** The customers, their owners, wallets and points, in a few set-based statements (as the database owner). */
async function loadCustomers(owner: DatabaseHandle, partnerId: string, count: number): Promise<void> {
  const db = owner.db;
  const words = `array[${WORDS.map((w) => `'${w}'`).join(',')}]`;
  await sql`
    insert into customers (id, partner_id, name, currency, status, billing_name, billing_email, billing_phone, billing_address, created_at, updated_at)
    select 'cus_bench' || lpad(i::text, 10, '0'), ${partnerId},
           (${sql.raw(words)})[1 + i % ${WORDS.length}] || ' ' || i || case when i % 3 = 0 then ' Pte Ltd' else ' Sdn Bhd' end,
           case when i % 10 = 1 then 'MYR' when i % 10 = 2 then 'USD' else 'SGD' end,
           case when i % 50 = 7 then 'closed' when i % 20 = 3 then 'suspended' else 'active' end,
           'Accounts ' || i, 'billing-' || i || '@customer' || (i % 97) || '.bench.test', '+65 6' || lpad(i::text, 7, '0'), i || ' Bench Road',
           now() - make_interval(secs => ${count} - i), now()
      from generate_series(1, ${count}) as i`.execute(db);
  await sql`
    insert into users (id, kind, partner_id, customer_id, customer_role, email, name, status, updated_at)
    select 'usr_bench' || lpad(i::text, 10, '0'), 'customer', ${partnerId}, 'cus_bench' || lpad(i::text, 10, '0'), 'owner',
           'owner-' || i || '@bench.test', 'Owner ' || i, 'active', now()
      from generate_series(1, ${count}) as i`.execute(db);
  // SGD customers: a points account and a wallet each.
  await sql`
    insert into ledger_accounts (id, partner_id, currency, code, customer_id, kind)
    select 'acc_bench' || substr(c.id, 10), c.partner_id, 'SGD', 'points', c.id, 'liability'
      from customers c where c.partner_id = ${partnerId} and c.id like 'cus_bench%' and c.currency = 'SGD'`.execute(db);
  await sql`
    insert into wallets (partner_id, customer_id, currency, points_account_id, updated_at)
    select c.partner_id, c.id, 'SGD', 'acc_bench' || substr(c.id, 10), now()
      from customers c where c.partner_id = ${partnerId} and c.id like 'cus_bench%' and c.currency = 'SGD'`.execute(db);
  // Three in four SGD customers get 1..500 SGD of points, in one balanced entry (card clearing debited with the total).
  await db.transaction().execute(async (trx) => {
    const accounts = await resolveAccounts(trx, partnerId, 'SGD', [{ code: 'card_clearing' }]);
    const clearing = accounts.get('card_clearing|')!;
    await sql`
      insert into journal_entries (id, partner_id, currency, customer_id, kind, cause_type, cause_id, description)
      values ('je_bench_points', ${partnerId}, 'SGD', null, 'points_issued', 'bench', 'bench', 'Benchmark points')`.execute(trx);
    await sql`
      with given as (
        select a.id as account_id, a.customer_id, (1 + (substr(a.customer_id, 10)::int * 7919) % 500)::bigint * 1000000 as micros
          from ledger_accounts a
         where a.partner_id = ${partnerId} and a.id like 'acc_bench%' and substr(a.customer_id, 10)::int % 4 <> 0
      )
      insert into postings (entry_id, partner_id, currency, account_id, customer_id, amount_micros, balance_after_micros)
      select 'je_bench_points', ${partnerId}, 'SGD', account_id, customer_id, -micros, -micros from given
      union all
      select 'je_bench_points', ${partnerId}, 'SGD', ${clearing}, null, sum(micros), null from given`.execute(trx);
  });
  await sql`analyze customers; analyze users; analyze wallets; analyze ledger_accounts; analyze postings; analyze journal_entries`.execute(db);
}

function loadAverage(): number {
  return Number(fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

/** Waits (at most `seconds`) until the 1-minute load average is below the number of cores: other programs skew latency. */
async function waitForQuiet(seconds: number): Promise<void> {
  const cores = os.cpus().length;
  const deadline = Date.now() + seconds * 1000;
  let said = false;
  while (loadAverage() >= cores && Date.now() < deadline) {
    if (!said) console.log(`waiting up to ${seconds} s for the machine to be quieter (load ${loadAverage()}, ${cores} cores)`);
    said = true;
    await new Promise((r) => setTimeout(r, 5_000));
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  const hardStop = setTimeout(() => {
    console.error(`customers bench: stopped after ${options.maxMinutes} minutes`);
    process.exit(3);
  }, options.maxMinutes * 60_000);
  hardStop.unref();

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), TMP_PREFIX));
  fs.chmodSync(dataDir, 0o755);
  let embedded: EmbeddedDatabase | null = null;
  let owner: DatabaseHandle | null = null;
  let appDb: DatabaseHandle | null = null;
  let server: FolioApp | null = null;
  const cleanup = async () => {
    await server?.close().catch(() => {});
    await appDb?.close().catch(() => {});
    await owner?.close().catch(() => {});
    await embedded?.stop().catch(() => {});
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    console.log('\ninterrupted: cleaning up');
    void cleanup().finally(() => process.exit(130));
  });

  try {
    const started = Date.now();
    embedded = await startEmbeddedPostgres({ dataDir, port: options.pgPort, log: () => {} });
    owner = openDatabase(embedded.url, { appRole: false, max: 5 });
    await migrateToLatest(owner);
    const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' });
    await seedDemo(owner.db, config.demoPassword);
    const partner = await owner.db.selectFrom('partners').select('id').where('slug', '=', 'demo-telecom').executeTakeFirstOrThrow();
    const loadStarted = Date.now();
    await loadCustomers(owner, partner.id, options.customers);
    const loadSeconds = (Date.now() - loadStarted) / 1000;
    const problems = await checkLedger(owner.db);
    if (problems.length > 0) throw new Error(`the loaded ledger does not balance: ${JSON.stringify(problems.slice(0, 3))}`);
    const total = await sql<{ n: number }>`
      select count(*)::int as n from customers where partner_id = ${partner.id}`.execute(owner.db);
    console.log(`${total.rows[0]!.n} customers of Demo Telecom loaded in ${loadSeconds.toFixed(1)} s (ledger checked)`);

    appDb = openDatabase(embedded.url, { appRole: true, max: 20 });
    const log = pino({ level: config.logLevel, base: { service: 'folio' } }, pino.destination({ dest: '/dev/null', sync: false }));
    server = await buildServer({ config, db: appDb.db, log });
    await server.listen({ host: '127.0.0.1', port: 0 });
    const address = server.server.address();
    if (!address || typeof address === 'string') throw new Error('server has no TCP address');
    const baseUrl = `http://127.0.0.1:${address.port}`;
    const pgVersion = await sql<{ v: string }>`select current_setting('server_version') as v`.execute(owner.db);
    console.log(`Folio on ${baseUrl}, PostgreSQL ${pgVersion.rows[0]?.v}; ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const cookie = await signIn(baseUrl, owner, STAFF_EMAIL, config.demoPassword);

    // 200 customers spread over the whole list, for the detail scenario (autocannon walks the list, connection by connection).
    const sample = await sql<{ id: string }>`
      select id from customers where partner_id = ${partner.id} and id like 'cus_bench%' order by md5(id) limit 200`.execute(owner.db);
    const scenarios: Scenario[] = [
      { name: 'list-first-page', description: 'GET /api/v1/customers (first page of 50, newest first, points and usable)', requests: [{ path: '/api/v1/customers' }] },
      {
        name: 'list-search-name',
        description: 'GET /api/v1/customers?q=umbrella 42 (part of a name)',
        requests: [{ path: '/api/v1/customers?q=umbrella%2042' }],
      },
      {
        name: 'list-search-billing-email',
        description: 'GET /api/v1/customers?q=billing-4242@ (part of a billing email)',
        requests: [{ path: '/api/v1/customers?q=billing-4242%40' }],
      },
      {
        name: 'list-search-common',
        description: 'GET /api/v1/customers?q=pte (a third of all customers match: a full page)',
        requests: [{ path: '/api/v1/customers?q=pte' }],
      },
      {
        name: 'list-filter-low-points',
        description: 'GET /api/v1/customers?lowPoints=true&status=active (usable below the threshold, active)',
        requests: [{ path: '/api/v1/customers?lowPoints=true&status=active' }],
      },
      {
        name: 'list-filter-currency-status',
        description: 'GET /api/v1/customers?currency=MYR&status=suspended (a rare combination)',
        requests: [{ path: '/api/v1/customers?currency=MYR&status=suspended' }],
      },
      {
        name: 'detail',
        description: `GET /api/v1/customers/:id (${sample.rows.length} different customers in turn: users, points, ETag)`,
        requests: sample.rows.map((r) => ({ path: `/api/v1/customers/${r.id}` })),
      },
    ];

    // The plans of the list queries, as the app runs them (app role, partner scope: row-level security on).
    const plans: Record<string, { planning: string; execution: string; plan: string[] }> = {};
    for (const [name, input] of [
      ['first page', { limit: 50 }], ['search "umbrella 42"', { limit: 50, q: 'umbrella 42' }], ['search "billing-4242@"', { limit: 50, q: 'billing-4242@' }],
      ['search "pte"', { limit: 50, q: 'pte' }], ['low points, active', { limit: 50, lowPoints: true, status: 'active' }],
    ] as [string, ListCustomersInput][]) {
      const compiled = customerListQuery(appDb.db, partner.id, input).compile();
      const lines = await inScope(appDb.db, { kind: 'partner', partnerId: partner.id }, async (trx) => {
        const { rows } = await trx.executeQuery<{ 'QUERY PLAN': string }>({ ...compiled, sql: `explain (analyze, costs off, timing off, summary on) ${compiled.sql}`, query: compiled.query });
        return rows.map((r) => r['QUERY PLAN']);
      });
      plans[name] = {
        planning: lines.find((l) => l.startsWith('Planning Time'))?.replace('Planning Time: ', '') ?? '',
        execution: lines.find((l) => l.startsWith('Execution Time'))?.replace('Execution Time: ', '') ?? '',
        plan: lines.filter((l) => !/^(Planning|Execution) Time/.test(l)),
      };
      console.log(`plan of the list query, ${name}: execution ${plans[name].execution}`);
      const shown = process.env.BENCH_SHOW_PLANS === 'full' ? plans[name].plan : plans[name].plan.filter((x) => /Scan|Sort|Limit|Join|Loop|SubPlan/.test(x)).slice(0, 12);
      for (const l of shown) console.log(`    ${l}`);
    }

    // The search inside folio_customers_matching, as it runs there (the owner: no row-level security, so the trigram indexes serve).
    for (const q of ['umbrella 42', 'billing-4242@', 'pte', 'bench0000042']) {
      const { rows } = await sql<{ 'QUERY PLAN': string }>`explain (analyze, costs off, timing off, summary on)
        select c.id from customers c where c.partner_id = ${partner.id}
           and (c.search_text like lower(${likePattern(q)}) or c.id like ${idPartPattern(q)})`.execute(owner.db);
      const lines = rows.map((r) => r['QUERY PLAN']);
      const scans = lines.filter((l) => /Scan/.test(l)).map((l) => l.trim().replace(/^->\s*/, '').replace(/ \(actual.*$/, ''));
      plans[`inside the search "${q}"`] = { planning: '', execution: lines.find((l) => l.startsWith('Execution Time'))?.replace('Execution Time: ', '') ?? '', plan: lines };
      console.log(`search "${q}" inside folio_customers_matching: ${scans.join(', ')}; execution ${plans[`inside the search "${q}"`]!.execution}`);
    }

    await waitForQuiet(options.waitQuietSeconds);
    const results: ScenarioResult[] = [];
    for (const s of scenarios) {
      const first = await fetch(`${baseUrl}${s.requests[0]!.path}`, { headers: { cookie } });
      const body = (await first.json()) as { data?: unknown[] };
      if (first.status !== 200) throw new Error(`${s.name}: ${first.status} ${JSON.stringify(body)}`);
      const rowsPerPage = Array.isArray(body.data) ? body.data.length : 1;
      const load = (seconds: number): LoadOptions => ({
        url: baseUrl, connections: options.connections, duration: seconds, method: 'GET', headers: { cookie }, requests: s.requests,
      });
      if (options.warmupSeconds > 0) await runLoad(load(options.warmupSeconds));
      const r = await runLoad(load(options.seconds));
      const result: ScenarioResult = {
        name: s.name, description: s.description, connections: options.connections, seconds: options.seconds,
        requests: r.requests.total, requestsPerSecond: Math.round(r.requests.average),
        latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
        errors: r.errors + r.timeouts, non2xx: r.non2xx, rowsPerPage,
      };
      results.push(result);
      console.log(`${s.name.padEnd(28)} ${String(result.requestsPerSecond).padStart(6)} req/s  p50 ${String(result.latencyMs.p50).padStart(4)} ms  p99 ${String(result.latencyMs.p99).padStart(4)} ms  rows ${rowsPerPage}  errors ${result.errors + result.non2xx}`);
    }

    // One request at a time (no queueing behind other connections): the latency a single user sees.
    const single: Record<string, { p50: number; p99: number }> = {};
    for (const s of scenarios) {
      const times: number[] = [];
      for (let i = 0; i < 200; i++) {
        const t0 = performance.now();
        const res = await fetch(`${baseUrl}${s.requests[i % s.requests.length]!.path}`, { headers: { cookie } });
        await res.arrayBuffer();
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      single[s.name] = { p50: Math.round(percentile(times, 50) * 10) / 10, p99: Math.round(percentile(times, 99) * 10) / 10 };
    }

    console.log('\n| scenario | req/s | p50 ms | p99 ms | one at a time p50 / p99 ms | rows |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const r of results) {
      console.log(`| ${r.name} | ${r.requestsPerSecond} | ${r.latencyMs.p50} | ${r.latencyMs.p99} | ${single[r.name]!.p50} / ${single[r.name]!.p99} | ${r.rowsPerPage} |`);
    }
    console.log(`(${options.connections} connections, ${options.seconds} s each, after ${options.warmupSeconds} s of warm-up; ${total.rows[0]!.n} customers)`);

    fs.writeFileSync(options.out, `${JSON.stringify({
      ranAt: new Date().toISOString(), machine: { cpus: os.cpus().length, node: process.version, postgres: pgVersion.rows[0]?.v, loadAverageAtEnd: loadAverage() },
      customers: total.rows[0]!.n, loadSeconds, connections: options.connections, seconds: options.seconds, results, oneAtATime: single, plans,
    }, null, 2)}\n`);
    console.log(`results written to ${path.relative(process.cwd(), options.out)}`);
  } finally {
    await cleanup();
  }
}

await main();
