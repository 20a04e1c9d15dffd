import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, createTestApp, signIn, userIdOf, type Session, type TestApp } from '../test/harness.ts';

let t: TestApp;
let admin: Session;
beforeAll(async () => {
  t = await createTestApp();
  admin = await signIn(t, 'admin@demo.test');
});
afterAll(async () => t.close());

describe('enableStaff', () => {
  it('lets a disabled member back in; one who never accepted goes back to invited', async () => {
    const financeId = await userIdOf(t.db, 'finance@demo.test');
    await api(t, admin, 'POST', `/api/v1/staff/${financeId}/disable`);
    const res = await api(t, admin, 'POST', `/api/v1/staff/${financeId}/enable`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'active', apps: ['customer', 'invoice', 'finance'] });
    await signIn(t, 'finance@demo.test');
    const [event] = await auditEventsOf(t.db, 'staff.enabled');
    expect(event).toMatchObject({ targetId: financeId, changes: { status: { before: 'disabled', after: 'active' } } });

    const { userId } = (await api(t, admin, 'POST', '/api/v1/staff/invitations', { email: 'later@demo.test', name: 'Later', apps: [] })).json();
    await api(t, admin, 'POST', `/api/v1/staff/${userId}/disable`);
    expect((await api(t, admin, 'POST', `/api/v1/staff/${userId}/enable`)).json().status).toBe('invited');
  });

  it('refuses an active member (409), yourself (422), another partner\'s staff (404)', async () => {
    expect((await api(t, admin, 'POST', `/api/v1/staff/${await userIdOf(t.db, 'finance@demo.test')}/enable`)).statusCode).toBe(409);
    expect((await api(t, admin, 'POST', `/api/v1/staff/${await userIdOf(t.db, 'admin@demo.test')}/enable`)).statusCode).toBe(422);
    expect((await api(t, admin, 'POST', `/api/v1/staff/${await userIdOf(t.db, 'admin@northwind.test')}/enable`)).statusCode).toBe(404);
    expect((await api(t, admin, 'POST', '/api/v1/staff/fiona/enable')).json().errors[0].path).toBe('userId');
    const finance = await signIn(t, 'finance@demo.test');
    expect((await api(t, finance, 'POST', `/api/v1/staff/${await userIdOf(t.db, 'admin@demo.test')}/enable`)).json().code).toBe('app_not_granted');
  });
});
