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

describe('createApiKey', () => {
  it('returns the token once, stores its hash and prefix, and the key works only on its apps', async () => {
    const res = await api(t, admin, 'POST', '/api/v1/api-keys', { name: 'CRM sync', apps: ['customer'] });
    expect(res.statusCode).toBe(201);
    const key = res.json();
    expect(key).toMatchObject({ id: expect.stringMatching(/^key_/), name: 'CRM sync', apps: ['customer'], lastUsedAt: null, revokedAt: null });
    expect(key.token).toMatch(/^fk_[A-Za-z0-9_-]{40,}$/);
    expect(key.prefix).toBe(key.token.slice(0, 10));
    const row = await t.db.owner.db.selectFrom('apiKeys').selectAll().where('id', '=', key.id).executeTakeFirstOrThrow();
    expect(row.tokenHash).toBe(sha256Hex(key.token));
    expect(JSON.stringify(row)).not.toContain(key.token);

    const allowed = await api(t, bearer(key.token), 'GET', '/api/v1/customers');
    expect(allowed.statusCode).toBe(200);
    const other = await api(t, bearer(key.token), 'GET', '/api/v1/staff');
    expect(other.statusCode).toBe(403);
    expect(other.json().code).toBe('app_not_granted');
    // API keys are for apps, not for a person's own routes.
    expect((await api(t, bearer(key.token), 'GET', '/api/v1/auth/session')).statusCode).toBe(403);

    const [event] = await auditEventsOf(t.db, 'api_key.created');
    expect(event).toMatchObject({ targetId: key.id, changes: { name: { after: 'CRM sync' }, apps: { after: ['customer'] } } });
    expect(JSON.stringify(event)).not.toContain(key.token);
  });

  it('writes with a key need no CSRF header, and are audited as the key', async () => {
    const key = (await api(t, admin, 'POST', '/api/v1/api-keys', { name: 'Provisioning', apps: ['customer'] })).json();
    const res = await api(t, bearer(key.token), 'POST', '/api/v1/customers', { name: 'Key Corp', currency: 'SGD', ownerEmail: 'boss@keycorp.test', ownerName: 'Boss' });
    expect(res.statusCode).toBe(201);
    const [event] = await auditEventsOf(t.db, 'customer.created');
    expect(event).toMatchObject({ actorType: 'api_key', actorId: key.id, actorLabel: 'Provisioning' });
  });

  it('limits a key to apps its creator holds: Finance only for those who hold it (403 app_not_held naming the app, as granting one does)', async () => {
    const before = (await api(t, admin, 'GET', '/api/v1/api-keys')).json().data.length;
    const res = await api(t, admin, 'POST', '/api/v1/api-keys', { name: 'Books', apps: ['invoice', 'finance'] });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'app_not_held', errors: [{ path: 'apps.1' }] });
    expect(res.json().errors).toHaveLength(1);
    expect((await api(t, admin, 'GET', '/api/v1/api-keys')).json().data).toHaveLength(before);

    const finance = await signIn(t, 'finance@demo.test');
    // Creating keys is part of the Access Control app, which Fiona does not hold.
    expect((await api(t, finance, 'POST', '/api/v1/api-keys', { name: 'Books', apps: ['finance'] })).json().code).toBe('app_not_granted');
    await api(t, admin, 'PUT', `/api/v1/staff/${await userIdOf(t.db, 'finance@demo.test')}/apps/access`);
    const books = await api(t, finance, 'POST', '/api/v1/api-keys', { name: 'Books', apps: ['finance'] });
    expect(books.statusCode).toBe(201);
    expect(books.json().apps).toEqual(['finance']);
  });

  it('validates the body: a name, at least one known app, each once, no unknown fields', async () => {
    const res = await api(t, admin, 'POST', '/api/v1/api-keys', { name: '', apps: [], scopes: ['all'] });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['name', 'apps', 'scopes']));
    expect((await api(t, admin, 'POST', '/api/v1/api-keys', { name: 'x', apps: ['root'] })).json().errors[0].path).toBe('apps.0');
  });
});
