// `npm run bench`: throughput and latency of a few representative routes, measured on this machine.
//
// Boots an embedded PostgreSQL in a temp dir (port 54360, or FOLIO_BENCH_PG_PORT), migrates, seeds the demo data, starts the
// API in this process on 127.0.0.1 (random port) and drives it with autocannon from a child process (bench/load.ts), so the
// load generator shares neither the server's event loop nor its memory. Loopback traffic only. Never part of `npm test`.
//
// Options: --duration <s> (10)  --connections <n> (50)  --warmup <s> (2)  --only <name,...>  --out <file> (bench/results.json)
// Env: LOG_LEVEL (info; request logs are written to /dev/null, so their cost is measured but they are not shown).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import pino from 'pino';
import type { Options as LoadOptions, Result as LoadResult } from 'autocannon';
import { loadConfig } from '../src/platform/config.ts';
import { openDatabase, type DatabaseHandle } from '../src/platform/database.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/platform/embedded-postgres.ts';
import { migrateToLatest } from '../src/platform/migrate.ts';
import { seedDemo } from '../src/platform/seed.ts';
import { buildServer, type FolioApp } from '../src/platform/server.ts';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    warmup: { type: 'string', default: '2' },
    only: { type: 'string' },
    out: { type: 'string', default: path.join(import.meta.dirname, 'results.json') },
  },
});
const duration = Number(args.duration);
const connections = Number(args.connections);
const warmup = Number(args.warmup);
const pgPort = Number(process.env.FOLIO_BENCH_PG_PORT ?? 54360);
const STAFF_EMAIL = 'admin@demo.test';
const KNOWN_EMAIL = 'owner@acme.test';

interface Scenario {
  name: string;
  description: string;
  expectStatus: number;
  load: Omit<LoadOptions, 'url' | 'connections' | 'duration'>;
}

