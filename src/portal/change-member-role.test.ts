import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, createTestApp, joinOrganisation, signIn, userIdOf, type Session, type TestApp } from '../test/harness.ts';

let t: TestApp;
let owner: Session;
beforeAll(async () => {
  t = await createTestApp();
  owner = await signIn(t, 'owner@acme.test');
});
afterAll(async () => t.close());

const change = (who: Session, userId: string, payload: unknown) => api(t, who, 'PATCH', `/api/v1/portal/members/${userId}`, payload);

describe('portalChangeMemberRole', () => {
  it('lets the owner change a role, effective at the member\'s next request', async () => {
    const memberId = await userIdOf(t.db, 'member@acme.test');
    const member = await signIn(t, 'member@acme.test');
    expect((await api(t, member, 'POST', '/api/v1/portal/members/invitations', { email: 'x@acme.test', name: 'X', role: 'guest' })).statusCode).toBe(403);

    const res = await change(owner, memberId, { role: 'admin' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: memberId, role: 'admin', status: 'active' });
    expect((await api(t, member, 'GET', '/api/v1/auth/session')).json().customer.role).toBe('admin');
    expect((await api(t, member, 'POST', '/api/v1/portal/members/invitations', { email: 'x@acme.test', name: 'X', role: 'guest' })).statusCode).toBe(201);
    const [event] = await auditEventsOf(t.db, 'member.role_changed');
    expect(event).toMatchObject({ app: 'portal', targetId: memberId, changes: { role: { before: 'member', after: 'admin' } } });
  });

  it('refuses admins (403), the owner\'s own role (422), owner as a role (400), other organisations\' users (404)', async () => {
    const { session: admin } = await joinOrganisation(t, owner, 'adm@acme.test', 'admin');
    const memberId = await userIdOf(t.db, 'member@acme.test');
    const byAdmin = await change(admin, memberId, { role: 'guest' });
    expect(byAdmin.statusCode).toBe(403);
    expect(byAdmin.json().code).toBe('role_not_allowed');
    expect((await change(owner, await userIdOf(t.db, 'owner@acme.test'), { role: 'admin' })).statusCode).toBe(422);
    const toOwner = await change(owner, memberId, { role: 'owner' });
    expect(toOwner.statusCode).toBe(400);
    expect(toOwner.json().errors[0].path).toBe('role');
    for (const email of ['owner@globex.test', 'owner@wombat.test', 'admin@demo.test']) {
      expect((await change(owner, await userIdOf(t.db, email), { role: 'guest' })).statusCode, email).toBe(404);
    }
    const globex = await t.db.owner.db.selectFrom('users').select('customerRole').where('email', '=', 'owner@globex.test').executeTakeFirstOrThrow();
    expect(globex.customerRole).toBe('owner');
  });
});
