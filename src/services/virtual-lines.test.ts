import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { api, auditEventsOf, createTestApp, customerIdOf, joinOrganisation, signIn, userIdOf, type Session, type TestApp } from '../test/harness.ts';
import { inScope } from '../platform/database.ts';
import { sha256Hex } from '../platform/crypto.ts';
import type { VirtualLineView } from './service-views.ts';

let t: TestApp;
let owner: Session;
let member: Session;
let admin: Session;
let guest: Session;
let globexOwner: Session;
let staff: Session;
let acme: string;
let ownerId: string;
let memberId: string;
let adminId: string;
let globexOwnerId: string;

beforeAll(async () => {
  t = await createTestApp();
  owner = await signIn(t, 'owner@acme.test');
  member = await signIn(t, 'member@acme.test');
  globexOwner = await signIn(t, 'owner@globex.test');
  staff = await signIn(t, 'admin@demo.test');
  acme = await customerIdOf(t.db, 'Acme Pte Ltd');
  ownerId = await userIdOf(t.db, 'owner@acme.test');
  memberId = await userIdOf(t.db, 'member@acme.test');
  globexOwnerId = await userIdOf(t.db, 'owner@globex.test');
  const joined = await joinOrganisation(t, owner, 'ada.admin@acme.test', 'admin');
  admin = joined.session;
  adminId = joined.userId;
  guest = (await joinOrganisation(t, owner, 'gus.guest@acme.test', 'guest')).session;
});
afterAll(async () => t.close());

const LINES = '/api/v1/portal/virtual-lines';
const officeHours = {
  timezone: 'Asia/Singapore',
  days: [{ day: 'mon', open: '09:00', close: '17:30' }, { day: 'tue', open: '09:00', close: '17:30' }, { day: 'sat', open: '10:00', close: '13:00' }],
  outsideHours: { type: 'voicemail' },
};
let numberSeq = 6580000000;
const freshNumber = () => `+${++numberSeq}`;

async function createLine(who: Session = owner, extra: Record<string, unknown> = {}): Promise<VirtualLineView> {
  const res = await api(t, who, 'POST', LINES, { number: freshNumber(), name: 'Test line', destination: { type: 'user', userId: memberId }, ...extra });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<VirtualLineView>();
}

/** Rows and audit events of services: bad input must change neither. */
async function footprint() {
  const n = async (q: ReturnType<typeof sql<{ n: number }>>) => (await q.execute(t.db.owner.db)).rows[0]!.n;
  return {
    lines: await n(sql<{ n: number }>`select count(*)::int as n from virtual_lines`),
    versions: await n(sql<{ n: number }>`select coalesce(sum(version), 0)::int as n from virtual_lines`),
    events: await n(sql<{ n: number }>`select count(*)::int as n from audit_events where target_type = 'virtual_line'`),
  };
}

function paths(res: { json: <T>() => T }): string[] {
  return (res.json<{ errors?: Array<{ path: string }> }>().errors ?? []).map((e) => e.path);
}

