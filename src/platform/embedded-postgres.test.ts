import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startEmbeddedPostgres } from './embedded-postgres.ts';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-kill-'));
fs.chmodSync(dataDir, 0o755);
const port = 54390 + Math.floor(Math.random() * 9);

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

    const db = await startEmbeddedPostgres({ dataDir, port, log: () => {} });
    try {
      const client = new pg.Client(db.url);
      await client.connect();
      const res = await client.query<{ one: number }>('select 1 as one');
      expect(res.rows[0]?.one).toBe(1);
      await client.end();
      expect(isAlive(orphanPid)).toBe(false);
    } finally {
      await db.stop();
    }
  }, 60_000);

  it('a second Folio process (npm run migrate, audit:verify) uses the running server and never stops it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-shared-'));
    fs.chmodSync(dir, 0o755);
    const sharedPort = port + 10;
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
      await promisify(execFile)(process.execPath, ['src/platform/migrate-cli.ts'], { env });
      const verify = await promisify(execFile)(process.execPath, ['src/audit/verify-cli.ts'], { env });
      expect(verify.stdout).toContain('audit trail intact');
      expect(isAlive(serverPid)).toBe(true);
    } finally {
      owner.kill('SIGKILL');
      await new Promise((r) => owner.once('exit', r));
      const leftover = Number(fs.readFileSync(path.join(dir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
      if (isAlive(leftover)) process.kill(leftover, 'SIGINT');
      while (isAlive(leftover)) await new Promise((r) => setTimeout(r, 50));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
