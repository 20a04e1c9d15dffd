import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../platform/crypto.ts';
import { api, auditEventsOf, createTestApp, signIn, userIdOf, type Session, type TestApp } from '../test/harness.ts';

let t: TestApp;
let admin: Session;
beforeAll(async () => {
  t = await createTestApp();
  admin = await signIn(t, 'admin@demo.test');
});
afterAll(async () => t.close());

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('an API key works only while its maker does', () => {
  it('loses the apps its maker loses, names its maker, and is revoked when the maker is disabled (with the keys it made)', async () => {
    const financeId = await userIdOf(t.db, 'finance@demo.test');
    expect((await api(t, admin, 'PUT', `/api/v1/staff/${financeId}/apps/access`)).statusCode).toBe(200);
    const finance = await signIn(t, 'finance@demo.test');
    const made = await api(t, finance, 'POST', '/api/v1/api-keys', { name: 'Fiona sync', apps: ['customer', 'access'] });
    expect(made.statusCode).toBe(201);
    const parent = made.json();
    expect(parent.createdBy).toEqual({ kind: 'user', id: financeId, name: expect.any(String) });
    // A key made by that key: bounded by it.
    const child = (await api(t, bearer(parent.token), 'POST', '/api/v1/api-keys', { name: 'Child', apps: ['customer'] })).json();
    expect(child.createdBy).toEqual({ kind: 'api_key', id: parent.id, name: 'Fiona sync' });
    expect((await api(t, bearer(parent.token), 'GET', '/api/v1/customers')).statusCode).toBe(200);
    expect((await api(t, bearer(child.token), 'GET', '/api/v1/customers')).statusCode).toBe(200);

    // The maker loses the Customer app: both keys lose it at once; the parent keeps Access Control.
    expect((await api(t, admin, 'DELETE', `/api/v1/staff/${financeId}/apps/customer`)).statusCode).toBe(200);
    for (const token of [parent.token, child.token]) {
      const refused = await api(t, bearer(token), 'GET', '/api/v1/customers');
      expect(refused.statusCode).toBe(403);
      expect(refused.json().code).toBe('app_not_granted');
    }
    expect((await api(t, bearer(parent.token), 'GET', '/api/v1/api-keys')).statusCode).toBe(200);
    // Given back: the key has it again (it was the maker's grant that bound it, the key's own apps never changed).
    expect((await api(t, admin, 'PUT', `/api/v1/staff/${financeId}/apps/customer`)).statusCode).toBe(200);
    expect((await api(t, bearer(child.token), 'GET', '/api/v1/customers')).statusCode).toBe(200);

    // The maker is disabled: the key they made is revoked (audited), and so is the key it made.
    expect((await api(t, admin, 'POST', `/api/v1/staff/${financeId}/disable`)).statusCode).toBe(200);
    expect((await api(t, bearer(parent.token), 'GET', '/api/v1/api-keys')).statusCode).toBe(401);
    expect((await api(t, bearer(child.token), 'GET', '/api/v1/customers')).statusCode).toBe(401);
    const listed = (await api(t, admin, 'GET', '/api/v1/api-keys?limit=100')).json().data as Array<{ id: string; revokedAt: string | null }>;
    expect(listed.find((k) => k.id === parent.id)?.revokedAt).not.toBeNull();
    expect(listed.find((k) => k.id === child.id)?.revokedAt).not.toBeNull(); // revoked with the key that made it
    const revoked = (await auditEventsOf(t.db, 'api_key.revoked')).filter((e) => e.targetId === parent.id || e.targetId === child.id);
    expect(revoked).toHaveLength(2);
    expect(revoked.find((e) => e.targetId === parent.id)!.changes).toMatchObject({ reason: { after: 'its maker finance@demo.test was disabled' } });
    expect(revoked.find((e) => e.targetId === child.id)!.changes).toMatchObject({ reason: { after: 'made by a key of finance@demo.test, who was disabled' } });

    // Enabled again: the revoked keys stay revoked.
    expect((await api(t, admin, 'POST', `/api/v1/staff/${financeId}/enable`)).statusCode).toBe(200);
    expect((await api(t, bearer(parent.token), 'GET', '/api/v1/api-keys')).statusCode).toBe(401);
    expect((await api(t, bearer(child.token), 'GET', '/api/v1/customers')).statusCode).toBe(401);
  });

  it('keeps a key Folio made itself (no maker) working with its own apps', async () => {
    const partnerId = (await t.db.owner.db.selectFrom('users').select('partnerId').where('email', '=', 'admin@demo.test').executeTakeFirstOrThrow()).partnerId!;
    const token = 'fk_makerless0000000000000000000000000000000000';
    await t.db.owner.db.insertInto('apiKeys').values({
      id: 'key_makerlesstest000000001', partnerId, name: 'Switch (seeded)', tokenPrefix: token.slice(0, 10), tokenHash: sha256Hex(token),
      apps: ['customer'], createdBy: null, lastUsedAt: null, revokedAt: null,
    }).execute();
    expect((await api(t, bearer(token), 'GET', '/api/v1/customers')).statusCode).toBe(200);
    const listed = (await api(t, admin, 'GET', '/api/v1/api-keys?limit=100')).json().data as Array<{ id: string; createdBy: unknown }>;
    expect(listed.find((k) => k.id === 'key_makerlesstest000000001')?.createdBy).toBeNull();
  });
});