describe('reading virtual lines', () => {
  it('every role of the organisation lists the seeded lines, with destinations and hours in words', async () => {
    for (const who of [owner, admin, member, guest]) {
      const res = await api(t, who, 'GET', LINES);
      expect(res.statusCode).toBe(200);
      const lines = res.json<{ data: VirtualLineView[]; nextCursor: string | null }>().data;
      expect(lines.map((l) => l.number).sort()).toEqual(['+6531234567', '+6531234568']);
      const main = lines.find((l) => l.name === 'Main line')!;
      expect(main).toMatchObject({
        customerId: acme, status: 'active', version: 1,
        destination: { type: 'group', name: 'Sales', memberUserIds: [ownerId, memberId] },
        destinationSummary: 'Group Sales: Olive Owner, Max Member',
        businessHoursSummary: 'Mon–Fri 09:00–18:00 (Asia/Singapore); outside hours: voicemail',
      });
      expect(lines.find((l) => l.name === 'Support line')).toMatchObject({
        destination: { type: 'user', userId: ownerId }, destinationSummary: 'Olive Owner (owner@acme.test)', businessHours: null, businessHoursSummary: 'Always open',
      });
    }
  });

  it('pages newest first with a cursor', async () => {
    const first = await api(t, member, 'GET', `${LINES}?limit=1`);
    const page1 = first.json<{ data: VirtualLineView[]; nextCursor: string }>();
    expect(page1.data).toHaveLength(1);
    const second = await api(t, member, 'GET', `${LINES}?limit=1&cursor=${page1.nextCursor}`);
    const page2 = second.json<{ data: VirtualLineView[] }>();
    expect(page2.data).toHaveLength(1);
    expect(page2.data[0]!.id < page1.data[0]!.id).toBe(true);
    expect((await api(t, member, 'GET', `${LINES}?limit=0`)).statusCode).toBe(400);
    expect(paths(await api(t, member, 'GET', `${LINES}?cursor=nope`))).toEqual(['cursor']);
  });

  it("another organisation's line is a 404, to read, change or remove, and is left as it was", async () => {
    const line = await createLine();
    const before = await footprint();
    expect((await api(t, globexOwner, 'GET', `${LINES}/${line.id}`)).statusCode).toBe(404);
    const patch = await api(t, globexOwner, 'PATCH', `${LINES}/${line.id}`, { version: 1, name: 'Hijacked' });
    expect(patch.statusCode).toBe(404);
    expect(patch.json()).toMatchObject({ code: 'not_found' });
    expect((await api(t, globexOwner, 'POST', `${LINES}/${line.id}/remove`, { version: 1 })).statusCode).toBe(404);
    expect((await api(t, globexOwner, 'GET', LINES)).json<{ data: unknown[] }>().data).toEqual([]);
    expect(await footprint()).toEqual(before);
    expect((await api(t, owner, 'GET', `${LINES}/${line.id}`)).json()).toMatchObject({ name: 'Test line', version: 1 });
  });

  it('row-level security: a portal-scoped query with no WHERE sees only its own organisation\'s lines', async () => {
    const demo = (await t.db.owner.db.selectFrom('customers').select('partnerId').where('id', '=', acme).executeTakeFirstOrThrow()).partnerId;
    const globex = await customerIdOf(t.db, 'Globex Sdn Bhd');
    await api(t, globexOwner, 'POST', LINES, { number: freshNumber(), name: 'Globex line', destination: { type: 'user', userId: globexOwnerId } });
    const seen = await inScope(t.db.app.db, { kind: 'customer', partnerId: demo, customerId: globex }, (trx) => trx.selectFrom('virtualLines').select('customerId').execute());
    expect(seen.length).toBe(1);
    expect(seen.every((r) => r.customerId === globex)).toBe(true);
    await expect(inScope(t.db.app.db, { kind: 'customer', partnerId: demo, customerId: globex }, (trx) =>
      trx.deleteFrom('virtualLines').where('customerId', '=', globex).execute())).rejects.toThrow(/permission denied/);
  });
});

