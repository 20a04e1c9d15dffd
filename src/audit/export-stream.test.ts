import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../test/harness.ts';
import { systemClock } from '../platform/clock.ts';
import type { Ctx } from '../platform/context.ts';
import { sha256Hex } from '../platform/crypto.ts';
import { newId } from '../platform/ids.ts';
import { appendBackdatedEvents } from './backdated-chain.ts';
import { CSV_BATCH_SIZE, exportAuditEventsCsv } from './export-audit-events-csv.ts';

/**
 * The export streams: the route answers a stream that the server fills batch by batch (never the whole result in
 * memory), here with a few thousand events of a partner of their own; `bench/audit.ts` measures the server's memory on a
 * full-size trail.
 */
const EVENTS = 2500;
let t: TestApp;
let partnerId: string;
const token = `fk_${'e'.repeat(40)}`;

beforeAll(async () => {
  t = await createTestApp();
  partnerId = newId('ptn');
  const owner = t.db.owner.db;
  await owner.insertInto('partners').values({ id: partnerId, name: 'Export Partner', slug: 'export-partner', defaultCurrency: 'SGD', status: 'active' }).execute();
  await owner.insertInto('partnerSettings').values({ partnerId, updatedAt: new Date() }).execute();
  await appendBackdatedEvents(owner, { partnerId, count: EVENTS, startAt: new Date(Date.now() - 10 * 86_400_000), stepSeconds: 60 });
  await owner.insertInto('apiKeys').values({
    id: newId('key'), partnerId, name: 'Exporter', tokenPrefix: token.slice(0, 10), tokenHash: sha256Hex(token), apps: ['audit'], createdBy: null,
  } as never).execute();
});
afterAll(async () => t.close());

describe('the CSV export', () => {
  it('is a stream, filled batch by batch, of every event', async () => {
    const res = await t.app.inject({
      method: 'GET', url: '/api/v1/audit-events/export.csv', headers: { authorization: `Bearer ${token}` }, payloadAsStream: true,
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    const stream = res.stream();
    let chunks = 0;
    let lines = 0;
    let largest = 0;
    for await (const chunk of stream) {
      const text = String(chunk);
      chunks += 1;
      const chunkLines = text.split('\r\n').length - 1;
      largest = Math.max(largest, chunkLines);
      lines += chunkLines;
    }
    expect(lines).toBe(EVENTS + 1);
    // One chunk per batch (and the header): the largest holds one batch of rows, not the whole export.
    expect(chunks).toBeGreaterThanOrEqual(Math.ceil(EVENTS / CSV_BATCH_SIZE) + 1);
    expect(largest).toBeLessThanOrEqual(CSV_BATCH_SIZE);
  }, 60_000);

  it('hands the events over in batches of the batch size, in order', async () => {
    const ctx: Ctx = {
      db: t.db.app.db, config: t.config, log: t.app.log, clock: systemClock, requestId: null, ip: null, userAgent: null,
      principal: { kind: 'api_key', keyId: 'key_x', partnerId, name: 'x', apps: new Set(['audit']) },
    };
    const sizes: number[] = [];
    for await (const chunk of await exportAuditEventsCsv(ctx, { batchSize: 1000 })) sizes.push(chunk.split('\r\n').length - 1);
    expect(sizes).toEqual([1, 1000, 1000, 500]);
  }, 60_000);
});
