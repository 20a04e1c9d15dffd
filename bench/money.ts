// Money-core benchmarks: call charging (one record per request, and batches), the transactions feed on a large ledger,
// and the API server's memory, each beside its target and a baseline measured on the same PostgreSQL.
//
//   npm exec -- node bench/money.ts            (standalone; or `runMoneyBench()` from bench/run.ts)
//
// What it does, in order (loopback only; everything bounded in time and count; cleaned up even on failure):
//  1. An embedded PostgreSQL in a fresh temp dir under /tmp (port 54370), migrated and demo-seeded.
//  2. BENCH_CUSTOMERS customers of Demo Telecom (SGD) with wallets topped up by balanced entries, a default rate plan, an API key
//     limited to the Customer app, and a call history generated in SQL (generate_series) up to BENCH_LEDGER_ROWS postings:
//     every history call is a usage_calls row and a call_charge entry of 4 postings (points, revenue, cost, platform payable),
//     the rows POST /api/v1/usage/calls writes. For speed the load skips the triggers (session_replication_role = replica)
//     and does their work itself (balances); every foreign key and `checkLedger` are then verified (see loadHistory).
//     A batch of 10,000 as a fresh server's first request (on a server of its own) checks a JIT-dependent failure.
//  3. The API server in a CHILD process (bench/money-server.ts, built as src/main.ts builds it in api mode) so that its memory
//     is its own, driven by autocannon from this process.
//  4. Single call record per request at 4/16/64 connections, each followed by pgbench TPC-B (scale 10, separate database, same
//     server) at the same concurrency; batches of 1,000 and 10,000 records (fetch) beside a COPY of the same rows into a bare,
//     logged table; the latest 100 transactions of random customers through HTTP and straight through `readFeedPage`.
//  5. A table of each figure beside its target (pass/miss), and bench/money-results.json.
//
// Env: BENCH_LEDGER_ROWS (10000000) BENCH_CUSTOMERS (10000) BENCH_PG_PORT (54370) BENCH_CONNECTIONS (4,16,64)
//      BENCH_SINGLE_SECONDS (12) BENCH_WARMUP_SECONDS (2) BENCH_PGBENCH_SECONDS (15) BENCH_PGBENCH_SCALE (10)
//      BENCH_STEADY_SECONDS (40: single-record load at 16 connections before the measured runs, its throughput reported by
//      10-s slices; then BENCH_PGBENCH_WARMUP_SECONDS (10) of pgbench, not counted either: both start from the same cold state)
//      BENCH_BATCH_SIZES (1000,10000: the batch sizes measured; the targets' table expects both) BENCH_BATCH_ROUNDS (10, at most 200: 3 until 2026-12-05; a size's rounds keep getting faster for several rounds at full size, see ADR 0029; the steady state after them: ADR 0021, amendment of 2026-12-06, late) BENCH_BATCH_SECONDS (90: no new round of a size after that) BENCH_FEED_REQUESTS (2000)
//      BENCH_LOG_LEVEL (info: the server logs every request, as in production, to a file in the temp dir) BENCH_PGBENCH (/usr/lib/postgresql/15/bin/pgbench) BENCH_MAX_MINUTES (30: hard stop)
//      BENCH_WAIT_QUIET_SECONDS (120: in all, waiting for other programs' CPU use to drop before the measured phases)
//      BENCH_SERVER_SCRIPT (bench/money-server.ts; the same file in a patched copy of the tree for A/B runs: its own src/ and
//      migrations are used by the server) BENCH_SERVER_NODE_OPTIONS (--max-semi-space-size=8, as npm start; Node and V8 flags for the server child's command line)
//      BENCH_OUT (bench/money-results.json) BENCH_MONEY_PG_STATEMENTS (1: PostgreSQL's own time per statement in each single-record run, the batches and the feed)
//      BENCH_PROFILE_DIR (unset: the server's CPU profile of each single-record run, of the batches and of the 1-connection feed run, as .cpuprofile files there, each with a .heapprofile of what it allocated)
//      BENCH_KEEP_SERVER_LOG (unset: a file to copy the server's log to at the end, e.g. with --trace-gc in BENCH_SERVER_NODE_OPTIONS)
//      BENCH_PG_SETTINGS (unset: more settings for the bench's PostgreSQL, `name=value` separated by spaces, e.g. shared_buffers=4GB)
//      (huge pages: PostgreSQL maps its shared buffers in 2 MB pages when the kernel has enough reserved, `sysctl vm.nr_hugepages`;
//      the machine line says whether it did and how many it needs; huge_pages=off or =on here to choose: ADR 0028's amendment)
//      BENCH_PG_LOG_FILE (unset: PostgreSQL's own log, kept there after the run; with BENCH_PG_SETTINGS="session_preload_libraries=auto_explain
//      auto_explain.log_min_duration=150 auto_explain.log_analyze=on auto_explain.log_triggers=on" it holds the plans of the batches' statements)
//      BENCH_WAL_DETAIL (unset: 1 prints, for every phase whose WAL is counted (each single-record run, each pgbench run, each timed batch),
//      its records by resource manager and type, per unit, from pg_walinspect)
import { guardRun, removeLeftovers } from './bench-kit.ts';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import autocannon, { type Options as AutocannonOptions, type Result as AutocannonResult } from 'autocannon';
import { sql } from 'kysely';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { checkLedger, type LedgerProblem } from '../src/ledger/check-ledger.ts';
import { resolveAccounts } from '../src/ledger/accounts.ts';
import { sha256Hex } from '../src/platform/crypto.ts';
import { inScope, openDatabase, type DatabaseHandle, type Db, type Trx } from '../src/platform/database.ts';
import { startEmbeddedPostgres, stopServerOnDataDir, type EmbeddedDatabase } from '../src/platform/embedded-postgres.ts';
import { newId } from '../src/platform/ids.ts';
import { migrateToLatest } from '../src/platform/migrate.ts';
import { seedDemo } from '../src/platform/seed.ts';
import { feedPage, feedPageStatement, readFeedPage } from '../src/wallet/list-transactions.ts';
import { transactionIds } from '../src/wallet/transaction-ids.ts';

const REPO = path.resolve(import.meta.dirname, '..');
const TMP_PREFIX = 'folio-money-bench-';
const PG_PASSWORD = 'folio-local';
const PGBENCH_DB = 'folio_pgbench';
const CURRENCY = 'SGD';
/** Points each bench customer starts with: 1,000,000 SGD, far more than any run spends. */
const TOP_UP_MICROS = 1_000_000_000_000n;

export interface MoneyBenchOptions {
  ledgerRows: number;
  customers: number;
  pgPort: number;
  connections: number[];
  singleSeconds: number;
  warmupSeconds: number;
  /** Single-record load before the measured runs (cold server, cold cache, a checkpoint just made), reported by slices. */
  steadySeconds: number;
  pgbenchWarmupSeconds: number;
  pgbenchSeconds: number;
  pgbenchScale: number;
  pgbenchPath: string;
  batchSizes: number[];
  batchRounds: number;
  /** Seconds after which no new round of a batch size starts. */
  batchSecondsBudget: number;
  feedRequests: number;
  /** Where to write the server's CPU profile of each single-record run, of the batches and of the 1-connection feed run (null: not profiled). */
  profileDir: string | null;
  /** Copy the API server's log (stdout and stderr: requests, and V8's traces if its flags ask) to this file at the end (null: not kept). */
  keepServerLog: string | null;
  /** Report pg_stat_statements for each single-record run, the batches and the feed's use case. */
  pgStatements: boolean;
  /** More PostgreSQL settings for the bench's server (BENCH_PG_SETTINGS, `name=value` separated by spaces). */
  pgSettings: string[];
  /** Where the bench's PostgreSQL writes its own log (BENCH_PG_LOG_FILE), kept after the run; null: in the temp dir, removed with it. */
  pgLogFile: string | null;
  logLevel: string;
  maxMinutes: number;
  /** The server child's script: bench/money-server.ts, or the same file in a patched copy of the tree (A/B runs). */
  serverScript: string;
  /** Node and V8 flags for the server child, put on its command line before the script (e.g. V8 heap flags); empty: none. */
  serverNodeOptions: string;
  /** Seconds in all the run may wait for the machine to be quiet before its measured phases. */
  waitQuietSeconds: number;
  out: string;
  log: (line: string) => void;
}

function envInt(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw.replaceAll('_', ''));
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  return v;
}

function batchSizesFromEnv(): number[] {
  const sizes = (process.env.BENCH_BATCH_SIZES ?? '1000,10000').split(',').map((s) => Number(s.trim().replaceAll('_', '')));
  if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 10_000)) throw new Error('BENCH_BATCH_SIZES: integers 1..10000, comma separated');
  return sizes;
}

export function moneyBenchOptionsFromEnv(): MoneyBenchOptions {
  const connections = (process.env.BENCH_CONNECTIONS ?? '4,16,64').split(',').map((s) => Number(s.trim()));
  if (connections.some((c) => !Number.isInteger(c) || c < 1 || c > 256)) throw new Error('BENCH_CONNECTIONS: integers 1..256, comma separated');
  return {
    ledgerRows: envInt('BENCH_LEDGER_ROWS', 10_000_000, 0, 100_000_000),
    customers: envInt('BENCH_CUSTOMERS', 10_000, 10, 1_000_000),
    pgPort: envInt('BENCH_PG_PORT', 54370, 1024, 65535),
    connections,
    singleSeconds: envInt('BENCH_SINGLE_SECONDS', 12, 1, 120),
    warmupSeconds: envInt('BENCH_WARMUP_SECONDS', 2, 0, 60),
    steadySeconds: envInt('BENCH_STEADY_SECONDS', 40, 0, 600),
    pgbenchWarmupSeconds: envInt('BENCH_PGBENCH_WARMUP_SECONDS', 10, 0, 120),
    pgbenchSeconds: envInt('BENCH_PGBENCH_SECONDS', 15, 1, 120),
    pgbenchScale: envInt('BENCH_PGBENCH_SCALE', 10, 1, 100),
    pgbenchPath: process.env.BENCH_PGBENCH ?? '/usr/lib/postgresql/15/bin/pgbench',
    batchSizes: batchSizesFromEnv(),
    batchRounds: envInt('BENCH_BATCH_ROUNDS', 10, 1, 200),
    batchSecondsBudget: envInt('BENCH_BATCH_SECONDS', 90, 1, 1800),
    feedRequests: envInt('BENCH_FEED_REQUESTS', 2_000, 10, 100_000),
    logLevel: process.env.BENCH_LOG_LEVEL ?? 'info',
    maxMinutes: envInt('BENCH_MAX_MINUTES', 30, 1, 240),
    waitQuietSeconds: envInt('BENCH_WAIT_QUIET_SECONDS', 120, 0, 3600),
    serverScript: path.resolve(process.env.BENCH_SERVER_SCRIPT ?? path.join(REPO, 'bench', 'money-server.ts')),
    // The flags `npm start` / `npm run serve` give the server (package.json): a smaller young generation keeps peak RSS down.
    serverNodeOptions: process.env.BENCH_SERVER_NODE_OPTIONS ?? '--max-semi-space-size=8',
    out: process.env.BENCH_OUT ?? path.join(REPO, 'bench', 'money-results.json'),
    pgStatements: process.env.BENCH_MONEY_PG_STATEMENTS === '1',
    pgSettings: (process.env.BENCH_PG_SETTINGS ?? '').split(/\s+/).filter((s) => s !== ''),
    pgLogFile: process.env.BENCH_PG_LOG_FILE ? path.resolve(process.env.BENCH_PG_LOG_FILE) : null,
    profileDir: process.env.BENCH_PROFILE_DIR ? path.resolve(process.env.BENCH_PROFILE_DIR) : null,
    keepServerLog: process.env.BENCH_KEEP_SERVER_LOG || null,
    log: (line) => console.log(line),
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// small helpers

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (n: number, digits = 0) => Math.round(n * 10 ** digits) / 10 ** digits;
const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
const mb = (kb: number) => round(kb / 1024, 1);

/**
 * Linux's transparent huge pages for shared memory (`shmem_enabled`, the chosen value), or null where there is no such
 * setting. PostgreSQL's shared buffers get 2 MB pages from it without any reserved (ADR 0028, amendment of 2026-12-06,
 * afternoon), and PostgreSQL's own `huge_pages_status` does not see it.
 */
function transparentHugePagesForSharedMemory(): string | null {
  try {
    const text = fs.readFileSync('/sys/kernel/mm/transparent_hugepage/shmem_enabled', 'utf8');
    return /\[([a-z_]+)\]/.exec(text)?.[1] ?? null;
  } catch {
    return null;
  }
}

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** How many times postings has been vacuumed (by autovacuum or by hand) so far. */
async function postingsVacuums(owner: DatabaseHandle | null): Promise<number> {
  if (!owner) return 0;
  const { rows } = await sql<{ n: string }>`select (autovacuum_count + vacuum_count)::text as n from pg_stat_user_tables where relname = 'postings'`.execute(owner.db);
  return Number(rows[0]?.n ?? 0);
}

/** Where the WAL stands now (pg_current_wal_insert_lsn: every database and process, autovacuum included), and checkpoints so far. */
async function walPosition(owner: Db): Promise<{ lsn: string; checkpoints: number }> {
  const { rows } = await sql<{ lsn: string; checkpoints: string }>`
    select pg_current_wal_insert_lsn()::text as lsn, (select num_timed + num_requested from pg_stat_checkpointer)::text as checkpoints`.execute(owner);
  return { lsn: rows[0]!.lsn, checkpoints: Number(rows[0]!.checkpoints) };
}

/** Row updates so far of the tables a charge updates in place (balances, feed totals), and how many were HOT. */
async function rowUpdates(owner: Db): Promise<Record<string, { updates: number; hot: number }>> {
  const { rows } = await sql<{ relname: string; updates: string; hot: string }>`
    select relname, n_tup_upd::text as updates, n_tup_hot_upd::text as hot from pg_stat_user_tables
     where relname in ('ledger_accounts', 'points_feed_totals') order by relname`.execute(owner);
  return Object.fromEntries(rows.map((r) => [r.relname, { updates: Number(r.updates), hot: Number(r.hot) }]));
}

/**
 * Tables' and indexes' pages read into shared buffers, written out, added and evicted so far, by the kind of process
 * that did it (pg_stat_io, shared buffers only: not the ring buffers of bulk reads and writes; 8 KB blocks). A client
 * backend that reads a page in, or writes a dirty one out to make room, does it on the charge's path; the background
 * writer and the checkpointer write beside it.
 */
async function sharedBufferIo(owner: Db): Promise<Record<string, { reads: number; writes: number; extends: number; evictions: number }>> {
  const { rows } = await sql<{ backendType: string; reads: string; writes: string; extends: string; evictions: string }>`
    select backend_type as "backendType", coalesce(sum(reads), 0)::text as reads, coalesce(sum(writes), 0)::text as writes,
           coalesce(sum(extends), 0)::text as extends, coalesce(sum(evictions), 0)::text as evictions
      from pg_stat_io where backend_type in ('client backend', 'background writer', 'checkpointer', 'autovacuum worker')
       and object = 'relation' and context = 'normal'
     group by backend_type order by backend_type`.execute(owner);
  return Object.fromEntries(rows.map((r) => [r.backendType, { reads: Number(r.reads), writes: Number(r.writes), extends: Number(r.extends), evictions: Number(r.evictions) }]));
}

/**
 * WAL written between two positions, per unit of work (a charge, a pgbench transaction): bytes, records and records
 * carrying full-page images, counted by pg_walinspect from the WAL itself (pg_stat_wal's counters lag behind busy connections).
 */
async function walPer(owner: Db, from: { lsn: string; checkpoints: number }, to: { lsn: string; checkpoints: number }, units: number,
  detail?: { phase: string; log: (line: string) => void }) {
  const start = from.lsn;
  const end = to.lsn;
  const { rows } = await sql<{ bytes: string; records: string; fpi: string; splits: string }>`
    select pg_wal_lsn_diff(${end}::pg_lsn, ${start}::pg_lsn)::text as bytes, count(*)::text as records, count(*) filter (where fpi_length > 0)::text as fpi,
           count(*) filter (where resource_manager = 'Btree' and record_type like 'SPLIT%')::text as splits
      from pg_get_wal_records_info(${start}::pg_lsn, ${end}::pg_lsn)`.execute(owner);
  const per = (n: string) => (units > 0 ? round(Number(n) / units, 2) : null);
  if (detail && process.env.BENCH_WAL_DETAIL) {
    const byType = await sql<{ rmgr: string; type: string; n: string; bytes: string; fpi: string }>`
      select resource_manager as rmgr, record_type as type, count(*)::text as n, sum(record_length)::text as bytes, sum(fpi_length)::text as fpi
        from pg_get_wal_records_info(${start}::pg_lsn, ${end}::pg_lsn) group by 1, 2 order by sum(record_length) desc limit 25`.execute(owner);
    for (const r of byType.rows) detail.log(`  WAL of ${detail.phase}, ${r.rmgr}/${r.type}: ${per(r.n)} records and ${per(r.bytes)} bytes per unit (fpi ${per(r.fpi)})`);
  }
  return { megabytes: round(Number(rows[0]!.bytes) / 1e6, 1), recordsPerUnit: per(rows[0]!.records), fullPageImagesPerUnit: per(rows[0]!.fpi), btreeSplitsPerUnit: per(rows[0]!.splits), bytesPerUnit: per(rows[0]!.bytes), checkpointsStarted: to.checkpoints - from.checkpoints };
}

function latencySummary(samplesMs: number[]) {
  const s = [...samplesMs].sort((a, b) => a - b);
  const avg = s.reduce((a, b) => a + b, 0) / Math.max(1, s.length);
  return { count: s.length, p50: round(percentile(s, 50), 2), p90: round(percentile(s, 90), 2), p99: round(percentile(s, 99), 2), max: round(s[s.length - 1] ?? NaN, 2), average: round(avg, 2) };
}

function procStatusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** A process's /proc stat fields after its name: [state, ppid, ...]; utime is [11], stime [12], cutime [13], cstime [14]. */
function procStat(pid: number | 'self'): string[] | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).trim().split(' ');
  } catch {
    return null;
  }
}

