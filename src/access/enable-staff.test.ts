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
    // The admin does not hold Finance: no partner caller gives it, so it comes back as the operator granted it (ADR 0039).
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

  it('gives back only apps the enabler holds: otherwise 403 app_not_held naming them, nothing written; with those removed, enabled', async () => {
    const financeId = await userIdOf(t.db, 'finance@demo.test');
    // Fiona is given Access Control; she holds Customer, Invoice, Finance and Access Control, not Product.
    expect((await api(t, admin, 'PUT', `/api/v1/staff/${financeId}/apps/access`)).statusCode).toBe(200);
    const finance = await signIn(t, 'finance@demo.test');
    const { userId } = (await api(t, admin, 'POST', '/api/v1/staff/invitations', { email: 'returning@demo.test', name: 'Re Turning', apps: ['product', 'invoice'] })).json();
    expect((await api(t, admin, 'POST', `/api/v1/staff/${userId}/disable`)).statusCode).toBe(200);
    const userRow = () => t.db.owner.db.selectFrom('users').select(['status', 'updatedAt']).where('id', '=', userId).executeTakeFirstOrThrow();
    const before = await userRow();
    const enabledBefore = (await auditEventsOf(t.db, 'staff.enabled')).length;

    const refused = await api(t, finance, 'POST', `/api/v1/staff/${userId}/enable`);
    expect(refused.statusCode, refused.body).toBe(403);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.json()).toMatchObject({ code: 'app_not_held', detail: expect.stringContaining('you do not hold: product.') });
    expect(refused.json().detail).toContain('Re Turning');
    expect(refused.json().detail).not.toContain('invoice');
    expect(await userRow()).toEqual(before);
    expect(await auditEventsOf(t.db, 'staff.enabled')).toHaveLength(enabledBefore);

    // Taking Product away is open to her; then she may enable what is left.
    expect((await api(t, finance, 'DELETE', `/api/v1/staff/${userId}/apps/product`)).statusCode).toBe(200);
    const enabled = await api(t, finance, 'POST', `/api/v1/staff/${userId}/enable`);
    expect(enabled.statusCode, enabled.body).toBe(200);
    expect(enabled.json()).toMatchObject({ status: 'invited', apps: ['invoice'] });
    expect(await auditEventsOf(t.db, 'staff.enabled')).toHaveLength(enabledBefore + 1);

    // Someone who holds every app the member has enables them as before.
    expect((await api(t, admin, 'POST', `/api/v1/staff/${userId}/disable`)).statusCode).toBe(200);
    expect((await api(t, admin, 'PUT', `/api/v1/staff/${userId}/apps/product`)).statusCode).toBe(200);
    const byAdmin = await api(t, admin, 'POST', `/api/v1/staff/${userId}/enable`);
    expect(byAdmin.statusCode, byAdmin.body).toBe(200);
    expect(byAdmin.json().apps).toEqual(['product', 'invoice']);
  });

  it('an API key enables only a member whose apps it may use (403 app_not_held otherwise)', async () => {
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    const { userId } = (await api(t, admin, 'POST', '/api/v1/staff/invitations', { email: 'keyed@demo.test', name: 'Key Ed', apps: ['customer'] })).json();
    expect((await api(t, admin, 'POST', `/api/v1/staff/${userId}/disable`)).statusCode).toBe(200);
    const accessOnly = (await api(t, admin, 'POST', '/api/v1/api-keys', { name: 'Access only', apps: ['access'] })).json();
    const refused = await api(t, bearer(accessOnly.token), 'POST', `/api/v1/staff/${userId}/enable`);
    expect(refused.statusCode, refused.body).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'app_not_held', detail: expect.stringContaining('this API key may not use: customer.') });
    const withCustomer = (await api(t, admin, 'POST', '/api/v1/api-keys', { name: 'Access and Customer', apps: ['access', 'customer'] })).json();
    const enabled = await api(t, bearer(withCustomer.token), 'POST', `/api/v1/staff/${userId}/enable`);
    expect(enabled.statusCode, enabled.body).toBe(200);
    expect(enabled.json()).toMatchObject({ status: 'invited', apps: ['customer'] });
  });
});
