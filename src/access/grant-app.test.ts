import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, createTestApp, signIn, userIdOf, type Session, type TestApp } from '../test/harness.ts';

let t: TestApp;
let admin: Session;
let financeId: string;
beforeAll(async () => {
  t = await createTestApp();
  admin = await signIn(t, 'admin@demo.test');
  financeId = await userIdOf(t.db, 'finance@demo.test');
});
afterAll(async () => t.close());

describe('grantApp', () => {
  it('grants an app, effective at the member\'s next request, and audits it', async () => {
    const finance = await signIn(t, 'finance@demo.test');
    expect((await api(t, finance, 'GET', '/api/v1/settings/portal')).statusCode).toBe(403);

    const res = await api(t, admin, 'PUT', `/api/v1/staff/${financeId}/apps/settings`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: financeId, apps: ['customer', 'invoice', 'finance', 'settings'] });
    expect((await api(t, finance, 'GET', '/api/v1/settings/portal')).statusCode).toBe(200);

    const [event] = await auditEventsOf(t.db, 'app.granted');
    expect(event).toMatchObject({ app: 'access', targetId: financeId, actorLabel: 'admin@demo.test' });
    expect(event!.changes).toEqual({ apps: { before: ['customer', 'invoice', 'finance'], after: ['customer', 'invoice', 'finance', 'settings'] } });

    const again = await api(t, admin, 'PUT', `/api/v1/staff/${financeId}/apps/settings`);
    expect(again.statusCode).toBe(200);
    expect(await auditEventsOf(t.db, 'app.granted')).toHaveLength(1);
  });

  it('grants only apps the caller holds: a self-grant of one not held is 403 app_not_held naming app, nothing written or audited', async () => {
    // Fiona is given Access Control; she holds Customer, Invoice and Finance, not Audit.
    expect((await api(t, admin, 'PUT', `/api/v1/staff/${financeId}/apps/access`)).statusCode).toBe(200);
    const finance = await signIn(t, 'finance@demo.test');
    const grantedBefore = (await auditEventsOf(t.db, 'app.granted')).length;

    const self = await api(t, finance, 'PUT', `/api/v1/staff/${financeId}/apps/audit`);
    expect(self.statusCode).toBe(403);
    expect(self.json()).toMatchObject({ code: 'app_not_held', detail: expect.stringContaining('you do not hold: audit'), errors: [{ path: 'app' }] });
    const held = async (userId: string) => (await t.db.owner.db.selectFrom('appGrants').select('app').where('userId', '=', userId).execute()).map((g) => g.app).sort();
    expect(await held(financeId)).not.toContain('audit');
    expect(await auditEventsOf(t.db, 'app.granted')).toHaveLength(grantedBefore);

    // To someone else it is the same; an app she holds, she may give.
    const { userId: newcomer } = (await api(t, admin, 'POST', '/api/v1/staff/invitations', { email: 'newcomer@demo.test', name: 'New Comer', apps: [] })).json();
    expect((await api(t, finance, 'PUT', `/api/v1/staff/${newcomer}/apps/product`)).json()).toMatchObject({ code: 'app_not_held', errors: [{ path: 'app' }] });
    const given = await api(t, finance, 'PUT', `/api/v1/staff/${newcomer}/apps/invoice`);
    expect(given.statusCode).toBe(200);
    expect(given.json().apps).toEqual(['invoice']);
    expect(await held(newcomer)).toEqual(['invoice']);
    expect(await auditEventsOf(t.db, 'app.granted')).toHaveLength(grantedBefore + 1);

    // Whoever holds Audit (the admin) may give it to her.
    expect((await api(t, admin, 'PUT', `/api/v1/staff/${financeId}/apps/audit`)).statusCode).toBe(200);
    expect(await held(financeId)).toContain('audit');
    expect((await api(t, admin, 'DELETE', `/api/v1/staff/${financeId}/apps/access`)).statusCode).toBe(200);
  });

  it('an API key gives only the apps it may use, even those its maker holds (403 app_not_held), and those it may', async () => {
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    const { userId: target } = (await api(t, admin, 'POST', '/api/v1/staff/invitations', { email: 'keyed@demo.test', name: 'Key Ed', apps: [] })).json();
    const accessOnly = (await api(t, admin, 'POST', '/api/v1/api-keys', { name: 'Access only', apps: ['access'] })).json();
    const refused = await api(t, bearer(accessOnly.token), 'PUT', `/api/v1/staff/${target}/apps/customer`);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'app_not_held', detail: expect.stringContaining('this API key may not use: customer'), errors: [{ path: 'app' }] });
    const withCustomer = (await api(t, admin, 'POST', '/api/v1/api-keys', { name: 'Access and Customer', apps: ['access', 'customer'] })).json();
    const granted = await api(t, bearer(withCustomer.token), 'PUT', `/api/v1/staff/${target}/apps/customer`);
    expect(granted.statusCode).toBe(200);
    expect(granted.json().apps).toEqual(['customer']);
  });

  it('never grants Finance (422 naming the app, as inviting with it: only the operator does, through a request)', async () => {
    const adminId = await userIdOf(t.db, 'admin@demo.test');
    const res = await api(t, admin, 'PUT', `/api/v1/staff/${adminId}/apps/finance`);
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'rule_violation', errors: [{ path: 'app' }] });
    const grants = await t.db.owner.db.selectFrom('appGrants').select('app').where('userId', '=', adminId).where('app', '=', 'finance').execute();
    expect(grants).toEqual([]);
  });

  it('is 404 for another partner\'s staff and for customers, 400 for an unknown app, 403 without the Access Control app', async () => {
    expect((await api(t, admin, 'PUT', `/api/v1/staff/${await userIdOf(t.db, 'admin@northwind.test')}/apps/audit`)).statusCode).toBe(404);
    expect((await api(t, admin, 'PUT', `/api/v1/staff/${await userIdOf(t.db, 'owner@acme.test')}/apps/audit`)).statusCode).toBe(404);
    const bad = await api(t, admin, 'PUT', `/api/v1/staff/${financeId}/apps/payroll`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].path).toBe('app');
    const finance = await signIn(t, 'finance@demo.test');
    expect((await api(t, finance, 'PUT', `/api/v1/staff/${financeId}/apps/access`)).json().code).toBe('app_not_granted');
  });
});