const CLOCK_TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux x86-64 and arm64

/**
 * CPU seconds used so far by one process (utime + stime), and with `children` also by its children that have exited
 * and been waited for (cutime + cstime): a PostgreSQL server's backends of closed connections, a finished pgbench.
 */
function cpuSeconds(pid: number | 'self', children = false): number {
  const f = procStat(pid);
  if (!f) return 0;
  const ticks = Number(f[11]) + Number(f[12]) + (children ? Number(f[13]) + Number(f[14]) : 0);
  return ticks / CLOCK_TICKS_PER_SECOND;
}

/**
 * The whole machine's CPU time so far (/proc/stat), in seconds over all cores: `busy` is every state but idle, iowait and
 * steal; `steal` is the time the hypervisor ran someone else while this virtual machine had work (a busy host);
 * `total` is every state.
 */
function machineCpuSeconds(): { busy: number; steal: number; total: number } {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const guest = (f[8] ?? 0) + (f[9] ?? 0); // guest time is in user already
  const total = f.reduce((a, b) => a + b, 0) - guest;
  const busyTicks = total - f[3]! - (f[4] ?? 0) - (f[7] ?? 0);
  return { busy: busyTicks / CLOCK_TICKS_PER_SECOND, steal: (f[7] ?? 0) / CLOCK_TICKS_PER_SECOND, total: total / CLOCK_TICKS_PER_SECOND };
}

/**
 * Where the CPU went during a measured run. The API server (its pid) and this process (the load generator; or pgbench, a
 * child that has exited) are read per process; PostgreSQL is the rest of the machine's busy time: its backends come and
 * go (autovacuum workers, pgbench's connections), which per-process counters lose. On a bench machine nothing else runs
 * (each phase waits for the machine to be quiet first).
 */
function cpuSnapshot(serverPid: number | null) {
  const m = machineCpuSeconds();
  return { at: performance.now(), machine: m.busy, steal: m.steal, machineTotal: m.total, server: serverPid ? cpuSeconds(serverPid) : 0, bench: cpuSeconds('self', true) };
}

function cpuPer(before: ReturnType<typeof cpuSnapshot>, after: ReturnType<typeof cpuSnapshot>, units: number) {
  const per = (seconds: number) => (units > 0 ? round((seconds * 1000) / units, 3) : null);
  const wallSeconds = (after.at - before.at) / 1000;
  const server = after.server - before.server;
  const bench = after.bench - before.bench;
  const machine = after.machine - before.machine;
  return {
    /** The machine's busy time less the API server's and this process's: PostgreSQL (and anything else running). */
    postgresMsPerUnit: per(Math.max(0, machine - server - bench)),
    serverMsPerUnit: per(server),
    /** This process: autocannon (the load generator), or pgbench (a child that has exited). */
    loadGeneratorMsPerUnit: per(bench),
    /** Of the machine's cores over the run: 100 is one core busy all the time. */
    busyPercentOfOneCore: round((100 * machine) / Math.max(0.001, wallSeconds)),
    /** Of all the machine's CPU time over the run, the share the host gave to others while we had work (steal). */
    stealPercent: round((100 * (after.steal - before.steal)) / Math.max(0.001, after.machineTotal - before.machineTotal)),
  };
}

/**
 * Minor page faults so far: the API server's (all its threads), and each PostgreSQL process's by pid (backends come
 * and go; every process named postgres on the machine, as for the CPU figures nothing else runs during a bench). A
 * count, not a time: on a virtual machine one fault costs ~10-20 µs of CPU here (ADR 0028), so faults per charge is
 * a yardstick that the machine's speed of the day does not move.
 */
function pageFaults(serverPid: number | null): { server: number; postgres: Map<number, number> } {
  const minflt = (pid: number) => Number(procStat(pid)?.[7] ?? 0);
  const postgres = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') postgres.set(Number(entry), minflt(Number(entry)));
    } catch {
      // gone since the listing
    }
  }
  return { server: serverPid ? minflt(serverPid) : 0, postgres };
}

function pageFaultsBetween(before: ReturnType<typeof pageFaults>, after: ReturnType<typeof pageFaults>): { server: number; postgres: number } {
  let postgres = 0;
  for (const [pid, n] of after.postgres) postgres += n - (before.postgres.get(pid) ?? 0);
  return { server: after.server - before.server, postgres };
}

/** How busy the whole machine's CPUs are over `ms` (from /proc/stat), in percent: other people's load while we are idle. */
async function machineBusy(ms = 1000): Promise<number> {
  const read = () => {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return { idle: f[3]! + (f[4] ?? 0), total: f.reduce((a, b) => a + b, 0) };
  };
  const a = read();
  await sleep(ms);
  const b = read();
  return round(100 * (1 - (b.idle - a.idle) / Math.max(1, b.total - a.total)));
}

/**
 * A fixed piece of CPU work, timed: JSON text of 20,000 call records written and read back, five times; the median of
 * five tries, in milliseconds. The same work on every run and every day, so that two runs' figures can be compared with
 * the speed their machine had (a virtual machine's core is not the same speed every day: a busy host, another CPU).
 */
function cpuProbeMs(): number {
  const records = Array.from({ length: 20_000 }, (_, i) => ({
    callId: `probe-${i}`, customerId: `cus_${String(i % 1000).padStart(6, '0')}`, from: '+6560000000', to: `+65${String(80_000_000 + i)}`,
    startedAt: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(), durationSeconds: i % 600, direction: i % 7 === 0 ? 'inbound' : 'outbound',
  }));
  const tries: number[] = [];
  for (let t = 0; t < 5; t++) {
    const t0 = performance.now();
    let n = 0;
    for (let k = 0; k < 5; k++) n += (JSON.parse(JSON.stringify(records)) as unknown[]).length;
    assert.equal(n, 100_000);
    tries.push(performance.now() - t0);
  }
  return round(tries.sort((a, b) => a - b)[2]!, 1);
}

/**
 * Before a measured phase (our own processes idle): wait, within what is left of the budget, until the machine's CPUs are
 * less than 15 % busy for 2 s, so that another program's build or tests do not land in the figures. Returns the busy % seen,
 * and the CPU probe's time then (cpuProbeMs).
 */
async function quietMachine(budget: { secondsLeft: number }, log: (l: string) => void, what: string): Promise<{ busyPercent: number; waitedSeconds: number; cpuProbeMs: number }> {
  const t0 = Date.now();
  let busy = await machineBusy(2000);
  if (busy >= 15 && budget.secondsLeft > 0) log(`  the machine is ${busy}% busy before ${what}: waiting up to ${budget.secondsLeft} s for it to calm down`);
  while (busy >= 15 && budget.secondsLeft - (Date.now() - t0) / 1000 > 0) busy = await machineBusy(2000);
  const waited = (Date.now() - t0) / 1000;
  budget.secondsLeft = Math.max(0, budget.secondsLeft - waited);
  if (busy >= 15) log(`  WARNING: the machine is ${busy}% busy (other programs) before ${what}: figures will be low`);
  const probe = cpuProbeMs();
  log(`  CPU probe before ${what}: ${probe} ms (fixed work, lower is a faster machine)`);
  return { busyPercent: busy, waitedSeconds: round(waited, 1), cpuProbeMs: probe };
}

/** Run a program to completion with a time bound; resolves with its output, rejects on a non-zero exit. */
function runProgram(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number, track: Set<ChildProcess>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    track.add(child);
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      track.delete(child);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      track.delete(child);
      if (code === 0) resolve(out);
      else reject(new Error(`${path.basename(cmd)} ${args.join(' ')} exited with ${code ?? signal}:\n${out.slice(-2000)}`));
    });
  });
}

function runAutocannon(options: Record<string, unknown>): Promise<AutocannonResult> {
  return autocannon(options as unknown as AutocannonOptions);
}

// ---------------------------------------------------------------------------------------------------------------------
// call records

/** Destinations on the bench rate plan (longest prefix wins), Singapore-heavy like a Singapore reseller's traffic. */
const DESTINATIONS = ['+6562223333', '+6581234567', '+6591234567', '+6569998888', '+6588887777', '+14155550123', '+442071234567', '+60312345678', '+85221234567', '+61291234567'];

interface CallRecord {
  callId: string;
  customerId: string;
  from: string;
  to: string;
  startedAt: string;
  durationSeconds: number;
  direction: 'outbound';
}

const customerIdOf = (k: number) => `cus_bench${String(k).padStart(10, '0')}`;

