// Paired blocks: the price of a small change to the call-charging transaction, on a machine whose speed drifts more
// than the change (ADR 0018, amendment of 2026-12-05, evening). Not part of `npm test`.
//
//   npm run bench:paired                                   the same code and schema against themselves: the method's noise
//   PAIRED_TREE_B=/tmp/copy/src npm run bench:paired       a code variant: that tree's `ingestCalls` beside this one's, on
//                                                          the same connection (e.g. `git archive` of a branch, with
//                                                          node_modules linked). Small requests only: at 500 records an
//                                                          identical copy measured +25.7 ms of PostgreSQL per transaction
//                                                          (ADR 0018 decision 34); compare large ones with bench:money and
//                                                          BENCH_SERVER_SCRIPT
//   PAIRED_SQL_B=change.sql npm run bench:paired           a schema variant: a copy of the database with that file applied,
//                                                          each variant on its own connection (noisier: ±40 µs, not ±20)
//
// What it does: an embedded PostgreSQL in a temp dir under /tmp, migrated and demo-seeded, PAIRED_CUSTOMERS customers of
// Demo Telecom with wallets topped up, PAIRED_HISTORY calls charged to them. Then, in one process and without HTTP, it
// charges transactions of PAIRED_RECORDS call records, in blocks of PAIRED_BLOCK transactions, A then B then B then A ...
// PAIRED_ROUNDS times, and reads each variant's backend CPU from /proc/<pid>/schedstat (ns) and this process's own CPU
// (the Node.js side). It prints the median and quartiles of the paired differences B - A per transaction (robust to the
// machine's bursts), each variant's means, and the commits per transaction.
// A transaction is one request of PAIRED_RECORDS records: always one commit, whose audit event names one request id.
// PAIRED_GROUPED=1 sends them as that many one-record requests at once, which the group commit charges together as it
// does for that many clients (and the event names every request id), but not always in one commit: a runner that went
// idle takes the first request alone. Read the commits per transaction it prints; 1.00 is the case to compare.
// Env: PAIRED_RECORDS (16) PAIRED_GROUPED (unset) PAIRED_BLOCK (40) PAIRED_ROUNDS (60) PAIRED_CUSTOMERS (3000)
//      PAIRED_HISTORY (100000: calls charged before, in requests of 10 (a journal entry and an audit event each), then
//      statistics taken)
//      PAIRED_PG_PORT (54372) PAIRED_TREE_B PAIRED_SQL_B BENCH_MAX_MINUTES (20: hard stop)
//      PAIRED_STATEMENTS (unset: 1 also prints PostgreSQL's own time per statement over the measured rounds, per
//      transaction: pg_stat_statements, nested statements of triggers and functions included; both variants together,
//      or with PAIRED_SQL_B variant A only, the one on the database it reads)
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { sql } from 'kysely';
import pino from 'pino';
import pg from 'pg';
import { guardRun, removeLeftovers } from './bench-kit.ts';
import { inScope, openDatabase, type DatabaseHandle } from '../src/platform/database.ts';
import { startEmbeddedPostgres, stopServerOnDataDir, type EmbeddedDatabase } from '../src/platform/embedded-postgres.ts';
import { migrateToLatest } from '../src/platform/migrate.ts';
import { seedDemo } from '../src/platform/seed.ts';
import { ensureWallets } from '../src/wallet/wallets.repo.ts';
import { postEntries } from '../src/ledger/post-entry.ts';
import { ingestCalls } from '../src/usage/ingest-calls.ts';
import { newRequestId } from '../src/platform/ids.ts';
import { systemClock } from '../src/platform/clock.ts';
import type { AppName } from '../src/platform/db-types.ts';

