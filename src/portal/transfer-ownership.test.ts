import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, createTestApp, joinOrganisation, signIn, userIdOf, type Session, type TestApp } from '../test/harness.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

const transfer = (who: Session, payload: unknown) => api(t, who, 'POST', '/api/v1/portal/ownership-transfer', payload);

describe('portalTransferOwnership', () => {
  it('makes an active member the owner and the old owner an admin', async () => {
    const owner = await signIn(t, 'owner@acme.test');
    const memberId = await userIdOf(t.db, 'member@acme.test');
    const ownerId = await userIdOf(t.db, 'owner@acme.test');
    const res = await transfer(owner, { userId: memberId });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true });
    expect((await api(t, owner, 'GET', '/api/v1/auth/session')).json().customer.role).toBe('admin');
    const members = (await api(t, owner, 'GET', '/api/v1/portal/members')).json().data;
    expect(members.map((m: { email: string; role: string }) => [m.email, m.role])).toEqual([['member@acme.test', 'owner'], ['owner@acme.test', 'admin']]);
    const [event] = await auditEventsOf(t.db, 'ownership.transferred');
    expect(event).toMatchObject({ app: 'portal', targetType: 'customer', changes: { ownerId: { before: ownerId, after: memberId } } });

    // The old owner, now an admin, can no longer transfer.
    expect((await transfer(owner, { userId: ownerId })).json().code).toBe('role_not_allowed');
  });

  it('refuses yourself, invited or removed members (422), other organisations\' users (404), and bad bodies (400)', async () => {
    const owner = await signIn(t, 'owner@globex.test');
    expect((await transfer(owner, { userId: await userIdOf(t.db, 'owner@globex.test') })).statusCode).toBe(422);
    const invited = (await api(t, owner, 'POST', '/api/v1/portal/members/invitations', { email: 'new@globex.test', name: 'New', role: 'admin' })).json();
    expect((await transfer(owner, { userId: invited.userId })).statusCode).toBe(422);
    const { userId: removedId } = await joinOrganisation(t, owner, 'gone@globex.test', 'member');
    await api(t, owner, 'POST', `/api/v1/portal/members/${removedId}/remove`);
    expect((await transfer(owner, { userId: removedId })).statusCode).toBe(422);
    expect((await transfer(owner, { userId: await userIdOf(t.db, 'owner@initech.test') })).statusCode).toBe(404);
    const bad = await transfer(owner, { userId: 'me', confirm: true });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['userId', 'confirm']));
    const roles = await t.db.owner.db.selectFrom('users').select('customerRole').where('email', '=', 'owner@globex.test').executeTakeFirstOrThrow();
    expect(roles.customerRole).toBe('owner');
  });
});