function makeRecord(callId: string, customers: number, seq: number): CallRecord {
  const k = 1 + Math.floor(Math.random() * customers);
  return {
    callId, customerId: customerIdOf(k), from: '+6560000000', to: DESTINATIONS[seq % DESTINATIONS.length]!,
    startedAt: new Date(Date.now() - 60_000 - (seq % 3600) * 1000).toISOString(), durationSeconds: 1 + ((seq * 37) % 900), direction: 'outbound',
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// setup

interface BenchData {
  partnerId: string;
  apiKey: string;
  accounts: { cardClearing: string; revenue: string; cost: string; payable: string };
  ledger: { customers: number; postings: number; journalEntries: number; usageCalls: number; historyCalls: number; pointsPostingsPerCustomer: number };
}

/** Customers, wallets with points, a rate plan, an API key: the setup a switch needs. */
export async function setupTenant(owner: Db, customers: number): Promise<Omit<BenchData, 'ledger'>> {
  const partnerId = (await owner.selectFrom('partners').select('id').where('slug', '=', 'demo-telecom').executeTakeFirstOrThrow()).id;
  const planId = 'rpl_bench00000000000000';
  // The demo seed may bring a default SGD plan of its own: ours, with known rates, becomes the default instead.
  await owner.updateTable('ratePlans').set({ isDefault: false }).where('partnerId', '=', partnerId).where('currency', '=', CURRENCY).where('isDefault', '=', true).execute();
  await owner.insertInto('ratePlans').values({ id: planId, partnerId, name: 'Bench standard', currency: CURRENCY, firstIncrementSeconds: 60, nextIncrementSeconds: 60, minimumChargeMicros: 0n, isDefault: true }).execute();
  const rates: Array<[string, string, bigint, bigint]> = [
    ['65', 'Singapore', 100_000n, 40_000n], ['658', 'Singapore mobile', 150_000n, 60_000n], ['659', 'Singapore mobile', 150_000n, 60_000n],
    ['1', 'North America', 120_000n, 50_000n], ['44', 'United Kingdom', 130_000n, 55_000n], ['60', 'Malaysia', 140_000n, 60_000n],
    ['852', 'Hong Kong', 110_000n, 45_000n], ['61', 'Australia', 160_000n, 70_000n],
  ];
  await owner.insertInto('rates').values(rates.map(([prefix, description, price, cost]) => ({ ratePlanId: planId, partnerId, prefix, description, pricePerMinuteMicros: price, costPerMinuteMicros: cost }))).execute();
  const apiKey = `fk_bench_${newId('key').slice(4)}`;
  await owner.insertInto('apiKeys').values({
    id: newId('key'), partnerId, name: 'Bench switch', tokenPrefix: apiKey.slice(0, 10), tokenHash: sha256Hex(apiKey), apps: ['customer'], createdBy: null, lastUsedAt: null, revokedAt: null,
  }).execute();

  // The partner's own accounts, opened the way the ledger opens them.
  const accounts = await owner.transaction().execute((trx) =>
    resolveAccounts(trx, partnerId, CURRENCY, [{ code: 'card_clearing' }, { code: 'revenue:usage' }, { code: 'cost:usage' }, { code: 'platform_payable' }]),
  );
  const acc = {
    cardClearing: accounts.get('card_clearing|')!, revenue: accounts.get('revenue:usage|')!, cost: accounts.get('cost:usage|')!, payable: accounts.get('platform_payable|')!,
  };

  // Customers, their points accounts and wallets, and a balanced top-up entry each (card clearing debit, points credit).
  await owner.transaction().execute(async (trx) => {
    await sql`insert into customers (id, partner_id, name, currency, status)
      select 'cus_bench' || lpad(g::text, 10, '0'), ${partnerId}, 'Bench customer ' || g, ${CURRENCY}, 'active' from generate_series(1, ${customers}::int) g`.execute(trx);
    await sql`insert into ledger_accounts (id, partner_id, currency, code, customer_id, kind)
      select 'acc_bench' || lpad(g::text, 10, '0'), ${partnerId}, ${CURRENCY}, 'points', 'cus_bench' || lpad(g::text, 10, '0'), 'liability' from generate_series(1, ${customers}::int) g`.execute(trx);
    await sql`insert into wallets (partner_id, customer_id, currency, points_account_id)
      select ${partnerId}, 'cus_bench' || lpad(g::text, 10, '0'), ${CURRENCY}, 'acc_bench' || lpad(g::text, 10, '0') from generate_series(1, ${customers}::int) g`.execute(trx);
    await sql`insert into journal_entries (id, partner_id, currency, customer_id, kind, cause_type, cause_id, description, audit_event_id, posted_at)
      select 'je_benchtop' || lpad(g::text, 10, '0'), ${partnerId}, ${CURRENCY}, 'cus_bench' || lpad(g::text, 10, '0'), 'top_up', 'top_up',
        'top_bench' || lpad(g::text, 10, '0'), 'Card top-up', null, now() - interval '60 days'
      from generate_series(1, ${customers}::int) g order by g`.execute(trx);
    const x = TOP_UP_MICROS.toString();
    await sql`insert into postings (entry_id, partner_id, currency, account_id, customer_id, amount_micros, balance_after_micros, posted_at,
        kind, description, cause_type, cause_id)
      select 'je_benchtop' || lpad(g::text, 10, '0'), ${partnerId}, ${CURRENCY},
        case j when 1 then ${acc.cardClearing} else 'acc_bench' || lpad(g::text, 10, '0') end,
        case j when 1 then null else 'cus_bench' || lpad(g::text, 10, '0') end,
        case j when 1 then ${x}::bigint else -${x}::bigint end,
        case j when 1 then null else -${x}::bigint end,
        now() - interval '60 days',
        case j when 2 then 'top_up' end, case j when 2 then 'Card top-up' end, case j when 2 then 'top_up' end,
        case j when 2 then 'top_bench' || lpad(g::text, 10, '0') end
      from generate_series(1, ${customers}::int) g cross join generate_series(1, 2) j order by g, j`.execute(trx);
  });
  return { partnerId, apiKey, accounts: acc };
}

/**
 * Call history up to `ledgerRows` postings in all: call n (1..E) belongs to customer ((n-1) mod N)+1, in rounds of N calls,
 * each a usage_calls row and a call_charge entry of 4 postings (points debit, revenue credit, cost debit, platform payable
 * credit), inserted in call order so that posting ids follow time. A customer's calls all have the same duration (so the same
 * price): each points posting's balance-after is the account's balance before the chunk plus (its calls so far in the chunk)
 * x price.
 *
 * Speed (10M rows in minutes, not tens of minutes): the secondary indexes of the three tables are dropped and rebuilt
 * afterwards from their own definitions, and the rows go in with `session_replication_role = replica`, which skips the
 * foreign-key and ledger triggers (~40 us a row here). So this function does what those triggers do: it moves each account's
 * balance by the sum of its new postings, chunk by chunk. `verifyLedger` then proves the result: checkLedger (every entry
 * balances, balances equal their postings, trial balance zero, no overdrawn wallet, balance-after chain) and every
 * foreign key the skipped triggers would have checked.
 */
export async function loadHistory(owner: Db, d: Omit<BenchData, 'ledger'>, customers: number, ledgerRows: number, log: (l: string) => void): Promise<number> {
  const calls = Math.max(0, Math.floor((ledgerRows - 2 * customers) / 4));
  if (calls === 0) return 0;
  const rounds = Math.ceil(calls / customers);
  const roundsPerChunk = Math.max(1, Math.floor(250_000 / customers));
  const started = Date.now();
  const statementMs: Record<string, number> = {};
  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      return await fn();
    } finally {
      statementMs[name] = (statementMs[name] ?? 0) + performance.now() - t;
    }
  };
  const secondary = (await sql<{ name: string; def: string }>`
    select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as def from pg_index i
    where i.indrelid in ('postings'::regclass, 'journal_entries'::regclass, 'usage_calls'::regclass)
      and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)`.execute(owner)).rows;
  for (const ix of secondary) await sql`drop index ${sql.raw(ix.name)}`.execute(owner);

  // Per customer k: duration 20..619 s, billed in whole minutes on the '65' rate (0.10/min price, 0.04/min cost).
  const perCustomer = sql`(20 + (k * 37) % 600) as duration, ((20 + (k * 37) % 600 + 59) / 60) * 60 as billed,
    ((20 + (k * 37) % 600 + 59) / 60) * 100000 as price, ((20 + (k * 37) % 600 + 59) / 60) * 40000 as cost`;
  for (let r0 = 1; r0 <= rounds; r0 += roundsPerChunk) {
    const r1 = Math.min(rounds, r0 + roundsPerChunk - 1);
    const chunk = sql`select r, k, n, duration, billed, price, cost, ts,
        'je_benchcall' || lpad(n::text, 12, '0') as entry_id, 'cal_benchhist' || lpad(n::text, 12, '0') as call_ref,
        'cus_bench' || lpad(k::text, 10, '0') as customer_id, 'acc_bench' || lpad(k::text, 10, '0') as points_account
      from (select r, k, (r - 1) * ${customers}::bigint + k as n, ${perCustomer},
              now() - interval '1 day' - ((${calls}::bigint - ((r - 1) * ${customers}::bigint + k)) * interval '1 second') as ts
            from generate_series(${r0}::int, ${r1}::int) r cross join generate_series(1, ${customers}::int) k) c
      where n <= ${calls}::bigint`;
    // Entries and calls on one connection, postings and balances on another: two cores.
    await Promise.all([
      owner.transaction().execute(async (trx) => {
        await sql`set local session_replication_role = replica`.execute(trx);
        await timed('entries', () => sql`insert into journal_entries (id, partner_id, currency, customer_id, kind, cause_type, cause_id, description, audit_event_id, posted_at)
          select entry_id, ${d.partnerId}, ${CURRENCY}, customer_id, 'call_charge', 'call', call_ref,
            'Call to +6562' || lpad((n % 1000000)::text, 6, '0') || ', ' || billed || ' s', null, ts
          from (${chunk}) x order by n`.execute(trx));
        await timed('usage_calls', () => sql`insert into usage_calls (id, partner_id, customer_id, call_id, from_number, to_number, direction, started_at, duration_seconds,
            billed_seconds, prefix, currency, price_micros, cost_micros, entry_id, created_at)
          select call_ref, ${d.partnerId}, customer_id, 'hist-' || n, '+6560000000', '+6562' || lpad((n % 1000000)::text, 6, '0'), 'outbound',
            ts - make_interval(secs => duration), duration, billed, '65', ${CURRENCY}, price, cost, entry_id, ts
          from (${chunk}) x order by n`.execute(trx));
      }),
      owner.transaction().execute(async (trx) => {
        await sql`set local session_replication_role = replica`.execute(trx);
        const before = (await sql<{ id: string }>`select coalesce(max(id), 0)::text as id from postings`.execute(trx)).rows[0]!.id;
        await timed('postings', () => sql`insert into postings (entry_id, partner_id, currency, account_id, customer_id, amount_micros, balance_after_micros, posted_at,
            kind, description, cause_type, cause_id)
          select x.entry_id, ${d.partnerId}, ${CURRENCY},
            case j when 1 then x.points_account when 2 then ${d.accounts.revenue} when 3 then ${d.accounts.cost} else ${d.accounts.payable} end,
            case j when 1 then x.customer_id end,
            case j when 1 then x.price when 2 then -x.price when 3 then x.cost else -x.cost end,
            case j when 1 then a.balance_micros + (x.r - ${r0}::int + 1) * x.price end,
            x.ts,
            case j when 1 then 'call_charge' end,
            case j when 1 then 'Call to +6562' || lpad((x.n % 1000000)::text, 6, '0') || ', ' || x.billed || ' s' end,
            case j when 1 then 'call' end, case j when 1 then x.call_ref end
          from (${chunk}) x join ledger_accounts a on a.id = x.points_account cross join generate_series(1, 4) j
          order by x.n, j`.execute(trx));
        // What the skipped statement trigger (ledger_apply_postings) does: balances follow their postings.
        await timed('balances', () => sql`update ledger_accounts a set balance_micros = a.balance_micros + s.total
          from (select account_id, sum(amount_micros) as total from postings where id > ${before}::bigint group by account_id) s
          where a.id = s.account_id`.execute(trx));
      }),
    ]);
    const done = Math.min(calls, r1 * customers);
    const secs = (Date.now() - started) / 1000;
    if (r1 === rounds || r0 % (roundsPerChunk * 4) === 1) {
      log(`  history: ${fmtInt(done * 4 + 2 * customers)} postings (${fmtInt(done)} calls) in ${secs.toFixed(0)} s (${Object.entries(statementMs).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(', ')})`);
    }
  }
  // What the skipped trigger also keeps: the feed's totals by type, per points account (calls on the account's row,
  // the other types in points_feed_totals; migration 0050).
  await owner.transaction().execute(async (trx) => {
    await sql`set local work_mem = '256MB'`.execute(trx);
    await sql`delete from points_feed_totals`.execute(trx);
    await sql`insert into points_feed_totals (account_id, feed_type, partner_id, customer_id, postings, total_micros)
      select account_id, feed_type, min(partner_id), min(customer_id), count(*), sum(amount_micros)
        from postings where feed_type is not null and feed_type <> 'call' group by account_id, feed_type`.execute(trx);
    await sql`update ledger_accounts a set call_postings = s.postings, call_total_micros = s.total
      from (select account_id, count(*) as postings, sum(amount_micros) as total from postings where feed_type = 'call' group by account_id) s
      where a.id = s.account_id`.execute(trx);
  });
  // The dropped indexes again, from their own definitions, two at a time.
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
  log(`  ${secondary.length} indexes rebuilt in ${((Date.now() - t) / 1000).toFixed(0)} s: ${secondary.map((i) => i.name).join(', ')}`);
  return calls;
}

/** Every foreign key the load's skipped triggers would have checked, then checkLedger. */
async function verifyLedger(owner: Db): Promise<{ orphans: Record<string, number>; problems: LedgerProblem[] }> {
  const r = (await sql<Record<string, string>>`select
      (select count(*) from postings p where not exists (select 1 from journal_entries e where e.id = p.entry_id))::text as postings_entry,
      (select count(*) from postings p where not exists (select 1 from ledger_accounts a where a.id = p.account_id))::text as postings_account,
      (select count(*) from journal_entries e where e.customer_id is not null and not exists (select 1 from customers c where c.id = e.customer_id))::text as entries_customer,
      (select count(*) from journal_entries e where not exists (select 1 from partners x where x.id = e.partner_id))::text as entries_partner,
      (select count(*) from usage_calls u where u.entry_id is not null and not exists (select 1 from journal_entries e where e.id = u.entry_id))::text as calls_entry,
      (select count(*) from usage_calls u where not exists (select 1 from customers c where c.id = u.customer_id))::text as calls_customer`.execute(owner)).rows[0]!;
  const orphans = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(v)]));
  const problems = await checkLedger(owner);
  return { orphans, problems };
}

