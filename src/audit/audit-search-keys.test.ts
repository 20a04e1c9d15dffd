import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import pino from 'pino';
import { createTestApp, type TestApp } from '../test/harness.ts';
import { systemClock } from '../platform/clock.ts';
import type { Ctx } from '../platform/context.ts';
import { newId } from '../platform/ids.ts';
import { listAuditEvents } from './list-audit-events.ts';
import { countAuditEvents } from './count-audit-events.ts';
import { likeLiteral } from './audit-view.ts';

/**
 * Free text beyond the newest window (migration 0038): a partner with more events than the window (1,000) whose
 * matching events are OLD, so the search must go to the per-partner trigram keys (or, for text without three letters
 * or digits in a row, the time-ordered scan). Every answer is compared with a plain LIKE over the partner's events.
 */
const FILLER = 1_200;
const SPECIAL = [
  'Invoice INV-2024-000123 issued to Jürgen Müller GmbH',
  'Refund of 50%_off voucher; see ticket #A7',
  'Contact: billing@straße-example.test (Zoë), tel +65 6123 4567',
  'Renamed "North Wind" to Northwind\\Asia',
  'zq',
  '日本語のテキスト and ascii tail xyz',
];
let t: TestApp;
let partnerId: string;
let otherPartnerId: string;

function ctxOf(partner: string): Ctx {
  return {
    db: t.db.app.db, config: t.config, log: pino({ level: 'silent' }), clock: systemClock, requestId: null, ip: null, userAgent: null,
    principal: { kind: 'staff', userId: 'usr_search', partnerId: partner, email: 'a@b.test', name: 'Search', apps: new Set(['audit']), sessionId: 'ses_search' },
  };
}

/** Events straight into the table (replica role: no chain), old specials first, then newer filler. */
async function seed(partner: string, specials: readonly string[], filler: number): Promise<void> {
  const owner = t.db.owner.db;
  await owner.insertInto('partners').values({ id: partner, name: `Search ${partner}`, slug: partner.replace('_', '-'), defaultCurrency: 'SGD', status: 'active' }).execute();
  await owner.connection().execute(async (conn) => {
    await sql`set session_replication_role = replica`.execute(conn);
    try {
      await sql`insert into audit_events (id, partner_id, seq, occurred_at, actor_type, actor_label, app, action, target_type, changes, prev_hash, hash, auth_method)
        select ${partner} || '_s' || i, ${partner}, i, now() - interval '30 days' + i * interval '1 minute', 'system', 'seed', 'customer', 'customer.updated',
          'customer', jsonb_build_object('note', jsonb_build_object('after', (${specials}::text[])[i])), repeat('0', 64), repeat('0', 64), 'system'
        from generate_series(1, ${specials.length}::int) i`.execute(conn);
      await sql`insert into audit_events (id, partner_id, seq, occurred_at, actor_type, actor_label, app, action, target_type, changes, prev_hash, hash, auth_method)
        select ${partner} || '_f' || i, ${partner}, 100 + i, now() - interval '10 days' + i * interval '1 second', 'system', 'seed', 'customer', 'customer.updated',
          'customer', jsonb_build_object('n', jsonb_build_object('after', 'filler ' || i)), repeat('0', 64), repeat('0', 64), 'system'
        from generate_series(1, ${filler}::int) i`.execute(conn);
    } finally {
      await sql`set session_replication_role = origin`.execute(conn);
    }
  });
  await sql`analyze audit_events`.execute(owner);
}

/** What a plain LIKE over the partner's events finds, newest first. */
async function bruteForce(partner: string, q: string, limit: number): Promise<string[]> {
  const pattern = `%${likeLiteral(q.toLowerCase())}%`;
  const rows = await sql<{ id: string }>`select id from audit_events where partner_id = ${partner} and search_text like ${pattern}
    order by occurred_at desc, seq desc limit ${limit}`.execute(t.db.owner.db);
  return rows.rows.map((r) => r.id);
}

beforeAll(async () => {
  t = await createTestApp();
  partnerId = newId('ptn');
  otherPartnerId = newId('ptn');
  await seed(partnerId, SPECIAL, FILLER);
  await seed(otherPartnerId, SPECIAL, 10);
});
afterAll(async () => t.close());

describe('free text beyond the newest window', () => {
  it('finds old events by whole words, mid-word pieces, punctuation, non-ASCII and LIKE characters, in this partner only', async () => {
    const search = async (q: string) => (await listAuditEvents(ctxOf(partnerId), { q, limit: 50 })).data.map((e) => e.id);
    expect(await search('INV-2024-000123')).toEqual([`${partnerId}_s1`]);
    expect(await search('nv-2024-00012')).toEqual([`${partnerId}_s1`]);
    expect(await search('müller gmbh')).toEqual([`${partnerId}_s1`]);
    expect(await search('JÜRGEN')).toEqual([`${partnerId}_s1`]);
    expect(await search('50%_off')).toEqual([`${partnerId}_s2`]);
    expect(await search('50x_off')).toEqual([]);
    expect(await search('5%_o')).toEqual([]);
    expect(await search('straße-ex')).toEqual([`${partnerId}_s3`]);
    expect(await search('+65 6123')).toEqual([`${partnerId}_s3`]);
    expect(await search('northwind\\asia')).toEqual([`${partnerId}_s4`]);
    expect(await search('zq')).toEqual([`${partnerId}_s5`]);
    expect(await search('本語のテ')).toEqual([`${partnerId}_s6`]);
    expect(await search('ascii tail x')).toEqual([`${partnerId}_s6`]);
    expect(await search('nowhere-to-be-found')).toEqual([]);
  });

  it('answers exactly what a plain LIKE answers, for every piece of the texts', async () => {
    let checked = 0;
    for (const text of SPECIAL) {
      const lower = text.toLowerCase();
      for (let start = 0; start < lower.length; start += 3) {
        for (const length of [1, 2, 3, 4, 7, 12]) {
          const q = lower.slice(start, start + length);
          if (q.trim().length === 0 || q.length < length) continue;
          const expected = await bruteForce(partnerId, q, 51);
          const got = (await listAuditEvents(ctxOf(partnerId), { q, limit: 50 })).data.map((e) => e.id);
          expect(got, `q=${JSON.stringify(q)}`).toEqual(expected.slice(0, 50));
          checked += 1;
        }
      }
    }
    expect(checked).toBeGreaterThan(150);
  }, 120_000);

  it('pages and counts the same way', async () => {
    const q = 'filler 11';
    const expected = await bruteForce(partnerId, q, 1000);
    expect(expected.length).toBe(111); // filler 11, 110..119, 1100..1199
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listAuditEvents(ctxOf(partnerId), { q, limit: 40, ...(cursor ? { cursor } : {}) });
      ids.push(...page.data.map((e) => e.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(ids).toEqual(expected);
    expect(await countAuditEvents(ctxOf(partnerId), { q })).toEqual({ count: 111, exact: true });
    expect(await countAuditEvents(ctxOf(partnerId), { q: 'müller' })).toEqual({ count: 1, exact: true });
  });
});
