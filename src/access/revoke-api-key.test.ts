import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, createTestApp, signIn, type Session, type TestApp } from '../test/harness.ts';

let t: TestApp;
let admin: Session;
beforeAll(async () => {
  t = await createTestApp();
  admin = await signIn(t, 'admin@demo.test');
});
afterAll(async () => t.close());

describe('revokeApiKey', () => {
  it('revokes a key: its next request is 401; revoking again is a conflict', async () => {
    const key = (await api(t, admin, 'POST', '/api/v1/api-keys', { name: 'Old', apps: ['customer'] })).json();
    const bearer = { authorization: `Bearer ${key.token}` };
    expect((await api(t, bearer, 'GET', '/api/v1/customers')).statusCode).toBe(200);

    const res = await api(t, admin, 'POST', `/api/v1/api-keys/${key.id}/revoke`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: key.id, revokedAt: expect.any(String) });
    expect(res.json().token).toBeUndefined();
    const refused = await api(t, bearer, 'GET', '/api/v1/customers');
    expect(refused.statusCode).toBe(401);
    expect(refused.json().code).toBe('not_signed_in');
    const [event] = await auditEventsOf(t.db, 'api_key.revoked');
    expect(event).toMatchObject({ targetId: key.id, actorLabel: 'admin@demo.test' });

    expect((await api(t, admin, 'POST', `/api/v1/api-keys/${key.id}/revoke`)).statusCode).toBe(409);
  });

  it('is 404 for another partner\'s key, which keeps working', async () => {
    const north = await signIn(t, 'admin@northwind.test');
    const key = (await api(t, north, 'POST', '/api/v1/api-keys', { name: 'Theirs', apps: ['customer'] })).json();
    const res = await api(t, admin, 'POST', `/api/v1/api-keys/${key.id}/revoke`);
    expect(res.statusCode).toBe(404);
    expect((await api(t, { authorization: `Bearer ${key.token}` }, 'GET', '/api/v1/customers')).statusCode).toBe(200);
  });

  it('needs the Access Control app', async () => {
    const key = (await api(t, admin, 'POST', '/api/v1/api-keys', { name: 'Mine', apps: ['customer'] })).json();
    const finance = await signIn(t, 'finance@demo.test');
    expect((await api(t, finance, 'POST', `/api/v1/api-keys/${key.id}/revoke`)).json().code).toBe('app_not_granted');
    // A key cannot revoke keys unless it is allowed the Access Control app.
    expect((await api(t, { authorization: `Bearer ${key.token}` }, 'POST', `/api/v1/api-keys/${key.id}/revoke`)).json().code).toBe('app_not_granted');
  });
});