// ---------------------------------------------------------------------------------------------------------------------
// the server child

interface ServerChild {
  child: ChildProcess;
  pid: number;
  baseUrl: string;
}

async function startServerChild(
  dbUrl: string, logFile: string, logLevel: string, track: Set<ChildProcess>, options: { script: string; nodeOptions: string },
): Promise<ServerChild> {
  const nodeBin = fs.existsSync(path.join(REPO, 'node_modules', '.bin', 'node')) ? path.join(REPO, 'node_modules', '.bin', 'node') : process.execPath;
  const out = fs.openSync(logFile, 'a');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: dbUrl, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: logLevel,
    FOLIO_SEED_DEMO: 'false', FOLIO_PUBLIC_URL: 'http://127.0.0.1', GATEWAY: 'sandbox', NODE_ENV: 'production',
  };
  // On the command line, not in NODE_OPTIONS, which refuses most V8 flags (--no-allocation-site-pretenuring).
  const child = spawn(nodeBin, [...options.nodeOptions.split(/\s+/).filter((f) => f !== ''), options.script], { cwd: REPO, env, stdio: ['ignore', out, out, 'ipc'] });
  fs.closeSync(out);
  track.add(child);
  child.on('exit', () => track.delete(child));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the API server did not start within 60 s (log: ${logFile})`)), 60_000);
    child.once('message', (m: { port?: number }) => {
      clearTimeout(timer);
      if (typeof m.port === 'number') resolve(m.port);
      else reject(new Error('unexpected message from the server child'));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the API server exited with ${code} before listening; its log:\n${fs.readFileSync(logFile, 'utf8').slice(-3000)}`));
    });
  });
  return { child, pid: child.pid!, baseUrl: `http://127.0.0.1:${port}` };
}

/** The server child's `process.memoryUsage()`, in MB. */
async function childMemory(child: ChildProcess): Promise<Record<string, number> | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), 5_000);
    const onMessage = (m: { memory?: Record<string, number> }) => {
      if (!m.memory) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(Object.fromEntries(Object.entries(m.memory).map(([k, v]) => [k, round(v / 1024 / 1024, 1)])));
    };
    child.on('message', onMessage);
    child.send({ memory: true });
  });
}

interface ServerProbe {
  loopDelayMs: { p50: number; p99: number; max: number };
  gc: { pauses: number; totalMs: number; maxMs: number; over2Ms: number; byKind: Record<string, { pauses: number; totalMs: number; maxMs: number }> };
}

/** Start watching the server child's event loop and garbage collection; the returned function stops and reports. */
/** Start the server's CPU profiler (BENCH_PROFILE_DIR); the function returned stops it and waits for the file. */
function profileServer(child: ChildProcess, dir: string | null, name: string): () => Promise<void> {
  if (!dir) return async () => {};
  fs.mkdirSync(dir, { recursive: true });
  child.send({ cpuProfile: 'start' });
  return () => new Promise<void>((resolve) => {
    const onMessage = (m: { cpuProfileWritten?: string | null }) => {
      if (!('cpuProfileWritten' in m)) return;
      child.off('message', onMessage);
      resolve();
    };
    child.on('message', onMessage);
    child.send({ cpuProfile: 'stop', file: path.join(dir, `${name}.cpuprofile`) });
  });
}

function probeServer(child: ChildProcess): () => Promise<ServerProbe | null> {
  child.send({ probe: 'start' });
  return () => new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), 5_000);
    const onMessage = (m: { probe?: ServerProbe }) => {
      if (!m.probe) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(m.probe);
    };
    child.on('message', onMessage);
    child.send({ probe: 'stop' });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const done = await Promise.race([exited.then(() => true), sleep(8_000).then(() => false)]);
  if (!done) {
    child.kill('SIGKILL');
    await exited;
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// the benchmarks

interface SingleRun {
  connections: number;
  /** Charging transactions that inserted this run's calls, and calls per transaction (the group commit's groups). */
  transactions: number;
  callsPerTransaction: number;
  durationSeconds: number;
  requests2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  charged: number;
  chargesPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; average: number };
  pgbench: { tps: number; latencyAverageMs: number; transactions: number; clients: number; threads: number; seconds: number; wal: Awaited<ReturnType<typeof walPer>>; cpu: ReturnType<typeof cpuPer> } | null;
  ratioToPgbench: number | null;
  /** WAL written during the measured run (warm-up excluded), per charge. */
  wal: Awaited<ReturnType<typeof walPer>>;
  /** CPU used during the measured run by PostgreSQL, the API server and the load generator, per charge. */
  cpu: ReturnType<typeof cpuPer>;
}

interface BatchResult {
  size: number;
  rounds: number;
  bodyBytes: number;
  charged: number;
  secondsPerBatch: number[];
  chargesPerSecond: number | null;
  bestChargesPerSecond: number | null;
  cpu: {
    what: string; postgresMicrosPerCharge: number | null; serverMicrosPerCharge: number | null; benchMicrosPerCharge: number | null; busyPercentOfOneCore: number | null; stealPercent: number | null;
    /** The machine's cores (nproc) over the CPU per charge of the three: the most they could charge per second, all busy. */
    ceilingChargesPerSecond: number | null;
    /** Minor page faults per charge during the timed rounds (counts, whatever the machine's speed): the API server and PostgreSQL. */
    pageFaultsPerCharge: { server: number; postgres: number } | null;
  };
  failures: Array<{ round: number; status: number; seconds: number; answer: string; serverError: string | null }>;
  copy: { table: string; format: string; secondsPerBatch: number[]; rowsPerSecond: number | null };
  /** WAL of the timed rounds' requests (the COPY runs after each request, outside these windows), per charge. */
  wal: { megabytes: number; bytesPerCharge: number | null; fullPageImagesPerCharge: number | null; checkpointsStarted: number } | null;
}

/** The first error the server logged after `offset` (its log is pino JSON lines), as "Type: message". */
function serverErrorSince(logFile: string, offset: number): string | null {
  const text = fs.readFileSync(logFile, 'utf8').slice(offset);
  for (const line of text.split('\n')) {
    if (!line.includes('"level":50')) continue;
    try {
      const entry = JSON.parse(line) as { msg?: string; err?: { type?: string; message?: string } };
      return entry.err ? `${entry.err.type ?? 'Error'}: ${entry.err.message ?? ''}` : (entry.msg ?? 'error');
    } catch {
      return line.slice(0, 200);
    }
  }
  return null;
}

/** Fastify's responseTime (ms) of the completed requests logged since `offset` whose URL contains `urlPart`. */
function serverResponseTimes(logFile: string, offset: number, urlPart: string): number[] {
  const urls = new Map<string, string>();
  const times: number[] = [];
  for (const line of fs.readFileSync(logFile, 'utf8').slice(offset).split('\n')) {
    if (!line.includes('"reqId"')) continue;
    try {
      const entry = JSON.parse(line) as { reqId?: string; req?: { url?: string }; responseTime?: number };
      // One line per request (its URL with its response time); a tree from before that logged the URL in a line of its own.
      if (entry.req?.url && entry.reqId) urls.set(entry.reqId, entry.req.url);
      if (typeof entry.responseTime === 'number' && entry.reqId && urls.get(entry.reqId)?.includes(urlPart)) times.push(entry.responseTime);
    } catch {
      // a line cut by the offset
    }
  }
  return times;
}

/**
 * The charging transactions that inserted these calls (their distinct xmin), and the calls per transaction: how full the
 * group commit's groups were (ADR 0018), which sets a charge's share of a transaction's fixed cost.
 */
async function chargingTransactions(owner: Db, callIdPrefix: string): Promise<{ transactions: number; callsPerTransaction: number }> {
  const r = await sql<{ n: string; t: string }>`select count(*)::text as n, count(distinct xmin::text)::text as t from usage_calls where call_id like ${`${callIdPrefix}%`}`.execute(owner);
  const calls = Number(r.rows[0]!.n);
  const transactions = Number(r.rows[0]!.t);
  return { transactions, callsPerTransaction: transactions > 0 ? round(calls / transactions, 2) : 0 };
}

async function countCharged(owner: Db, callIdPrefix: string): Promise<number> {
  const r = await sql<{ n: string }>`select count(*)::text as n from usage_calls where call_id like ${`${callIdPrefix}%`}`.execute(owner);
  return Number(r.rows[0]!.n);
}

async function singleRecordRun(baseUrl: string, apiKey: string, customers: number, connections: number, seconds: number, tag: string) {
  let seq = 0;
  const started = Date.now();
  const result = await runAutocannon({
    url: baseUrl,
    connections,
    duration: seconds,
    timeout: 30,
    requests: [{
      method: 'POST',
      path: '/api/v1/usage/calls',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      setupRequest: (req: Record<string, unknown>) => {
        const n = ++seq;
        return { ...req, body: JSON.stringify({ records: [makeRecord(`${tag}-${n}`, customers, n)] }) };
      },
    }],
  });
  return { result, wallSeconds: (Date.now() - started) / 1000 };
}

/**
 * pgbench connects the way the API server does (ADR 0019): over the embedded server's Unix socket when its URL names one
 * (`?host=/dir`), else 127.0.0.1 — so the baseline pays the same per-round-trip cost as the server.
 */
function pgbenchHost(url: string): string {
  return new URL(url).searchParams.get('host') ?? '127.0.0.1';
}

async function runPgbench(pgbenchPath: string, host: string, port: number, clients: number, seconds: number, track: Set<ChildProcess>) {
  const env = { ...process.env, PGPASSWORD: PG_PASSWORD };
  const threads = Math.min(2, clients);
  const out = await runProgram(pgbenchPath, ['-h', host, '-p', String(port), '-U', 'postgres', '-c', String(clients), '-j', String(threads), '-T', String(seconds), PGBENCH_DB], env, (seconds + 120) * 1000, track);
  const tps = Number(/tps = ([\d.]+)/.exec(out)?.[1] ?? NaN);
  const lat = Number(/latency average = ([\d.]+) ms/.exec(out)?.[1] ?? NaN);
  const transactions = Number(/number of transactions actually processed: (\d+)/.exec(out)?.[1] ?? NaN);
  return { tps: round(tps), latencyAverageMs: round(lat, 2), transactions, clients, threads, seconds };
}

/**
 * readFeedPage's script through pgbench, one client: `begin read only`, the app role (folio_app, as the server's
 * connections run; row-level security on), the partner scope, the feed's statement for a random customer, `commit`.
 * The statement is the feed's own (feedPageStatement), its values written in; the customer is pgbench's random `:k`.
 * Checked once through node-postgres first (a full page comes back). Per-transaction latencies from pgbench's log; the
 * first 200 warm up.
 */
async function pgbenchFeed(o: MoneyBenchOptions, db: Db, url: string, partnerId: string, dir: string, track: Set<ChildProcess>) {
  const PLACEHOLDER = 'cus_pgbenchplaceholder';
  const compiled = feedPageStatement({ partnerId, customerId: PLACEHOLDER, limit: 100, afterPostingId: null }).compile(db.withoutPlugins());
  const literal = (v: unknown) => (typeof v === 'number' ? String(v) : `'${String(v).replaceAll("'", "''")}'`);
  const statement = compiled.sql.replace(/\$(\d+)/g, (_, n: string) => literal(compiled.parameters[Number(n) - 1]))
    .replaceAll(`'${PLACEHOLDER}'`, `('cus_bench' || lpad((:k)::text, 10, '0'))`)
    // pgbench takes every `:name` for a variable, in string literals too: the time format's colons, written as escapes
    // (the same constant).
    .replaceAll(`'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`, `E'YYYY-MM-DD"T"HH24\\x3aMI\\x3aSS.MS"Z"'`);
  if (statement.includes(';') || statement.includes('--') || /:(?![:k])/.test(statement.replaceAll('::', ''))) {
    throw new Error("the feed's statement cannot go into a pgbench script as it is");
  }
  // One command per line, prepared (-M prepared): the page's statement is parsed once and planned as a prepared
  // statement, as readFeedPage's is. Five round trips where the server sends one script: the floor is not flattered.
  const commands = [
    'begin read only', 'set local role folio_app',
    `select set_config('folio.scope', 'partner', true), set_config('folio.partner_id', '${partnerId}', true), set_config('folio.customer_id', '', true)`,
    statement.replace(/\s+/g, ' '), 'commit',
  ];
  // The check: the same commands with one customer, through node-postgres (one query, several results: the page is the 4th,
  // with at least one posting).
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const results = await client.query(commands.join(';\n').replaceAll('(:k)', '1')) as unknown as pg.QueryResult[];
    const page = results[3];
    if (!page?.rows[0]?.id) throw new Error("the pgbench feed script's page came back empty for customer 1");
  } finally {
    await client.end();
  }
  const file = path.join(dir, 'feed.pgbench');
  fs.writeFileSync(file, `\\set k random(1, ${o.customers})\n${commands.map((c) => `${c};\n`).join('')}`);
  const logPrefix = path.join(dir, 'feed-pgbench');
  const database = new URL(url).pathname.slice(1) || 'postgres';
  const transactions = o.feedRequests + 200;
  await runProgram(o.pgbenchPath, ['-n', '-M', 'prepared', '-h', pgbenchHost(url), '-p', String(o.pgPort), '-U', 'postgres', '-c', '1', '-j', '1', '-t', String(transactions), '-f', file, '-l', `--log-prefix=${logPrefix}`, database],
    { ...process.env, PGPASSWORD: PG_PASSWORD }, 300_000, track);
  const logFile = fs.readdirSync(dir).filter((f) => f.startsWith('feed-pgbench')).map((f) => path.join(dir, f))[0];
  if (!logFile) throw new Error('pgbench wrote no transaction log');
  // Each line: client, transaction number, latency (µs), script, epoch seconds, µs.
  const latenciesMs = fs.readFileSync(logFile, 'utf8').trim().split('\n').map((line) => Number(line.split(' ')[2]) / 1000);
  if (latenciesMs.length !== transactions || latenciesMs.some((ms) => !Number.isFinite(ms))) throw new Error(`pgbench logged ${latenciesMs.length} transactions, expected ${transactions}`);
  return latencySummary(latenciesMs.slice(200));
}

