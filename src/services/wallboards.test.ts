import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { api, auditEventsOf, createTestApp, customerIdOf, joinOrganisation, signIn, type Session, type TestApp } from '../test/harness.ts';
import type { WallboardView } from './service-views.ts';

let t: TestApp;
let owner: Session;
let admin: Session;
let member: Session;
let guest: Session;
let globexOwner: Session;
let staff: Session;
let acme: string;

beforeAll(async () => {
  t = await createTestApp();
  owner = await signIn(t, 'owner@acme.test');
  member = await signIn(t, 'member@acme.test');
  globexOwner = await signIn(t, 'owner@globex.test');
  staff = await signIn(t, 'admin@demo.test');
  acme = await customerIdOf(t.db, 'Acme Pte Ltd');
  admin = (await joinOrganisation(t, owner, 'ada.admin@acme.test', 'admin')).session;
  guest = (await joinOrganisation(t, owner, 'gus.guest@acme.test', 'guest')).session;
});
afterAll(async () => t.close());

const BOARDS = '/api/v1/portal/wallboards';
const valid = { name: 'Sales floor', queues: ['Sales', 'Renewals'], widgets: ['calls_waiting', 'service_level', 'abandoned_rate'], refreshIntervalSeconds: 20 };

async function createBoard(who: Session = owner): Promise<WallboardView> {
  const res = await api(t, who, 'POST', BOARDS, valid);
  expect(res.statusCode, res.body).toBe(201);
  return res.json<WallboardView>();
}

async function footprint() {
  const rows = await sql<{ boards: number; versions: number; events: number }>`
    select (select count(*)::int from wallboards) as boards, (select coalesce(sum(version), 0)::int from wallboards) as versions,
           (select count(*)::int from audit_events where target_type = 'wallboard') as events
  `.execute(t.db.owner.db);
  return rows.rows[0]!;
}

function paths(res: { json: <T>() => T }): string[] {
  return (res.json<{ errors?: Array<{ path: string }> }>().errors ?? []).map((e) => e.path);
}

