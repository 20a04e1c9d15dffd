import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sql } from 'kysely';
import pino from 'pino';
import { Writable } from 'node:stream';
import { createTestDb, type TestDb } from '../test/harness.ts';
import { inScope } from '../platform/database.ts';
import { newId } from '../platform/ids.ts';
import { recordAudits } from './record-audit.ts';
import { mergeAuditKeysPendingList, startAuditKeysUpkeep } from './audit-keys-upkeep.ts';

// The audit search keys' pending list (migration 0049): new events wait there, searches find them there, and the
// worker's loop merges the list into the index.

let db: TestDb;
let partnerId: string;

beforeAll(async () => {
  db = await createTestDb();
  partnerId = (await db.owner.db.selectFrom('partners').select('id').where('slug', '=', 'demo-telecom').executeTakeFirstOrThrow()).id;
});
afterAll(async () => {
  await db.drop();
});

/** Events as a staff change records them, each naming `word`; the ids, in order. */
async function recordEvents(word: string, count: number): Promise<string[]> {
  const ctx = {
    principal: { kind: 'staff' as const, userId: 'usr_keys', partnerId, email: 'keys@demo.test', name: 'Keys', apps: new Set(['customer' as const]), sessionId: 'ses_keys' },
    requestId: newId('req'), ip: null, userAgent: null,
  };
  return inScope(db.app.db, { kind: 'partner', partnerId }, (trx) => recordAudits(trx, Array.from({ length: count }, (_, i) => ({
    ctx, input: { app: 'customer', action: 'customer.updated', targetType: 'customer', targetId: `cus_${i}`, changes: { note: { after: `${word} ${i}` } } },
  }))));
}

/** The events the search keys' index finds for `word`, with the expression the searches use (the index only: no sequential or plain index scan allowed). */
async function foundByKeys(word: string): Promise<string[]> {
  return db.owner.db.transaction().execute(async (trx) => {
    await sql`set local enable_seqscan = off`.execute(trx);
    await sql`set local enable_indexscan = off`.execute(trx);
    const pattern = `%${word}%`;
    const plan = (await sql<{ 'QUERY PLAN': string }>`explain select id from audit_events
      where coalesce(search_keys, audit_search_keys(partner_id, search_text)) @> audit_search_keys(${partnerId}, ${pattern}) and search_text like ${pattern}`.execute(trx)).rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(plan).toContain('audit_events_search_keys');
    const { rows } = await sql<{ id: string }>`select id from audit_events
      where coalesce(search_keys, audit_search_keys(partner_id, search_text)) @> audit_search_keys(${partnerId}, ${pattern}) and search_text like ${pattern} order by seq`.execute(trx);
    return rows.map((r) => r.id);
  });
}

describe('the audit search keys upkeep', () => {
  it('keeps new events in the pending list until merged; searches find them before and after', async () => {
    const options = (await sql<{ reloptions: string[] | null }>`select reloptions from pg_class where relname = 'audit_events_search_keys'`.execute(db.owner.db)).rows[0];
    expect(options?.reloptions).toContain('gin_pending_list_limit=16384');
    await mergeAuditKeysPendingList(db.owner.db);

    const ids = await recordEvents('quokkaberry', 25);
    expect(await foundByKeys('quokkaberry')).toEqual(ids);
    // The inserts appended to the list and left it there: the merge empties it, once.
    expect(await mergeAuditKeysPendingList(db.owner.db)).toBeGreaterThan(0);
    expect(await mergeAuditKeysPendingList(db.owner.db)).toBe(0);
    expect(await foundByKeys('quokkaberry')).toEqual(ids);
    expect(await foundByKeys('quokkaberry 7')).toEqual([ids[7]]);
    expect(await foundByKeys('noevent')).toEqual([]);
  });

  it('the worker loop merges the list every round and stops cleanly', async () => {
    await mergeAuditKeysPendingList(db.owner.db);
    const lines: Array<{ msg: string; pages?: number }> = [];
    const log = pino({ level: 'debug' }, new Writable({ write(chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString()) as { msg: string }); done(); } }));
    const loop = startAuditKeysUpkeep({ owner: db.owner.db, log }, 20);
    try {
      const ids = await recordEvents('wallabyfig', 5);
      await vi.waitFor(() => expect(lines.some((l) => l.msg === 'audit search keys merged into their index' && (l.pages ?? 0) > 0)).toBe(true), { timeout: 5_000, interval: 20 });
      expect(await foundByKeys('wallabyfig')).toEqual(ids);
    } finally {
      await loop.stop();
    }
    // Stopped: nothing merges a newer event's keys any more.
    await recordEvents('numbatplum', 5);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await mergeAuditKeysPendingList(db.owner.db)).toBeGreaterThan(0);
    expect(lines.filter((l) => l.msg.includes('failed'))).toEqual([]);
  });
});
