import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../../test/harness.ts';

// Migration 0080: ANALYZE samples the audit trail without computing its search keys (an expression index's statistics).

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

describe('migration 0080: the audit search keys are not sampled by ANALYZE', () => {
  it('analyzes the trail, keeps no statistics of the keys, and the keys still serve a search', async () => {
    const o = t.db.owner.db;
    await sql`analyze audit_events`.execute(o);
    const stats = async (relation: string) =>
      Number((await sql<{ n: string }>`select count(*)::text as n from pg_statistic where starelid = ${relation}::regclass`.execute(o)).rows[0]!.n);
    expect(await stats('audit_events')).toBeGreaterThan(0);
    expect(await stats('audit_events_search_keys')).toBe(0);
    const target = (await sql<{ target: number | null }>`
      select a.attstattarget as target from pg_attribute a where a.attrelid = 'audit_events_search_keys'::regclass and a.attnum = 1`.execute(o)).rows[0]!;
    expect(target.target).toBe(0);

    // A search by a word of the seeded trail still goes through the keys and finds its events.
    const [event] = (await sql<{ partnerId: string; action: string }>`
      select partner_id as "partnerId", action from audit_events where partner_id is not null order by seq limit 1`.execute(o)).rows;
    const found = await sql<{ id: string }>`select s as id from audit_search(${event!.partnerId}, ${`%${event!.action}%`}) s`.execute(o);
    expect(found.rows.length).toBeGreaterThan(0);
  });
});