describe('creating a line', () => {
  it('an admin adds a line; it is audited with the customer set, and both the customer and the partner see the event', async () => {
    const number = freshNumber();
    const res = await api(t, admin, 'POST', LINES, {
      number, name: 'Hotline', destination: { type: 'group', name: 'Night shift', memberUserIds: [memberId, adminId] }, businessHours: officeHours,
    });
    expect(res.statusCode, res.body).toBe(201);
    const line = res.json<VirtualLineView>();
    expect(line).toMatchObject({
      id: expect.stringMatching(/^vln_[0-9a-z]{26}$/), number, name: 'Hotline', status: 'active', version: 1, subscriptionId: null, removedAt: null,
      destinationSummary: 'Group Night shift: Max Member, admin ada.admin@acme.test',
      businessHoursSummary: 'Mon–Tue 09:00–17:30, Sat 10:00–13:00 (Asia/Singapore); outside hours: voicemail',
    });

    const [event] = await auditEventsOf(t.db, 'virtual_line.created');
    expect(event).toMatchObject({
      app: 'portal', customerId: acme, actorLabel: 'ada.admin@acme.test', targetType: 'virtual_line', targetId: line.id, requestId: res.headers['x-request-id'],
    });
    expect(event!.changes).toMatchObject({
      number: { after: number }, name: { after: 'Hotline' }, destination: { after: line.destinationSummary },
      businessHours: { after: line.businessHoursSummary }, status: { after: 'active' },
    });

    const portal = (await api(t, owner, 'GET', '/api/v1/portal/audit-events')).json<{ data: Array<{ id: string; action: string; actor: { type: string } }> }>();
    expect(portal.data.find((e) => e.id === event!.id)).toMatchObject({ action: 'virtual_line.created', actor: { type: 'member' } });
    const partner = (await api(t, staff, 'GET', `/api/v1/audit-events?customerId=${acme}&action=virtual_line.created`)).json<{ data: Array<{ id: string }> }>();
    expect(partner.data.map((e) => e.id)).toContain(event!.id);
  });

  it('an external destination and outside hours to a member are accepted', async () => {
    const line = await createLine(owner, {
      destination: { type: 'external', number: '+6598765432' },
      businessHours: { ...officeHours, days: [{ day: 'sun', open: '00:00', close: '24:00' }], outsideHours: { type: 'user', userId: memberId } },
    });
    expect(line.destinationSummary).toBe('External +6598765432');
    expect(line.businessHoursSummary).toBe('Sun 00:00–24:00 (Asia/Singapore); outside hours: Max Member (member@acme.test)');
  });

  it('members and guests cannot add, change or remove lines (403 role_not_allowed), and nothing is written', async () => {
    const line = await createLine();
    const before = await footprint();
    for (const who of [member, guest]) {
      const create = await api(t, who, 'POST', LINES, { number: freshNumber(), name: 'Mine', destination: { type: 'user', userId: memberId } });
      expect(create.statusCode).toBe(403);
      expect(create.json()).toMatchObject({ code: 'role_not_allowed' });
      const patch = await api(t, who, 'PATCH', `${LINES}/${line.id}`, { version: 1, name: 'Mine now' });
      expect(patch.statusCode).toBe(403);
      expect(patch.json()).toMatchObject({ code: 'role_not_allowed' });
      const remove = await api(t, who, 'POST', `${LINES}/${line.id}/remove`, { version: 1 });
      expect(remove.statusCode).toBe(403);
      expect(remove.json()).toMatchObject({ code: 'role_not_allowed' });
    }
    expect(await footprint()).toEqual(before);
  });

  it('staff and anonymous callers cannot use the portal routes', async () => {
    expect((await api(t, staff, 'POST', LINES, { number: freshNumber(), name: 'X', destination: { type: 'user', userId: memberId } })).statusCode).toBe(403);
    expect((await api(t, null, 'GET', LINES)).statusCode).toBe(401);
  });

  const bad: Array<[string, Record<string, unknown>, number, string]> = [
    ['a number that is not E.164', { number: '6561234567' }, 400, 'number'],
    ['a number starting with +0', { number: '+0561234567' }, 400, 'number'],
    ['a number with letters', { number: '+65CALLME' }, 400, 'number'],
    ['an empty name', { name: '' }, 400, 'name'],
    ['a destination of an unknown type', { destination: { type: 'pager', number: '+6561234567' } }, 400, 'destination.type'],
    ['an external destination with a bad number', { destination: { type: 'external', number: '12345' } }, 400, 'destination.number'],
    ['a malformed user id', { destination: { type: 'user', userId: 'olive' } }, 400, 'destination.userId'],
    ['a group with nobody in it', { destination: { type: 'group', name: 'Empty', memberUserIds: [] } }, 400, 'destination.memberUserIds'],
    ['a group listing someone twice', { destination: { type: 'group', name: 'Twice', memberUserIds: ['MEMBER', 'MEMBER'] } }, 400, 'destination.memberUserIds.1'],
    // Two real times in the wrong order: well-formed, against a rule (docs/adr/0040).
    ['closing before opening', { businessHours: { ...officeHours, days: [{ day: 'mon', open: '18:00', close: '09:00' }] } }, 422, 'businessHours.days.0.close'],
    ['closing when opening', { businessHours: { ...officeHours, days: [{ day: 'wed', open: '09:00', close: '09:00' }] } }, 422, 'businessHours.days.0.close'],
    ['a time that does not exist', { businessHours: { ...officeHours, days: [{ day: 'mon', open: '25:00', close: '26:00' }] } }, 400, 'businessHours.days.0.open'],
    ['a weekday listed twice', { businessHours: { ...officeHours, days: [{ day: 'mon', open: '09:00', close: '12:00' }, { day: 'mon', open: '13:00', close: '17:00' }] } }, 400, 'businessHours.days.1.day'],
    ['a weekday that does not exist', { businessHours: { ...officeHours, days: [{ day: 'funday', open: '09:00', close: '12:00' }] } }, 400, 'businessHours.days.0.day'],
    ['an unknown timezone', { businessHours: { ...officeHours, timezone: 'Mars/Olympus_Mons' } }, 400, 'businessHours.timezone'],
    ['outside hours going nowhere known', { businessHours: { ...officeHours, outsideHours: { type: 'fax' } } }, 400, 'businessHours.outsideHours.type'],
    ['a malformed subscription id', { subscriptionId: 'premium' }, 400, 'subscriptionId'],
    ['an unknown field', { colour: 'blue' }, 400, 'colour'],
    ['an unknown user', { destination: { type: 'user', userId: 'usr_0000000000zzzzzzzzzzzzzzzz' } }, 422, 'destination.userId'],
    ['a user of another organisation', { destination: { type: 'user', userId: 'GLOBEX' } }, 422, 'destination.userId'],
    ['a group with a user of another organisation', { destination: { type: 'group', name: 'Mixed', memberUserIds: ['MEMBER', 'GLOBEX'] } }, 422, 'destination.memberUserIds.1'],
    ['outside hours to a user of another organisation', { businessHours: { ...officeHours, outsideHours: { type: 'user', userId: 'GLOBEX' } } }, 422, 'businessHours.outsideHours.userId'],
  ];

  it.each(bad)('refuses %s, naming the field, writing nothing', async (_what, change, status, path) => {
    const fill = (v: unknown): unknown => JSON.parse(JSON.stringify(v).replaceAll('"MEMBER"', JSON.stringify(memberId)).replaceAll('"GLOBEX"', JSON.stringify(globexOwnerId)));
    const body = fill({ number: freshNumber(), name: 'Line', destination: { type: 'user', userId: memberId }, ...change });
    const before = await footprint();
    const create = await api(t, owner, 'POST', LINES, body);
    expect(create.statusCode, create.body).toBe(status);
    expect(create.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(paths(create)).toContain(path);
    expect(await footprint()).toEqual(before);

    // The same value in an edit of an existing line is refused the same way.
    const line = await createLine();
    const mid = await footprint();
    const { number: _n, ...edit } = body as Record<string, unknown>;
    const patch = await api(t, owner, 'PATCH', `${LINES}/${line.id}`, { version: 1, ...edit, ...('number' in change ? { number: change.number } : {}) });
    expect(patch.statusCode, patch.body).toBe(status);
    expect(paths(patch)).toContain(path);
    expect(await footprint()).toEqual(mid);
  });

  it('an invited person who has not joined cannot be a destination; a member removed afterwards is shown as ringing no one', async () => {
    const invited = await api(t, owner, 'POST', '/api/v1/portal/members/invitations', { email: 'ivy.invited@acme.test', name: 'Ivy Invited', role: 'member' });
    expect(invited.statusCode, invited.body).toBe(201);
    const notYet = await api(t, owner, 'POST', LINES, { number: freshNumber(), name: 'Early', destination: { type: 'user', userId: invited.json().userId } });
    expect(notYet.statusCode).toBe(422);
    expect(paths(notYet)).toEqual(['destination.userId']);

    const rita = await joinOrganisation(t, owner, 'rita.rings@acme.test', 'member');
    const group = await api(t, owner, 'POST', LINES, { number: freshNumber(), name: 'Desk', destination: { type: 'group', name: 'Desk', memberUserIds: [ownerId, rita.userId] } });
    expect(group.statusCode, group.body).toBe(201);
    const single = await api(t, owner, 'POST', LINES, { number: freshNumber(), name: 'Rita direct', destination: { type: 'user', userId: rita.userId } });
    expect(single.statusCode, single.body).toBe(201);
    expect((await api(t, owner, 'POST', `/api/v1/portal/members/${rita.userId}/remove`)).statusCode).toBe(200);
    const desk = (await api(t, owner, 'GET', `${LINES}/${group.json().id}`)).json();
    // (joinOrganisation names a person after their role and address.)
    expect(desk.destinationSummary).toBe('Group Desk: Olive Owner, member rita.rings@acme.test (removed: rings no one)');
    const direct = (await api(t, owner, 'GET', `${LINES}/${single.json().id}`)).json();
    expect(direct.destinationSummary).toBe('member rita.rings@acme.test (rita.rings@acme.test) (removed: rings no one)');
  });

  it('a removed member cannot be a destination any more', async () => {
    const leaving = await joinOrganisation(t, owner, 'leo.leaving@acme.test', 'member');
    expect((await api(t, owner, 'POST', `/api/v1/portal/members/${leaving.userId}/remove`)).statusCode).toBe(200);
    const res = await api(t, owner, 'POST', LINES, { number: freshNumber(), name: 'Gone', destination: { type: 'user', userId: leaving.userId } });
    expect(res.statusCode).toBe(422);
    expect(paths(res)).toEqual(['destination.userId']);
  });

  it('a number already ringing an active line is a 409 naming the number; once that line is removed the number is free', async () => {
    const line = await createLine();
    const before = await footprint();
    const dup = await api(t, admin, 'POST', LINES, { number: line.number, name: 'Copy', destination: { type: 'user', userId: memberId } });
    expect(dup.statusCode).toBe(409);
    expect(dup.json()).toMatchObject({ code: 'already_exists' });
    expect(paths(dup)).toEqual(['number']);
    const other = await createLine();
    const clash = await api(t, owner, 'PATCH', `${LINES}/${other.id}`, { version: 1, number: line.number });
    expect(clash.statusCode).toBe(409);
    expect(paths(clash)).toEqual(['number']);
    expect((await footprint()).events).toBe(before.events + 1);

    expect((await api(t, owner, 'POST', `${LINES}/${line.id}/remove`, { version: 1 })).statusCode).toBe(200);
    expect((await api(t, owner, 'POST', LINES, { number: line.number, name: 'Reborn', destination: { type: 'user', userId: memberId } })).statusCode).toBe(201);
  });

  it('links the line to the organisation\'s subscription, and refuses one that is not the organisation\'s', async () => {
    const subscriptions = await sql<{ present: boolean }>`select to_regclass('public.subscriptions') is not null as present`.execute(t.db.owner.db);
    const res = await api(t, owner, 'POST', LINES, { number: freshNumber(), name: 'Sold', destination: { type: 'user', userId: memberId }, subscriptionId: 'sub_0000000000zzzzzzzzzzzzzzzz' });
    if (subscriptions.rows[0]!.present) {
      // The subscriptions table exists: an id that is not one of Acme's subscriptions is refused.
      expect(res.statusCode).toBe(422);
      expect(paths(res)).toEqual(['subscriptionId']);
    } else {
      // Before subscriptions exist, a well-formed id is kept as given.
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({ subscriptionId: 'sub_0000000000zzzzzzzzzzzzzzzz' });
    }
  });
});

describe('editing a line', () => {
  it('the owner changes destination and business hours; the event keeps before and after, and the version moves on', async () => {
    const line = await createLine(owner, { businessHours: officeHours });
    const res = await api(t, owner, 'PATCH', `${LINES}/${line.id}`, {
      version: 1,
      destination: { type: 'group', name: 'Front office', memberUserIds: [ownerId, memberId] },
      businessHours: { timezone: 'Asia/Kuala_Lumpur', days: [{ day: 'fri', open: '08:00', close: '16:00' }], outsideHours: { type: 'external', number: '+60312345678' } },
    });
    expect(res.statusCode, res.body).toBe(200);
    const after = res.json<VirtualLineView>();
    expect(after).toMatchObject({
      version: 2, name: 'Test line', number: line.number,
      destinationSummary: 'Group Front office: Olive Owner, Max Member',
      businessHoursSummary: 'Fri 08:00–16:00 (Asia/Kuala_Lumpur); outside hours: External +60312345678',
    });
    const [event] = await auditEventsOf(t.db, 'virtual_line.updated');
    expect(event).toMatchObject({ customerId: acme, targetId: line.id, actorLabel: 'owner@acme.test', requestId: res.headers['x-request-id'] });
    expect(event!.changes).toEqual({
      destination: { before: 'Max Member (member@acme.test)', after: 'Group Front office: Olive Owner, Max Member' },
      businessHours: { before: line.businessHoursSummary, after: after.businessHoursSummary },
    });
    expect((await api(t, member, 'GET', `${LINES}/${line.id}`)).json()).toMatchObject({ version: 2, destination: { type: 'group', name: 'Front office' } });

    // Back to always open.
    const open = await api(t, admin, 'PATCH', `${LINES}/${line.id}`, { version: 2, businessHours: null });
    expect(open.json()).toMatchObject({ version: 3, businessHours: null, businessHoursSummary: 'Always open' });
  });

  it('a stale version is a 409 stale_version naming version, and changes nothing', async () => {
    const line = await createLine();
    expect((await api(t, owner, 'PATCH', `${LINES}/${line.id}`, { version: 1, name: 'First edit' })).statusCode).toBe(200);
    const before = await footprint();
    const stale = await api(t, admin, 'PATCH', `${LINES}/${line.id}`, { version: 1, name: 'Second edit, based on the old one' });
    expect(stale.statusCode).toBe(409);
    expect(stale.json()).toMatchObject({ code: 'stale_version' });
    expect(paths(stale)).toEqual(['version']);
    const staleRemove = await api(t, admin, 'POST', `${LINES}/${line.id}/remove`, { version: 1 });
    expect(staleRemove.statusCode).toBe(409);
    expect(await footprint()).toEqual(before);
    expect((await api(t, owner, 'GET', `${LINES}/${line.id}`)).json()).toMatchObject({ name: 'First edit', version: 2 });
  });

  it('answers its version as an ETag; a stale If-Match is a 412 naming If-Match that changes nothing, the current one goes through', async () => {
    const created = await api(t, owner, 'POST', LINES, { number: freshNumber(), name: 'ETag line', destination: { type: 'user', userId: memberId } });
    expect(created.statusCode, created.body).toBe(201);
    const line = created.json<VirtualLineView>();
    expect(String(created.headers.etag)).toBe('"v1"');
    const read = await api(t, member, 'GET', `${LINES}/${line.id}`);
    expect(String(read.headers.etag)).toBe('"v1"');
    const withIfMatch = (ifMatch: string, method: 'PATCH' | 'POST', url: string, body: object) =>
      t.app.inject({ method, url, headers: { ...owner.headers, 'if-match': ifMatch }, payload: body });

    // Without If-Match, as before; the answer carries the next ETag.
    const first = await api(t, admin, 'PATCH', `${LINES}/${line.id}`, { version: 1, name: 'Renamed by a colleague' });
    expect(first.statusCode, first.body).toBe(200);
    expect(String(first.headers.etag)).toBe('"v2"');

    const before = await footprint();
    for (const [method, url, body] of [['PATCH', `${LINES}/${line.id}`, { version: 2, name: 'Mine' }], ['POST', `${LINES}/${line.id}/remove`, { version: 2 }]] as const) {
      const stale = await withIfMatch('"v1"', method, url, body);
      expect(stale.statusCode, url).toBe(412);
      expect(stale.json()).toMatchObject({ code: 'precondition_failed', errors: [{ path: 'If-Match' }] });
      expect((await withIfMatch('W/"v2"', method, url, body)).statusCode, url).toBe(412);
    }
    expect(await footprint()).toEqual(before);
    expect((await api(t, owner, 'GET', `${LINES}/${line.id}`)).json()).toMatchObject({ name: 'Renamed by a colleague', status: 'active', version: 2 });

    // The body's version still rules with a current If-Match: a stale one is the 409 it was.
    const staleBody = await withIfMatch('"v2"', 'PATCH', `${LINES}/${line.id}`, { version: 1, name: 'Mine' });
    expect([staleBody.statusCode, staleBody.json().code]).toEqual([409, 'stale_version']);
    const tooLong = await withIfMatch(`"${'v'.repeat(600)}"`, 'PATCH', `${LINES}/${line.id}`, { version: 2, name: 'Mine' });
    expect(tooLong.statusCode).toBe(400);
    expect(await footprint()).toEqual(before);

    const ok = await withIfMatch('"v2"', 'PATCH', `${LINES}/${line.id}`, { version: 2, name: 'Mine' });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ name: 'Mine', version: 3 });
    expect(String(ok.headers.etag)).toBe('"v3"');
    const removed = await withIfMatch('"v3"', 'POST', `${LINES}/${line.id}/remove`, { version: 3 });
    expect(removed.statusCode, removed.body).toBe(200);
    expect(String(removed.headers.etag)).toBe('"v4"');
  });

  it('two concurrent edits of the same version: one wins, the other gets 409', async () => {
    const line = await createLine();
    const [a, b] = await Promise.all([
      api(t, owner, 'PATCH', `${LINES}/${line.id}`, { version: 1, name: 'Edit A' }),
      api(t, admin, 'PATCH', `${LINES}/${line.id}`, { version: 1, name: 'Edit B' }),
    ]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([200, 409]);
    const winner = a.statusCode === 200 ? 'Edit A' : 'Edit B';
    expect((await api(t, owner, 'GET', `${LINES}/${line.id}`)).json()).toMatchObject({ name: winner, version: 2 });
    const events = (await auditEventsOf(t.db, 'virtual_line.updated')).filter((e) => e.targetId === line.id);
    expect(events).toHaveLength(1);
  });

  it('an edit that changes nothing writes nothing', async () => {
    const line = await createLine();
    const before = await footprint();
    const res = await api(t, owner, 'PATCH', `${LINES}/${line.id}`, { version: 1, name: line.name });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ version: 1 });
    expect(await footprint()).toEqual(before);
  });

  it('an edit without a version is a 400 naming version', async () => {
    const line = await createLine();
    const res = await api(t, owner, 'PATCH', `${LINES}/${line.id}`, { name: 'No version' });
    expect(res.statusCode).toBe(400);
    expect(paths(res)).toContain('version');
  });
});

