import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createTestDb, inRolledBackOwner, partnerIdOf, type TestDb } from '../test/harness.ts';

// At commit, `audit_event_queue_seal()` moves a transaction's queued audit events into the trail (migrations 0041,
// 0042). The queue is an unlogged table whose rows live only inside their own transaction, so its pages are mostly dead
// rows; planned while it looked small, the move read every one of them on each commit. Migration 0058 keeps the
// function on the queue's key. These tests read the plans PostgreSQL runs inside the trigger (auto_explain, sent to
// this client as notices) after the queue has been filled and emptied, and check what the move writes.
let db: TestDb;
let partnerId: string;

beforeAll(async () => {
  db = await createTestDb();
  partnerId = await partnerIdOf(db, 'demo-telecom');
});
afterAll(async () => db.drop());

const inRolledBack = <T>(work: (client: pg.Client, notices: string[]) => Promise<T>) => inRolledBackOwner(db, work);

/** The queue's pages as a busy server leaves them: written and emptied by many transactions (no trigger fired here). */
async function usedQueue(client: pg.Client, rows: number): Promise<void> {
  await client.query('set local session_replication_role = replica');
  await client.query(`
    insert into audit_event_queue (id, partner_id, actor_type, app, action, target_type, changes)
      select 'evt_gone_' || i, $1, 'system', 'usage', 'usage.calls_ingested', 'call_batch',
             jsonb_build_object('requestIds', jsonb_build_object('after', (select jsonb_agg(md5(i::text || j)) from generate_series(1, 16) j)))
        from generate_series(1, $2::int) i`, [partnerId, rows]);
  await client.query('delete from audit_event_queue');
  await client.query('set local session_replication_role = origin');
}

/** Queue one event as `recordAudit` does in an inScope transaction; its seal trigger waits for the commit. */
async function queueEvent(client: pg.Client, id: string): Promise<void> {
  await client.query(`
    insert into audit_event_queue (id, partner_id, actor_type, app, action, target_type, target_id, changes)
      values ($1, $2, 'system', 'usage', 'usage.calls_ingested', 'call_batch', 'cbt_seal_test', '{"records":{"after":1}}')`, [id, partnerId]);
}

/** Fire the transaction's deferred seal triggers now, with the plans of every statement they run sent as notices. */
async function sealExplained(client: pg.Client): Promise<void> {
  await client.query(`load 'auto_explain'`);
  await client.query('set local auto_explain.log_min_duration = 0');
  await client.query('set local auto_explain.log_nested_statements = on');
  await client.query('set local auto_explain.log_level = notice');
  await client.query('set constraints audit_event_queue_seal immediate');
  await client.query('set local auto_explain.log_min_duration = -1');
}

describe('queued audit events at commit', () => {
  for (const deadRows of [300, 800, 3_000]) {
    it(`moves the transaction's events by the queue's key after ${deadRows} rows came and went, never reading the whole queue`, async () => {
      await inRolledBack(async (client, notices) => {
        await usedQueue(client, deadRows);
        await queueEvent(client, 'evt_seal_1');
        await queueEvent(client, 'evt_seal_2');
        await sealExplained(client);

        const queuePlans = notices.filter((n) => n.includes('on audit_event_queue'));
        expect(queuePlans.length).toBeGreaterThan(0);
        expect(queuePlans.filter((p) => /Seq Scan on audit_event_queue/.test(p))).toEqual([]);
        // Both events joined the trail, in the order queued, and left the queue.
        const { rows } = await client.query<{ id: string; seq: string }>(
          `select id, seq::text from audit_events where id in ('evt_seal_1', 'evt_seal_2') order by seq`);
        expect(rows.map((r) => r.id)).toEqual(['evt_seal_1', 'evt_seal_2']);
        expect(Number(rows[1]!.seq)).toBe(Number(rows[0]!.seq) + 1);
        expect((await client.query('select count(*)::int as n from audit_event_queue')).rows[0].n).toBe(0);
      });
    });
  }
});
