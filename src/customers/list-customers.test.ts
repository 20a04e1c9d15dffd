import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestApp, signIn, type Session, type TestApp } from '../test/harness.ts';

let t: TestApp;
let admin: Session;
beforeAll(async () => {
  t = await createTestApp();
  admin = await signIn(t, 'admin@demo.test');
});
afterAll(async () => t.close());

describe('listCustomers', () => {
  it('lists the partner\'s customers newest first, with user counts', async () => {
    const res = await api(t, admin, 'GET', '/api/v1/customers');
    expect(res.statusCode).toBe(200);
    const { data, nextCursor } = res.json();
    expect(nextCursor).toBeNull();
    expect(data.map((c: { name: string; currency: string; userCount: number }) => [c.name, c.currency, c.userCount])).toEqual([
      ['Initech Pte Ltd', 'SGD', 1],
      ['Globex Sdn Bhd', 'MYR', 1],
      ['Acme Pte Ltd', 'SGD', 2],
    ]);
    expect(data[0]).toEqual({ id: expect.stringMatching(/^cus_/), name: 'Initech Pte Ltd', currency: 'SGD', status: 'active', userCount: 1, createdAt: expect.any(String) });
  });

  it('searches names with q (case-insensitive, wildcards taken literally), or finds one id', async () => {
    const names = async (q: string) => (await api(t, admin, 'GET', `/api/v1/customers?q=${encodeURIComponent(q)}`)).json().data.map((c: { name: string }) => c.name);
    expect(await names('pte')).toEqual(['Initech Pte Ltd', 'Acme Pte Ltd']);
    expect(await names('GLOBEX')).toEqual(['Globex Sdn Bhd']);
    expect(await names('%')).toEqual([]);
    expect(await names('wombat')).toEqual([]);
    const acme = (await api(t, admin, 'GET', '/api/v1/customers?q=acme')).json().data[0];
    expect(await names(acme.id)).toEqual(['Acme Pte Ltd']);
  });

  it('pages with limit and cursor', async () => {
    const first = (await api(t, admin, 'GET', '/api/v1/customers?limit=2')).json();
    expect(first.data).toHaveLength(2);
    const second = (await api(t, admin, 'GET', `/api/v1/customers?limit=2&cursor=${first.nextCursor}`)).json();
    expect(second.data.map((c: { name: string }) => c.name)).toEqual(['Acme Pte Ltd']);
    expect(second.nextCursor).toBeNull();
  });

  it('shows another partner only its own customers, and needs the Customer app', async () => {
    const north = await api(t, await signIn(t, 'admin@northwind.test'), 'GET', '/api/v1/customers');
    expect(north.json().data.map((c: { name: string }) => c.name)).toEqual(['Wombat Pty Ltd']);
    const key = (await api(t, admin, 'POST', '/api/v1/api-keys', { name: 'invoices only', apps: ['invoice'] })).json();
    expect((await api(t, { authorization: `Bearer ${key.token}` }, 'GET', '/api/v1/customers')).json().code).toBe('app_not_granted');
    expect((await api(t, await signIn(t, 'owner@acme.test'), 'GET', '/api/v1/customers')).statusCode).toBe(403);
    expect((await api(t, admin, 'GET', '/api/v1/customers?limit=0')).json().errors[0].path).toBe('limit');
  });
});
