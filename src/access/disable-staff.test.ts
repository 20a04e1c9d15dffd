import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, createTestApp, DEMO_PASSWORD, invitationTokenFor, signIn, userIdOf, type Session, type TestApp } from '../test/harness.ts';

let t: TestApp;
let admin: Session;
beforeAll(async () => {
  t = await createTestApp();
  admin = await signIn(t, 'admin@demo.test');
});
afterAll(async () => t.close());

describe('disableStaff', () => {
  it('disables a staff member, signs them out everywhere and keeps them out', async () => {
    const financeId = await userIdOf(t.db, 'finance@demo.test');
    const finance = await signIn(t, 'finance@demo.test');
    const res = await api(t, admin, 'POST', `/api/v1/staff/${financeId}/disable`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: financeId, status: 'disabled' });
    expect((await api(t, finance, 'GET', '/api/v1/auth/session')).statusCode).toBe(401);
    await expect(signIn(t, 'finance@demo.test')).rejects.toThrow(/401/);
    const [event] = await auditEventsOf(t.db, 'staff.disabled');
    expect(event).toMatchObject({ targetId: financeId, changes: { status: { before: 'active', after: 'disabled' } } });

    const again = await api(t, admin, 'POST', `/api/v1/staff/${financeId}/disable`);
    expect(again.statusCode).toBe(409);
  });

  it('stops the pending invitation of an invited member', async () => {
    const { userId } = (await api(t, admin, 'POST', '/api/v1/staff/invitations', { email: 'never@demo.test', name: 'Never', apps: [] })).json();
    const token = await invitationTokenFor(t.db, 'never@demo.test');
    expect((await api(t, admin, 'POST', `/api/v1/staff/${userId}/disable`)).statusCode).toBe(200);
    expect((await api(t, null, 'POST', '/api/v1/auth/invitations/accept', { token, name: 'Never', password: DEMO_PASSWORD })).statusCode).toBe(422);
  });

  it('refuses yourself (422), another partner\'s staff (404), and callers without the app (403)', async () => {
    const self = await api(t, admin, 'POST', `/api/v1/staff/${await userIdOf(t.db, 'admin@demo.test')}/disable`);
    expect(self.statusCode).toBe(422);
    const northId = await userIdOf(t.db, 'admin@northwind.test');
    expect((await api(t, admin, 'POST', `/api/v1/staff/${northId}/disable`)).statusCode).toBe(404);
    const north = await t.db.owner.db.selectFrom('users').select('status').where('id', '=', northId).executeTakeFirstOrThrow();
    expect(north.status).toBe('active');
    const owner = await signIn(t, 'owner@acme.test');
    expect((await api(t, owner, 'POST', `/api/v1/staff/${northId}/disable`)).statusCode).toBe(403);
  });
});
