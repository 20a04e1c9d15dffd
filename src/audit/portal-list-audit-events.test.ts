import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgetPortalTabs } from '../settings/portal-tabs.ts';
import { sql } from 'kysely';
import { api, createTestApp, customerIdOf, partnerIdOf, signIn, userIdOf, type Session, type TestApp } from '../test/harness.ts';
import { inScope } from '../platform/database.ts';
import { recordAudit } from './record-audit.ts';
import { PORTAL_ACTIONS } from './portal-audit-catalog.ts';

let t: TestApp;
let owner: Session;
let member: Session;
let globexOwner: Session;
let demo: string;
let acme: string;
let globex: string;
let memberId: string;
let ownerId: string;

const staffEvent = (customerId: string, action: string, changes: Record<string, { before?: unknown; after?: unknown }>, targetType = 'subscription', targetId = 'sub_1') =>
  inScope(t.db.app.db, { kind: 'partner', partnerId: demo }, (trx) =>
    recordAudit(trx, { principal: { kind: 'system', job: 'test' }, requestId: 'req_staff', ip: '10.1.1.1', userAgent: 'staff-browser' }, {
      partnerId: demo, customerId, app: 'customer', action, targetType, targetId,
      actor: { actorType: 'user', actorId: 'usr_staffmember00', actorLabel: 'admin@demo.test' },
      changes,
    }),
  );

beforeAll(async () => {
  t = await createTestApp();
  demo = await partnerIdOf(t.db, 'demo-telecom');
  [acme, globex] = await Promise.all([customerIdOf(t.db, 'Acme Pte Ltd'), customerIdOf(t.db, 'Globex Sdn Bhd')]);
  [memberId, ownerId] = await Promise.all([userIdOf(t.db, 'member@acme.test'), userIdOf(t.db, 'owner@acme.test')]);
  member = await signIn(t, 'member@acme.test');
  owner = await signIn(t, 'owner@acme.test');
  globexOwner = await signIn(t, 'owner@globex.test');
  // The member changes their own profile (a member's action the owner sees too).
  const renamed = await api(t, member, 'PATCH', '/api/v1/auth/me', { name: 'Max M. Member' });
  expect(renamed.statusCode).toBeLessThan(300);
  // A staff renewal on Acme, carrying the provider's own cost and margin.
  await staffEvent(acme, 'subscription.renewed', {
    total: { after: '12.00' }, currency: { after: 'SGD' }, renewalCost: { before: '6.00', after: '7.00' }, marginPercent: { after: 40 },
    subscriptions: { after: [{ id: 'sub_1', product: 'Line', price: '12.00', cost: '7.00', quantity: 1 }] },
  });
  // A staff remark: never on the portal.
  await staffEvent(acme, 'customer.noted', { note: { after: 'slow payer, watch closely' } }, 'customer', acme);
  // Points issued by finance with a reason (a staff remark): the amount shows, the reason does not.
  await staffEvent(acme, 'points.issued', { amount: { after: '5.00' }, currency: { after: 'SGD' }, reason: { after: 'goodwill after outage' }, entryId: { after: 'je_1' } }, 'customer', acme);
  // Globex's own event, about its own line.
  await staffEvent(globex, 'virtual_line.created', { number: { after: '+6560000000' }, name: { after: 'Globex secret line' } }, 'virtual_line', 'vl_globex');
});
afterAll(async () => t.close());

interface PortalEvent {
  id: string; occurredAt: string; type: string;
  actor: { type: string; id: string | null; label: string }; app: string; action: string;
  target: { type: string; id: string | null; label: string | null }; changes: Record<string, { before?: unknown; after?: unknown }>;
}
const list = async (who: Session | null, query = '') => {
  const res = await api(t, who, 'GET', `/api/v1/portal/audit-events${query}`);
  return { res, body: res.json<{ data: PortalEvent[]; nextCursor: string | null }>() };
};
const paths = (res: { json: () => { errors?: Array<{ path: string }> } }) => (res.json().errors ?? []).map((e) => e.path);

