import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { EMBEDDED_GLIBC_TUNABLES, postgresGlibcTunables, socketDirFor, startEmbeddedPostgres } from './embedded-postgres.ts';
import { freePortAboveEphemeral } from '../test/free-port.ts';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-kill-'));
fs.chmodSync(dataDir, 0o755);
// The servers these tests start run while other test files hold connections: their ports are above the ephemeral range.
const port = await freePortAboveEphemeral();

afterAll(() => {
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('embedded PostgreSQL', () => {
  it('listens on a Unix socket in its data directory only when the path fits and is plain', () => {
    expect(socketDirFor('/tmp/folio-x/pg', 54330)).toBe('/tmp/folio-x/pg');
    expect(socketDirFor(`/tmp/${'d'.repeat(90)}/pg`, 54330)).toBeNull(); // over the kernel's 108 bytes with the socket's name
    expect(socketDirFor('/tmp/a,b/pg', 54330)).toBeNull(); // unix_socket_directories is a comma-separated list
    expect(socketDirFor('/tmp/a b/pg', 54330)).toBeNull();
  });

  it("gives the server glibc's allocator settings unless the operator set their own", () => {
    expect(postgresGlibcTunables(undefined)).toBe(EMBEDDED_GLIBC_TUNABLES);
    expect(postgresGlibcTunables('')).toBe(EMBEDDED_GLIBC_TUNABLES);
    expect(postgresGlibcTunables('glibc.malloc.arena_max=2')).toBe('glibc.malloc.arena_max=2');
    expect(EMBEDDED_GLIBC_TUNABLES).toMatch(/^glibc\.malloc\.mmap_threshold=\d+:glibc\.malloc\.trim_threshold=\d+$/);
  });

  it('starts again after the previous run was killed with SIGKILL, leaving an orphaned server', async () => {
    const child = spawn(process.execPath, [path.join(import.meta.dirname, 'testdata/start-embedded.ts'), dataDir, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`fixture exited with ${code}`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const orphanPid = Number(fs.readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
    expect(isAlive(orphanPid)).toBe(true);

    const tunablesBefore = process.env.GLIBC_TUNABLES;
    const db = await startEmbeddedPostgres({ dataDir, port, log: () => {} });
    try {
      const client = new pg.Client(db.url);
      await client.connect();
      const res = await client.query<{ one: number; addr: string | null }>('select 1 as one, inet_client_addr()::text as addr');
      expect(res.rows[0]?.one).toBe(1);
      // The app's URL goes over the Unix socket in the data directory (no client address); tools still reach 127.0.0.1.
      expect(db.url).toContain(`host=${encodeURIComponent(path.join(dataDir, 'pg'))}`);
      expect(res.rows[0]?.addr).toBeNull();
      // The server's processes run with the allocator settings (ADR 0028); this process's environment is as it was.
      // The postmaster's (a backend writes its status over the memory that /proc shows as its environment). glibc
      // ends each setting with a NUL in place as it reads them at start, so /proc shows the first one only.
      const postmasterPid = Number(fs.readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
      const tunables = fs.readFileSync(`/proc/${postmasterPid}/environ`, 'utf8').split('\0').find((e) => e.startsWith('GLIBC_TUNABLES='));
      expect(tunables).toMatch(/^GLIBC_TUNABLES=glibc\.[a-z_.]+=\w+/);
      expect(postgresGlibcTunables(tunablesBefore).startsWith(tunables!.slice('GLIBC_TUNABLES='.length))).toBe(true);
      expect(process.env.GLIBC_TUNABLES).toBe(tunablesBefore);
      await client.end();
      const tcp = new pg.Client(db.url.replace(/@localhost:/, '@127.0.0.1:').replace(/\?host=.*$/, ''));
      await tcp.connect();
      expect((await tcp.query<{ addr: string | null }>('select inet_client_addr()::text as addr')).rows[0]?.addr).toBe('127.0.0.1/32');
      await tcp.end();
      expect(isAlive(orphanPid)).toBe(false);
    } finally {
      await db.stop();
    }
    // PostgreSQL's own messages are kept in the data directory: both starts (the killed one's too), and the stop (its
    // last line may follow the server's exit by a moment).
    const readLog = () => fs.readFileSync(path.join(dataDir, 'postgresql.log'), 'utf8');
    for (let waitedMs = 0; !/database system is shut down/.test(readLog()) && waitedMs < 900; waitedMs += 50) await new Promise((r) => setTimeout(r, 50));
    const pgLog = readLog();
    expect(pgLog.match(/database system is ready to accept connections/g)).toHaveLength(2);
    expect(pgLog).toMatch(/database system is shut down/);
    expect(fs.statSync(path.join(dataDir, 'postgresql.log')).mode & 0o777).toBe(0o600);
  }, 60_000);

  it('on SIGTERM a process that stops the server itself keeps it until then: its last query works, its pool closes without errors', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-term-'));
    fs.chmodSync(dir, 0o755);
    const child = spawn(process.execPath, [path.join(import.meta.dirname, 'testdata/graceful-embedded.ts'), dir, String(await freePortAboveEphemeral())], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('ready')) resolve();
        });
        child.on('exit', (code) => reject(new Error(`fixture exited with ${code}`)));
      });
      const serverPid = Number(fs.readFileSync(path.join(dir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).toContain('query during shutdown: 1');
      expect(out).toContain('stopped; pool errors: 0');
      expect(isAlive(serverPid)).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('a second Folio process (npm run migrate, audit:verify) uses the running server and never stops it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-shared-'));
    fs.chmodSync(dir, 0o755);
    const sharedPort = await freePortAboveEphemeral();
    const owner = spawn(process.execPath, [path.join(import.meta.dirname, 'testdata/start-embedded.ts'), dir, String(sharedPort)], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        owner.stdout.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('ready')) resolve();
        });
        owner.on('exit', (code) => reject(new Error(`fixture exited with ${code}`)));
      });
      const serverPid = Number(fs.readFileSync(path.join(dir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
      const env: NodeJS.ProcessEnv = { ...process.env, FOLIO_DATA_DIR: dir, FOLIO_PG_PORT: '1025', LOG_LEVEL: 'silent' };
      delete env.DATABASE_URL;
      await promisify(execFile)(process.execPath, ['src/platform/migrate-cli.ts'], { env, timeout: 30_000 });
      const verify = await promisify(execFile)(process.execPath, ['src/audit/verify-cli.ts'], { env, timeout: 30_000 });
      expect(verify.stdout).toContain('audit trail intact');
      expect(isAlive(serverPid)).toBe(true);
    } finally {
      // The fixture may have exited already (its server could not start): then there is no exit to wait for, and the
      // test reports why it failed instead of hanging here until its timeout.
      if (owner.exitCode === null && owner.signalCode === null) {
        const ownerExited = new Promise((r) => owner.once('exit', r));
        owner.kill('SIGKILL');
        await ownerExited;
      }
      const pidFile = path.join(dir, 'pg', 'postmaster.pid');
      const leftover = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]) : 0;
      if (leftover > 0 && isAlive(leftover)) process.kill(leftover, 'SIGINT');
      for (let waitedMs = 0; leftover > 0 && isAlive(leftover) && waitedMs < 30_000; waitedMs += 50) await new Promise((r) => setTimeout(r, 50));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
