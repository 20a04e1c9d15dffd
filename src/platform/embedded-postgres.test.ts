import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
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
});