describe('portalListAuditEvents', () => {
  it("shows the owner the organisation's listed events, newest first, with names and no partner-internal data", async () => {
    const { res, body } = await list(owner, '?limit=200');
    expect(res.statusCode).toBe(200);
    const listed = await t.db.owner.db
      .selectFrom('auditEvents').select('id').where('customerId', '=', acme).where('action', 'in', Object.keys(PORTAL_ACTIONS))
      .orderBy('occurredAt', 'desc').orderBy('seq', 'desc').execute();
    expect(body.data.map((e) => e.id)).toEqual(listed.map((e) => e.id));
    expect(body.data.map((e) => e.action)).not.toContain('customer.noted');

    // The member's own action, by name.
    const memberChange = body.data.find((e) => e.action === 'user.profile_updated')!;
    expect(memberChange).toMatchObject({ type: 'sign_in', actor: { type: 'member', id: memberId, label: 'Max M. Member' } });
    expect(memberChange.changes).toEqual({ name: { before: 'Max Member', after: 'Max M. Member' } });
    expect(memberChange.target).toEqual({ type: 'user', id: memberId, label: 'Max M. Member' });
    const ownerSignIn = body.data.find((e) => e.action === 'auth.signed_in' && e.actor.id === ownerId)!;
    expect(ownerSignIn.actor.label).toBe('Olive Owner');

    // The provider's staff: the provider's name; cost and margin fields gone, also inside nested values.
    const renewal = body.data.find((e) => e.action === 'subscription.renewed')!;
    expect(renewal.actor).toEqual({ type: 'provider', id: null, label: 'Demo Telecom' });
    expect(renewal.changes).toEqual({
      total: { after: '12.00' }, currency: { after: 'SGD' },
      subscriptions: { after: [{ id: 'sub_1', product: 'Line', price: '12.00', quantity: 1 }] },
    });
    const points = body.data.find((e) => e.action === 'points.issued')!;
    expect(points.changes).toEqual({ amount: { after: '5.00' }, currency: { after: 'SGD' } });
    expect(body.data.find((e) => e.action === 'customer.created')!.actor).toEqual({ type: 'system', id: null, label: 'System' });

    const text = JSON.stringify(body);
    for (const secret of ['renewalCost', 'margin', 'cost', 'goodwill', 'slow payer', '10.1.1.1', 'staff-browser', 'req_staff', 'admin@demo.test', 'usr_staffmember00']) {
      expect(text).not.toContain(secret);
    }
    expect(Object.keys(renewal).sort()).toEqual(['action', 'actor', 'app', 'changes', 'id', 'occurredAt', 'target', 'type']);
  });

  it('shows a member only what they did themselves', async () => {
    const { body } = await list(member, '?limit=200');
    expect(body.data.length).toBeGreaterThan(0);
    expect(body.data.every((e) => e.actor.type === 'member' && e.actor.id === memberId)).toBe(true);
    expect(body.data.map((e) => e.action)).toEqual(expect.arrayContaining(['auth.signed_in', 'user.profile_updated']));
    // Asking for someone else's actions narrows to nothing, never widens.
    expect((await list(member, `?personId=${ownerId}`)).body.data).toEqual([]);
  });

  it("never shows another organisation's events", async () => {
    const { body } = await list(globexOwner, '?limit=200');
    expect(body.data.length).toBeGreaterThan(0);
    const acmeIds = new Set((await t.db.owner.db.selectFrom('auditEvents').select('id').where('customerId', '=', acme).execute()).map((e) => e.id));
    expect(body.data.some((e) => acmeIds.has(e.id))).toBe(false);
    expect(body.data.map((e) => e.action)).toContain('virtual_line.created');
    const acmeText = JSON.stringify((await list(owner, '?limit=200')).body);
    expect(acmeText).not.toContain('Globex secret line');
    // Acme's owner asking for Globex's owner by id gets nothing.
    const globexOwnerId = await userIdOf(t.db, 'owner@globex.test');
    expect((await list(owner, `?personId=${globexOwnerId}`)).body.data).toEqual([]);
  });

  it('filters by type, person and date range', async () => {
    const signIns = (await list(owner, '?type=sign_in&limit=200')).body.data;
    expect(signIns.length).toBeGreaterThan(0);
    expect(signIns.every((e) => e.type === 'sign_in')).toBe(true);
    const subs = (await list(owner, '?type=subscriptions&limit=200')).body.data;
    expect(subs.map((e) => e.action)).toContain('subscription.renewed');
    expect(subs.every((e) => e.type === 'subscriptions')).toBe(true);

    const byMember = (await list(owner, `?personId=${memberId}&limit=200`)).body.data;
    expect(byMember.length).toBeGreaterThan(0);
    expect(byMember.every((e) => e.actor.id === memberId)).toBe(true);

    const today = new Date().toISOString().slice(0, 10);
    const all = (await list(owner, '?limit=200')).body.data;
    expect((await list(owner, `?from=${today}&to=${today}&limit=200`)).body.data.length).toBe(all.filter((e) => e.occurredAt.startsWith(today)).length);
    expect((await list(owner, '?to=2000-01-01')).body.data).toEqual([]);
    const newest = all[0]!;
    const fromNewest = (await list(owner, `?from=${encodeURIComponent(newest.occurredAt)}&limit=200`)).body.data;
    expect(fromNewest.map((e) => e.id)).toContain(newest.id);
  });

  it('pages with limit and cursor; a cursor from another organisation is refused', async () => {
    const all = (await list(owner, '?limit=200')).body.data.map((e) => e.id);
    const first = (await list(owner, '?limit=2')).body;
    expect(first.data.map((e) => e.id)).toEqual(all.slice(0, 2));
    const next = (await list(owner, `?limit=200&cursor=${first.nextCursor}`)).body;
    expect(next).toEqual({ data: all.slice(2).map((id) => expect.objectContaining({ id })), nextCursor: null });

    const globexEvent = await t.db.owner.db.selectFrom('auditEvents').select('id').where('customerId', '=', globex).executeTakeFirstOrThrow();
    const foreign = await list(owner, `?cursor=${globexEvent.id}`);
    expect(foreign.res.statusCode).toBe(400);
    expect(paths(foreign.res)).toEqual(['cursor']);
  });

  it('rejects bad query parameters with 400, naming each (dates in the wrong order: 422)', async () => {
    const cases: Array<[string, string]> = [
      ['?limit=0', 'limit'], ['?limit=100000', 'limit'], ['?limit=abc', 'limit'],
      ['?from=yesterday', 'from'], ['?from=2026-13-45', 'from'], ['?to=2026-11-30T25:00:00Z', 'to'],
      ['?type=billing', 'type'], ["?type=sign_in'%20or%201=1--", 'type'],
      ['?personId=x', 'personId'], ['?personId=usr_1%27%3B%20drop%20table%20users', 'personId'],
      ['?customerId=cus_0000000000', 'customerId'], ['?cursor=nope', 'cursor'], ['?format=xml', 'format'],
    ];
    for (const [query, path] of cases) {
      const { res } = await list(owner, query);
      expect({ query, status: res.statusCode }).toEqual({ query, status: 400 });
      expect({ query, paths: paths(res) }).toEqual({ query, paths: expect.arrayContaining([path]) });
    }
    // Well-formed days in the wrong order break a rule: 422 rule_violation naming to (docs/adr/0040).
    const order = (await list(owner, '?from=2026-11-30&to=2026-11-01')).res;
    expect({ status: order.statusCode, code: order.json().code, paths: paths(order) }).toEqual({ status: 422, code: 'rule_violation', paths: ['to'] });
  });

  it('streams the same list as CSV, with names and without partner-internal data', async () => {
    const res = await api(t, owner, 'GET', '/api/v1/portal/audit-events?format=csv');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toMatch(/attachment; filename="activity-\d{4}-\d{2}-\d{2}\.csv"/);
    const lines = res.body.split('\r\n').filter(Boolean);
    expect(lines[0]).toBe('occurredAt,type,action,person,personType,targetType,target,changes,eventId');
    const all = (await list(owner, '?limit=200')).body.data;
    expect(lines.length - 1).toBe(all.length);
    expect(res.body).toContain('Max M. Member');
    expect(res.body).toContain('Demo Telecom');
    for (const secret of ['renewalCost', 'margin', 'goodwill', 'slow payer', '10.1.1.1', 'admin@demo.test', 'Globex']) expect(res.body).not.toContain(secret);

    const byAccept = await t.app.inject({ method: 'GET', url: '/api/v1/portal/audit-events?type=sign_in', headers: { ...member.headers, accept: 'text/csv' } });
    expect(byAccept.statusCode).toBe(200);
    const memberRows = byAccept.body.split('\r\n').filter(Boolean).slice(1);
    expect(memberRows.length).toBeGreaterThan(0);
    expect(memberRows.every((l) => l.includes('Max M. Member') && !l.includes('Olive Owner'))).toBe(true);

    const bad = await api(t, owner, 'GET', '/api/v1/portal/audit-events?format=csv&from=nonsense');
    expect(bad.statusCode).toBe(400);
    expect(paths(bad)).toEqual(['from']);
  });

  it('is for portal users only', async () => {
    expect((await list(null)).res.statusCode).toBe(401);
    const staff = await signIn(t, 'admin@demo.test');
    const res = (await list(staff)).res;
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('forbidden');
  });

  it('is hidden with the Audit tab (403 tab_hidden)', async () => {
    await sql`update partner_settings set portal_tabs = portal_tabs || '{"audit": false}'::jsonb where partner_id = ${demo}`.execute(t.db.owner.db);
    forgetPortalTabs(t.db.app.db, demo); // as another server process would see it, at the latest after PORTAL_TABS_CACHE_MS
    try {
      const { res } = await list(owner);
      expect(res.statusCode).toBe(403);
      expect(res.json().code).toBe('tab_hidden');
    } finally {
      await sql`update partner_settings set portal_tabs = portal_tabs || '{"audit": true}'::jsonb where partner_id = ${demo}`.execute(t.db.owner.db);
      forgetPortalTabs(t.db.app.db, demo); // as another server process would see it, at the latest after PORTAL_TABS_CACHE_MS
    }
    expect((await list(owner)).res.statusCode).toBe(200);
  });
});
