import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestApp, signIn, type TestApp } from '../test/harness.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

describe('operatorListAccessRequests', () => {
  it('shows the requests of every partner, with the partner, filterable by status', async () => {
    const operator = await signIn(t, 'operator@folio.test');
    const demo = (await api(t, await signIn(t, 'admin@demo.test'), 'POST', '/api/v1/access-requests', { app: 'finance' })).json();
    const north = (await api(t, await signIn(t, 'admin@northwind.test'), 'POST', '/api/v1/access-requests', { app: 'finance', note: 'for month end' })).json();
    await api(t, operator, 'POST', `/api/v1/operator/access-requests/${demo.id}/approve`, {});

    const all = (await api(t, operator, 'GET', '/api/v1/operator/access-requests')).json();
    expect(all.data.map((r: { id: string }) => r.id)).toEqual([north.id, demo.id]);
    expect(all.data[0]).toMatchObject({ partner: { name: 'Northwind Comms' }, user: { email: 'admin@northwind.test' }, note: 'for month end', status: 'pending' });

    const pending = await api(t, operator, 'GET', '/api/v1/operator/access-requests?status=pending');
    expect(pending.statusCode).toBe(200);
    expect(pending.json().data.map((r: { id: string }) => r.id)).toEqual([north.id]);
    const ofDemo = (await api(t, operator, 'GET', `/api/v1/operator/access-requests?partnerId=${all.data[1].partner.id}`)).json();
    expect(ofDemo.data.map((r: { id: string }) => r.id)).toEqual([demo.id]);
  });

  it('is for the operator only, and validates the filters', async () => {
    expect((await api(t, await signIn(t, 'admin@demo.test'), 'GET', '/api/v1/operator/access-requests')).statusCode).toBe(403);
    const operator = await signIn(t, 'operator@folio.test');
    expect((await api(t, operator, 'GET', '/api/v1/operator/access-requests?status=open')).statusCode).toBe(400);
  });
});
