// Portal pay benchmark (issue 5 §5): p50/p99 of POST /api/v1/portal/invoices/{id}/pay with 50 customers paying different
// invoices at the same time; target p99 <= 50 ms with the sandbox gateway at zero delay.
//
//   npm run bench:pay                  (standalone; also a step of `npm run bench`)
//
// What it does (loopback only; bounded in time; cleaned up even on failure):
//  1. An embedded PostgreSQL in a fresh temp dir under /tmp (port BENCH_PAY_PG_PORT, 54395), migrated and demo-seeded.
//  2. Set-up: BENCH_PAY_CUSTOMERS (50) SGD customers of Demo Telecom, each with an active owner who can sign in (bulk SQL as the
//     owner; the password hashed ONCE with the project's hashPassword and the hash reused). Through the project's own functions in
//     partner-scoped transactions (app role): a wallet and points each (creditWallet: Dr bank / Cr points), and ROUNDS + 3 issued
//     Purchase invoices each of 50.00 + 9% GST = 54.50 (issueInvoice: Dr receivable / Cr revenue / Cr tax). Even-numbered customers
//     pay with points only (they hold enough for every invoice); odd-numbered ones with points + the sandbox card
//     `tok_sandbox_success` (they hold 30.00 before each round, given between rounds, untimed: 30.00 points + 24.50 card).
//  3. The API server in this process on 127.0.0.1 (random port), with a SandboxGateway passed in (settleAfterMs 0: no artificial
//     latency anywhere; only delayed test cards use it). Every owner signs in through the API (cookie + x-csrf-token, as the portal).
//  4. The client runs in a child process (this file with --client), so it shares neither the server's event loop nor its memory.
//     Rounds: 1 warm-up (not counted), BENCH_PAY_ROUNDS (20) measured rounds — in each, every customer pays one of its own invoices
//     AT THE SAME TIME (Promise.all of N fetches, a fresh Idempotency-Key each) — then one round one request at a time (the latency
//     one user sees, with each request's SQL statements timed: the phases), then one more concurrent round with lock waits sampled
//     from pg_stat_activity (not counted either).
//  5. Checks: checkLedger empty; every paid invoice 'paid' with one succeeded attempt; points charged exactly once (points postings
//     of kind invoice_payment == the invoices' points payments == the attempts' points parts == what the set-up implies); one
//     sandbox charge per card pay; no points left on hold.
//  6. Prints a table (p50/p90/p99/max/mean per mode and overall, pays/s, errors), the SQL profile, peak RSS; writes
//     bench/invoice-pay-results.json.
//
// Env: BENCH_PAY_CUSTOMERS (50) BENCH_PAY_ROUNDS (20) BENCH_PAY_PG_PORT (54395) BENCH_MAX_MINUTES (5: hard stop)
//      BENCH_WAIT_QUIET_SECONDS (60: at most, for the 1-minute load average to drop below the core count before measuring)
//      BENCH_OUT (bench/invoice-pay-results.json) LOG_LEVEL (info; request logs go to /dev/null: their cost is measured, not shown)
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pino from 'pino';
import { loadConfig } from '../src/platform/config.ts';
import { hashPassword } from '../src/platform/crypto.ts';
import { inScope, openDatabase, type DatabaseHandle } from '../src/platform/database.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/platform/embedded-postgres.ts';
import { migrateToLatest } from '../src/platform/migrate.ts';
import { seedDemo } from '../src/platform/seed.ts';
import { buildServer, type FolioApp } from '../src/platform/server.ts';
import { SandboxGateway } from '../src/gateway/sandbox.ts';
import { checkLedger } from '../src/ledger/check-ledger.ts';
import { creditWallet } from '../src/wallet/charge-wallet.ts';
import { ensureWallets } from '../src/wallet/wallets.repo.ts';
import { issueInvoice } from '../src/invoices/issue-invoice.ts';

const REPO = path.resolve(import.meta.dirname, '..');
const TMP_PREFIX = 'folio-pay-bench-';
const PASSWORD = 'bench-pay-Password-2026';
const CARD_TOKEN = 'tok_sandbox_success';
const PRE_TAX = 50_000_000n; // 50.00
const TAX = 4_500_000n; // 9% GST
const TOTAL = PRE_TAX + TAX; // 54.50
const CARD_POINTS = 30_000_000n; // the points a card customer holds before each round: 30.00 points + 24.50 card
const TARGET_P99_MS = 50;

type Mode = 'points' | 'points+card';

interface PayRequest {
  customer: number;
  mode: Mode;
  invoiceId: string;
  cookie: string;
  csrfToken: string;
}

interface PayResult {
  customer: number;
  mode: Mode;
  invoiceId: string;
  ms: number;
  status: number;
  /** 2xx, the payment succeeded and the invoice is paid. */
  paid: boolean;
  /** Paid, and as the mode says: points alone 54.50; or 30.00 points and 24.50 by card. */
  ok: boolean;
  pointsUsed: string | null;
  cardCharged: string | null;
  /** The answer's body when the pay did not succeed as expected (non-2xx, or not paid as the mode says). */
  body: string | null;
}

type ToClient = { kind: 'round'; baseUrl: string; requests: PayRequest[] } | { kind: 'exit' };
interface FromClient {
  kind: 'done';
  wallMs: number;
  results: PayResult[];
}

const ms1 = (v: number) => Math.round(v * 10) / 10;
const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
/** "54.50" -> micros (two decimals, as SGD answers are). */
const microsOf = (amount: string | null) => (amount === null ? 0n : BigInt(Math.round(Number(amount) * 100)) * 10_000n);
const decimal = (micros: bigint) => `${micros / 1_000_000n}.${String((micros % 1_000_000n) / 10_000n).padStart(2, '0')}`;

