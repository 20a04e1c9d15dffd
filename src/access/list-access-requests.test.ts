import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestApp, signIn, type TestApp } from '../test/harness.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

describe('listAccessRequests', () => {
  it('shows the requests of the partner\'s staff, filterable by status', async () => {
    const admin = await signIn(t, 'admin@demo.test');
    const north = await signIn(t, 'admin@northwind.test');
    const mine = (await api(t, admin, 'POST', '/api/v1/access-requests', { app: 'finance', note: 'please' })).json();
    await api(t, north, 'POST', '/api/v1/access-requests', { app: 'finance' });

    const res = await api(t, admin, 'GET', '/api/v1/access-requests');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ data: [mine], nextCursor: null });
    expect((await api(t, admin, 'GET', '/api/v1/access-requests?status=approved')).json().data).toEqual([]);
    expect((await api(t, admin, 'GET', '/api/v1/access-requests?status=pending')).json().data).toHaveLength(1);
    const bad = await api(t, admin, 'GET', '/api/v1/access-requests?status=maybe');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].path).toBe('status');
  });

  it('needs the Access Control app', async () => {
    expect((await api(t, await signIn(t, 'finance@demo.test'), 'GET', '/api/v1/access-requests')).json().code).toBe('app_not_granted');
  });
});
