import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, createTestApp, signIn, userIdOf, type Session, type TestApp } from '../test/harness.ts';

let t: TestApp;
let admin: Session;
beforeAll(async () => {
  t = await createTestApp();
  admin = await signIn(t, 'admin@demo.test');
});
afterAll(async () => t.close());

const request = (who: Session | Record<string, string> | null, payload: unknown) => api(t, who, 'POST', '/api/v1/access-requests', payload);

describe('requestAppAccess', () => {
  it('files a pending request for Finance, once at a time', async () => {
    const res = await request(admin, { app: 'finance', note: 'I reconcile bank transfers' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      id: expect.stringMatching(/^acr_/), app: 'finance', status: 'pending', note: 'I reconcile bank transfers',
      user: { email: 'admin@demo.test', name: 'Adam Admin' }, decidedAt: null, decisionNote: null,
    });
    const [event] = await auditEventsOf(t.db, 'access_request.created');
    expect(event).toMatchObject({ app: 'access', targetId: res.json().id, actorLabel: 'admin@demo.test' });

    const again = await request(admin, { app: 'finance' });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('conflict');
  });

  it('files a request for any other app not held (docs/adr/0039, amendment), once at a time per app', async () => {
    // Fiona holds Finance, Invoice and Customer: Product she lacks, and a colleague (Adam, with Access Control) could give it.
    const finance = await signIn(t, 'finance@demo.test');
    const res = await request(finance, { app: 'product', note: 'I price the new plans' });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ app: 'product', status: 'pending', note: 'I price the new plans', user: { email: 'finance@demo.test' } });
    const [event] = await auditEventsOf(t.db, 'access_request.created');
    expect(event).toMatchObject({ targetId: res.json().id, changes: { app: { after: 'product' }, status: { after: 'pending' } } });

    const again = await request(finance, { app: 'product' });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'conflict', detail: expect.stringContaining('pending request for the product app') });
    // Another app is another request; the pending one is listed as hers.
    expect((await request(finance, { app: 'settings' })).statusCode).toBe(201);
    const mine = (await api(t, finance, 'GET', '/api/v1/me/access-requests')).json().data.map((r: { app: string }) => r.app);
    expect(mine).toEqual(['settings', 'product']);
  });

  it('refuses an app already held (409, Finance or any other), an unknown app (400 naming app), API keys and customers (403)', async () => {
    const finance = await signIn(t, 'finance@demo.test');
    expect((await request(finance, { app: 'finance' })).statusCode).toBe(409);
    const held = await request(finance, { app: 'invoice' });
    expect(held.statusCode).toBe(409);
    expect(held.json()).toMatchObject({ code: 'conflict', detail: 'You already hold the invoice app' });
    const unknown = await request(finance, { app: 'payroll' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'app' }] });
    const other = await request(finance, { app: 'audit', reason: 'x' });
    expect(other.statusCode).toBe(400);
    expect(other.json().errors.map((e: { path: string }) => e.path)).toEqual(['reason']);
    expect(await t.db.owner.db.selectFrom('accessRequests').select('app').where('app', 'in', ['invoice', 'audit']).execute()).toEqual([]);
    const tooLong = await request(finance, { app: 'finance', note: 'x'.repeat(1001) });
    expect(tooLong.json().errors[0].path).toBe('note');

    const key = (await api(t, admin, 'POST', '/api/v1/api-keys', { name: 'k', apps: ['access'] })).json();
    expect((await request({ authorization: `Bearer ${key.token}` }, { app: 'finance' })).statusCode).toBe(403);
    expect((await request(await signIn(t, 'owner@acme.test'), { app: 'finance' })).statusCode).toBe(403);
    expect((await request(null, { app: 'finance' })).statusCode).toBe(401);
  });
});

describe('listAppGrantors', () => {
  const grantors = (who: Session | null, app: string) => api(t, who, 'GET', `/api/v1/apps/${app}/grantors`);

  it('names the active colleagues holding the app and Access Control; nobody for Finance, which only the operator grants', async () => {
    const finance = await signIn(t, 'finance@demo.test');
    const product = await grantors(finance, 'product');
    expect(product.statusCode).toBe(200);
    expect(product.json()).toEqual({ data: [{ id: await userIdOf(t.db, 'admin@demo.test'), name: 'Adam Admin', email: 'admin@demo.test' }] });
    // Fiona holds Invoice but not Access Control: she could not grant it, so she is not named.
    expect((await grantors(admin, 'invoice')).json().data.map((g: { email: string }) => g.email)).toEqual(['admin@demo.test']);
    expect((await grantors(admin, 'finance')).json()).toEqual({ data: [] });
    // Another partner's holders are never named (Northwind's admin holds Product too).
    expect((await grantors(finance, 'product')).json().data.map((g: { email: string }) => g.email)).not.toContain('admin@northwind.test');
  });

  it('refuses an unknown app (400 naming app), customers (403) and the signed-out (401)', async () => {
    const unknown = await grantors(admin, 'payroll');
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().errors[0].path).toBe('app');
    expect((await grantors(await signIn(t, 'owner@acme.test'), 'product')).statusCode).toBe(403);
    expect((await grantors(null, 'product')).statusCode).toBe(401);
  });
});
