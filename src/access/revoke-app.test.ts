import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, createTestApp, signIn, userIdOf, type Session, type TestApp } from '../test/harness.ts';

let t: TestApp;
let admin: Session;
beforeAll(async () => {
  t = await createTestApp();
  admin = await signIn(t, 'admin@demo.test');
});
afterAll(async () => t.close());

describe('revokeApp', () => {
  it('takes an app away at the member\'s next request, and audits it', async () => {
    const financeId = await userIdOf(t.db, 'finance@demo.test');
    const finance = await signIn(t, 'finance@demo.test');
    expect((await api(t, finance, 'GET', '/api/v1/customers')).statusCode).toBe(200);

    const res = await api(t, admin, 'DELETE', `/api/v1/staff/${financeId}/apps/customer`);
    expect(res.statusCode).toBe(200);
    expect(res.json().apps).toEqual(['invoice', 'finance']);
    const after = await api(t, finance, 'GET', '/api/v1/customers');
    expect(after.statusCode).toBe(403);
    expect(after.json().code).toBe('app_not_granted');
    const [event] = await auditEventsOf(t.db, 'app.revoked');
    expect(event).toMatchObject({ targetId: financeId, changes: { apps: { before: ['customer', 'invoice', 'finance'], after: ['invoice', 'finance'] } } });

    // Not held: nothing to do.
    expect((await api(t, admin, 'DELETE', `/api/v1/staff/${financeId}/apps/customer`)).statusCode).toBe(200);
    expect(await auditEventsOf(t.db, 'app.revoked')).toHaveLength(1);
  });

  it('refuses removing your own Access Control app (422) and another partner\'s staff (404)', async () => {
    const self = await api(t, admin, 'DELETE', `/api/v1/staff/${await userIdOf(t.db, 'admin@demo.test')}/apps/access`);
    expect(self.statusCode).toBe(422);
    expect(self.json().code).toBe('rule_violation');
    expect((await api(t, admin, 'DELETE', `/api/v1/staff/${await userIdOf(t.db, 'admin@northwind.test')}/apps/access`)).statusCode).toBe(404);
    const finance = await signIn(t, 'finance@demo.test');
    expect((await api(t, finance, 'DELETE', `/api/v1/staff/${await userIdOf(t.db, 'admin@demo.test')}/apps/audit`)).json().code).toBe('app_not_granted');
    expect((await api(t, admin, 'DELETE', `/api/v1/staff/${await userIdOf(t.db, 'finance@demo.test')}/apps/everything`)).json().errors[0].path).toBe('app');
    const north = await t.db.owner.db.selectFrom('appGrants').select('app').where('userId', '=', await userIdOf(t.db, 'admin@northwind.test')).execute();
    expect(north.map((g) => g.app)).toContain('access');
  });
});