describe('removing a line', () => {
  it('marks it removed (kept, not deleted), hides it from the default list, audits it, and refuses further edits', async () => {
    const line = await createLine();
    const res = await api(t, admin, 'POST', `${LINES}/${line.id}/remove`, { version: 1 });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'removed', version: 2, removedAt: expect.any(String) });
    const stored = await t.db.owner.db.selectFrom('virtualLines').select(['status', 'removedAt']).where('id', '=', line.id).executeTakeFirstOrThrow();
    expect(stored.status).toBe('removed');

    expect((await api(t, owner, 'GET', LINES)).json<{ data: VirtualLineView[] }>().data.map((l) => l.id)).not.toContain(line.id);
    expect((await api(t, owner, 'GET', `${LINES}?status=removed`)).json<{ data: VirtualLineView[] }>().data.map((l) => l.id)).toContain(line.id);
    expect((await api(t, owner, 'GET', `${LINES}?status=all`)).json<{ data: VirtualLineView[] }>().data.map((l) => l.id)).toContain(line.id);

    const [event] = await auditEventsOf(t.db, 'virtual_line.removed');
    expect(event).toMatchObject({ customerId: acme, targetId: line.id, actorLabel: 'ada.admin@acme.test' });
    expect(event!.changes).toMatchObject({ number: { before: line.number }, name: { before: line.name }, status: { before: 'active', after: 'removed' } });

    const edit = await api(t, owner, 'PATCH', `${LINES}/${line.id}`, { version: 2, name: 'Back from the dead' });
    expect(edit.statusCode).toBe(409);
    expect(edit.json()).toMatchObject({ code: 'state_conflict' });
    expect((await api(t, owner, 'POST', `${LINES}/${line.id}/remove`, { version: 2 })).statusCode).toBe(409);
  });
});