interface ScenarioResult {
  name: string;
  description: string;
  connections: number;
  durationSeconds: number;
  requests: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; average: number };
  errors: number;
  timeouts: number;
  unexpectedStatus: number;
  statusCodes: Record<string, number>;
  peakRssMb: number;
  peakHeapUsedMb: number;
  /** Rows the scenario added (audit events, outbox notifications, queued jobs). */
  rowsWritten: { auditEvents: number; notifications: number; jobs: number };
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A fresh data dir for each run; a PostgreSQL left running on it by a killed earlier run is stopped first. */
async function freshDataDir(dir: string): Promise<void> {
  const pidFile = path.join(dir, 'pg', 'postmaster.pid');
  if (fs.existsSync(pidFile)) {
    const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
    let cmdline = '';
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      // not running
    }
    if (Number.isInteger(pid) && pid > 0 && cmdline.includes('postgres') && cmdline.includes(dir)) {
      console.log(`stopping PostgreSQL (pid ${pid}) left by an earlier benchmark run`);
      process.kill(pid, 'SIGINT');
      const deadline = Date.now() + 15_000;
      while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
}

function runLoad(options: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(import.meta.dirname, 'load.ts'), JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
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

/** Sign in through the API as a staff user; the emailed 2FA code is read from the notifications outbox (owner connection). */
async function signIn(baseUrl: string, owner: DatabaseHandle, email: string, password: string): Promise<string> {
  const post = (url: string, body: unknown) =>
    fetch(`${baseUrl}${url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  let res = await post('/api/v1/auth/login', { email, password });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { status: string; challengeId?: string };
  if (body.status === 'two_factor_required') {
    const mail = await owner.db
      .selectFrom('notifications')
      .select('subject')
      .where('toEmail', '=', email)
      .where('kind', '=', 'two_factor_code')
      .orderBy('createdAt', 'desc')
      .executeTakeFirst();
    const code = /\b(\d{6})\b/.exec(mail?.subject ?? '')?.[1];
    if (!code) throw new Error(`no sign-in code found for ${email}`);
    res = await post('/api/v1/auth/login/verify', { challengeId: body.challengeId, code });
    if (res.status !== 200) throw new Error(`2FA failed: ${res.status} ${await res.text()}`);
  }
  const cookie = res.headers.getSetCookie()[0]?.split(';')[0];
  if (!cookie) throw new Error('no session cookie');
  return cookie;
}

function peakRssFromProc(): number {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb * 1024;
}

async function main(): Promise<void> {
  const dataDir = path.join(os.tmpdir(), `folio-bench-${pgPort}`);
  let embedded: EmbeddedDatabase | null = null;
  let owner: DatabaseHandle | null = null;
  let appDb: DatabaseHandle | null = null;
  let server: FolioApp | null = null;
  const cleanup = async () => {
    await server?.close();
    await appDb?.close();
    await owner?.close();
    await embedded?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    console.log('\ninterrupted: cleaning up');
    void cleanup().finally(() => process.exit(130));
  });

  try {
    const bootStarted = Date.now();
    await freshDataDir(dataDir);
    embedded = await startEmbeddedPostgres({ dataDir, port: pgPort, log: () => {} });
    owner = openDatabase(embedded.url, { appRole: false, max: 5 });
    await migrateToLatest(owner);
    const config = { ...loadConfig({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' }) };
    await seedDemo(owner.db, config.demoPassword);
    appDb = openDatabase(embedded.url, { appRole: true, max: 20 });
    const log = pino({ level: config.logLevel, base: { service: 'folio' } }, pino.destination({ dest: '/dev/null', sync: false }));
    server = await buildServer({ config, db: appDb.db, log });
    await server.listen({ host: '127.0.0.1', port: 0 });
    const address = server.server.address();
    if (!address || typeof address === 'string') throw new Error('server has no TCP address');
    const baseUrl = `http://127.0.0.1:${address.port}`;
    const pgVersion = await sql<{ v: string }>`select current_setting('server_version') as v`.execute(owner.db);
    console.log(`Folio on ${baseUrl}, PostgreSQL ${pgVersion.rows[0]?.v} on port ${pgPort}; ready in ${((Date.now() - bootStarted) / 1000).toFixed(1)} s`);

    const cookie = await signIn(baseUrl, owner, STAFF_EMAIL, config.demoPassword);
    const scenarios: Scenario[] = [
      { name: 'healthz', description: 'GET /healthz (one database round trip)', expectStatus: 200, load: { method: 'GET', requests: [{ path: '/healthz' }] } },
      {
        name: 'session',
        description: `GET /api/v1/auth/session signed in as ${STAFF_EMAIL} (cookie lookup + session view)`,
        expectStatus: 200,
        load: { method: 'GET', headers: { cookie }, requests: [{ path: '/api/v1/auth/session' }] },
      },
      {
        name: 'password-reset',
        description: `POST /api/v1/auth/password-reset, alternating ${KNOWN_EMAIL} (token + outbox row + job + audit event) and unknown emails (lookup only)`,
        expectStatus: 202,
        load: {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          idReplacement: true,
          requests: [
            { path: '/api/v1/auth/password-reset', body: JSON.stringify({ email: KNOWN_EMAIL }) },
            { path: '/api/v1/auth/password-reset', body: JSON.stringify({ email: 'nobody-[<id>]@bench.test' }) },
          ],
        },
      },
    ];
    const db = owner.db;
    const countRows = async () => {
      const r = await sql<{ audit: string; notifications: string; jobs: string }>`
        select (select count(*) from audit_events) as audit, (select count(*) from notifications) as notifications,
               (select count(*) from graphile_worker.jobs) as jobs`.execute(db);
      const row = r.rows[0]!;
      return { auditEvents: Number(row.audit), notifications: Number(row.notifications), jobs: Number(row.jobs) };
    };
    const rssAfterBoot = process.memoryUsage.rss();
    const loadBefore = os.loadavg()[0]!;
    const only = args.only?.split(',');
    const results: ScenarioResult[] = [];
    for (const s of scenarios.filter((x) => !only || only.includes(x.name))) {
      const target = { ...s.load, url: baseUrl };
      if (warmup > 0) await runLoad({ ...target, connections: Math.min(10, connections), duration: warmup });
      const rowsBefore = await countRows();
      let peak = process.memoryUsage.rss();
      let peakHeap = process.memoryUsage().heapUsed;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage.rss());
        peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
      }, 50);
      process.stdout.write(`${s.name}: ${connections} connections for ${duration} s ... `);
      const r = await runLoad({ ...target, connections, duration });
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage.rss());
      const rowsAfter = await countRows();
      const statusCodes = Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([code, v]) => [code, Number(v.count)]));
      const total = Object.values(statusCodes).reduce((a, b) => a + b, 0);
      const result: ScenarioResult = {
        name: s.name,
        description: s.description,
        connections,
        durationSeconds: r.duration,
        requests: total,
        requestsPerSecond: Math.round(r.requests.average),
        latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max, average: Math.round(r.latency.average * 100) / 100 },
        errors: r.errors,
        timeouts: r.timeouts,
        unexpectedStatus: total - (statusCodes[String(s.expectStatus)] ?? 0),
        statusCodes,
        peakRssMb: mb(peak),
        peakHeapUsedMb: mb(peakHeap),
        rowsWritten: {
          auditEvents: rowsAfter.auditEvents - rowsBefore.auditEvents,
          notifications: rowsAfter.notifications - rowsBefore.notifications,
          jobs: rowsAfter.jobs - rowsBefore.jobs,
        },
      };
      results.push(result);
      console.log(`${result.requestsPerSecond} req/s`);
    }

    const report = {
      measuredAt: new Date().toISOString(),
      machine: {
        loadAverage1mBefore: Math.round(loadBefore * 100) / 100,
        loadAverage1mAfter: Math.round(os.loadavg()[0]! * 100) / 100,
        cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memoryGb: Math.round(os.totalmem() / 2 ** 30), platform: `${os.platform()} ${os.release()}`,
      },
      node: process.version,
      postgres: pgVersion.rows[0]?.v ?? 'unknown',
      settings: { connections, durationSeconds: duration, warmupSeconds: warmup, logLevel: config.logLevel, worker: 'not running (API process only)', loadGenerator: 'autocannon 9 in a child process on the same machine' },
      scenarios: results,
      rssAfterBootMb: mb(rssAfterBoot),
      peakRssMb: mb(peakRssFromProc()),
    };
    fs.writeFileSync(args.out, JSON.stringify(report, null, 2) + '\n');

    console.log('');
    console.log(
      [
        ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'bad status', 'peak RSS MB', 'peak heap MB', 'audit rows'],
        ...results.map((r) => [
          r.name, String(r.requestsPerSecond), String(r.latencyMs.p50), String(r.latencyMs.p99), String(r.errors + r.timeouts), String(r.unexpectedStatus),
          String(r.peakRssMb), String(r.peakHeapUsedMb), String(r.rowsWritten.auditEvents),
        ]),
      ]
        .map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(16) : cell.padStart(14))).join(''))
        .join('\n'),
    );
    console.log(`\nserver process RSS after boot ${report.rssAfterBootMb} MB, peak (VmHWM) ${report.peakRssMb} MB; Node ${report.node}; PostgreSQL ${report.postgres}; ${report.machine.cpus} CPUs, load average ${report.machine.loadAverage1mBefore} before, ${report.machine.loadAverage1mAfter} after`);
    console.log(`written to ${path.relative(process.cwd(), args.out)}`);
  } finally {
    await cleanup();
  }
}

await main();
