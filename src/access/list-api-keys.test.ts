import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestApp, signIn, type Session, type TestApp } from '../test/harness.ts';

let t: TestApp;
let admin: Session;
beforeAll(async () => {
  t = await createTestApp();
  admin = await signIn(t, 'admin@demo.test');
});
afterAll(async () => t.close());

describe('listApiKeys', () => {
  it('lists the partner\'s keys newest first, revoked ones too, never the token; an access key may list them', async () => {
    const a = (await api(t, admin, 'POST', '/api/v1/api-keys', { name: 'A', apps: ['customer', 'access'] })).json();
    const b = (await api(t, admin, 'POST', '/api/v1/api-keys', { name: 'B', apps: ['invoice'] })).json();
    await api(t, admin, 'POST', `/api/v1/api-keys/${b.id}/revoke`);
    await api(t, await signIn(t, 'admin@northwind.test'), 'POST', '/api/v1/api-keys', { name: 'North', apps: ['customer'] });

    const res = await api(t, { authorization: `Bearer ${a.token}` }, 'GET', '/api/v1/api-keys');
    expect(res.statusCode).toBe(200);
    const { data, nextCursor } = res.json();
    expect(nextCursor).toBeNull();
    expect(data.map((k: { name: string }) => k.name)).toEqual(['B', 'A']);
    expect(data[0]).toMatchObject({ revokedAt: expect.any(String), prefix: b.prefix, apps: ['invoice'] });
    expect(data[1]).toMatchObject({ lastUsedAt: expect.any(String), revokedAt: null });
    expect(JSON.stringify(data)).not.toContain(a.token);

    const page = (await api(t, admin, 'GET', '/api/v1/api-keys?limit=1')).json();
    expect(page.nextCursor).toBe(b.id);
  });

  it('needs the Access Control app', async () => {
    const res = await api(t, await signIn(t, 'finance@demo.test'), 'GET', '/api/v1/api-keys');
    expect(res.statusCode).toBe(403);
  });
});