const TMP_PREFIX = 'folio-bench-paired-';
const envInt = (name: string, fallback: number, min: number, max: number): number => {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name}: an integer ${min}..${max}`);
  return n;
};
const o = {
  records: envInt('PAIRED_RECORDS', 16, 1, 5_000),
  grouped: process.env.PAIRED_GROUPED === '1',
  block: envInt('PAIRED_BLOCK', 40, 1, 10_000),
  rounds: envInt('PAIRED_ROUNDS', 60, 2, 1_000),
  customers: envInt('PAIRED_CUSTOMERS', 3_000, 10, 100_000),
  history: envInt('PAIRED_HISTORY', 100_000, 0, 10_000_000),
  pgPort: envInt('PAIRED_PG_PORT', 54_372, 1_024, 65_535),
  treeB: process.env.PAIRED_TREE_B ? path.resolve(process.env.PAIRED_TREE_B) : null,
  sqlB: process.env.PAIRED_SQL_B ? path.resolve(process.env.PAIRED_SQL_B) : null,
  maxMinutes: envInt('BENCH_MAX_MINUTES', 20, 1, 600),
  statements: process.env.PAIRED_STATEMENTS === '1',
};
if (o.treeB && o.sqlB) throw new Error('PAIRED_TREE_B or PAIRED_SQL_B, not both: one change at a time');

const log = (line: string) => console.log(line);
/** A backend's CPU time so far, in microseconds (the scheduler's own count, in ns). */
const cpuMicros = (pid: number): number => Number(fs.readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1_000;
const DESTINATIONS = ['+6562223333', '+6581234567', '+6591234567', '+14155550123', '+442071234567'];

type Ingest = typeof ingestCalls;
interface Variant { name: string; app: DatabaseHandle; pid: number; ingest: Ingest; newRequestId: () => string; micros: number; nodeMicros: number; transactions: number; commits: number }

let embedded: EmbeddedDatabase | null = null;
let dir: string | null = null;
const handles: DatabaseHandle[] = [];
const cleanup = async () => {
  for (const h of handles) await h.close().catch(() => {});
  if (embedded) await embedded.stop().catch(() => {});
  if (dir) {
    await stopServerOnDataDir(path.join(dir, 'pg'), log);
    fs.rmSync(dir, { recursive: true, force: true });
  }
};
const release = guardRun('paired bench', o.maxMinutes, cleanup, log);

try {
  await removeLeftovers(TMP_PREFIX, o.pgPort, log);
  dir = fs.mkdtempSync(path.join('/tmp', TMP_PREFIX));
  fs.chmodSync(dir, 0o755);
  embedded = await startEmbeddedPostgres({
    dataDir: dir, port: o.pgPort, log: () => {},
    settings: o.statements ? ['shared_preload_libraries=pg_stat_statements', 'pg_stat_statements.track=all', 'pg_stat_statements.track_planning=on'] : [],
  });
  const owner = openDatabase(embedded.url, { appRole: false, max: 2 });
  handles.push(owner);
  await migrateToLatest(owner);
  await seedDemo(owner.db, 'folio-demo-2026');
  if (o.statements) await sql`create extension if not exists pg_stat_statements`.execute(owner.db);
  const partnerId = (await owner.db.selectFrom('partners').select('id').where('slug', '=', 'demo-telecom').executeTakeFirstOrThrow()).id;
  const customerIds = (await sql<{ id: string }>`
    insert into customers (id, partner_id, name, currency)
    select 'cus_paired' || lpad(g::text, 20, '0'), ${partnerId}, 'Paired ' || g, 'SGD' from generate_series(1, ${o.customers}::int) g
    returning id`.execute(owner.db)).rows.map((r) => r.id).sort();
  const seedApp = openDatabase(embedded.url, { appRole: true, max: 2 });
  await inScope(seedApp.db, { kind: 'partner', partnerId }, async (trx) => {
    await ensureWallets(trx, partnerId, customerIds.map((customerId) => ({ customerId, currency: 'SGD' })));
    await postEntries(trx, [{
      partnerId, currency: 'SGD', customerId: null, kind: 'top_up', causeType: 'bench', causeId: 'paired', description: 'Top-up', auditEventId: null,
      postings: [{ code: 'card_clearing', amountMicros: BigInt(customerIds.length) * 1_000_000_000n },
        ...customerIds.map((customerId) => ({ code: 'points' as const, customerId, amountMicros: -1_000_000_000n }))],
    }]);
  });
  // A call history first, charged through the same use case, then statistics: plans made over near-empty tables
  // (a sequential scan of `usage_calls` looks cheap there) would stay cached on the measured connections while the
  // tables grow, and the cost per transaction would climb through the run. The history comes as the single-record
  // load writes it, one journal entry and audit event per request (requests of HISTORY_RECORDS calls, HISTORY_AT_ONCE at
  // a time, charged together by the group commit): with a journal entry per thousand calls instead, the statement
  // triggers' checks against `journal_entries` were planned for a table of a few hundred rows (a sequential scan under
  // each anti-join) and kept that plan while every measured transaction added an entry: 2.0 ms per one-call transaction
  // at first, 2.5 ms on average over 80 s.
  const quiet = pino({ level: 'silent' });
  /** A switch's request as the route hands it to the use case: the API key's principal, a request id of its own. */
  const ctxOf = (db: DatabaseHandle['db'], requestId: string) => ({
    db, config: {} as never, log: quiet, requestId, ip: '127.0.0.1', userAgent: 'bench-paired', clock: systemClock,
    principal: { kind: 'api_key' as const, keyId: 'key_bench_paired', partnerId, name: 'paired', apps: new Set<AppName>(['customer']) },
  });
  const HISTORY_RECORDS = 10;
  const HISTORY_AT_ONCE = 16;
  const historyRequest = (from: number) => Array.from({ length: Math.max(0, Math.min(HISTORY_RECORDS, o.history - from)) }, (_, i) => ({
    callId: `history-${from + i}`, customerId: customerIds[(from + i) % customerIds.length]!, from: '+6561234567',
    to: DESTINATIONS[(from + i) % DESTINATIONS.length]!, startedAt: '2026-11-20T04:32:00Z', durationSeconds: 20 + ((from + i) % 200), direction: 'outbound',
  }));
  for (let n = 0; n < o.history; n += HISTORY_RECORDS * HISTORY_AT_ONCE) {
    const requests = Array.from({ length: HISTORY_AT_ONCE }, (_, k) => historyRequest(n + k * HISTORY_RECORDS)).filter((records) => records.length > 0);
    const answers = await Promise.all(requests.map((records) => ingestCalls(ctxOf(seedApp.db, newRequestId()), { records })));
    const charged = answers.reduce((sum, answer) => sum + answer.summary.charged, 0);
    const sent = requests.reduce((sum, records) => sum + records.length, 0);
    if (charged !== sent) throw new Error(`history: ${charged} of ${sent} charged`);
  }
  await seedApp.close();
  await sql`vacuum (analyze)`.execute(owner.db);

  // The variants. A: this tree, on the database as migrated. B: another tree on the same connection, or a copy of the
  // database with the schema change applied, on a connection of its own; or A again (the method's noise).
  let urlB = embedded.url;
  if (o.sqlB) {
    const url = new URL(embedded.url);
    const copyOf = url.pathname.slice(1) || 'postgres';
    await owner.close();
    handles.splice(handles.indexOf(owner), 1);
    const admin = new pg.Client({ connectionString: Object.assign(new URL(embedded.url), { pathname: '/template1' }).toString() });
    await admin.connect();
    await admin.query(`create database paired_b template ${copyOf}`);
    await admin.end();
    urlB = Object.assign(new URL(embedded.url), { pathname: '/paired_b' }).toString();
    const ownerB = new pg.Client({ connectionString: urlB });
    await ownerB.connect();
    await ownerB.query(fs.readFileSync(o.sqlB, 'utf8'));
    await ownerB.end();
  }
  const open = async (name: string, url: string, ingest: Ingest, requestId: () => string, shared?: Variant): Promise<Variant> => {
    const app = shared?.app ?? openDatabase(url, { appRole: true, max: 1 });
    if (!shared) handles.push(app);
    const pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(app.db)).rows[0]!.pid;
    return { name, app, pid, ingest, newRequestId: requestId, micros: 0, nodeMicros: 0, transactions: 0, commits: 0 };
  };
  const a = await open('A (this tree)', embedded.url, ingestCalls, newRequestId);
  let b: Variant;
  if (o.treeB) {
    const ingestB = (await import(pathToFileURL(path.join(o.treeB, 'usage/ingest-calls.ts')).href) as { ingestCalls: Ingest }).ingestCalls;
    const idsB = (await import(pathToFileURL(path.join(o.treeB, 'platform/ids.ts')).href) as { newRequestId: () => string }).newRequestId;
    b = await open(`B (${o.treeB})`, embedded.url, ingestB, idsB, a);
  } else if (o.sqlB) {
    b = await open(`B (${path.basename(o.sqlB)} applied)`, urlB, ingestCalls, newRequestId);
  } else {
    b = await open('B (this tree again, same connection)', embedded.url, ingestCalls, newRequestId, a);
  }

  let seq = 0;
  const transaction = async (v: Variant) => {
    const records = Array.from({ length: o.records }, () => {
      seq++;
      return {
        callId: `paired-${seq}`, customerId: customerIds[Math.floor(Math.random() * customerIds.length)]!, from: '+6561234567',
        to: DESTINATIONS[seq % DESTINATIONS.length]!, startedAt: '2026-12-01T04:32:00Z', durationSeconds: 20 + (seq % 200), direction: 'outbound',
      };
    });
    const answers = o.grouped
      ? await Promise.all(records.map((r) => v.ingest(ctxOf(v.app.db, v.newRequestId()), { records: [r] })))
      : [await v.ingest(ctxOf(v.app.db, v.newRequestId()), { records })];
    const charged = answers.reduce((n, x) => n + x.summary.charged, 0);
    if (charged !== records.length) throw new Error(`${v.name}: ${charged} of ${records.length} charged`);
  };

  for (const v of [a, b]) for (let i = 0; i < 20; i++) await transaction(v);
  // Commits, counted by transaction ids: each charging commit writes, so it takes one; reading the counter takes one more.
  const xid = async (v: Variant) => Number((await sql<{ n: string }>`select pg_current_xact_id()::text as n`.execute(v.app.db)).rows[0]!.n);
  const diffs: number[] = [];
  const nodeDiffs: number[] = [];
  // pg_stat_statements through a superuser's connection of its own (the app role may neither reset it nor read other
  // roles' statements), reset here: the measured rounds only (the xid reads between blocks are among them).
  const reader = o.statements ? openDatabase(embedded.url, { appRole: false, max: 1 }) : null;
  if (reader) {
    handles.push(reader);
    await sql`select pg_stat_statements_reset()`.execute(reader.db);
  }
  // The worker's upkeep loop merges the audit search keys' pending list every 2 seconds (src/audit/audit-keys-upkeep.ts),
  // so that a charging transaction never merges it at commit; here no worker runs: the same merge, between rounds, on a
  // connection of its own for each database (not measured: the measured figures are the charging backends' own CPU).
  const upkeep = [...new Set([embedded.url, urlB])].map((url) => openDatabase(url, { appRole: false, max: 1 }));
  handles.push(...upkeep);
  let upkeepAt = performance.now();
  for (let round = 0; round < o.rounds; round++) {
    if (performance.now() - upkeepAt >= 2_000) {
      for (const h of upkeep) await sql`select gin_clean_pending_list('audit_events_search_keys'::regclass)`.execute(h.db);
      upkeepAt = performance.now();
    }
    const spent = new Map<Variant, { pg: number; node: number }>();
    for (const v of round % 2 === 0 ? [a, b] : [b, a]) {
      const xidBefore = await xid(v);
      const before = cpuMicros(v.pid);
      const nodeBefore = process.cpuUsage();
      for (let i = 0; i < o.block; i++) await transaction(v);
      const nodeSpent = process.cpuUsage(nodeBefore);
      const micros = cpuMicros(v.pid) - before;
      v.commits += (await xid(v)) - xidBefore - 1;
      spent.set(v, { pg: micros, node: nodeSpent.user + nodeSpent.system });
      v.micros += micros;
      v.nodeMicros += nodeSpent.user + nodeSpent.system;
      v.transactions += o.block;
    }
    diffs.push((spent.get(b)!.pg - spent.get(a)!.pg) / o.block);
    nodeDiffs.push((spent.get(b)!.node - spent.get(a)!.node) / o.block);
  }
  const quantiles = (values: number[]) => {
    const sorted = [...values].sort((x, y) => x - y);
    const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
    return `median ${at(0.5)} µs, quartiles ${at(0.25)} .. ${at(0.75)} µs`;
  };
  const shape = o.grouped ? `${o.records} one-record requests at once` : `one request of ${o.records} records`;
  log(`paired blocks: ${o.rounds} rounds of ${o.block} transactions per variant, each ${shape}; PostgreSQL backend CPU (schedstat)`);
  for (const v of [a, b]) {
    log(`  ${v.name}: PostgreSQL ${Math.round(v.micros / v.transactions)} µs, this process (Node.js) ${Math.round(v.nodeMicros / v.transactions)} µs per transaction (means of ${v.transactions}), ${(v.commits / v.transactions).toFixed(2)} commits per transaction`);
  }
  log(`  B - A per transaction, PostgreSQL: ${quantiles(diffs)}`);
  log(`  B - A per transaction, Node.js (the use case, its driver and this loop): ${quantiles(nodeDiffs)}`);
  if (reader) {
    // pg_stat_statements counts per database: with PAIRED_SQL_B, variant B runs on its copy and only A is read here.
    const transactions = a.transactions + (o.sqlB ? 0 : b.transactions);
    const { rows } = await sql<{ calls: string; planned: number; executed: number; buffers: string; query: string }>`
      select calls::text, total_plan_time as planned, total_exec_time as executed, (shared_blks_hit + shared_blks_read)::text as buffers,
        regexp_replace(query, '[[:space:]]+', ' ', 'g') as query
      from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())
      order by total_exec_time + total_plan_time desc limit 30`.execute(reader.db);
    log(`PostgreSQL's own time per transaction by statement (pg_stat_statements over ${transactions} transactions${o.sqlB ? ', variant A only' : ''}, nested ones included):`);
    log('| calls/tx | plan µs/tx | exec µs/tx | buffers/tx | statement |');
    log('| ---: | ---: | ---: | ---: | --- |');
    for (const r of rows) {
      const per = (x: number) => (x / transactions).toFixed(x / transactions < 10 ? 2 : 0);
      log(`| ${per(Number(r.calls))} | ${per(r.planned * 1000)} | ${per(r.executed * 1000)} | ${per(Number(r.buffers))} | ${r.query.slice(0, 150)} |`);
    }
  }
} finally {
  release();
  await cleanup();
}