describe('the Customer app (staff): read only', () => {
  it("staff with the Customer app list a customer's lines, removed ones on request", async () => {
    const res = await api(t, staff, 'GET', `/api/v1/customers/${acme}/virtual-lines`);
    expect(res.statusCode).toBe(200);
    const lines = res.json<{ data: VirtualLineView[] }>().data;
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.every((l) => l.customerId === acme && l.status === 'active')).toBe(true);
    expect(lines.map((l) => l.number)).toContain('+6531234567');
    const removed = (await api(t, staff, 'GET', `/api/v1/customers/${acme}/virtual-lines?status=removed`)).json<{ data: VirtualLineView[] }>().data;
    expect(removed.every((l) => l.status === 'removed')).toBe(true);
  });

  it("another partner's staff get 404; an API key without the Customer app gets 403; there is no staff write route", async () => {
    const northwind = await signIn(t, 'admin@northwind.test');
    expect((await api(t, northwind, 'GET', `/api/v1/customers/${acme}/virtual-lines`)).statusCode).toBe(404);
    expect((await api(t, northwind, 'GET', `/api/v1/customers/${acme}/wallboards`)).statusCode).toBe(404);

    const demo = (await t.db.owner.db.selectFrom('customers').select('partnerId').where('id', '=', acme).executeTakeFirstOrThrow()).partnerId;
    const token = 'fk_services_test_product_key_0000000';
    await t.db.owner.db.insertInto('apiKeys').values({
      id: 'key_servicestest00000000001', partnerId: demo, name: 'Product only', tokenPrefix: token.slice(0, 10), tokenHash: sha256Hex(token),
      apps: ['product'], createdBy: null, lastUsedAt: null, revokedAt: null,
    }).execute();
    const keyed = await api(t, { authorization: `Bearer ${token}` }, 'GET', `/api/v1/customers/${acme}/virtual-lines`);
    expect(keyed.statusCode).toBe(403);
    expect(keyed.json()).toMatchObject({ code: 'app_not_granted' });

    expect((await api(t, staff, 'POST', `/api/v1/customers/${acme}/virtual-lines`, { number: freshNumber() })).statusCode).toBe(404);
    expect((await api(t, member, 'GET', `/api/v1/customers/${acme}/virtual-lines`)).statusCode).toBe(403);
  });
});

