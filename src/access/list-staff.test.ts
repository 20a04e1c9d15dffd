import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestApp, signIn, type Session, type TestApp } from '../test/harness.ts';

let t: TestApp;
let admin: Session;
beforeAll(async () => {
  t = await createTestApp();
  admin = await signIn(t, 'admin@demo.test');
});
afterAll(async () => t.close());

describe('listStaff', () => {
  it('lists the partner\'s staff only, newest first, with apps in sidebar order', async () => {
    await api(t, admin, 'POST', '/api/v1/staff/invitations', { email: 'fresh@demo.test', name: 'Fresh', apps: ['access', 'customer'] });
    const res = await api(t, admin, 'GET', '/api/v1/staff');
    expect(res.statusCode).toBe(200);
    const { data, nextCursor } = res.json();
    expect(nextCursor).toBeNull();
    expect(data.map((s: { email: string }) => s.email)).toEqual(['fresh@demo.test', 'finance@demo.test', 'admin@demo.test']);
    expect(data[0]).toMatchObject({ status: 'invited', emailVerified: false, apps: ['customer', 'access'], lastLoginAt: null });
    expect(data[1]).toMatchObject({ status: 'active', emailVerified: true, apps: ['customer', 'invoice', 'finance'] });
    expect(data[2].lastLoginAt).not.toBeNull();
  });

  it('pages with limit and cursor', async () => {
    const first = (await api(t, admin, 'GET', '/api/v1/staff?limit=2')).json();
    expect(first.data).toHaveLength(2);
    expect(first.nextCursor).toBe(first.data[1].id);
    const second = (await api(t, admin, 'GET', `/api/v1/staff?limit=2&cursor=${first.nextCursor}`)).json();
    expect(second.data.map((s: { email: string }) => s.email)).toEqual(['admin@demo.test']);
    expect(second.nextCursor).toBeNull();
  });

  it('refuses bad paging (400), staff without the app (403) and customers (403)', async () => {
    const bad = await api(t, admin, 'GET', '/api/v1/staff?limit=500&sort=name');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['limit', 'sort']));
    expect((await api(t, await signIn(t, 'finance@demo.test'), 'GET', '/api/v1/staff')).json().code).toBe('app_not_granted');
    expect((await api(t, await signIn(t, 'owner@acme.test'), 'GET', '/api/v1/staff')).statusCode).toBe(403);
  });

  it('refuses a cursor that is not an id of what the list holds (400 naming cursor), on every list of the app', async () => {
    const lists = ['/api/v1/staff', '/api/v1/staff/invitations', '/api/v1/api-keys', '/api/v1/access-requests', '/api/v1/me/access-requests'];
    for (const url of lists) {
      for (const cursor of ['garbage', 'cus_0000000000000000000000000']) {
        const res = await api(t, admin, 'GET', `${url}?cursor=${cursor}`);
        expect(res.statusCode, `${url} ${cursor}`).toBe(400);
        expect(res.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'cursor' }] });
      }
    }
    const staff = (await api(t, admin, 'GET', '/api/v1/staff?limit=1')).json();
    expect((await api(t, admin, 'GET', `/api/v1/staff?cursor=${staff.nextCursor}`)).statusCode).toBe(200);
  });

  it('shows another partner its own staff only', async () => {
    const north = await signIn(t, 'admin@northwind.test');
    const { data } = (await api(t, north, 'GET', '/api/v1/staff')).json();
    expect(data.map((s: { email: string }) => s.email)).toEqual(['admin@northwind.test']);
  });
});
