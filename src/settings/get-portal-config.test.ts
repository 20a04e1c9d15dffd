import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestApp, signIn, type TestApp } from '../test/harness.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

describe('getPortalConfig', () => {
  it('answers the partner\'s portal configuration with a stable ETag', async () => {
    const admin = await signIn(t, 'admin@demo.test');
    const res = await api(t, admin, 'GET', '/api/v1/settings/portal');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      portalTabs: { invoices: true, audit: true, services: true, points: true },
      contactSalesEmail: 'sales@demo-telecom.test',
      contactSalesReplyToName: null,
      staffTwoFactorRequired: true,
    });
    expect(res.headers.etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect((await api(t, admin, 'GET', '/api/v1/settings/portal')).headers.etag).toBe(res.headers.etag);

    const north = await api(t, await signIn(t, 'admin@northwind.test'), 'GET', '/api/v1/settings/portal');
    expect(north.json().contactSalesEmail).toBe('sales@northwind.test');
    expect(north.headers.etag).not.toBe(res.headers.etag);
  });

  it('needs the Portal Settings app; customers and the operator are refused', async () => {
    expect((await api(t, await signIn(t, 'finance@demo.test'), 'GET', '/api/v1/settings/portal')).json().code).toBe('app_not_granted');
    expect((await api(t, await signIn(t, 'owner@acme.test'), 'GET', '/api/v1/settings/portal')).statusCode).toBe(403);
    expect((await api(t, await signIn(t, 'operator@folio.test'), 'GET', '/api/v1/settings/portal')).statusCode).toBe(403);
    expect((await api(t, null, 'GET', '/api/v1/settings/portal')).statusCode).toBe(401);
  });
});