describe('the Services tab hidden by the partner', () => {
  it('refuses reads and writes with 403 tab_hidden while hidden, and serves them again once shown', async () => {
    const line = await createLine();
    const hide = await api(t, staff, 'PATCH', '/api/v1/settings/portal', { portalTabs: { services: false } });
    expect(hide.statusCode).toBe(200);
    try {
      const before = await footprint();
      for (const [method, url, body] of [
        ['GET', LINES, undefined],
        ['GET', `${LINES}/${line.id}`, undefined],
        ['POST', LINES, { number: freshNumber(), name: 'Hidden', destination: { type: 'user', userId: memberId } }],
        ['PATCH', `${LINES}/${line.id}`, { version: 1, name: 'Hidden edit' }],
        ['POST', `${LINES}/${line.id}/remove`, { version: 1 }],
        ['GET', '/api/v1/portal/wallboards', undefined],
      ] as const) {
        const res = await api(t, owner, method, url, body);
        expect(res.statusCode, `${method} ${url}`).toBe(403);
        expect(res.json()).toMatchObject({ code: 'tab_hidden' });
      }
      expect(await footprint()).toEqual(before);
      // Staff still read them in the Customer app.
      expect((await api(t, staff, 'GET', `/api/v1/customers/${acme}/virtual-lines`)).statusCode).toBe(200);
    } finally {
      expect((await api(t, staff, 'PATCH', '/api/v1/settings/portal', { portalTabs: { services: true } })).statusCode).toBe(200);
    }
    expect((await api(t, owner, 'GET', LINES)).statusCode).toBe(200);
  });
});
