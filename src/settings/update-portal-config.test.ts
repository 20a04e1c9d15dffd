import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, createTestApp, signIn, type Session, type TestApp } from '../test/harness.ts';

let t: TestApp;
let admin: Session;
beforeAll(async () => {
  t = await createTestApp();
  admin = await signIn(t, 'admin@demo.test');
});
afterAll(async () => t.close());

const patch = (payload: unknown, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'PATCH', url: '/api/v1/settings/portal', headers: { ...admin.headers, ...headers }, payload: payload as object });

describe('updatePortalConfig', () => {
  it('changes part of the tabs and the contact address, audits the difference, and hides the tab from customers at once', async () => {
    const current = await api(t, admin, 'GET', '/api/v1/settings/portal');
    const res = await patch({ portalTabs: { invoices: false }, contactSalesEmail: 'Hello@Demo-Telecom.test' }, { 'if-match': current.headers.etag as string });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      portalTabs: { invoices: false, audit: true, services: true, points: true },
      contactSalesEmail: 'hello@demo-telecom.test',
      contactSalesReplyToName: null,
      staffTwoFactorRequired: true,
    });
    expect(res.headers.etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(res.headers.etag).not.toBe(current.headers.etag);

    const [event] = await auditEventsOf(t.db, 'portal_config.updated');
    expect(event).toMatchObject({ app: 'settings', targetType: 'partner_settings', actorLabel: 'admin@demo.test' });
    expect(event!.changes).toEqual({
      portalTabs: { before: { invoices: true, audit: true, services: true, points: true }, after: { invoices: false, audit: true, services: true, points: true } },
      contactSalesEmail: { before: 'sales@demo-telecom.test', after: 'hello@demo-telecom.test' },
    });

    const owner = await signIn(t, 'owner@acme.test');
    expect((await api(t, owner, 'GET', '/api/v1/auth/session')).json().portalTabs).toMatchObject({ invoices: false, audit: true });
    // Another partner's configuration is untouched.
    const north = await api(t, await signIn(t, 'admin@northwind.test'), 'GET', '/api/v1/settings/portal');
    expect(north.json().portalTabs.invoices).toBe(true);
  });

  it('answers 412 to a stale If-Match and writes nothing; * and no If-Match always apply', async () => {
    const read = await api(t, admin, 'GET', '/api/v1/settings/portal');
    expect((await patch({ contactSalesEmail: null })).statusCode).toBe(200);
    const events = (await auditEventsOf(t.db, 'portal_config.updated')).length;

    const stale = await patch({ staffTwoFactorRequired: false }, { 'if-match': read.headers.etag as string });
    expect(stale.statusCode).toBe(412);
    expect(stale.json().code).toBe('precondition_failed');
    const now = await api(t, admin, 'GET', '/api/v1/settings/portal');
    expect(now.json()).toMatchObject({ staffTwoFactorRequired: true, contactSalesEmail: null });
    expect(await auditEventsOf(t.db, 'portal_config.updated')).toHaveLength(events);

    const weak = await patch({ staffTwoFactorRequired: false }, { 'if-match': `W/${now.headers.etag as string}` });
    expect(weak.statusCode).toBe(412);
    expect((await patch({ portalTabs: { points: false } }, { 'if-match': '*' })).statusCode).toBe(200);
    // Two quick writes still get two ETags.
    const a = await patch({ portalTabs: { points: true } });
    const b = await patch({ portalTabs: { points: false } });
    expect(a.headers.etag).not.toBe(b.headers.etag);
  });

  it('validates the body: booleans, an email, no unknown fields (also inside portalTabs)', async () => {
    const res = await patch({ portalTabs: { invoices: 'no', wallboards: true }, contactSalesEmail: 'not-mail', theme: 'dark' });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.map((e: { path: string }) => e.path)).toEqual(
      expect.arrayContaining(['portalTabs.invoices', 'portalTabs.wallboards', 'contactSalesEmail', 'theme']),
    );
  });

  it('needs the Portal Settings app; an API key limited to it may write', async () => {
    const finance = await signIn(t, 'finance@demo.test');
    const refused = await api(t, finance, 'PATCH', '/api/v1/settings/portal', { staffTwoFactorRequired: false });
    expect(refused.json().code).toBe('app_not_granted');
    const owner = await signIn(t, 'owner@acme.test');
    expect((await api(t, owner, 'PATCH', '/api/v1/settings/portal', { staffTwoFactorRequired: false })).statusCode).toBe(403);

    const key = (await api(t, admin, 'POST', '/api/v1/api-keys', { name: 'settings bot', apps: ['settings'] })).json();
    const byKey = await api(t, { authorization: `Bearer ${key.token}` }, 'PATCH', '/api/v1/settings/portal', { contactSalesEmail: 'bot@demo-telecom.test' });
    expect(byKey.statusCode).toBe(200);
    expect((await api(t, admin, 'GET', '/api/v1/settings/portal')).json().staffTwoFactorRequired).toBe(true);
    // Staff sign-in codes are Access Control's: a Settings-only holder cannot turn them off (nor on), nothing written.
    const events = (await auditEventsOf(t.db, 'portal_config.updated')).length;
    const weaker = await api(t, { authorization: `Bearer ${key.token}` }, 'PATCH', '/api/v1/settings/portal', { staffTwoFactorRequired: false, contactSalesEmail: 'x@demo-telecom.test' });
    expect(weaker.statusCode).toBe(403);
    expect(weaker.json()).toMatchObject({ code: 'app_not_granted', errors: [{ path: 'staffTwoFactorRequired' }] });
    expect((await api(t, admin, 'GET', '/api/v1/settings/portal')).json()).toMatchObject({ staffTwoFactorRequired: true, contactSalesEmail: 'bot@demo-telecom.test' });
    expect(await auditEventsOf(t.db, 'portal_config.updated')).toHaveLength(events);
    // The same value is not a change: its other fields save.
    expect((await api(t, { authorization: `Bearer ${key.token}` }, 'PATCH', '/api/v1/settings/portal', { staffTwoFactorRequired: true, contactSalesReplyToName: 'Sales' })).statusCode).toBe(200);
  });
});
