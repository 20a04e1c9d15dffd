import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, createTestApp, joinOrganisation, signIn, userIdOf, type Session, type TestApp } from '../test/harness.ts';

let t: TestApp;
let owner: Session;
beforeAll(async () => {
  t = await createTestApp();
  owner = await signIn(t, 'owner@acme.test');
});
afterAll(async () => t.close());

const remove = (who: Session, userId: string) => api(t, who, 'POST', `/api/v1/portal/members/${userId}/remove`);

describe('portalRemoveMember', () => {
  it('disables the member and signs them out; removing twice is a conflict', async () => {
    const memberId = await userIdOf(t.db, 'member@acme.test');
    const member = await signIn(t, 'member@acme.test');
    const res = await remove(owner, memberId);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: memberId, status: 'disabled', role: 'member' });
    expect((await api(t, member, 'GET', '/api/v1/portal/members')).statusCode).toBe(401);
    await expect(signIn(t, 'member@acme.test')).rejects.toThrow(/401/);
    const [event] = await auditEventsOf(t.db, 'member.removed');
    expect(event).toMatchObject({ app: 'portal', targetId: memberId, changes: { status: { before: 'active', after: 'disabled' } } });
    expect((await remove(owner, memberId)).statusCode).toBe(409);
  });

  it('lets admins remove guests but not admins nor the owner', async () => {
    const { session: admin, userId: adminId } = await joinOrganisation(t, owner, 'a1@acme.test', 'admin');
    const { userId: otherAdminId } = await joinOrganisation(t, owner, 'a2@acme.test', 'admin');
    const { userId: guestId } = await joinOrganisation(t, admin, 'g1@acme.test', 'guest');
    expect((await remove(admin, guestId)).statusCode).toBe(200);
    expect((await remove(admin, otherAdminId)).json().code).toBe('role_not_allowed');
    expect((await remove(admin, adminId)).statusCode).toBe(403);
    const ownerId = await userIdOf(t.db, 'owner@acme.test');
    expect((await remove(admin, ownerId)).statusCode).toBe(422);
    expect((await remove(owner, ownerId)).statusCode).toBe(422);
  });

  it('refuses members (403) and other organisations\' users (404)', async () => {
    const { session: guest } = await joinOrganisation(t, owner, 'g2@acme.test', 'guest');
    expect((await remove(guest, await userIdOf(t.db, 'g2@acme.test'))).statusCode).toBe(403);
    expect((await remove(owner, await userIdOf(t.db, 'owner@globex.test'))).statusCode).toBe(404);
    expect((await remove(owner, await userIdOf(t.db, 'owner@wombat.test'))).statusCode).toBe(404);
    const globex = await t.db.owner.db.selectFrom('users').select('status').where('email', '=', 'owner@globex.test').executeTakeFirstOrThrow();
    expect(globex.status).toBe('active');
  });
});
