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
