import { afterEach, describe, expect, it, vi } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { asyncLogDestination } from './log-destination.ts';

const dirs: string[] = [];
function logFile(): { file: string; fd: number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-log-'));
  dirs.push(dir);
  const file = path.join(dir, 'out.log');
  return { file, fd: fs.openSync(file, 'a') };
}
/** The file's complete lines: one read while the thread pool writes a batch may end inside a line, left for the next read. */
const lines = (file: string) => {
  const text = fs.readFileSync(file, 'utf8');
  return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
};
/** The file's lines once `done` holds for them (written from the thread pool: not at once), or after 5 s whatever they are. */
async function linesWhen(file: string, done: (written: Array<Record<string, unknown>>) => boolean) {
  for (let waitedMs = 0; waitedMs < 5_000; waitedMs += 10) {
    const written = lines(file);
    if (done(written)) return written;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return lines(file);
}

afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the log written asynchronously', () => {
  it('writes every line, in order, without the caller waiting for the write', async () => {
    const { file, fd } = logFile();
    const destination = asyncLogDestination({ fd });
    const log = pino({ base: null }, destination);
    for (let i = 0; i < 2_000; i++) log.info({ i }, 'request completed');
    // Written from the thread pool: a burst is not all in the file yet when the loop that logged it ends.
    expect(lines(file).length).toBeLessThan(2_000);
    const written = await linesWhen(file, (w) => w.length >= 2_000);
    expect(written).toHaveLength(2_000);
    expect(written.map((l) => l.i)).toEqual(Array.from({ length: 2_000 }, (_, i) => i));
    expect(written[0]).toMatchObject({ level: 30, msg: 'request completed' });
    destination.end();
  });

  it('writes a burst in batches of its size, not a write per line', async () => {
    const { file, fd } = logFile();
    const writes = vi.spyOn(fs, 'write');
    try {
      // No timer flush during the burst (a slow machine could see one tick and write a partial batch); the end writes the rest.
      const destination = asyncLogDestination({ fd, batchBytes: 8_192, flushEveryMs: 60_000 });
      const log = pino({ base: null }, destination);
      for (let i = 0; i < 2_000; i++) {
        log.info({ i }, 'request completed');
        // Lines come a few at a time, as requests are answered, with the event loop turning between them.
        if (i % 10 === 9) await new Promise((resolve) => setImmediate(resolve));
      }
      const closed = new Promise((resolve) => destination.once('close', resolve));
      destination.end();
      await closed;
      const written = lines(file);
      expect(written.map((l) => l.i)).toEqual(Array.from({ length: 2_000 }, (_, i) => i));
      const bytes = fs.statSync(file).size;
      // ~100 KB in writes of at least 8 KB (the last one aside): a dozen or so, where a write per line made ~2,000.
      expect(writes.mock.calls.length).toBeLessThanOrEqual(Math.ceil(bytes / 8_192) + 1);
      expect(writes.mock.calls.length).toBeGreaterThan(1);
    } finally {
      writes.mockRestore();
    }
  });

  it('writes a lone line within its flush interval, though its batch is not full', async () => {
    const { file, fd } = logFile();
    const destination = asyncLogDestination({ fd, batchBytes: 8_192, flushEveryMs: 50 });
    const log = pino({ base: null }, destination);
    log.info({ alone: true }, 'quiet server');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(lines(file)).toEqual([]);
    const written = await linesWhen(file, (w) => w.length === 1);
    expect(written).toEqual([expect.objectContaining({ alone: true, msg: 'quiet server' })]);
    destination.end();
  });

  it('writes what it holds when it ends', async () => {
    const { file, fd } = logFile();
    const destination = asyncLogDestination({ fd, batchBytes: 8_192, flushEveryMs: 60_000 });
    const log = pino({ base: null }, destination);
    for (let i = 0; i < 3; i++) log.info({ i }, 'last words');
    const closed = new Promise((resolve) => destination.once('close', resolve));
    destination.end();
    await closed;
    expect(lines(file).map((l) => l.i)).toEqual([0, 1, 2]);
  });

  it('keeps at most its buffer: lines beyond it are dropped, and a line says how many', async () => {
    const { file, fd } = logFile();
    const destination = asyncLogDestination({ fd, maxLengthBytes: 4_096, reportEveryMs: 20, batchBytes: 1_024 });
    const log = pino({ base: null }, destination);
    const sent = 500;
    for (let i = 0; i < sent; i++) log.info({ i, padding: 'x'.repeat(100) }, 'a long line');
    const written = await linesWhen(file, (w) => w.some((l) => typeof l.dropped === 'number'));
    const reports = written.filter((l) => l.msg === 'log lines dropped: the log output did not keep up');
    const kept = written.filter((l) => l.msg === 'a long line');
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ level: 40, service: 'folio' });
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length + (reports[0]!.dropped as number)).toBe(sent);
    // The lines kept are the first ones, in order.
    expect(kept.map((l) => l.i)).toEqual(Array.from({ length: kept.length }, (_, i) => i));
    destination.end();
  });

  it('keeps the count of a report that did not fit either: the next report says how many in all', async () => {
    const { file, fd } = logFile();
    const destination = asyncLogDestination({ fd, maxLengthBytes: 4_096, reportEveryMs: 20, batchBytes: 1_024 });
    const log = pino({ base: null }, destination);
    const sent = 500;
    // A busy event loop (a loaded machine): the first report comes due before the first write has been taken back,
    // while the buffer is still full, and is dropped itself. Logged from the check phase (setImmediate), so that the
    // event loop's timers (the report) run before its I/O callbacks (the write taken back), as on a loaded server.
    await new Promise<void>((resolve) => setImmediate(() => {
      for (let i = 0; i < sent; i++) log.info({ i, padding: 'x'.repeat(100) }, 'a long line');
      for (const until = Date.now() + 60; Date.now() < until;);
      resolve();
    }));
    const written = await linesWhen(file, (w) => w.some((l) => typeof l.dropped === 'number'));
    const reports = written.filter((l) => l.msg === 'log lines dropped: the log output did not keep up');
    const kept = written.filter((l) => l.msg === 'a long line');
    expect(reports).toHaveLength(1);
    expect(kept.length + (reports[0]!.dropped as number)).toBe(sent);
    destination.end();
  });
});
