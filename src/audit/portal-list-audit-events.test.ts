import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { api, createTestApp, customerIdOf, partnerIdOf, signIn, userIdOf, type Session, type TestApp } from '../test/harness.ts';
import { inScope } from '../platform/database.ts';
import { recordAudit } from './record-audit.ts';

let t: TestApp;
let owner: Session;
let member: Session;
let demo: string;
let acme: string;
let globex: string;
let memberId: string;
beforeAll(async () => {
  t = await createTestApp();
  demo = await partnerIdOf(t.db, 'demo-telecom');
  [acme, globex] = await Promise.all([customerIdOf(t.db, 'Acme Pte Ltd'), customerIdOf(t.db, 'Globex Sdn Bhd')]);
  memberId = await userIdOf(t.db, 'member@acme.test');
  member = await signIn(t, 'member@acme.test');
  owner = await signIn(t, 'owner@acme.test');
  await signIn(t, 'owner@globex.test');
  // A staff change on Acme, carrying the provider's own cost.
  await inScope(t.db.app.db, { kind: 'partner', partnerId: demo }, (trx) =>
    recordAudit(trx, { principal: { kind: 'system', job: 'test' }, requestId: 'req_staff', ip: '10.1.1.1', userAgent: 'staff-browser' }, {
      partnerId: demo, customerId: acme, app: 'customer', action: 'subscription.renewed', targetType: 'subscription', targetId: 'sub_1',
      actor: { actorType: 'user', actorId: 'usr_staffmember', actorLabel: 'admin@demo.test' },
      changes: { price: { before: '10.00', after: '12.00' }, renewalCost: { before: '6.00', after: '7.00' }, marginPercent: { after: 40 } },
    }),
  );
});
afterAll(async () => t.close());

interface PortalEvent { id: string; occurredAt: string; actor: { type: string; id: string | null; label: string }; app: string; action: string; target: { type: string; id: string | null }; changes: Record<string, unknown> }
const list = async (who: Session | null, query = '') => {
  const res = await api(t, who, 'GET', `/api/v1/portal/audit-events${query}`);
  return { res, body: res.json<{ data: PortalEvent[]; nextCursor: string | null }>() };
};

describe('portalListAuditEvents', () => {
  it("shows the owner all of the organisation's events, newest first, in the organisation's terms", async () => {
    const { res, body } = await list(owner, '?limit=200');
    expect(res.statusCode).toBe(200);
    const acmeIds = await t.db.owner.db.selectFrom('auditEvents').select('id').where('customerId', '=', acme).orderBy('seq', 'desc').execute();
    expect(body.data.map((e) => e.id)).toEqual(acmeIds.map((e) => e.id));

    const memberSignIn = body.data.find((e) => e.action === 'auth.signed_in' && e.actor.id === memberId)!;
    expect(memberSignIn.actor).toEqual({ type: 'member', id: memberId, label: 'member@acme.test' });
    const staffChange = body.data.find((e) => e.action === 'subscription.renewed')!;
    expect(staffChange.actor).toEqual({ type: 'provider', id: null, label: 'Demo Telecom' });
    expect(staffChange.changes).toEqual({ price: { before: '10.00', after: '12.00' } });
    const seeded = body.data.find((e) => e.action === 'customer.created')!;
    expect(seeded.actor).toEqual({ type: 'system', id: null, label: 'System' });
    expect(Object.keys(staffChange).sort()).toEqual(['action', 'actor', 'app', 'changes', 'id', 'occurredAt', 'target']);
  });

  it('shows a member only what they did themselves', async () => {
    const { body } = await list(member);
    expect(body.data.length).toBeGreaterThan(0);
    expect(body.data.every((e) => e.actor.type === 'member' && e.actor.id === memberId)).toBe(true);
    expect(body.data.map((e) => e.action)).toContain('auth.signed_in');
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
    expect(foreign.res.json().errors.map((e: { path: string }) => e.path)).toEqual(['cursor']);
  });

  it('rejects bad query parameters, naming them', async () => {
    const { res } = await list(owner, '?limit=0&customerId=x');
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['limit', 'customerId']));
  });

  it('is for portal users only', async () => {
    expect((await list(null)).res.statusCode).toBe(401);
    const staff = await signIn(t, 'admin@demo.test');
    expect((await list(staff)).res.json().code).toBe('forbidden');
  });

  it('is hidden with the Audit tab (403 tab_hidden)', async () => {
    await sql`update partner_settings set portal_tabs = portal_tabs || '{"audit": false}'::jsonb where partner_id = ${demo}`.execute(t.db.owner.db);
    try {
      const { res } = await list(owner);
      expect(res.statusCode).toBe(403);
      expect(res.json().code).toBe('tab_hidden');
    } finally {
      await sql`update partner_settings set portal_tabs = portal_tabs || '{"audit": true}'::jsonb where partner_id = ${demo}`.execute(t.db.owner.db);
    }
    expect((await list(owner)).res.statusCode).toBe(200);
  });
});