describe('wallboards in the portal', () => {
  it('every role reads the seeded wallboard', async () => {
    for (const who of [owner, admin, member, guest]) {
      const res = await api(t, who, 'GET', BOARDS);
      expect(res.statusCode).toBe(200);
      expect(res.json<{ data: WallboardView[] }>().data).toEqual([
        expect.objectContaining({
          name: 'Front desk', customerId: acme, queues: ['Sales', 'Support'], widgets: ['calls_waiting', 'longest_wait', 'agents_available', 'answered_today'],
          refreshIntervalSeconds: 30, status: 'active', version: 1,
        }),
      ]);
    }
  });

  it('an admin adds one; it is audited for the customer, who sees it in the portal Audit section', async () => {
    const res = await api(t, admin, 'POST', BOARDS, { ...valid, queues: ['  Support  '] });
    expect(res.statusCode, res.body).toBe(201);
    const board = res.json<WallboardView>();
    expect(board).toMatchObject({ id: expect.stringMatching(/^wbd_[0-9a-z]{26}$/), queues: ['Support'], version: 1, subscriptionId: null });
    const [event] = await auditEventsOf(t.db, 'wallboard.created');
    expect(event).toMatchObject({ app: 'portal', customerId: acme, targetType: 'wallboard', targetId: board.id, actorLabel: 'ada.admin@acme.test' });
    expect(event!.changes).toMatchObject({ name: { after: 'Sales floor' }, widgets: { after: valid.widgets }, refreshIntervalSeconds: { after: 20 } });
    const portal = (await api(t, owner, 'GET', '/api/v1/portal/audit-events')).json<{ data: Array<{ id: string }> }>();
    expect(portal.data.map((e) => e.id)).toContain(event!.id);
  });

  const bad: Array<[string, Record<string, unknown>, string]> = [
    ['an unknown widget', { widgets: ['calls_waiting', 'weather'] }, 'widgets.1'],
    ['a widget listed twice', { widgets: ['service_level', 'service_level'] }, 'widgets.1'],
    ['no widgets', { widgets: [] }, 'widgets'],
    ['a refresh interval below 5 s', { refreshIntervalSeconds: 4 }, 'refreshIntervalSeconds'],
    ['a refresh interval above an hour', { refreshIntervalSeconds: 3601 }, 'refreshIntervalSeconds'],
    ['a fractional refresh interval', { refreshIntervalSeconds: 7.5 }, 'refreshIntervalSeconds'],
    ['a refresh interval as a string', { refreshIntervalSeconds: '30' }, 'refreshIntervalSeconds'],
    ['no queues', { queues: [] }, 'queues'],
    ['a blank queue name', { queues: ['Sales', '  '] }, 'queues.1'],
    ['a queue listed twice', { queues: ['Sales', 'sales'] }, 'queues.1'],
    ['an empty name', { name: '' }, 'name'],
    ['a malformed subscription id', { subscriptionId: 'sub-1' }, 'subscriptionId'],
  ];

  it.each(bad)('refuses %s with a 400 naming the field, writing nothing', async (_what, change, path) => {
    const before = await footprint();
    const create = await api(t, owner, 'POST', BOARDS, { ...valid, ...change });
    expect(create.statusCode, create.body).toBe(400);
    expect(paths(create)).toContain(path);
    expect(await footprint()).toEqual(before);

    const board = await createBoard();
    const mid = await footprint();
    const patch = await api(t, owner, 'PATCH', `${BOARDS}/${board.id}`, { version: 1, ...change });
    expect(patch.statusCode, patch.body).toBe(400);
    expect(paths(patch)).toContain(path);
    expect(await footprint()).toEqual(mid);
  });

  it('accepts the bounds of the refresh interval', async () => {
    for (const seconds of [5, 3600]) {
      expect((await api(t, owner, 'POST', BOARDS, { ...valid, refreshIntervalSeconds: seconds })).statusCode).toBe(201);
    }
  });

  it('an edit records before and after; a stale version is a 409 that changes nothing', async () => {
    const board = await createBoard();
    const res = await api(t, owner, 'PATCH', `${BOARDS}/${board.id}`, { version: 1, widgets: ['agents_available'], refreshIntervalSeconds: 60 });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ widgets: ['agents_available'], refreshIntervalSeconds: 60, version: 2, name: 'Sales floor' });
    const [event] = await auditEventsOf(t.db, 'wallboard.updated');
    expect(event).toMatchObject({ customerId: acme, targetId: board.id });
    expect(event!.changes).toEqual({
      widgets: { before: valid.widgets, after: ['agents_available'] }, refreshIntervalSeconds: { before: 20, after: 60 },
    });

    const before = await footprint();
    const stale = await api(t, admin, 'PATCH', `${BOARDS}/${board.id}`, { version: 1, name: 'Old view' });
    expect(stale.statusCode).toBe(409);
    expect(stale.json()).toMatchObject({ code: 'stale_version' });
    expect(paths(stale)).toEqual(['version']);
    expect(await footprint()).toEqual(before);
  });

  it('answers its version as an ETag; a stale If-Match is a 412 naming If-Match that changes nothing, the current one goes through', async () => {
    const board = await createBoard();
    expect(String((await api(t, guest, 'GET', `${BOARDS}/${board.id}`)).headers.etag)).toBe('"v1"');
    const withIfMatch = (ifMatch: string, method: 'PATCH' | 'POST', url: string, body: object) =>
      t.app.inject({ method, url, headers: { ...owner.headers, 'if-match': ifMatch }, payload: body });
    const first = await api(t, admin, 'PATCH', `${BOARDS}/${board.id}`, { version: 1, refreshIntervalSeconds: 30 });
    expect(first.statusCode, first.body).toBe(200);
    expect(String(first.headers.etag)).toBe('"v2"');

    const before = await footprint();
    for (const [method, url, body] of [['PATCH', `${BOARDS}/${board.id}`, { version: 2, name: 'Mine' }], ['POST', `${BOARDS}/${board.id}/remove`, { version: 2 }]] as const) {
      const stale = await withIfMatch('"v1"', method, url, body);
      expect(stale.statusCode, url).toBe(412);
      expect(stale.json()).toMatchObject({ code: 'precondition_failed', errors: [{ path: 'If-Match' }] });
    }
    expect(await footprint()).toEqual(before);
    expect((await api(t, owner, 'GET', `${BOARDS}/${board.id}`)).json()).toMatchObject({ name: 'Sales floor', refreshIntervalSeconds: 30, status: 'active', version: 2 });

    const ok = await withIfMatch('"v2"', 'PATCH', `${BOARDS}/${board.id}`, { version: 2, name: 'Mine' });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(String(ok.headers.etag)).toBe('"v3"');
    expect(ok.json()).toMatchObject({ name: 'Mine', version: 3 });
    const removed = await withIfMatch('*', 'POST', `${BOARDS}/${board.id}/remove`, { version: 3 });
    expect(removed.statusCode, removed.body).toBe(200);
    expect(String(removed.headers.etag)).toBe('"v4"');
  });

  it('members and guests read but cannot add, change or remove (403 role_not_allowed)', async () => {
    const board = await createBoard();
    const before = await footprint();
    for (const who of [member, guest]) {
      expect((await api(t, who, 'GET', `${BOARDS}/${board.id}`)).statusCode).toBe(200);
      for (const [method, url, body] of [
        ['POST', BOARDS, valid],
        ['PATCH', `${BOARDS}/${board.id}`, { version: 1, name: 'Mine' }],
        ['POST', `${BOARDS}/${board.id}/remove`, { version: 1 }],
      ] as const) {
        const res = await api(t, who, method, url, body);
        expect(res.statusCode).toBe(403);
        expect(res.json()).toMatchObject({ code: 'role_not_allowed' });
      }
    }
    expect(await footprint()).toEqual(before);
  });

  it("another organisation's wallboard is a 404 and stays as it was", async () => {
    const board = await createBoard();
    const before = await footprint();
    expect((await api(t, globexOwner, 'GET', `${BOARDS}/${board.id}`)).statusCode).toBe(404);
    expect((await api(t, globexOwner, 'PATCH', `${BOARDS}/${board.id}`, { version: 1, name: 'Mine' })).statusCode).toBe(404);
    expect((await api(t, globexOwner, 'POST', `${BOARDS}/${board.id}/remove`, { version: 1 })).statusCode).toBe(404);
    expect(await footprint()).toEqual(before);
  });

  it('removal keeps the row as removed, audits it, and ends editing', async () => {
    const board = await createBoard();
    const res = await api(t, owner, 'POST', `${BOARDS}/${board.id}/remove`, { version: 1 });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'removed', version: 2 });
    const [event] = await auditEventsOf(t.db, 'wallboard.removed');
    expect(event!.changes).toMatchObject({ name: { before: 'Sales floor' }, status: { before: 'active', after: 'removed' } });
    expect((await api(t, owner, 'GET', BOARDS)).json<{ data: WallboardView[] }>().data.map((b) => b.id)).not.toContain(board.id);
    expect((await api(t, owner, 'PATCH', `${BOARDS}/${board.id}`, { version: 2, name: 'Again' })).statusCode).toBe(409);
    expect(await t.db.owner.db.selectFrom('wallboards').select('status').where('id', '=', board.id).executeTakeFirstOrThrow()).toEqual({ status: 'removed' });
  });

  it("staff with the Customer app read a customer's wallboards", async () => {
    const res = await api(t, staff, 'GET', `/api/v1/customers/${acme}/wallboards?status=all`);
    expect(res.statusCode).toBe(200);
    const boards = res.json<{ data: WallboardView[] }>().data;
    expect(boards.some((b) => b.name === 'Front desk')).toBe(true);
    expect(boards.some((b) => b.status === 'removed')).toBe(true);
    expect((await api(t, staff, 'GET', `/api/v1/customers/cus_0000000000zzzzzzzzzzzzzzzz/wallboards`)).statusCode).toBe(404);
  });
});