/** COPY rows into the bare table through `COPY ... FROM STDIN` (text format), timed from the first byte to the server's answer. */
async function copyRows(client: pg.Client, records: readonly CallRecord[]): Promise<number> {
  const esc = (s: string) => s.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!);
  const t0 = performance.now();
  const lines = records.map((r) => `${esc(r.callId)}\t${r.customerId}\t${esc(r.from)}\t${esc(r.to)}\t${r.startedAt}\t${r.durationSeconds}\t${r.direction}\n`);
  const stream = client.query(copyStreams.from('copy bench_copy_calls (call_id, customer_id, from_number, to_number, started_at, duration_seconds, direction) from stdin'));
  await pipeline(Readable.from([lines.join('')]), stream);
  if (stream.rowCount !== records.length) throw new Error(`COPY wrote ${stream.rowCount} rows, expected ${records.length}`);
  return (performance.now() - t0) / 1000;
}

// ---------------------------------------------------------------------------------------------------------------------
// report

interface TargetRow {
  what: string;
  measured: string;
  target: string;
  result: 'pass' | 'miss' | 'info';
}

function renderTable(rows: TargetRow[]): string {
  const header: TargetRow = { what: 'what', measured: 'measured', target: 'target', result: 'info' };
  const all = [header, ...rows];
  const w = [Math.max(...all.map((r) => r.what.length)), Math.max(...all.map((r) => r.measured.length)), Math.max(...all.map((r) => r.target.length))];
  const line = (r: TargetRow, res: string) => `| ${r.what.padEnd(w[0]!)} | ${r.measured.padEnd(w[1]!)} | ${r.target.padEnd(w[2]!)} | ${res.padEnd(6)} |`;
  return [
    line(header, 'result'),
    `| ${'-'.repeat(w[0]!)} | ${'-'.repeat(w[1]!)} | ${'-'.repeat(w[2]!)} | ${'-'.repeat(6)} |`,
    ...rows.map((r) => line(r, r.result === 'info' ? '—' : r.result.toUpperCase())),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------------------

export async function runMoneyBench(overrides: Partial<MoneyBenchOptions> = {}) {
  const o: MoneyBenchOptions = { ...moneyBenchOptionsFromEnv(), ...overrides };
  const log = o.log;
  const benchStarted = Date.now();
  const phases: Record<string, number> = {};
  let phaseStarted = Date.now();
  const phase = (name: string) => {
    phases[name] = round((Date.now() - phaseStarted) / 1000, 1);
    phaseStarted = Date.now();
  };
  const children = new Set<ChildProcess>();
  let embedded: EmbeddedDatabase | null = null;
  let owner: DatabaseHandle | null = null;
  let app: DatabaseHandle | null = null;
  let copyClient: pg.Client | null = null;
  let server: ServerChild | null = null;
  let dir: string | null = null;
  let cleaned = false;

  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    for (const c of [...children]) await stopChild(c).catch(() => {});
    await copyClient?.end().catch(() => {});
    await app?.close().catch(() => {});
    await owner?.close().catch(() => {});
    if (embedded) {
      await Promise.race([embedded.stop(), sleep(20_000)]).catch(() => {});
    }
    if (dir && o.keepServerLog && fs.existsSync(path.join(dir, 'server.log'))) {
      const kept = path.resolve(o.keepServerLog);
      fs.copyFileSync(path.join(dir, 'server.log'), kept);
      log(`the server's log kept as ${kept}`);
    }
    if (dir) {
      // PostgreSQL still up (stop failed or timed out): stop it by its pid file before removing its files.
      await stopServerOnDataDir(path.join(dir, 'pg'), log);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  // Hard bound on the whole run, and a clean stop on Ctrl-C.
  const release = guardRun('money bench', o.maxMinutes, cleanup, log);

  try {
    log(`money bench: ${fmtInt(o.ledgerRows)} ledger rows, ${fmtInt(o.customers)} customers, ${os.availableParallelism()} cores (nproc), PostgreSQL port ${o.pgPort}`);
    await removeLeftovers(TMP_PREFIX, o.pgPort, log);
    dir = fs.mkdtempSync(path.join('/tmp', TMP_PREFIX));
    fs.chmodSync(dir, 0o755); // the postgres user (we may be root) must be able to walk into it
    embedded = await startEmbeddedPostgres({
      dataDir: dir, port: o.pgPort, log: () => {}, ...(o.pgLogFile ? { logFile: o.pgLogFile } : {}),
      settings: [...(o.pgStatements ? ['shared_preload_libraries=pg_stat_statements', 'pg_stat_statements.track=all', 'pg_stat_statements.track_planning=on'] : []), ...o.pgSettings],
    });
    owner = openDatabase(embedded.url, { appRole: false, max: 6 });
    await sql`create extension if not exists pg_walinspect`.execute(owner.db);
    await migrateToLatest(owner);
    await seedDemo(owner.db, 'folio-demo-2026');
    const pgVersion = (await sql<{ v: string }>`select current_setting('server_version') as v`.execute(owner.db)).rows[0]!.v;
    const pgSettings = Object.fromEntries((await sql<{ name: string; setting: string }>`
      select name, current_setting(name) as setting from pg_settings
      where name in ('shared_buffers', 'huge_pages', 'huge_pages_status', 'shared_memory_size_in_huge_pages', 'fsync', 'synchronous_commit', 'wal_level', 'max_wal_size', 'checkpoint_timeout', 'max_connections', 'work_mem')`.execute(owner.db)).rows.map((r) => [r.name, r.setting]));
    phase('postgres start, migrate, seed');

    const tenant = await setupTenant(owner.db, o.customers);
    phase('customers, wallets, top-ups');
    log(`loading call history up to ${fmtInt(o.ledgerRows)} postings ...`);
    const historyCalls = await loadHistory(owner.db, tenant, o.customers, o.ledgerRows, log);
    phase('call history load');
    log('vacuum analyze, checkpoint ...');
    await sql`vacuum (analyze) postings, journal_entries, usage_calls, ledger_accounts, wallets, customers`.execute(owner.db);
    await sql`checkpoint`.execute(owner.db);
    phase('vacuum analyze + checkpoint');
    const counts = (await sql<{ postings: string; entries: string; calls: string }>`
      select (select count(*) from postings)::text as postings, (select count(*) from journal_entries)::text as entries,
             (select count(*) from usage_calls)::text as calls`.execute(owner.db)).rows[0]!;
    log(`checking the ledger (foreign keys, checkLedger) on ${fmtInt(Number(counts.postings))} postings ...`);
    const verified = await verifyLedger(owner.db);
    const problemsAfterSetup: LedgerProblem[] = verified.problems;
    if (problemsAfterSetup.length > 0) throw new Error(`the generated ledger does not hold: ${JSON.stringify(problemsAfterSetup.slice(0, 5))}`);
    if (Object.values(verified.orphans).some((n) => n > 0)) throw new Error(`the generated rows break a foreign key: ${JSON.stringify(verified.orphans)}`);
    phase('checkLedger after setup');
    const data: BenchData = {
      ...tenant,
      ledger: {
        customers: o.customers, postings: Number(counts.postings), journalEntries: Number(counts.entries), usageCalls: Number(counts.calls),
        historyCalls, pointsPostingsPerCustomer: round(Number(counts.postings) > 0 ? (historyCalls + o.customers) / o.customers : 0, 1),
      },
    };
    const dbBytes = (await sql<{ b: string }>`select pg_database_size(current_database())::text as b`.execute(owner.db)).rows[0]!.b;

    // pgbench's own database on the same server.
    let pgbenchVersion: string | null = null;
    if (fs.existsSync(o.pgbenchPath)) {
      await sql`create database ${sql.raw(PGBENCH_DB)}`.execute(owner.db);
      pgbenchVersion = (await runProgram(o.pgbenchPath, ['--version'], process.env, 10_000, children)).trim();
      log(`pgbench -i -s ${o.pgbenchScale} ...`);
      await runProgram(o.pgbenchPath, ['-i', '-q', '-s', String(o.pgbenchScale), '-h', pgbenchHost(embedded.url), '-p', String(o.pgPort), '-U', 'postgres', PGBENCH_DB], { ...process.env, PGPASSWORD: PG_PASSWORD }, 300_000, children);
      await sql`checkpoint`.execute(owner.db);
    } else {
      log(`pgbench not found at ${o.pgbenchPath} (install postgresql-15, or set BENCH_PGBENCH): no baseline`);
    }
    phase('pgbench init');

    const serverLog = path.join(dir, 'server.log');
    const serverOptions = { script: o.serverScript, nodeOptions: o.serverNodeOptions };

    // A batch of the largest size as a fresh server's first request: code paths that only work once the JIT has warmed up
    // (deep recursion) fail here and not later. On a server of its own, stopped afterwards, so that the measured server's
    // memory is that of the first load alone. Not timed as a benchmark; its outcome is reported.
    const coldServer = await startServerChild(embedded.url, serverLog, o.logLevel, children, serverOptions);
    const coldSize = Math.max(...o.batchSizes);
    const coldLogAt = fs.statSync(serverLog).size;
    const coldRecords = Array.from({ length: coldSize }, (_, i) => makeRecord(`cold${coldSize}-${i}`, o.customers, i));
    const coldT0 = performance.now();
    const coldRes = await fetch(`${coldServer.baseUrl}/api/v1/usage/calls`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${data.apiKey}` }, body: JSON.stringify({ records: coldRecords }), signal: AbortSignal.timeout(300_000),
    });
    const coldAnswer = (await coldRes.json()) as { summary?: { charged: number }; code?: string };
    const coldBatch = {
      size: coldSize, status: coldRes.status, seconds: round((performance.now() - coldT0) / 1000, 2), charged: coldAnswer.summary?.charged ?? 0,
      distinctCustomers: new Set(coldRecords.map((r) => r.customerId)).size, serverError: coldRes.status === 200 ? null : serverErrorSince(serverLog, coldLogAt),
    };
    log(`a fresh server's first request, a batch of ${fmtInt(coldSize)} (${fmtInt(coldBatch.distinctCustomers)} customers): HTTP ${coldBatch.status} in ${coldBatch.seconds} s${coldBatch.serverError ? ` (${coldBatch.serverError})` : ''}`);
    await stopChild(coldServer.child);
    phase('first big batch on a fresh server');

    server = await startServerChild(embedded.url, serverLog, o.logLevel, children, serverOptions);
    const rssAfterBootKb = procStatusKb(server.pid, 'VmRSS');
    const memoryAfterBoot = await childMemory(server.child);
    log(`API server (pid ${server.pid}) on ${server.baseUrl}, RSS after boot ${mb(rssAfterBootKb)} MB`);
    // One request to be sure the path works end to end.
    const probe = await fetch(`${server.baseUrl}/api/v1/usage/calls`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${data.apiKey}` },
      body: JSON.stringify({ records: [makeRecord('probe-1', o.customers, 1)] }), signal: AbortSignal.timeout(30_000),
    });
    const probeBody = await probe.text();
    if (probe.status !== 200 || !probeBody.includes('"charged":1')) throw new Error(`probe charge failed: ${probe.status} ${probeBody.slice(0, 500)}`);
    phase('server start');

    // --- 1. one call record per request, beside pgbench at the same concurrency -------------------------------------
    const quietBudget = { secondsLeft: o.waitQuietSeconds };
    const machineBefore: Record<string, Awaited<ReturnType<typeof quietMachine>>> = {};
    machineBefore.single = await quietMachine(quietBudget, log, 'the single-record runs');
    const single: SingleRun[] = [];
    let rssSamplePeakKb = 0;
    const sampler = setInterval(() => {
      if (server) rssSamplePeakKb = Math.max(rssSamplePeakKb, procStatusKb(server.pid, 'VmRSS'));
    }, 100);
    if (o.pgStatements) await sql`create extension if not exists pg_stat_statements`.execute(owner.db);
    // Steady state first. The server has just started, checking the ledger left PostgreSQL's cache cold, and the checkpoint
    // before this phase makes the first write of every page log a full image of it: the first seconds of charging have run
    // at half the rate of later ones (ADR 0018, second amendment of 2026-12-02). Their figures are kept here, by slices,
    // so that the cold start stays visible; pgbench gets a warm-up of its own from the same state.
    const steady: { sliceSeconds: number; chargesPerSecond: number[]; callsPerTransaction: number[]; pgbenchWarmupTps: number | null } = { sliceSeconds: 10, chargesPerSecond: [], callsPerTransaction: [], pgbenchWarmupTps: null };
    for (let i = 0; i * steady.sliceSeconds < o.steadySeconds; i++) {
      const { result } = await singleRecordRun(server.baseUrl, data.apiKey, o.customers, 16, steady.sliceSeconds, `steady${i}`);
      steady.chargesPerSecond.push(round((await countCharged(owner.db, `steady${i}-`)) / result.duration));
      steady.callsPerTransaction.push((await chargingTransactions(owner.db, `steady${i}-`)).callsPerTransaction);
    }
    if (steady.chargesPerSecond.length > 0) log(`warm-up, single record at 16 connections, charges/s by ${steady.sliceSeconds}-s slice: ${steady.chargesPerSecond.map(fmtInt).join(', ')} (calls per charging transaction ${steady.callsPerTransaction.join(', ')})`);
    if (pgbenchVersion && o.pgbenchWarmupSeconds > 0) {
      steady.pgbenchWarmupTps = (await runPgbench(o.pgbenchPath, pgbenchHost(embedded.url), o.pgPort, 16, o.pgbenchWarmupSeconds, children)).tps;
      log(`warm-up, pgbench at 16 clients: ${fmtInt(steady.pgbenchWarmupTps)} tps`);
    }
    for (const [ci, c] of o.connections.entries()) {
      // Call ids are the tag and a counter from 1: a concurrency listed twice (BENCH_CONNECTIONS=16,16) gets tags of its
      // own, or its second run would send the first run's call ids again, duplicates that charge nothing.
      const runTag = o.connections.indexOf(c) === ci ? `c${c}` : `c${c}-${ci}`;
      if (o.warmupSeconds > 0) await singleRecordRun(server.baseUrl, data.apiKey, o.customers, c, o.warmupSeconds, `warm-${runTag}`);
      if (o.pgStatements) await sql`select pg_stat_statements_reset()`.execute(owner.db);
      const tag = `single-${runTag}`;
      const stopProfile = profileServer(server.child, o.profileDir, tag);
      const walBefore = await walPosition(owner.db);
      const cpuBefore = cpuSnapshot(server.pid);
      const { result } = await singleRecordRun(server.baseUrl, data.apiKey, o.customers, c, o.singleSeconds, tag);
      const cpuAfter = cpuSnapshot(server.pid);
      const walAfter = await walPosition(owner.db);
      await stopProfile();
      const charged = await countCharged(owner.db, `${tag}-`);
      const groups = await chargingTransactions(owner.db, `${tag}-`);
      const durationSeconds = result.duration;
      const run: SingleRun = {
        connections: c, ...groups, durationSeconds, requests2xx: Number((result as unknown as Record<string, number>)['2xx'] ?? 0), non2xx: result.non2xx,
        errors: result.errors, timeouts: result.timeouts, charged, chargesPerSecond: round(charged / durationSeconds),
        latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max, average: round(result.latency.average, 2) },
        pgbench: null, ratioToPgbench: null, wal: await walPer(owner.db, walBefore, walAfter, charged, { phase: `single records at ${c} connections`, log }),
        cpu: cpuPer(cpuBefore, cpuAfter, charged),
      };
      if (charged < run.requests2xx * 0.99) log(`  WARNING: ${fmtInt(run.requests2xx)} requests answered 2xx but ${fmtInt(charged)} calls charged under ${tag}: replayed call ids?`);
      log(`single record, ${c} connections: ${fmtInt(run.chargesPerSecond)} charges/s, p50 ${run.latencyMs.p50} ms, p99 ${run.latencyMs.p99} ms (${run.non2xx} non-2xx, ${run.errors} errors); ${fmtInt(run.transactions)} charging transactions, ${run.callsPerTransaction} calls each`);
      if (o.pgStatements) await printServerStatements(owner, `the single-record run at ${c} connections`, `${fmtInt(charged)} charges`, log);
      log(`  WAL: ${run.wal.megabytes} MB, per charge ${run.wal.bytesPerUnit} bytes, ${run.wal.recordsPerUnit} records (${run.wal.fullPageImagesPerUnit} with full-page images), ${run.wal.btreeSplitsPerUnit} B-tree page splits; ${run.wal.checkpointsStarted} checkpoint(s) started`);
      log(`  CPU per charge: PostgreSQL ${run.cpu.postgresMsPerUnit} ms, API server ${run.cpu.serverMsPerUnit} ms, load generator ${run.cpu.loadGeneratorMsPerUnit} ms; ${run.cpu.busyPercentOfOneCore}% of one core busy; steal ${run.cpu.stealPercent}%`);
      if (pgbenchVersion) {
        const pgbenchWalBefore = await walPosition(owner.db);
        const pgbenchCpuBefore = cpuSnapshot(null);
        const pgb = await runPgbench(o.pgbenchPath, pgbenchHost(embedded.url), o.pgPort, c, o.pgbenchSeconds, children);
        const pgbenchCpu = cpuPer(pgbenchCpuBefore, cpuSnapshot(null), pgb.transactions);
        const pgbenchWal = await walPer(owner.db, pgbenchWalBefore, await walPosition(owner.db), pgb.transactions, { phase: `pgbench at ${c} clients`, log });
        run.pgbench = { ...pgb, wal: pgbenchWal, cpu: pgbenchCpu };
        log(`  pgbench CPU per transaction: PostgreSQL ${pgbenchCpu.postgresMsPerUnit} ms, pgbench ${pgbenchCpu.loadGeneratorMsPerUnit} ms; ${pgbenchCpu.busyPercentOfOneCore}% of one core busy (pgbench's own start and end included); steal ${pgbenchCpu.stealPercent}%`);
        run.ratioToPgbench = round(run.chargesPerSecond / run.pgbench.tps, 2);
        log(`  pgbench TPC-B, ${c} clients: ${fmtInt(run.pgbench.tps)} tps (latency avg ${run.pgbench.latencyAverageMs} ms) -> ratio ${run.ratioToPgbench}; WAL per transaction ${pgbenchWal.bytesPerUnit} bytes, ${pgbenchWal.fullPageImagesPerUnit} records with full-page images`);
      }
      single.push(run);
    }
    clearInterval(sampler);
    const peakRssFirstLoadKb = procStatusKb(server.pid, 'VmHWM');
    const memoryAfterFirstLoad = await childMemory(server.child);
    phase('single-record runs + pgbench');

    // --- 2. batches, beside COPY of the same rows --------------------------------------------------------------------
    await sql`create table bench_copy_calls (call_id text, customer_id text, from_number text, to_number text, started_at timestamptz, duration_seconds int, direction text)`.execute(owner.db);
    copyClient = new pg.Client({ connectionString: embedded.url });
    await copyClient.connect();
    machineBefore.batches = await quietMachine(quietBudget, log, 'the batches');
    if (o.pgStatements) await sql`select pg_stat_statements_reset()`.execute(owner.db);
    const stopBatchesProfile = profileServer(server.child, o.profileDir, 'batches');
    const batches: BatchResult[] = [];
    let batchPhaseCharges = 0; // every charged round, warm-up rounds included (what pg_stat_statements saw)
    const updatesBefore = await rowUpdates(owner.db);
    const buffersBefore = await sharedBufferIo(owner.db);
    for (const size of o.batchSizes) {
      const seconds: number[] = [];
      const copySeconds: number[] = [];
      const failures: BatchResult['failures'] = [];
      let charged = 0;
      let bytes = 0;
      const cpuSpent = { at: 0, machine: 0, steal: 0, machineTotal: 0, server: 0, bench: 0 }; // the timed rounds' CPU and wall time, summed
      const walSpent = { bytes: 0, fullPageImages: 0, checkpoints: 0 };
      const faultsSpent = { server: 0, postgres: 0 };
      const sizeStarted = Date.now();
      // One untimed round first, for every size: the fresh server's first request (above) ran on a server of its own,
      // so the measured server meets a batch of the largest size for the first time here (its first round was ~30% slower
      // than the next ones in every run, while the sizes measured after a warm-up round were not). Bounded in time: no new
      // round once this size has taken batchSecondsBudget (at least one timed round is made).
      for (let round_ = 0; round_ <= o.batchRounds && failures.length < 2; round_++) {
        if (seconds.length > 0 && (Date.now() - sizeStarted) / 1000 > o.batchSecondsBudget) {
          log(`  batch of ${fmtInt(size)}: ${o.batchSecondsBudget} s budget spent, ${seconds.length} round(s) kept`);
          break;
        }
        const warm = round_ === 0;
        const tag = `batch${size}-r${round_}`;
        const records = Array.from({ length: size }, (_, i) => makeRecord(`${tag}-${i}`, o.customers, i + round_ * size));
        const body = JSON.stringify({ records });
        bytes = body.length;
        const logBefore = fs.statSync(serverLog).size;
        const walBefore = await walPosition(owner.db);
        const faultsBefore = pageFaults(server.pid);
        const cpuBefore = cpuSnapshot(server.pid);
        const t0 = performance.now();
        const res = await fetch(`${server.baseUrl}/api/v1/usage/calls`, {
          method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${data.apiKey}` }, body, signal: AbortSignal.timeout(300_000),
        });
        const answer = (await res.json()) as { summary?: { charged: number }; code?: string; detail?: string };
        const s = (performance.now() - t0) / 1000;
        const cpuAfter = cpuSnapshot(server.pid);
        const faults = pageFaultsBetween(faultsBefore, pageFaults(server.pid));
        const walAfter = await walPosition(owner.db);
        const cs = await copyRows(copyClient, records);
        if (res.status !== 200 || answer.summary?.charged !== size) {
          const serverError = serverErrorSince(serverLog, logBefore);
          failures.push({ round: round_, status: res.status, seconds: round(s, 3), answer: JSON.stringify(answer.summary ?? { code: answer.code, detail: answer.detail }), serverError });
          log(`  batch of ${fmtInt(size)}: FAILED after ${s.toFixed(2)} s: HTTP ${res.status} ${answer.code ?? JSON.stringify(answer.summary)}${serverError ? ` (server log: ${serverError})` : ''}`);
          continue;
        }
        batchPhaseCharges += size;
        if (!warm) {
          seconds.push(s);
          copySeconds.push(cs);
          charged += size;
          for (const k of ['at', 'machine', 'steal', 'machineTotal', 'server', 'bench'] as const) cpuSpent[k] += cpuAfter[k] - cpuBefore[k];
          faultsSpent.server += faults.server;
          faultsSpent.postgres += faults.postgres;
          const wal = await walPer(owner.db, walBefore, walAfter, 1, { phase: `a batch of ${fmtInt(size)}`, log });
          walSpent.bytes += wal.bytesPerUnit ?? 0;
          walSpent.fullPageImages += wal.fullPageImagesPerUnit ?? 0;
          walSpent.checkpoints += wal.checkpointsStarted;
        }
        log(`  batch of ${fmtInt(size)}${warm ? ' (warm-up)' : ''}: ${s.toFixed(2)} s = ${fmtInt(size / s)} charges/s; COPY ${cs.toFixed(3)} s = ${fmtInt(size / cs)} rows/s`);
      }
      const total = seconds.reduce((a, b) => a + b, 0);
      const copyTotal = copySeconds.reduce((a, b) => a + b, 0);
      const cpu = cpuPer({ at: 0, machine: 0, steal: 0, machineTotal: 0, server: 0, bench: 0 }, cpuSpent, charged);
      const micros = (ms: number | null) => (ms === null ? null : round(ms * 1000));
      const wal = charged > 0
        ? { megabytes: round(walSpent.bytes / 1e6, 1), bytesPerCharge: round(walSpent.bytes / charged), fullPageImagesPerCharge: round(walSpent.fullPageImages / charged, 2), checkpointsStarted: walSpent.checkpoints }
        : null;
      if (wal) log(`  batch of ${fmtInt(size)}, WAL: ${wal.megabytes} MB, per charge ${wal.bytesPerCharge} bytes, ${wal.fullPageImagesPerCharge} full-page images; ${wal.checkpointsStarted} checkpoint(s) started`);
      // What these cores could charge at all at this CPU per charge, every core busy all the time: the batch's ceiling here.
      const cpuMsPerCharge = (cpu.postgresMsPerUnit ?? 0) + (cpu.serverMsPerUnit ?? 0) + (cpu.loadGeneratorMsPerUnit ?? 0);
      const ceiling = charged > 0 && cpuMsPerCharge > 0 ? round((os.availableParallelism() * 1000) / cpuMsPerCharge) : null;
      const faultsPerCharge = charged > 0 ? { server: round(faultsSpent.server / charged, 3), postgres: round(faultsSpent.postgres / charged, 3) } : null;
      if (charged > 0) log(`  batch of ${fmtInt(size)}, CPU per charge: PostgreSQL ${micros(cpu.postgresMsPerUnit)} µs, API server ${micros(cpu.serverMsPerUnit)} µs, fetch ${micros(cpu.loadGeneratorMsPerUnit)} µs; ${cpu.busyPercentOfOneCore}% of one core busy; steal ${cpu.stealPercent}%; at this CPU per charge ${os.availableParallelism()} cores charge at most ${ceiling === null ? '-' : fmtInt(ceiling)}/s`);
      if (faultsPerCharge) log(`  batch of ${fmtInt(size)}, minor page faults per charge: PostgreSQL ${faultsPerCharge.postgres}, API server ${faultsPerCharge.server}`);
      batches.push({
        size, rounds: seconds.length, bodyBytes: bytes, charged, secondsPerBatch: seconds.map((x) => round(x, 3)),
        chargesPerSecond: seconds.length > 0 ? round(charged / total) : null,
        bestChargesPerSecond: seconds.length > 0 ? round(size / Math.min(...seconds)) : null,
        cpu: {
          what: 'CPU from sending a batch to reading its answer, per charge, in microseconds (PostgreSQL, the API server, this process: fetch)',
          postgresMicrosPerCharge: micros(cpu.postgresMsPerUnit), serverMicrosPerCharge: micros(cpu.serverMsPerUnit), benchMicrosPerCharge: micros(cpu.loadGeneratorMsPerUnit),
          busyPercentOfOneCore: charged > 0 ? cpu.busyPercentOfOneCore : null,
          stealPercent: charged > 0 ? cpu.stealPercent : null,
          ceilingChargesPerSecond: ceiling,
          pageFaultsPerCharge: faultsPerCharge,
        },
        failures,
        copy: {
          table: 'bench_copy_calls: a logged (not unlogged) table, no indexes or constraints, the 7 fields of a call record',
          format: 'COPY FROM STDIN, text format, pg-copy-streams, one statement per batch (autocommit)',
          secondsPerBatch: copySeconds.map((x) => round(x, 4)), rowsPerSecond: copySeconds.length > 0 ? round((copySeconds.length * size) / copyTotal) : null,
        },
        wal,
      });
    }
    // The statistics of the server's connections reach pg_stat_user_tables within a second of their transactions.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const updatesAfter = await rowUpdates(owner.db);
    const buffersAfter = await sharedBufferIo(owner.db);
    const batchSharedBuffers = Object.fromEntries(Object.entries(buffersAfter).map(([type, after]) => {
      const before = buffersBefore[type] ?? { reads: 0, writes: 0, extends: 0, evictions: 0 };
      const per = (n: number) => (batchPhaseCharges > 0 ? round(n / batchPhaseCharges, 3) : null);
      return [type, { readsPerCharge: per(after.reads - before.reads), writesPerCharge: per(after.writes - before.writes), extendsPerCharge: per(after.extends - before.extends), evictionsPerCharge: per(after.evictions - before.evictions) }];
    }));
    log(`  shared buffers read in / written out / pages added / evicted, per charge during the batches (the COPY rounds' bulk writes not included): ${Object.entries(batchSharedBuffers).map(([t, b]) => `${t} ${b.readsPerCharge} / ${b.writesPerCharge} / ${b.extendsPerCharge} / ${b.evictionsPerCharge}`).join('; ')}`);
    const batchRowUpdates = Object.fromEntries(Object.entries(updatesAfter).map(([table, after]) => {
      const updates = after.updates - (updatesBefore[table]?.updates ?? 0);
      const hot = after.hot - (updatesBefore[table]?.hot ?? 0);
      return [table, { updates, hot, hotPercent: updates > 0 ? round((100 * hot) / updates, 1) : null }];
    }));
    log(`  row updates during the batches (HOT: the new version on the same page, no index entry): ${Object.entries(batchRowUpdates).map(([t, u]) => u.hotPercent === null ? `${t} none` : `${t} ${fmtInt(u.updates)} (${u.hotPercent}% HOT)`).join(', ')}`);
    await copyClient.end();
    copyClient = null;
    await stopBatchesProfile();
    if (o.pgStatements) await printServerStatements(owner, 'the batches', `${fmtInt(batchPhaseCharges)} charges (${fmtInt(batches.reduce((n, b) => n + b.charged, 0))} timed, the rest in one warm-up round per size)`, log);
    phase('batches + COPY');

    // --- 3. latest 100 transactions of one customer ------------------------------------------------------------------
    const feedPath = () => `/api/v1/customers/${customerIdOf(1 + Math.floor(Math.random() * o.customers))}/transactions`;
    const check = await fetch(`${server.baseUrl}${feedPath()}`, { headers: { authorization: `Bearer ${data.apiKey}` }, signal: AbortSignal.timeout(30_000) });
    const checkBody = (await check.json()) as { data?: unknown[] };
    if (check.status !== 200 || (checkBody.data?.length ?? 0) < Math.min(100, data.ledger.pointsPostingsPerCustomer)) {
      throw new Error(`feed probe: ${check.status} ${JSON.stringify(checkBody).slice(0, 300)}`);
    }
    const feedHttp = async (connections: number) => {
      const r = await runAutocannon({
        url: server!.baseUrl, connections, amount: o.feedRequests, timeout: 30,
        requests: [{ method: 'GET', path: '/api/v1/customers/x/transactions', headers: { authorization: `Bearer ${data.apiKey}` }, setupRequest: (req: Record<string, unknown>) => ({ ...req, path: feedPath() }) }],
      });
      return {
        connections, requests: o.feedRequests, non2xx: r.non2xx, errors: r.errors, requestsPerSecond: round(r.requests.average),
        latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max, average: round(r.latency.average, 2) },
      };
    };
    await feedHttp(1); // warm-up pass (same count), untimed
    machineBefore.feed = await quietMachine(quietBudget, log, 'the feed runs');
    const vacuumBefore = await postingsVacuums(owner);
    const feedLogAt = fs.statSync(serverLog).size;
    const stopProbe = probeServer(server.child);
    const stopFeedProfile = profileServer(server.child, o.profileDir, 'feed');
    const feedHttp1 = await feedHttp(1);
    await stopFeedProfile();
    const feedProbe = await stopProbe();
    // The server's own time for the same requests (Fastify's responseTime: from the request's arrival to the reply sent).
    const feedServerMs = serverResponseTimes(serverLog, feedLogAt, '/transactions');
    // The floor under it: the same number of requests to /healthz (HTTP and one `select 1`), also one at a time.
    const floor = await runAutocannon({ url: server.baseUrl, connections: 1, amount: o.feedRequests, timeout: 30, requests: [{ method: 'GET', path: '/healthz' }] });
    const floorMs = { p50: floor.latency.p50, p90: floor.latency.p90, p99: floor.latency.p99, max: floor.latency.max, average: round(floor.latency.average, 2) };
    const feedHttp16 = await feedHttp(16);
    log(`feed over HTTP, 1 connection: p50 ${feedHttp1.latencyMs.p50} ms, p99 ${feedHttp1.latencyMs.p99} ms; 16 connections: ${fmtInt(feedHttp16.requestsPerSecond)} req/s, p99 ${feedHttp16.latencyMs.p99} ms`);
    log(`  floor, GET /healthz one at a time: p50 ${floorMs.p50} ms, p99 ${floorMs.p99} ms; the server during the 1-connection feed: event loop delay p99 ${feedProbe?.loopDelayMs.p99 ?? '?'} ms (max ${feedProbe?.loopDelayMs.max ?? '?'}), ${feedProbe?.gc.pauses ?? '?'} GC pauses (${feedProbe?.gc.totalMs ?? '?'} ms in all, max ${feedProbe?.gc.maxMs ?? '?'} ms, ${feedProbe?.gc.over2Ms ?? '?'} over 2 ms: ${Object.entries(feedProbe?.gc.byKind ?? {}).map(([k, v]) => `${k} ${v.pauses} x, ${v.totalMs} ms, max ${v.maxMs}`).join('; ')})`);

    // Straight through the use case's SQL, as the routes run it (readFeedPage: one round trip, a read-only partner-scoped
    // transaction, app role, RLS on) ...
    app = openDatabase(embedded.url, { appRole: true, max: 2 });
    const scope = { kind: 'partner' as const, partnerId: data.partnerId };
    const feedIds = await transactionIds(app.db);
    const useCaseMs: number[] = [];
    if (o.pgStatements) await sql`select pg_stat_statements_reset()`.execute(owner.db);
    for (let i = 0; i < o.feedRequests + 200; i++) {
      const customerId = customerIdOf(1 + Math.floor(Math.random() * o.customers));
      const t0 = performance.now();
      const page = await readFeedPage(app.db, scope, { partnerId: data.partnerId, customerId, limit: 100, afterPostingId: null, ids: feedIds });
      const ms = performance.now() - t0;
      if (!page || page.data.length === 0 || page.totals.length === 0) throw new Error(`no transactions for ${customerId}`);
      if (i >= 200) useCaseMs.push(ms); // the first 200 warm up
    }
    if (o.pgStatements) await printServerStatements(owner, 'the feed use case', `${fmtInt(o.feedRequests + 200)} feed pages`, log);
    // ... a page of one type, as the routes run it: calls (nearly every posting: read from the account's postings,
    // keeping the calls) and top-ups (rare: their own index, postings_feed_not_calls; migration 0044) ...
    const byTypeMs: Record<'call' | 'top_up', number[]> = { call: [], top_up: [] };
    for (const type of ['call', 'top_up'] as const) {
      for (let i = 0; i < o.feedRequests + 100; i++) {
        const customerId = customerIdOf(1 + Math.floor(Math.random() * o.customers));
        const t0 = performance.now();
        const page = await readFeedPage(app.db, scope, { partnerId: data.partnerId, customerId, type, limit: 100, afterPostingId: null, ids: feedIds });
        const ms = performance.now() - t0;
        if (!page || page.data.length === 0 || page.data.some((r) => r.view.type !== type)) throw new Error(`no ${type} transactions for ${customerId}`);
        if (i >= 100) byTypeMs[type].push(ms); // the first 100 warm up
      }
    }
    // ... the same page in the usual three round trips, each step on its own: begin + scope, the page, commit ...
    const threeTripsMs: number[] = [];
    const stepMs = { begin: [] as number[], page: [] as number[], commit: [] as number[] };
    for (let i = 0; i < o.feedRequests + 200; i++) {
      const customerId = customerIdOf(1 + Math.floor(Math.random() * o.customers));
      const t0 = performance.now();
      let t1 = 0, t2 = 0;
      const page = await inScope(app.db, scope, async (trx) => {
        t1 = performance.now();
        const got = await feedPage(trx, { partnerId: data.partnerId, customerId, limit: 100, afterPostingId: null, ids: feedIds });
        t2 = performance.now();
        return got;
      });
      const t3 = performance.now();
      const ms = t3 - t0;
      if (!page || page.data.length === 0 || page.totals.length === 0) throw new Error(`no transactions for ${customerId}`);
      if (i >= 200) {
        threeTripsMs.push(ms);
        stepMs.begin.push(t1 - t0); stepMs.page.push(t2 - t1); stepMs.commit.push(t3 - t2);
      }
    }
    // ... the same statement with no Node.js at all: pgbench sends begin read only, the app role, the scope, the page
    // (prepared) and commit, for random customers, one client, and logs each transaction's latency. PostgreSQL's own
    // floor under the feed, on the same machine.
    const feedPgbench = fs.existsSync(o.pgbenchPath) ? await pgbenchFeed(o, app.db, embedded.url, data.partnerId, dir, children) : null;
    if (feedPgbench) log(`feed's statement through pgbench (1 client, no Node.js): p50 ${feedPgbench.p50} ms, p99 ${feedPgbench.p99} ms, max ${feedPgbench.max} ms (${fmtInt(feedPgbench.count)} transactions)`);
    const vacuumAfter = await postingsVacuums(owner);
    // ... and the server-side execution time of its postings query alone (EXPLAIN ANALYZE, same role and scope).
    const postingsQuery = (trx: Trx, accountId: string, customerId: string, explain: string) => sql<{ 'QUERY PLAN': string }>`
      ${sql.raw(explain)} select p.id, p.amount_micros, p.balance_after_micros, p.posted_at, p.kind, p.feed_type, p.description, p.cause_type, p.cause_id
      from postings p
      where p.account_id = ${accountId} and p.partner_id = ${data.partnerId} and p.customer_id = ${customerId}
      order by p.id desc limit 101`.execute(trx);
    const execMs: number[] = [];
    let samplePlan = '';
    for (let i = 0; i < 300; i++) {
      const k = 1 + Math.floor(Math.random() * o.customers);
      const rows = await inScope(app.db, scope, (trx) => postingsQuery(trx, `acc_bench${String(k).padStart(10, '0')}`, customerIdOf(k), 'explain (analyze, buffers, timing off)'));
      const text = rows.rows.map((r) => r['QUERY PLAN']).join('\n');
      execMs.push(Number(/Execution Time: ([\d.]+) ms/.exec(text)?.[1] ?? NaN));
      if (i === 299) {
        const full = await inScope(app.db, scope, (trx) => postingsQuery(trx, `acc_bench${String(k).padStart(10, '0')}`, customerIdOf(k), 'explain (analyze, buffers)'));
        samplePlan = full.rows.map((r) => r['QUERY PLAN']).join('\n');
      }
    }
    // The plans of a page of one type (the feed's own statement filters the same way: p.feed_type = the type).
    const typedPlans: Record<string, string> = {};
    for (const type of ['call', 'top_up']) {
      const k = 1 + Math.floor(Math.random() * o.customers);
      const plan = await inScope(app.db, scope, (trx) => sql<{ 'QUERY PLAN': string }>`
        explain (analyze, buffers) select p.id, p.amount_micros, p.balance_after_micros, p.posted_at, p.kind, p.feed_type, p.description, p.cause_type, p.cause_id
        from postings p
        where p.account_id = ${`acc_bench${String(k).padStart(10, '0')}`} and p.partner_id = ${data.partnerId} and p.customer_id = ${customerIdOf(k)} and p.feed_type = ${type}
        order by p.id desc limit 101`.execute(trx));
      typedPlans[type] = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
    }
    const feed = {
      http: { oneConnection: feedHttp1, sixteenConnections: feedHttp16 },
      serverSide: { what: "the server's own time (Fastify responseTime in its log) for the 1-connection HTTP requests", ...latencySummary(feedServerMs) },
      floor: { what: 'GET /healthz (HTTP and one select 1), one at a time, as many requests, right after the 1-connection feed run', latencyMs: floorMs },
      serverProbe: { what: "the server's event loop delay and V8 garbage-collection pauses during the 1-connection feed run", ...feedProbe },
      useCase: { what: 'readFeedPage as the routes run it (limit 100, with totals): one round trip, a read-only partner-scoped transaction, app role, from this process', ...latencySummary(useCaseMs) },
      useCaseByType: {
        what: 'the same, filtered by type (?type=): calls, which are nearly all of a customer\'s postings, and top-ups, one or two per customer',
        call: latencySummary(byTypeMs.call), topUp: latencySummary(byTypeMs.top_up),
      },
      threeRoundTrips: {
        what: 'the same page through inScope + feedPage (begin with the scope, the page, commit: three round trips), and each step (ms)',
        ...latencySummary(threeTripsMs),
        begin: latencySummary(stepMs.begin), page: latencySummary(stepMs.page), commit: latencySummary(stepMs.commit),
      },
      postingsVacuums: {
        what: "vacuums of postings (autovacuum or manual) up to the feed's runs, and during them (HTTP and use case): they compete for the 2 cores",
        before: vacuumBefore, during: vacuumAfter - vacuumBefore,
      },
      postingsQueryExecution: { what: 'EXPLAIN ANALYZE execution time of the feed query (server side only)', ...latencySummary(execMs) },
      pgbench: feedPgbench ? { what: "readFeedPage's script (begin read only, app role, scope, the page of 100 with totals, commit) through pgbench -M prepared: one client, random customers, five round trips, per-transaction latency (ms)", ...feedPgbench } : null,
      samplePlan,
      typedPlans,
    };
    log(`feed through readFeedPage (one round trip): p50 ${feed.useCase.p50} ms, p99 ${feed.useCase.p99} ms; postings query execution p50 ${feed.postingsQueryExecution.p50} ms, p99 ${feed.postingsQueryExecution.p99} ms`);
    log(`  filtered by type: calls p50 ${feed.useCaseByType.call.p50} ms, p99 ${feed.useCaseByType.call.p99} ms; top-ups p50 ${feed.useCaseByType.topUp.p50} ms, p99 ${feed.useCaseByType.topUp.p99} ms`);
    log(`  the server's own time for the 1-connection HTTP requests (Fastify responseTime): p50 ${feed.serverSide.p50} ms, p99 ${feed.serverSide.p99} ms (${feed.serverSide.count} requests)`);
    log(`  in three round trips (inScope + feedPage): p50 ${feed.threeRoundTrips.p50} ms, p99 ${feed.threeRoundTrips.p99} ms; steps p99: begin + scope ${feed.threeRoundTrips.begin.p99}, page ${feed.threeRoundTrips.page.p99}, commit ${feed.threeRoundTrips.commit.p99} ms; vacuums of postings before ${vacuumBefore}, during ${vacuumAfter - vacuumBefore}`);
    phase('transactions feed');

    const peakRssEndKb = procStatusKb(server.pid, 'VmHWM');
    const memoryAtEnd = await childMemory(server.child);
    await stopChild(server.child);
    server = null;

    log('checking the ledger again after the runs ...');
    const problemsAtEnd = await checkLedger(owner.db);
    phase('checkLedger at the end');

    // --- report ---------------------------------------------------------------------------------------------------
    const rows: TargetRow[] = [];
    if (steady.chargesPerSecond.length > 0) {
      rows.push({
        what: '1 call per request, 16 clients, warm-up',
        measured: `charges/s by ${steady.sliceSeconds}-s slice from a cold start: ${steady.chargesPerSecond.map(fmtInt).join(', ')}${steady.pgbenchWarmupTps !== null ? `; pgbench warm-up ${fmtInt(steady.pgbenchWarmupTps)} tps` : ''}`,
        target: '(not counted)', result: 'info',
      });
    }
    for (const s of single) {
      const base = s.pgbench ? `; pgbench ${fmtInt(s.pgbench.tps)} tps -> ${s.ratioToPgbench} x` : '; no pgbench';
      const targeted = s.connections === 16;
      rows.push({
        what: `1 call per request, ${s.connections} clients`,
        measured: `${fmtInt(s.chargesPerSecond)} charges/s, p50 ${s.latencyMs.p50} ms, p99 ${s.latencyMs.p99} ms${base}`,
        target: targeted ? `>= 0.8 x pgbench${s.pgbench ? ` (${fmtInt(0.8 * s.pgbench.tps)}/s)` : ''}` : '(beside pgbench)',
        result: targeted && s.ratioToPgbench !== null ? (s.ratioToPgbench >= 0.8 ? 'pass' : 'miss') : 'info',
      });
    }
    for (const b of batches) {
      const copy = (b.copy.rowsPerSecond === null ? '' : `; COPY ${fmtInt(b.copy.rowsPerSecond)} rows/s`)
        + (b.cpu.ceilingChargesPerSecond === null ? '' : `; CPU ceiling ${fmtInt(b.cpu.ceilingChargesPerSecond)}/s`);
      const failed = b.failures.length > 0 ? `${b.failures.length} batch(es) FAILED: HTTP ${b.failures[0]!.status} after ${b.failures[0]!.seconds.toFixed(1)} s${b.failures[0]!.serverError ? ` (${b.failures[0]!.serverError})` : ''}` : '';
      rows.push({
        what: `batch of ${fmtInt(b.size)} records`,
        measured: b.chargesPerSecond === null
          ? `${failed}${copy}`
          : `${fmtInt(b.chargesPerSecond)} charges/s (${b.secondsPerBatch.map((x) => x.toFixed(2)).join('/')} s)${copy}${failed ? `; ${failed}` : ''}`,
        target: '>= 20,000 charges/s',
        result: b.chargesPerSecond !== null && b.chargesPerSecond >= 20_000 && b.failures.length === 0 ? 'pass' : 'miss',
      });
    }
    rows.push({
      what: `batch of ${fmtInt(coldBatch.size)}, fresh server's 1st request`,
      measured: coldBatch.status === 200 ? `HTTP 200, ${fmtInt(coldBatch.charged)} charged in ${coldBatch.seconds} s` : `HTTP ${coldBatch.status} after ${coldBatch.seconds} s${coldBatch.serverError ? `: ${coldBatch.serverError}` : ''}`,
      target: 'HTTP 200 (correctness)',
      result: coldBatch.status === 200 && coldBatch.charged === coldBatch.size ? 'pass' : 'miss',
    });
    rows.push({
      what: `latest 100 transactions, HTTP, 1 client`,
      measured: `p50 ${feed.http.oneConnection.latencyMs.p50} ms, p99 ${feed.http.oneConnection.latencyMs.p99} ms (${fmtInt(o.feedRequests)} requests, ${fmtInt(data.ledger.postings)} postings)`,
      target: 'p99 <= 5 ms',
      result: feed.http.oneConnection.latencyMs.p99 <= 5 ? 'pass' : 'miss',
    });
    rows.push({
      what: `latest 100 transactions, HTTP, 16 clients`,
      measured: `p50 ${feed.http.sixteenConnections.latencyMs.p50} ms, p99 ${feed.http.sixteenConnections.latencyMs.p99} ms, ${fmtInt(feed.http.sixteenConnections.requestsPerSecond)} req/s`,
      target: '(under load)',
      result: 'info',
    });
    rows.push({
      what: 'latest 100 transactions, readFeedPage',
      measured: `p50 ${feed.useCase.p50} ms, p99 ${feed.useCase.p99} ms; query execution p50 ${feed.postingsQueryExecution.p50} ms, p99 ${feed.postingsQueryExecution.p99} ms${feed.pgbench ? `; the same script through pgbench p50 ${feed.pgbench.p50} ms, p99 ${feed.pgbench.p99} ms` : ''}`,
      target: '(where time goes)',
      result: 'info',
    });
    rows.push({
      what: 'API server peak RSS, first load',
      measured: `${mb(peakRssFirstLoadKb)} MB (after boot ${mb(rssAfterBootKb)} MB, V8 heap ${memoryAfterBoot?.heapTotal ?? '?'} MB; after the load heap ${memoryAfterFirstLoad?.heapTotal ?? '?'} MB; end of all runs ${mb(peakRssEndKb)} MB)`,
      target: '<= 250 MB',
      result: mb(peakRssFirstLoadKb) <= 250 ? 'pass' : 'miss',
    });
    const table = renderTable(rows);
    const totalSeconds = round((Date.now() - benchStarted) / 1000, 1);
    const cpus = os.cpus();
    const shmemThp = transparentHugePagesForSharedMemory();
    const report = {
      measuredAt: new Date().toISOString(),
      machine: {
        nproc: os.availableParallelism(), cpuModel: cpus[0]?.model ?? 'unknown', memoryGb: Math.round(os.totalmem() / 2 ** 30),
        platform: `${os.platform()} ${os.release()}`, transparentHugePagesForSharedMemory: shmemThp, loadAverage1mAtEnd: round(os.loadavg()[0]!, 2),
        busyBeforePhases: machineBefore, busyNote: 'CPU busy % of the whole machine over 2 s right before each measured phase, while the bench itself was idle (other programs); cpuProbeMs: a fixed piece of CPU work timed then (JSON of 20,000 call records written and read five times, median of five), to compare runs on machines of different speed',
      },
      node: process.version,
      postgres: { version: pgVersion, settings: pgSettings, databaseBytes: Number(dbBytes), where: 'embedded-postgres, temp dir under /tmp', connection: new URL(embedded.url).searchParams.has('host') ? 'Unix socket (ADR 0019)' : 'TCP 127.0.0.1' },
      pgbench: pgbenchVersion ? { version: pgbenchVersion, scale: o.pgbenchScale, database: 'separate database on the same server', host: pgbenchHost(embedded.url), args: `-c N -j min(2,N) -T ${o.pgbenchSeconds}` } : null,
      settings: {
        connections: o.connections, singleSeconds: o.singleSeconds, warmupSeconds: o.warmupSeconds, steadySeconds: o.steadySeconds, pgbenchWarmupSeconds: o.pgbenchWarmupSeconds, batchRounds: o.batchRounds,
        batchWarmUp: 'one untimed round of every size on the measured server before its timed rounds (since f72043c; before, the largest size had none)', feedRequests: o.feedRequests,
        serverLogLevel: o.logLevel, server: 'child process (bench/money-server.ts: boot + gateway + buildServer as src/main.ts api mode), app pool max 20',
        serverScript: path.relative(REPO, o.serverScript), serverNodeOptions: o.serverNodeOptions || null,
        loadGenerator: 'autocannon 9 in the bench process (same 2 cores as the server and PostgreSQL)',
      },
      dataset: { ...data.ledger, generated: 'generate_series in chunks; secondary indexes rebuilt after; triggers skipped (session_replication_role = replica) and their work done/checked by the loader: balances updated per chunk, then foreign keys and checkLedger verified', foreignKeyOrphansAfterSetup: verified.orphans, checkLedgerAfterSetup: problemsAfterSetup, checkLedgerAtEnd: problemsAtEnd },
      warmUp: steady,
      single,
      batches, batchRowUpdates, batchSharedBuffers,
      feed,
      memory: { rssAfterBootMb: mb(rssAfterBootKb), peakRssFirstLoadMb: mb(peakRssFirstLoadKb), sampledRssPeakFirstLoadMb: mb(rssSamplePeakKb), peakRssEndMb: mb(peakRssEndKb), source: '/proc/<server pid>/status VmHWM',
        processMemoryUsageMb: { afterBoot: memoryAfterBoot, afterFirstLoad: memoryAfterFirstLoad, atEnd: memoryAtEnd } },
      coldBatch,
      targets: rows,
      table,
      phasesSeconds: phases,
      totalSeconds,
    };
    fs.writeFileSync(o.out, JSON.stringify(report, null, 2) + '\n');
    log('');
    log(table);
    log('');
    log(`${report.machine.nproc} cores (nproc), ${report.machine.cpuModel}, ${report.machine.memoryGb} GB; Node ${report.node}; PostgreSQL ${pgVersion} (embedded; fsync ${pgSettings.fsync}, synchronous_commit ${pgSettings.synchronous_commit}, shared_buffers ${pgSettings.shared_buffers}, huge pages ${pgSettings.huge_pages_status ?? 'unknown'} (${pgSettings.shared_memory_size_in_huge_pages ?? '?'} needed)); ${pgbenchVersion ?? 'no pgbench'}; ${report.machine.platform}${shmemThp ? `, transparent huge pages for shared memory ${shmemThp}` : ''}`);
    log(`machine CPU busy before the measured phases (other programs): ${Object.entries(machineBefore).map(([k, v]) => `${k} ${v.busyPercent}% (CPU probe ${v.cpuProbeMs} ms)`).join(', ')}; load average at the end ${report.machine.loadAverage1mAtEnd}`);
    log(`dataset: ${fmtInt(data.ledger.postings)} postings, ${fmtInt(data.ledger.journalEntries)} entries, ${fmtInt(data.ledger.usageCalls)} usage calls, ${fmtInt(o.customers)} customers; checkLedger: ${problemsAfterSetup.length} problems after setup, ${problemsAtEnd.length} at the end`);
    log(`whole run ${totalSeconds} s; phases: ${Object.entries(phases).map(([k, v]) => `${k} ${v} s`).join(', ')}`);
    log(`written to ${path.relative(process.cwd(), o.out)}`);
    if (problemsAtEnd.length > 0) throw new Error(`the ledger does not hold after the runs: ${JSON.stringify(problemsAtEnd.slice(0, 5))}`);
    return report;
  } finally {
    release();
    if (server) await stopChild(server.child).catch(() => {});
    await cleanup();
  }
}

const invokedDirectly = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  try {
    await runMoneyBench();
  } catch (err) {
    console.error(err);
    process.exitCode = 1;
  }
}

/** What PostgreSQL itself spent over one phase, per statement (pg_stat_statements since its reset, nested statements included). */
async function printServerStatements(owner: DatabaseHandle, phase: string, work: string, log: (line: string) => void): Promise<void> {
  const { rows } = await sql<{ calls: string; planMs: number; execMs: number; hit: string; read: string; dirtied: string; query: string }>`
    select calls::text, total_plan_time as "planMs", total_exec_time as "execMs", shared_blks_hit::text as hit, shared_blks_read::text as read,
           shared_blks_dirtied::text as dirtied, left(regexp_replace(query, '[[:space:]]+', ' ', 'g'), 120) as query
      from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())
      order by total_plan_time + total_exec_time desc limit 25`.execute(owner.db);
  const all = (await sql<{ planMs: number; execMs: number }>`select sum(total_plan_time) as "planMs", sum(total_exec_time) as "execMs" from pg_stat_statements
    where toplevel and dbid = (select oid from pg_database where datname = current_database())`.execute(owner.db)).rows[0]!;
  log(`PostgreSQL's own time over ${phase} (top level): planning ${(all.planMs / 1000).toFixed(2)} s, execution ${(all.execMs / 1000).toFixed(2)} s for ${work}`);
  log('| calls | plan ms | exec ms | buffers hit / read (not in shared buffers) / dirtied | statement |\n| ---: | ---: | ---: | ---: | --- |');
  for (const r of rows) log(`| ${r.calls} | ${r.planMs.toFixed(1)} | ${r.execMs.toFixed(1)} | ${fmtInt(Number(r.hit))} / ${fmtInt(Number(r.read))} / ${fmtInt(Number(r.dirtied))} | ${r.query.replace(/\|/g, '/')} |`);
}
