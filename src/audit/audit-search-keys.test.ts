import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import pino from 'pino';
import { createTestApp, inRolledBackOwner, type TestApp } from '../test/harness.ts';
import { systemClock } from '../platform/clock.ts';
import type { Ctx } from '../platform/context.ts';
import { newId, newRequestId } from '../platform/ids.ts';
import { listAuditEvents } from './list-audit-events.ts';
import { countAuditEvents } from './count-audit-events.ts';
import { likeLiteral } from './audit-view.ts';
import { recordAudit } from './record-audit.ts';
import { inScope, type Db } from '../platform/database.ts';

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

/** The search text the insert trigger would have written (migration 0061), for events inserted with triggers skipped. */
const searchTextOf = (conn: Db, partner: string) => sql`
  update audit_events set search_text = audit_search_text(action, actor_label, actor_id, target_type, target_id, customer_id, request_id, ip, changes)
   where partner_id = ${partner} and search_text is null`.execute(conn);

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
      await searchTextOf(conn, partner);
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

/** More events than the newest window holds, all newer than anything recorded today (replica role: no chain). */
async function addNewerFiller(partner: string): Promise<void> {
  await t.db.owner.db.connection().execute(async (conn) => {
    await sql`set session_replication_role = replica`.execute(conn);
    try {
      await sql`insert into audit_events (id, partner_id, seq, occurred_at, actor_type, actor_label, app, action, target_type, changes, prev_hash, hash, auth_method)
        select ${partner} || '_f' || i, ${partner}, 1000 + i, now() + interval '1 day' + i * interval '1 second', 'system', 'seed', 'customer', 'customer.updated',
          'customer', jsonb_build_object('n', jsonb_build_object('after', 'filler ' || i)), repeat('0', 64), repeat('0', 64), 'system'
        from generate_series(1, ${FILLER}::int) i`.execute(conn);
      await searchTextOf(conn, partner);
    } finally {
      await sql`set session_replication_role = origin`.execute(conn);
    }
  });
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

describe('keys of queued events, computed before the commit (migration 0042)', () => {
  it('stores the keys of the text, finds the event beyond the window by them, and leaves events inserted straight without', async () => {
    const partner = newId('ptn');
    const owner = t.db.owner.db;
    await owner.insertInto('partners').values({ id: partner, name: `Keys ${partner}`, slug: partner.replace('_', '-'), defaultCurrency: 'SGD', status: 'active' }).execute();
    // Queued (an inScope unit of work): joins the chain at commit, with the keys the queue computed.
    const queued = await inScope(t.db.app.db, { kind: 'partner', partnerId: partner }, (trx) =>
      recordAudit(trx, ctxOf(partner), { partnerId: partner, app: 'customer', action: 'customer.updated', targetType: 'customer', targetId: 'cus_keys',
        changes: { note: { after: 'Quokka Holdings Pte' } } }));
    // Straight into the trail (a bare transaction): no stored keys; the index computes them from the text.
    const direct = await t.db.app.db.transaction().execute(async (trx) => {
      await sql`select set_config('folio.scope', 'partner', true), set_config('folio.partner_id', ${partner}, true), set_config('folio.customer_id', '', true)`.execute(trx);
      return recordAudit(trx, ctxOf(partner), { partnerId: partner, app: 'customer', action: 'customer.updated', targetType: 'customer', targetId: 'cus_keys2',
        changes: { note: { after: 'Quokka Direct Pte' } } });
    });
    const rows = (await sql<{ id: string; stored: string[] | null; computed: string[] }>`
      select id, search_keys::text[] as stored, audit_search_keys(partner_id, search_text)::text[] as computed from audit_events where partner_id = ${partner}`.execute(owner)).rows;
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(queued)!.stored).not.toBeNull();
    expect([...byId.get(queued)!.stored!].sort()).toEqual([...byId.get(queued)!.computed].sort());
    expect(byId.get(queued)!.computed.length).toBeGreaterThan(10);
    expect(byId.get(direct)!.stored).toBeNull();

    // Newer filler than the window holds: both events are found through the keys' index only.
    await addNewerFiller(partner);
    const search = async (q: string) => (await listAuditEvents(ctxOf(partner), { q, limit: 50 })).data.map((e) => e.id);
    expect(await search('quokka holdings')).toEqual([queued]);
    expect(await search('okka direc')).toEqual([direct]);
    expect((await search('quokka')).sort()).toEqual([queued, direct].sort());
    expect(await search('quokka holdings direct')).toEqual([]);
    // Another partner's keys differ (the partner is in every key): its search finds none of these.
    expect(await (async () => (await listAuditEvents(ctxOf(otherPartnerId), { q: 'quokka', limit: 50 })).data)()).toEqual([]);
  });

  it('keys a group of request ids from one server in a few keys each, and finds the event by any of them (ADR 0033)', async () => {
    const partner = newId('ptn');
    const owner = t.db.owner.db;
    await owner.insertInto('partners').values({ id: partner, name: `Request ids ${partner}`, slug: partner.replace('_', '-'), defaultCurrency: 'SGD', status: 'active' }).execute();
    // 16 requests answered together, as a group of call-charging requests is: a few milliseconds apart, other ids made
    // between them. Beside them, 16 ids with random tails (as every request id was before, and as 16 servers make).
    const fromOneServer: string[] = [];
    for (let i = 0; i < 16; i++) {
      fromOneServer.push(newRequestId());
      for (let j = 0; j < 5; j++) newId('je');
      if (i % 4 === 3) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const randomTails = Array.from({ length: 16 }, () => newId('req'));
    const record = (requestIds: string[], target: string) => inScope(t.db.app.db, { kind: 'partner', partnerId: partner }, (trx) =>
      recordAudit(trx, ctxOf(partner), { partnerId: partner, app: 'usage', action: 'usage.calls_ingested', targetType: 'call_batch', targetId: target,
        changes: { requests: { after: 16 }, requestIds: { after: requestIds } } }));
    const grouped = await record(fromOneServer, 'cbt_one_server');
    const scattered = await record(randomTails, 'cbt_random_tails');
    const keys = Object.fromEntries((await sql<{ id: string; keys: number }>`
      select id, cardinality(search_keys) as keys from audit_events where partner_id = ${partner}`.execute(owner)).rows.map((r) => [r.id, r.keys]));
    // Each random tail brings ~13 keys of its own; the ids of one server share theirs.
    expect(keys[scattered]! - keys[grouped]!).toBeGreaterThan(120);

    // Beyond the newest window, each request id finds its event through the keys' index, and only that event.
    await addNewerFiller(partner);
    const search = async (q: string) => (await listAuditEvents(ctxOf(partner), { q, limit: 50 })).data.map((e) => e.id);
    for (const requestId of [fromOneServer[0]!, fromOneServer[7]!, fromOneServer[15]!]) expect(await search(requestId)).toEqual([grouped]);
    expect(await search(randomTails[3]!)).toEqual([scattered]);
    expect(await search(newRequestId())).toEqual([]);
  });

  it('does not let the app role write keys of its own', async () => {
    const err = await t.db.app.db.transaction().execute(async (trx) => {
      await sql`select set_config('folio.scope', 'partner', true), set_config('folio.partner_id', ${partnerId}, true), set_config('folio.customer_id', '', true)`.execute(trx);
      return sql`insert into audit_events (id, partner_id, actor_type, app, action, target_type, search_keys, auth_method)
        values (${newId('evt')}, ${partnerId}, 'system', 'customer', 'customer.updated', 'customer', '{1,2,3}', 'system')`.execute(trx);
    }).then(() => null, (e: unknown) => e as { code?: string });
    expect(err?.code).toBe('42501');
  });

  it("writes the trail's search text itself: the app may not name it, and a text sent by anyone else is replaced, on insert and on update (migration 0061)", async () => {
    const err = await t.db.app.db.transaction().execute(async (trx) => {
      await sql`select set_config('folio.scope', 'partner', true), set_config('folio.partner_id', ${partnerId}, true), set_config('folio.customer_id', '', true)`.execute(trx);
      return sql`insert into audit_events (id, partner_id, actor_type, app, action, target_type, search_text, auth_method)
        values (${newId('evt')}, ${partnerId}, 'system', 'customer', 'customer.updated', 'customer', 'forged text', 'system')`.execute(trx);
    }).then(() => null, (e: unknown) => e as { code?: string });
    expect(err?.code).toBe('42501');

    // The owner is not refused, and its text does not stay, on insert nor on update. (Rolled back.)
    const seen = await inRolledBackOwner(t.db, async (client) => {
      const textOf = async () => (await client.query<{ stored: string; computed: string; generated: string }>(`
        select e.search_text as stored,
               audit_search_text(e.action, e.actor_label, e.actor_id, e.target_type, e.target_id, e.customer_id, e.request_id, e.ip, e.changes) as computed,
               (select attgenerated::text from pg_attribute where attrelid = 'audit_events'::regclass and attname = 'search_text') as generated
          from audit_events e where e.id = 'evt_owner_text'`)).rows[0]!;
      // A partner of its own: this file's partners hold events seeded without their chain.
      await client.query(`insert into partners (id, name, slug, default_currency, status) values ('ptn_searchtext', 'Search text', 'search-text', 'SGD', 'active')`);
      await client.query(`insert into audit_events (id, partner_id, actor_type, actor_label, app, action, target_type, target_id, changes, request_id, auth_method, search_text)
        values ('evt_owner_text', 'ptn_searchtext', 'system', 'Nightly job', 'customer', 'customer.updated', 'customer', 'cus_text0001', '{"note":{"after":"Wombat Trading"}}',
                'req_text0001', 'system', 'forged text')`);
      const inserted = await textOf();
      await client.query(`update audit_events set changes = '{"note":{"after":"Quokka Holdings"}}', search_text = 'forged again' where id = 'evt_owner_text'`);
      return { inserted, updated: await textOf() };
    });
    expect(seen.inserted.generated).toBe('');
    expect(seen.inserted.stored).toBe(seen.inserted.computed);
    expect(seen.inserted.stored).toContain('wombat trading');
    expect(seen.inserted.stored).toContain('nightly job');
    expect(seen.inserted.stored).toContain('req_text0001');
    expect(seen.updated.stored).toBe(seen.updated.computed);
    expect(seen.updated.stored).toContain('quokka holdings');
    expect(seen.updated.stored).not.toContain('forged');
  });

  it('computes the keys of a queued event itself: the app may not name them, and keys sent by anyone else are replaced (migration 0059)', async () => {
    // The same insert by the app, with and without the keys (rolled back either way: an error ends the transaction).
    const insertByApp = (withKeys: boolean) => t.db.app.db.transaction().execute(async (trx) => {
      await sql`select set_config('folio.scope', 'partner', true), set_config('folio.partner_id', ${partnerId}, true), set_config('folio.customer_id', '', true)`.execute(trx);
      await (withKeys
        ? sql`insert into audit_event_queue (id, partner_id, actor_type, app, action, target_type, search_keys)
                values (${newId('evt')}, ${partnerId}, 'system', 'customer', 'customer.updated', 'customer', '{1,2,3}')`
        : sql`insert into audit_event_queue (id, partner_id, actor_type, app, action, target_type)
                values (${newId('evt')}, ${partnerId}, 'system', 'customer', 'customer.updated', 'customer')`).execute(trx);
      throw new Error('inserted');
    }).then(() => null, (e: unknown) => e as { code?: string; message: string });
    expect(await insertByApp(false)).toMatchObject({ message: 'inserted' });
    expect(await insertByApp(true)).toMatchObject({ code: '42501', message: expect.stringMatching(/permission denied for table audit_event_queue/) });

    // The owner is not refused, and its keys do not stay: the queued row holds the keys of its text. (Rolled back.)
    const seen = await inRolledBackOwner(t.db, async (client) => {
      await client.query(`insert into audit_event_queue (id, partner_id, actor_type, app, action, target_type, changes, search_keys)
        values ('evt_owner_keys', $1, 'system', 'customer', 'customer.updated', 'customer', '{"note":{"after":"Wombat Trading"}}', '{1,2,3}')`, [partnerId]);
      return (await client.query<{ stored: string[]; computed: string[] }>(`
        select search_keys::text[] as stored,
               audit_search_keys(partner_id, audit_search_text(action, actor_label, actor_id, target_type, target_id, customer_id, request_id, ip, changes))::text[] as computed
          from audit_event_queue where id = 'evt_owner_keys'`)).rows[0]!;
    });
    expect(seen.stored).not.toContain('1');
    expect(seen.computed.length).toBeGreaterThan(10);
    expect([...seen.stored].sort()).toEqual([...seen.computed].sort());
  });
});
