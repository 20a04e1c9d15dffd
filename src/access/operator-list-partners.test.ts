import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestApp, signIn, type TestApp } from '../test/harness.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

describe('operatorListPartners', () => {
  it('lists every partner, newest first, with staff and customer counts', async () => {
    const operator = await signIn(t, 'operator@folio.test');
    const res = await api(t, operator, 'GET', '/api/v1/operator/partners');
    expect(res.statusCode).toBe(200);
    const { data, nextCursor } = res.json();
    expect(nextCursor).toBeNull();
    expect(data).toEqual([
      { id: expect.stringMatching(/^ptn_/), name: 'Northwind Comms', slug: 'northwind', status: 'active', staffCount: 1, customerCount: 1, createdAt: expect.any(String) },
      { id: expect.stringMatching(/^ptn_/), name: 'Demo Telecom', slug: 'demo-telecom', status: 'active', staffCount: 2, customerCount: 3, createdAt: expect.any(String) },
    ]);
    const page = (await api(t, operator, 'GET', '/api/v1/operator/partners?limit=1')).json();
    expect(page.nextCursor).toBe(data[0].id);
    expect((await api(t, operator, 'GET', `/api/v1/operator/partners?cursor=${page.nextCursor}`)).json().data.map((p: { slug: string }) => p.slug)).toEqual(['demo-telecom']);
  });

  it('refuses a cursor that is not a partner\'s id (400 naming cursor), as the access-request inbox refuses one not a request\'s', async () => {
    const operator = await signIn(t, 'operator@folio.test');
    for (const url of ['/api/v1/operator/partners?cursor=garbage', '/api/v1/operator/access-requests?cursor=garbage', '/api/v1/operator/access-requests?cursor=ptn_0000000000']) {
      const res = await api(t, operator, 'GET', url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'cursor' }] });
    }
    expect((await api(t, operator, 'GET', '/api/v1/operator/access-requests?cursor=acr_0000000000')).statusCode).toBe(200);
  });

  it('is for the operator only', async () => {
    const admin = await signIn(t, 'admin@demo.test');
    const res = await api(t, admin, 'GET', '/api/v1/operator/partners');
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('forbidden');
    expect((await api(t, null, 'GET', '/api/v1/operator/partners')).statusCode).toBe(401);
  });
});
