import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestApp, signIn, type TestApp } from '../test/harness.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

describe('listMyAccessRequests', () => {
  it('shows the caller\'s own requests only, with their decisions', async () => {
    const admin = await signIn(t, 'admin@demo.test');
    const north = await signIn(t, 'admin@northwind.test');
    const operator = await signIn(t, 'operator@folio.test');
    const first = (await api(t, admin, 'POST', '/api/v1/access-requests', { app: 'finance' })).json();
    await api(t, operator, 'POST', `/api/v1/operator/access-requests/${first.id}/decline`, { note: 'Ask your manager first' });
    const second = (await api(t, admin, 'POST', '/api/v1/access-requests', { app: 'finance', note: 'Manager agreed' })).json();
    await api(t, north, 'POST', '/api/v1/access-requests', { app: 'finance' });

    const res = await api(t, admin, 'GET', '/api/v1/me/access-requests');
    expect(res.statusCode).toBe(200);
    const { data } = res.json();
    expect(data.map((r: { id: string; status: string }) => [r.id, r.status])).toEqual([[second.id, 'pending'], [first.id, 'declined']]);
    expect(data[1]).toMatchObject({ decisionNote: 'Ask your manager first', decidedAt: expect.any(String) });
  });

  it('is for staff sessions only', async () => {
    expect((await api(t, await signIn(t, 'owner@acme.test'), 'GET', '/api/v1/me/access-requests')).statusCode).toBe(403);
    expect((await api(t, null, 'GET', '/api/v1/me/access-requests')).statusCode).toBe(401);
  });
});