// ---------------------------------------------------------------------------------------------------------------------
// The client (child process): one message = one round; answers each request's latency, status and (on failure) body.
// ---------------------------------------------------------------------------------------------------------------------

async function payOnce(baseUrl: string, r: PayRequest): Promise<PayResult> {
  const body = r.mode === 'points' ? {} : { cardToken: CARD_TOKEN };
  const t0 = performance.now();
  let status = 0;
  let text: string;
  try {
    const res = await fetch(`${baseUrl}/api/v1/portal/invoices/${r.invoiceId}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: r.cookie, 'x-csrf-token': r.csrfToken, 'idempotency-key': randomUUID() },
      body: JSON.stringify(body),
    });
    status = res.status;
    text = await res.text();
  } catch (err) {
    text = `fetch failed: ${err instanceof Error ? err.message : String(err)}`;
  }
  const ms = performance.now() - t0;
  let paid = false;
  let ok = false;
  let pointsUsed: string | null = null;
  let cardCharged: string | null = null;
  if (status >= 200 && status < 300) {
    try {
      const answer = JSON.parse(text) as { invoice?: { status?: string }; payment?: { status?: string; pointsUsed?: string; cardCharged?: string } };
      paid = answer.payment?.status === 'succeeded' && answer.invoice?.status === 'paid';
      pointsUsed = answer.payment?.pointsUsed ?? null;
      cardCharged = answer.payment?.cardCharged ?? null;
      const expected = r.mode === 'points' ? { pointsUsed: decimal(TOTAL), cardCharged: '0.00' } : { pointsUsed: decimal(CARD_POINTS), cardCharged: decimal(TOTAL - CARD_POINTS) };
      ok = paid && pointsUsed === expected.pointsUsed && cardCharged === expected.cardCharged;
    } catch {
      // not JSON: an error
    }
  }
  return { customer: r.customer, mode: r.mode, invoiceId: r.invoiceId, ms, status, paid, ok, pointsUsed, cardCharged, body: ok ? null : text.slice(0, 600) };
}

function clientMain(): void {
  process.on('message', (raw: unknown) => {
    const msg = raw as ToClient;
    if (msg.kind === 'exit') {
      process.disconnect();
      return;
    }
    const url = new URL(msg.baseUrl);
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
      console.error(`refusing to send load to ${url.hostname}: the benchmark only targets loopback`);
      process.exit(2);
    }
    void (async () => {
      const t0 = performance.now();
      const results = await Promise.all(msg.requests.map((r) => payOnce(msg.baseUrl, r)));
      const reply: FromClient = { kind: 'done', wallMs: performance.now() - t0, results };
      process.send!(reply);
    })();
  });
}

// ---------------------------------------------------------------------------------------------------------------------
// The harness (parent process).
// ---------------------------------------------------------------------------------------------------------------------

function envInt(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw.replaceAll('_', ''));
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  return v;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface LatencySummary {
  pays: number;
  errors: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

function summarise(results: PayResult[]): LatencySummary {
  const times = results.map((r) => r.ms).sort((a, b) => a - b);
  const mean = times.length === 0 ? 0 : times.reduce((a, b) => a + b, 0) / times.length;
  return {
    pays: results.length, errors: results.filter((r) => !r.ok).length,
    p50: ms1(percentile(times, 50)), p90: ms1(percentile(times, 90)), p99: ms1(percentile(times, 99)), max: ms1(times.at(-1) ?? 0), mean: ms1(mean),
  };
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

function vmHwmBytes(): number {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}

/** A statement's class: its verb, first table and lock clause (`select invoices (for update)`), or begin/commit/set scope. */
function classify(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim().toLowerCase();
  const verb = /^(\w+)/.exec(flat)?.[1] ?? '?';
  if (verb === 'begin' || verb === 'commit' || verb === 'rollback') return verb;
  if (flat.startsWith('select set_config(')) return 'set scope (set_config)';
  const table = /\b(?:from|into|update)\s+"?([a-z_][a-z0-9_]*)"?/.exec(flat)?.[1] ?? '';
  const lock = / for (?:no key )?update\b| for share\b/.exec(flat)?.[0]?.trim() ?? '';
  return `${verb} ${table}${lock ? ` (${lock})` : ''}`.trim();
}

interface StatementStat {
  count: number;
  totalMs: number;
  maxMs: number;
  example: string;
}

/** Times every SQL statement of the server's pool and how long the server waits for a pooled connection (a cheap profile). */
class Profiler {
  on = false;
  statements = new Map<string, StatementStat>();
  /** The statements of the current request, in order (serial round only). */
  trace: { cls: string; ms: number }[] | null = null;
  poolWaits: number[] = [];
  gatewayCharges: number[] = [];

  reset(): void {
    this.statements = new Map();
    this.poolWaits = [];
    this.gatewayCharges = [];
  }

  note(text: string, ms: number): void {
    if (!this.on) return;
    const cls = classify(text);
    const s = this.statements.get(cls) ?? { count: 0, totalMs: 0, maxMs: 0, example: text.replace(/\s+/g, ' ').trim().slice(0, 200) };
    s.count++;
    s.totalMs += ms;
    s.maxMs = Math.max(s.maxMs, ms);
    this.statements.set(cls, s);
    this.trace?.push({ cls, ms });
  }

  instrument(db: DatabaseHandle): void {
    type Fn = (...args: unknown[]) => unknown;
    db.pool.on('connect', (client) => {
      const c = client as unknown as { query: Fn };
      const query = c.query;
      c.query = (...args: unknown[]) => {
        const first = args[0];
        const text = typeof first === 'string' ? first : (first as { text?: string } | null)?.text ?? '?';
        const t0 = performance.now();
        const r = query.apply(client, args);
        if (r instanceof Promise) r.then(() => this.note(text, performance.now() - t0), () => this.note(text, performance.now() - t0));
        return r;
      };
    });
    const pool = db.pool as unknown as { connect: Fn };
    const connect = pool.connect;
    pool.connect = (...args: unknown[]) => {
      const t0 = performance.now();
      const r = connect.apply(db.pool, args);
      if (r instanceof Promise) r.then(() => { if (this.on) this.poolWaits.push(performance.now() - t0); }, () => {});
      return r;
    };
  }

  wrapGateway(gateway: SandboxGateway): void {
    const charge = gateway.charge.bind(gateway);
    gateway.charge = async (input) => {
      const t0 = performance.now();
      try {
        return await charge(input);
      } finally {
        if (this.on) this.gatewayCharges.push(performance.now() - t0);
      }
    };
  }

  top(n: number): ({ statement: string } & StatementStat)[] {
    return [...this.statements].map(([statement, s]) => ({ statement, ...s, totalMs: ms1(s.totalMs), maxMs: ms1(s.maxMs) }))
      .sort((a, b) => b.totalMs - a.totalMs).slice(0, n);
  }
}

/** Groups one request's statements into its transactions (begin..commit) and the statements outside any. */
function phasesOf(trace: { cls: string; ms: number }[]): { phase: string; statements: number; ms: number }[] {
  const phases: { phase: string; statements: number; ms: number }[] = [];
  let open: { names: string[]; statements: number; ms: number } | null = null;
  for (const s of trace) {
    if (s.cls === 'begin') {
      open = { names: [], statements: 1, ms: s.ms };
      continue;
    }
    if (open) {
      open.statements++;
      open.ms += s.ms;
      if (s.cls === 'commit' || s.cls === 'rollback') {
        const what = [...new Set(open.names.map((x) => x.replace(/^(select|insert|update|delete|with) /, '').replace(/ \(.*\)$/, '')).filter((x) => x && !/^(select|insert|update|delete|with|set)$/.test(x)))];
        phases.push({ phase: `transaction: ${what.slice(0, 6).join(', ')}${what.length > 6 ? ', ...' : ''}`, statements: open.statements, ms: ms1(open.ms) });
        open = null;
      } else if (!s.cls.startsWith('set scope')) {
        open.names.push(s.cls);
      }
      continue;
    }
    phases.push({ phase: `statement: ${s.cls}`, statements: 1, ms: ms1(s.ms) });
  }
  return phases;
}

async function main(): Promise<void> {
  const options = {
    customers: envInt('BENCH_PAY_CUSTOMERS', 50, 2, 1000),
    rounds: envInt('BENCH_PAY_ROUNDS', 20, 1, 500),
    pgPort: envInt('BENCH_PAY_PG_PORT', 54395, 1024, 65535),
    /** BENCH_PAY_PG_STATEMENTS=1: PostgreSQL's own time per statement in the measured rounds (pg_stat_statements: planning and execution). */
    pgStatements: process.env.BENCH_PAY_PG_STATEMENTS === '1',
    maxMinutes: envInt('BENCH_MAX_MINUTES', 5, 1, 120),
    waitQuietSeconds: envInt('BENCH_WAIT_QUIET_SECONDS', 60, 0, 3600),
    out: process.env.BENCH_OUT ?? path.join(REPO, 'bench', 'invoice-pay-results.json'),
  };
  const n = options.customers;
  const invoicesEach = options.rounds + 3; // warm-up, measured rounds, one-at-a-time round, lock-sampling round
  const modeOf = (i: number): Mode => (i % 2 === 0 ? 'points' : 'points+card');

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), TMP_PREFIX));
  fs.chmodSync(dataDir, 0o755);
  let embedded: EmbeddedDatabase | null = null;
  let owner: DatabaseHandle | null = null;
  let setupDb: DatabaseHandle | null = null;
  let serverDb: DatabaseHandle | null = null;
  let server: FolioApp | null = null;
  let client: ChildProcess | null = null;
  let cleaned: Promise<void> | null = null;
  const cleanup = () => (cleaned ??= (async () => {
    if (client && client.exitCode === null) client.kill('SIGTERM');
    await server?.close().catch(() => {});
    await serverDb?.close().catch(() => {});
    await setupDb?.close().catch(() => {});
    await owner?.close().catch(() => {});
    await embedded?.stop().catch(() => {});
    fs.rmSync(dataDir, { recursive: true, force: true });
  })());
  const stopWith = (code: number, why: string) => {
    console.error(why);
    // Clean up (PostgreSQL stopped, temp dir removed), but never hang on it.
    setTimeout(() => process.exit(code), 15_000).unref();
    void cleanup().finally(() => process.exit(code));
  };
  const hardStop = setTimeout(() => stopWith(3, `invoice pay bench: stopped after ${options.maxMinutes} minutes (BENCH_MAX_MINUTES)`), options.maxMinutes * 60_000);
  hardStop.unref();
  process.once('SIGINT', () => stopWith(130, '\ninterrupted: cleaning up'));

  try {
    const started = Date.now();
    embedded = await startEmbeddedPostgres({
      dataDir, port: options.pgPort, log: () => {},
      settings: options.pgStatements ? ['shared_preload_libraries=pg_stat_statements', 'pg_stat_statements.track=all', 'pg_stat_statements.track_planning=on'] : [],
    });
    owner = openDatabase(embedded.url, { appRole: false, max: 5 });
    await migrateToLatest(owner);
    const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' });
    await seedDemo(owner.db, config.demoPassword);
    const partnerId = (await owner.db.selectFrom('partners').select('id').where('slug', '=', 'demo-telecom').executeTakeFirstOrThrow()).id;
    const tabs = await owner.db.selectFrom('partnerSettings').select('portalTabs').where('partnerId', '=', partnerId).executeTakeFirst();
    if (tabs && (tabs.portalTabs as { invoices?: boolean }).invoices === false) throw new Error('the Invoices tab is hidden for Demo Telecom: the portal would answer 403');

    // --- Set-up: customers and owners in bulk SQL (owner connection); the password hashed once.
    const setupStarted = Date.now();
    const passwordHash = await hashPassword(PASSWORD);
    const customerIds = Array.from({ length: n }, (_, i) => `cus_benchpay${String(i).padStart(6, '0')}`);
    const emails = Array.from({ length: n }, (_, i) => `payer-${i}@pay.bench.test`);
    await sql`
      insert into customers (id, partner_id, name, currency, status, billing_name, billing_email, created_at, updated_at)
      select 'cus_benchpay' || lpad(i::text, 6, '0'), ${partnerId}, 'Payer ' || i || ' Pte Ltd', 'SGD', 'active',
             'Accounts ' || i, 'billing-' || i || '@pay.bench.test', now(), now()
        from generate_series(0, ${n - 1}) as i`.execute(owner.db);
    await sql`
      insert into users (id, kind, partner_id, customer_id, customer_role, email, name, password_hash, status, email_verified_at, updated_at)
      select 'usr_benchpay' || lpad(i::text, 6, '0'), 'customer', ${partnerId}, 'cus_benchpay' || lpad(i::text, 6, '0'), 'owner',
             'payer-' || i || '@pay.bench.test', 'Payer ' || i, ${passwordHash}, 'active', now(), now()
        from generate_series(0, ${n - 1}) as i`.execute(owner.db);

    // Wallets, points and invoices through the project's own functions (app role, partner scope): the ledger stays right.
    setupDb = openDatabase(embedded.url, { appRole: true, max: 4 });
    const scope = { kind: 'partner' as const, partnerId };
    const givePoints = async (customers: number[], micros: (i: number) => bigint, causeId: string) => {
      await inScope(setupDb!.db, scope, async (trx) => {
        for (const i of customers) {
          await creditWallet(trx, {
            wallet: { partnerId, customerId: customerIds[i]!, currency: 'SGD' }, amountMicros: micros(i),
            entry: { kind: 'points_issued', causeType: 'bench', causeId: `${causeId}_${i}`, description: 'Benchmark points', auditEventId: null },
            counterPostings: [{ code: 'bank', amountMicros: micros(i) }],
          });
        }
      });
    };
    await inScope(setupDb.db, scope, (trx) => ensureWallets(trx, partnerId, customerIds.map((customerId) => ({ customerId, currency: 'SGD' }))));
    const all = Array.from({ length: n }, (_, i) => i);
    const cardCustomers = all.filter((i) => modeOf(i) === 'points+card');
    await givePoints(all, (i) => (modeOf(i) === 'points' ? TOTAL * BigInt(invoicesEach) : CARD_POINTS), 'bench_pay_initial');
    const invoices: string[][] = [];
    const issuedAt = new Date();
    for (const customerId of customerIds) {
      invoices.push(await inScope(setupDb.db, scope, async (trx) => {
        const ids: string[] = [];
        for (let k = 0; k < invoicesEach; k++) {
          const inv = await issueInvoice(trx, {
            partnerId, customerId, type: 'purchase', currency: 'SGD', issuedAt,
            lines: [{ kind: 'product', description: 'Wallboard licence', amountMicros: PRE_TAX, taxMicros: TAX, revenueCode: 'revenue:one_time' }],
            entry: { kind: 'invoice_issued', causeType: 'invoice', causeId: `bench_pay_${k}`, description: 'Benchmark invoice', auditEventId: null },
          });
          ids.push(inv.id);
        }
        return ids;
      }));
    }
    await sql`analyze customers; analyze users; analyze wallets; analyze ledger_accounts; analyze postings; analyze journal_entries; analyze invoices; analyze invoice_lines`.execute(owner.db);
    const before = await checkLedger(owner.db);
    if (before.length > 0) throw new Error(`the set-up ledger does not balance: ${JSON.stringify(before.slice(0, 3))}`);
    const setupSeconds = (Date.now() - setupStarted) / 1000;
    console.log(`${n} customers (half points only, half points + card), ${n * invoicesEach} Purchase invoices of ${decimal(TOTAL)} SGD set up in ${setupSeconds.toFixed(1)} s (ledger checked)`);

    // --- The server: the app pool as src/platform/boot.ts opens it (20), a sandbox gateway with no delay, both profiled.
    const profiler = new Profiler();
    serverDb = openDatabase(embedded.url, { appRole: true, max: 20 });
    profiler.instrument(serverDb);
    const gateway = new SandboxGateway({ db: serverDb.db, webhookSecret: 'bench-pay-sandbox-webhook-secret', settleAfterMs: 0 });
    profiler.wrapGateway(gateway);
    const log = pino({ level: config.logLevel, base: { service: 'folio' } }, pino.destination({ dest: '/dev/null', sync: false }));
    server = await buildServer({ config, db: serverDb.db, log, gateway });
    await server.listen({ host: '127.0.0.1', port: 0 });
    const address = server.server.address();
    if (!address || typeof address === 'string') throw new Error('server has no TCP address');
    const baseUrl = `http://127.0.0.1:${address.port}`;
    const pgVersion = (await sql<{ v: string }>`select current_setting('server_version') as v`.execute(owner.db)).rows[0]?.v ?? '?';
    console.log(`Folio on ${baseUrl}, PostgreSQL ${pgVersion} on port ${options.pgPort}; ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    // --- Every owner signs in through the API, as the portal does (a few at a time: each is one argon2 verification).
    const sessions: { cookie: string; csrfToken: string }[] = new Array(n);
    for (let from = 0; from < n; from += 5) {
      await Promise.all(all.slice(from, from + 5).map(async (i) => {
        const res = await fetch(`${baseUrl}/api/v1/auth/login`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: emails[i], password: PASSWORD }),
        });
        const body = (await res.json()) as { status?: string; csrfToken?: string };
        const cookie = res.headers.getSetCookie()[0]?.split(';')[0];
        if (res.status !== 200 || body.status !== 'signed_in' || !body.csrfToken || !cookie) throw new Error(`sign-in of ${emails[i]} failed: ${res.status} ${JSON.stringify(body)}`);
        sessions[i] = { cookie, csrfToken: body.csrfToken };
      }));
    }
    // What the portal shows before paying, for one customer of each mode: the flow is as the bench assumes.
    for (const i of [0, 1]) {
      const res = await fetch(`${baseUrl}/api/v1/portal/invoices/${invoices[i]![0]}/pay-preview`, { headers: { cookie: sessions[i]!.cookie } });
      const p = (await res.json()) as { amountDue?: string; pointsToUse?: string; cardAmount?: string };
      const want = modeOf(i) === 'points' ? { pointsToUse: decimal(TOTAL), cardAmount: '0.00' } : { pointsToUse: decimal(CARD_POINTS), cardAmount: decimal(TOTAL - CARD_POINTS) };
      if (res.status !== 200 || p.amountDue !== decimal(TOTAL) || p.pointsToUse !== want.pointsToUse || p.cardAmount !== want.cardAmount) {
        throw new Error(`pay preview of ${modeOf(i)} customer: ${res.status} ${JSON.stringify(p)}`);
      }
    }
    console.log(`${n} owners signed in through the API; pay previews as expected (points ${decimal(TOTAL)}; points ${decimal(CARD_POINTS)} + card ${decimal(TOTAL - CARD_POINTS)})`);

    // --- The client process.
    client = spawn(process.execPath, [import.meta.filename, '--client'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const child = client;
    let childGone: Error | null = null;
    child.on('exit', (code) => { childGone = new Error(`the client process exited (code ${code})`); });
    const round = (requests: PayRequest[]) => new Promise<FromClient>((resolve, reject) => {
      if (childGone) return reject(childGone);
      const onExit = () => reject(childGone ?? new Error('the client process exited'));
      child.once('exit', onExit);
      child.once('message', (m) => {
        child.off('exit', onExit);
        resolve(m as FromClient);
      });
      const msg: ToClient = { kind: 'round', baseUrl, requests };
      child.send(msg);
    });
    const requestsOf = (k: number): PayRequest[] => all.map((i) => ({ customer: i, mode: modeOf(i), invoiceId: invoices[i]![k]!, ...sessions[i]! }));
    let topUps = 0;
    let last: PayResult[] = [];
    const refill = async (k: number) => {
      // Card customers who paid in the previous round spent their points: what they spent again, so that the points cover part
      // of the next invoice (untimed). A card customer whose pay failed still holds its 30.00 (the hold was released).
      const spent = new Map(last.filter((r) => r.paid && r.mode === 'points+card').map((r) => [r.customer, microsOf(r.pointsUsed)]));
      const who = cardCustomers.filter((i) => (spent.get(i) ?? 0n) > 0n);
      if (who.length === 0) return;
      await givePoints(who, (i) => spent.get(i)!, `bench_pay_round_${k}`);
      topUps++;
    };
    const remember = (results: PayResult[]) => {
      last = results;
      return results;
    };

    await waitForQuiet(options.waitQuietSeconds);
    const loadBefore = loadAverage();
    let rssPeakRounds = process.memoryUsage.rss();
    const rssSampler = setInterval(() => { rssPeakRounds = Math.max(rssPeakRounds, process.memoryUsage.rss()); }, 50);

    // Warm-up (connections opened, code paths compiled): not counted.
    let k = 0;
    const warm = await round(requestsOf(k));
    remember(warm.results);
    const warmErrors = warm.results.filter((r) => !r.ok);
    console.log(`warm-up round: ${n} pays in ${ms1(warm.wallMs)} ms, ${warmErrors.length} errors`);
    k++;

    // Measured rounds.
    const measured: PayResult[] = [];
    const roundWalls: number[] = [];
    if (options.pgStatements) await sql`create extension if not exists pg_stat_statements; select pg_stat_statements_reset()`.execute(owner.db);
    profiler.reset();
    for (let r = 0; r < options.rounds; r++, k++) {
      await refill(k);
      profiler.on = true;
      const got = await round(requestsOf(k));
      profiler.on = false;
      measured.push(...remember(got.results));
      roundWalls.push(got.wallMs);
    }
    if (options.pgStatements) await printServerStatements(owner, measured.length);
    const profile = {
      statements: profiler.top(15),
      statementsPerPay: ms1([...profiler.statements.values()].reduce((a, s) => a + s.count, 0) / Math.max(1, measured.length)),
      transactionsPerPay: ms1((profiler.statements.get('begin')?.count ?? 0) / Math.max(1, measured.length)),
      poolWaitMs: (() => { const w = [...profiler.poolWaits].sort((a, b) => a - b); return { acquisitions: w.length, p50: ms1(percentile(w, 50)), p99: ms1(percentile(w, 99)), max: ms1(w.at(-1) ?? 0) }; })(),
      gatewayChargeMs: (() => { const g = [...profiler.gatewayCharges].sort((a, b) => a - b); return { charges: g.length, p50: ms1(percentile(g, 50)), p99: ms1(percentile(g, 99)), max: ms1(g.at(-1) ?? 0) }; })(),
    };

    // One request at a time: the latency a single user sees, and each request's SQL grouped into its transactions.
    await refill(k);
    const serial: PayResult[] = [];
    const serialDetail: { mode: Mode; ms: number; sqlMs: number; statements: number; transactions: number; phases: ReturnType<typeof phasesOf> }[] = [];
    profiler.reset();
    for (const req of requestsOf(k)) {
      const trace: { cls: string; ms: number }[] = [];
      profiler.trace = trace;
      profiler.on = true;
      const got = await round([req]);
      profiler.on = false;
      profiler.trace = null;
      const res = got.results[0]!;
      serial.push(res);
      last = serial;
      serialDetail.push({
        mode: req.mode, ms: ms1(res.ms), sqlMs: ms1(trace.reduce((a, s) => a + s.ms, 0)), statements: trace.length,
        transactions: trace.filter((s) => s.cls === 'begin').length, phases: phasesOf(trace),
      });
    }
    k++;

    // One more concurrent round, sampling what the server's connections wait for (pg_stat_activity): not counted.
    await refill(k);
    const waits = new Map<string, number>();
    let samples = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const { rows } = await sql<{ w: string; q: string }>`
          select coalesce(wait_event_type || ':' || wait_event, 'cpu/running') as w, left(regexp_replace(query, '\\s+', ' ', 'g'), 90) as q
            from pg_stat_activity where backend_type = 'client backend' and state = 'active' and pid <> pg_backend_pid()`.execute(owner.db);
        samples++;
        for (const r of rows) {
          const key = r.w.startsWith('Lock:') ? `${r.w}  ${classify(r.q)}` : r.w;
          waits.set(key, (waits.get(key) ?? 0) + 1);
        }
        await new Promise((res) => setTimeout(res, 5));
      }
    })();
    const sampled = await round(requestsOf(k));
    remember(sampled.results);
    sampling = false;
    await sampler;
    k++;
    clearInterval(rssSampler);
    const loadAfter = loadAverage();
    const sampledRound = { ...summarise(sampled.results), wallMs: ms1(sampled.wallMs) };
    const waitSamples = [...waits].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([what, count]) => ({ what, count }));
    child.send({ kind: 'exit' } satisfies ToClient);

    // --- Checks: the books, the invoices, points charged exactly once.
    const everyPay = [...warm.results, ...measured, ...serial, ...sampled.results];
    const paidPays = everyPay.filter((r) => r.paid);
    const paidIds = paidPays.map((r) => r.invoiceId);
    const attemptedIds = everyPay.map((r) => r.invoiceId);
    const cardPays = paidPays.filter((r) => microsOf(r.cardCharged) > 0n);
    const benchInvoiceIds = invoices.flat();
    const checks: { check: string; ok: boolean; detail: string }[] = [];
    const ledgerProblems = await checkLedger(owner.db);
    checks.push({ check: 'checkLedger is empty', ok: ledgerProblems.length === 0, detail: ledgerProblems.length === 0 ? 'no problems' : JSON.stringify(ledgerProblems.slice(0, 5)) });
    const statuses = await owner.db.selectFrom('invoices').select(['id', 'status']).where('id', 'in', benchInvoiceIds).execute();
    const statusOf = new Map(statuses.map((s) => [s.id, s.status]));
    const notPaid = paidIds.filter((id) => statusOf.get(id) !== 'paid');
    checks.push({ check: 'every paid invoice is paid', ok: notPaid.length === 0, detail: `${paidIds.length} paid, ${notPaid.length} not: ${notPaid.slice(0, 3).join(', ')}` });
    const attempted = new Set(attemptedIds);
    const strayPaid = statuses.filter((s) => s.status !== 'awaiting_payment' && !paidIds.includes(s.id));
    checks.push({ check: 'invoices not paid successfully are untouched', ok: strayPaid.length === 0, detail: `${benchInvoiceIds.length - attempted.size} never attempted; ${strayPaid.length} changed without a successful answer` });
    const attempts = await sql<{ invoiceId: string; n: number }>`
      select invoice_id as "invoiceId", count(*)::int as n from invoice_pay_attempts
       where status = 'succeeded' and partner_id = ${partnerId} and customer_id like 'cus_benchpay%' group by invoice_id`.execute(owner.db);
    const twice = attempts.rows.filter((a) => a.n !== 1);
    checks.push({ check: 'one succeeded attempt per paid invoice', ok: twice.length === 0 && attempts.rows.length === paidIds.length, detail: `${attempts.rows.length} invoices with a succeeded attempt, ${twice.length} with more than one` });
    const sums = (await sql<{ postings: string; payments: string; attempts: string; clearing: string; charges: number }>`
      select
        (select coalesce(sum(p.amount_micros), 0)::text from postings p join journal_entries e on e.id = p.entry_id join ledger_accounts a on a.id = p.account_id
          where e.kind = 'invoice_payment' and a.code = 'points' and p.partner_id = ${partnerId} and p.customer_id like 'cus_benchpay%') as postings,
        (select coalesce(sum(ip.amount_micros), 0)::text from invoice_payments ip join invoices i on i.id = ip.invoice_id
          where ip.source = 'points' and i.partner_id = ${partnerId} and i.customer_id like 'cus_benchpay%') as payments,
        (select coalesce(sum(points_micros), 0)::text from invoice_pay_attempts
          where status = 'succeeded' and partner_id = ${partnerId} and customer_id like 'cus_benchpay%') as attempts,
        (select coalesce(sum(p.amount_micros), 0)::text from postings p join journal_entries e on e.id = p.entry_id join ledger_accounts a on a.id = p.account_id
          where e.kind = 'invoice_payment' and a.code = 'card_clearing' and p.partner_id = ${partnerId}) as clearing,
        (select count(*)::int from gateway_sandbox_charges where status = 'succeeded' and description like 'Invoice payment %') as charges`.execute(owner.db)).rows[0]!;
    // What the answers said was taken from points: the ledger, the invoices and the attempts must each say exactly that.
    const expectedPoints = paidPays.reduce((a, r) => a + microsOf(r.pointsUsed), 0n);
    const pointsOnce = BigInt(sums.postings) === expectedPoints && BigInt(sums.payments) === expectedPoints && BigInt(sums.attempts) === expectedPoints;
    checks.push({
      check: 'points charged exactly once', ok: pointsOnce,
      detail: `points postings (invoice_payment) ${decimal(BigInt(sums.postings))}, invoices' points payments ${decimal(BigInt(sums.payments))}, attempts' points parts ${decimal(BigInt(sums.attempts))}, expected ${decimal(expectedPoints)} SGD`,
    });
    const expectedCard = cardPays.reduce((a, r) => a + microsOf(r.cardCharged), 0n);
    checks.push({
      check: 'card charged once per card pay', ok: sums.charges === cardPays.length && BigInt(sums.clearing) === expectedCard,
      detail: `${sums.charges} sandbox charges for ${cardPays.length} card pays; card clearing ${decimal(BigInt(sums.clearing))} SGD, expected ${decimal(expectedCard)}`,
    });
    const modeMismatch = everyPay.filter((r) => r.paid && !r.ok).length;
    checks.push({ check: 'every pay as its mode says', ok: modeMismatch === 0, detail: `${modeMismatch} paid pays took other parts than ${decimal(TOTAL)} points, or ${decimal(CARD_POINTS)} points + ${decimal(TOTAL - CARD_POINTS)} card` });
    const held = await sql<{ n: number }>`select count(*)::int as n from wallets where customer_id like 'cus_benchpay%' and reserved_micros <> 0`.execute(owner.db);
    checks.push({ check: 'no points left on hold', ok: held.rows[0]!.n === 0, detail: `${held.rows[0]!.n} wallets with points on hold` });

    // --- Report.
    const byMode = {
      points: summarise(measured.filter((r) => r.mode === 'points')),
      'points+card': summarise(measured.filter((r) => r.mode === 'points+card')),
      overall: summarise(measured),
    };
    const serialByMode = { points: summarise(serial.filter((r) => r.mode === 'points')), 'points+card': summarise(serial.filter((r) => r.mode === 'points+card')), overall: summarise(serial) };
    const measuredWallMs = roundWalls.reduce((a, b) => a + b, 0);
    const paysPerSecond = Math.round((measured.filter((r) => r.ok).length / (measuredWallMs / 1000)) * 10) / 10;
    const errorBodies = everyPay.filter((r) => !r.ok).slice(0, 5)
      .map((r) => ({ mode: r.mode, invoiceId: r.invoiceId, status: r.status, body: r.body }));
    const medianDetail = (mode: Mode) => {
      const rows = serialDetail.filter((d) => d.mode === mode).sort((a, b) => a.ms - b.ms);
      return rows[Math.floor((rows.length - 1) / 2)] ?? null;
    };
    const serialProfile = {
      points: medianDetail('points'),
      'points+card': medianDetail('points+card'),
      medianSqlShare: (() => {
        const shares = serialDetail.map((d) => d.sqlMs / Math.max(0.001, d.ms)).sort((a, b) => a - b);
        return Math.round(percentile(shares, 50) * 100) / 100;
      })(),
    };
    const peakRss = { hwmMb: mb(vmHwmBytes()), duringRoundsMb: mb(rssPeakRounds) };

    console.log(`\nPOST /api/v1/portal/invoices/{id}/pay — ${n} customers at once, ${options.rounds} rounds (after 1 warm-up round): ${measured.length} pays`);
    console.log('\n| mode | pays | p50 ms | p90 ms | p99 ms | max ms | mean ms | errors | one at a time p50 / p99 ms |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const m of ['points', 'points+card', 'overall'] as const) {
      const s = byMode[m];
      console.log(`| ${m} | ${s.pays} | ${s.p50} | ${s.p90} | ${s.p99} | ${s.max} | ${s.mean} | ${s.errors} | ${serialByMode[m].p50} / ${serialByMode[m].p99} |`);
    }
    const verdict = byMode.overall.p99 <= TARGET_P99_MS && byMode.overall.errors === 0 ? 'pass' : 'miss';
    console.log(`\n${paysPerSecond} pays/s (successful pays / summed round wall time ${ms1(measuredWallMs)} ms); a round of ${n} took p50 ${ms1(percentile([...roundWalls].sort((a, b) => a - b), 50))} ms, max ${ms1(Math.max(...roundWalls))} ms`);
    console.log(`target p99 <= ${TARGET_P99_MS} ms: ${verdict} (p99 ${byMode.overall.p99} ms)`);
    console.log(`peak RSS of this process (server + harness; the client is a child process): ${peakRss.duringRoundsMb} MB during the rounds, VmHWM ${peakRss.hwmMb} MB`);
    if (errorBodies.length > 0) {
      console.log('\nfirst errors:');
      for (const e of errorBodies) console.log(`  ${e.mode} ${e.invoiceId}: ${e.status} ${e.body}`);
    }
    console.log(`\nSQL in the measured rounds: ${profile.statementsPerPay} statements and ${profile.transactionsPerPay} transactions per pay; pool waits p50 ${profile.poolWaitMs.p50} / p99 ${profile.poolWaitMs.p99} / max ${profile.poolWaitMs.max} ms (${profile.poolWaitMs.acquisitions} acquisitions, pool of 20); sandbox charge p50 ${profile.gatewayChargeMs.p50} / p99 ${profile.gatewayChargeMs.p99} ms`);
    console.log('| statement class | count | total ms | max ms |');
    console.log('| --- | ---: | ---: | ---: |');
    for (const s of profile.statements.slice(0, 12)) console.log(`| ${s.statement} | ${s.count} | ${s.totalMs} | ${s.maxMs} |`);
    for (const m of ['points', 'points+card'] as const) {
      const d = serialProfile[m];
      if (!d) continue;
      console.log(`\none at a time, the median ${m} pay: ${d.ms} ms, of which SQL ${d.sqlMs} ms in ${d.statements} statements, ${d.transactions} transactions:`);
      for (const p of d.phases) console.log(`  ${String(p.ms).padStart(6)} ms  ${String(p.statements).padStart(3)} st  ${p.phase}`);
    }
    console.log(`\nwhat the server's connections were doing in one more concurrent round (${samples} samples of pg_stat_activity; that round p50 ${sampledRound.p50} / p99 ${sampledRound.p99} ms):`);
    for (const w of waitSamples) console.log(`  ${String(w.count).padStart(5)}  ${w.what}`);
    console.log('\nchecks:');
    for (const c of checks) console.log(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.check}: ${c.detail}`);

    fs.writeFileSync(options.out, `${JSON.stringify({
      ranAt: new Date().toISOString(),
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version, postgres: pgVersion, loadAverage1mBefore: loadBefore, loadAverage1mAfter: loadAfter },
      settings: {
        customers: n, rounds: options.rounds, concurrentPays: n, invoiceTotal: decimal(TOTAL), cardCustomerPoints: decimal(CARD_POINTS), cardToken: CARD_TOKEN,
        gateway: 'SandboxGateway passed to the server, settleAfterMs 0 (no artificial delay)', appPool: 20, client: 'a child process, fetch (undici), keep-alive',
        logLevel: config.logLevel, worker: 'not running (API process only)', setupSeconds, pointsTopUpsBetweenRounds: topUps,
      },
      target: { p99Ms: TARGET_P99_MS, result: verdict },
      latencyMs: byMode, paysPerSecond, roundWallMs: roundWalls.map(ms1),
      warmUp: { ...summarise(warm.results), wallMs: ms1(warm.wallMs) },
      oneAtATime: { latencyMs: serialByMode, medianPays: serialProfile },
      sqlProfile: profile, lockSamplingRound: { ...sampledRound, samples, waits: waitSamples },
      peakRss, errors: errorBodies, checks,
    }, null, 2)}\n`);
    console.log(`results written to ${path.relative(process.cwd(), options.out)}`);
    if (checks.some((c) => !c.ok)) process.exitCode = 1;
  } finally {
    await cleanup();
  }
}

if (process.argv[2] === '--client') clientMain();
else await main();

/** What PostgreSQL itself spent per pay (pg_stat_statements since the measured rounds began): planning and execution. */
async function printServerStatements(owner: DatabaseHandle, pays: number): Promise<void> {
  const { rows } = await sql<{ calls: string; planMs: number; execMs: number; query: string }>`
    select calls::text, total_plan_time as "planMs", total_exec_time as "execMs", left(regexp_replace(query, '[[:space:]]+', ' ', 'g'), 110) as query
      from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())
      order by total_plan_time + total_exec_time desc limit 25`.execute(owner.db);
  const sum = await sql<{ planMs: number; execMs: number; calls: string }>`
    select sum(total_plan_time) as "planMs", sum(total_exec_time) as "execMs", sum(calls)::text as calls from pg_stat_statements`.execute(owner.db);
  const all = sum.rows[0]!;
  console.log(`\nPostgreSQL's own time in the measured rounds, per pay: planning ${(all.planMs / pays).toFixed(2)} ms, execution ${(all.execMs / pays).toFixed(2)} ms, ${(Number(all.calls) / pays).toFixed(1)} statements (pg_stat_statements, nested included)`);
  console.log('| calls/pay | plan ms/call | exec ms/call | statement |\n| ---: | ---: | ---: | --- |');
  for (const r of rows) {
    const calls = Number(r.calls);
    console.log(`| ${(calls / pays).toFixed(2)} | ${(r.planMs / calls).toFixed(3)} | ${(r.execMs / calls).toFixed(3)} | ${r.query.replace(/\|/g, '/')} |`);
  }
}
