import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { inScope } from '../platform/database.ts';
import { api, createTestApp, customerIdOf, partnerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';

let t: TestApp;
let admin: Session;
let finance: Session;
beforeAll(async () => {
  t = await createTestApp();
  admin = await signIn(t, 'admin@demo.test');
  finance = await signIn(t, 'finance@demo.test');
});
afterAll(async () => t.close());

type Row = { id: string; name: string; currency: string; status: string; points: string; usable: string; lowPoints: boolean };
const list = async (query = '') => {
  const res = await api(t, admin, 'GET', `/api/v1/customers${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ data: Row[]; nextCursor: string | null }>();
};
const names = async (query: string) => (await list(query)).data.map((c) => c.name);
const issue = async (customerId: string, amount: string) => {
  const res = await api(t, finance, 'POST', `/api/v1/customers/${customerId}/points/issue`, { amount, reason: 'test' });
  expect(res.statusCode, res.body).toBe(200);
};

describe('listCustomers', () => {
  it('lists the partner\'s customers newest first, with user counts, status, billing contact and points', async () => {
    const { data, nextCursor } = await list();
    expect(nextCursor).toBeNull();
    expect(data.map((c) => [c.name, c.currency, (c as unknown as { userCount: number }).userCount])).toEqual([
      ['Initech Pte Ltd', 'SGD', 1],
      ['Globex Sdn Bhd', 'MYR', 1],
      ['Acme Pte Ltd', 'SGD', 2],
    ]);
    expect(data[0]).toEqual({
      id: expect.stringMatching(/^cus_/), name: 'Initech Pte Ltd', currency: 'SGD', status: 'active', userCount: 1,
      billingContact: { name: null, email: null, phone: null, address: null },
      points: '0.00', usable: '0.00', lowPoints: true, createdAt: expect.any(String), updatedAt: expect.any(String),
    });
  });

  it('shows each row\'s points balance and usable points (credit limit included)', async () => {
    const acme = await customerIdOf(t.db, 'Acme Pte Ltd');
    await issue(acme, '25.50');
    expect((await api(t, finance, 'PUT', `/api/v1/customers/${acme}/credit-limit`, { amount: '10.00' })).statusCode).toBe(200);
    const row = (await list()).data.find((c) => c.name === 'Acme Pte Ltd')!;
    expect(row).toMatchObject({ points: '25.50', usable: '35.50', lowPoints: false });
  });

  it('searches names and billing emails with q (case-insensitive, wildcards taken literally), or finds one id', async () => {
    const globex = await customerIdOf(t.db, 'Globex Sdn Bhd');
    expect((await api(t, admin, 'PATCH', `/api/v1/customers/${globex}`, { billingContact: { email: 'AP@Globex-Billing.test' } })).statusCode).toBe(200);
    expect(await names('?q=pte')).toEqual(['Initech Pte Ltd', 'Acme Pte Ltd']);
    expect(await names('?q=GLOBEX')).toEqual(['Globex Sdn Bhd']);
    expect(await names('?q=billing.test')).toEqual(['Globex Sdn Bhd']);
    expect(await names('?q=%25')).toEqual([]);
    expect(await names('?q=_')).toEqual([]);
    expect(await names('?q=wombat')).toEqual([]);
    expect(await names(`?q=${globex}`)).toEqual(['Globex Sdn Bhd']);
  });

  it('finds a customer by any part of its id, as staff paste it from a log or an email; never another partner\'s', async () => {
    const acme = await customerIdOf(t.db, 'Acme Pte Ltd');
    const wombat = await customerIdOf(t.db, 'Wombat Pty Ltd');
    const q = async (text: string) => names(`?q=${encodeURIComponent(text)}`);
    // Its prefix (the type, the time, a few of its own characters), a piece from the middle, its end, in capitals too.
    expect(await q(acme.slice(0, 20))).toEqual(['Acme Pte Ltd']);
    expect(await q(acme.slice(16, 26))).toEqual(['Acme Pte Ltd']);
    expect(await q(acme.slice(-8))).toEqual(['Acme Pte Ltd']);
    expect(await q(acme.slice(-8).toUpperCase())).toEqual(['Acme Pte Ltd']);
    expect(await q(` ${acme.slice(4, 24)} `)).toEqual(['Acme Pte Ltd']);
    // Every id of the partner shares "cus_": all of its customers, none of another partner's.
    expect(await q('cus_')).toEqual(['Initech Pte Ltd', 'Globex Sdn Bhd', 'Acme Pte Ltd']);
    // Another partner's customer is not found by any part of its id, nor whole.
    for (const part of [wombat, wombat.slice(0, 20), wombat.slice(16, 26), wombat.slice(-8)]) expect(await q(part), part).toEqual([]);
    // Names and emails match as before, and a short word is not looked for in ids ("cus" is in every one).
    expect(await q('cus')).toEqual([]);
    expect(await q(`${acme.slice(-8)}x`)).toEqual([]);
    expect(await q('acme')).toEqual(['Acme Pte Ltd']);
  });

  it('filters by status, currency and low points, combined with each other and with q', async () => {
    const initech = await customerIdOf(t.db, 'Initech Pte Ltd');
    expect((await api(t, admin, 'PATCH', `/api/v1/customers/${initech}`, { status: 'suspended' })).statusCode).toBe(200);
    expect(await names('?status=suspended')).toEqual(['Initech Pte Ltd']);
    expect(await names('?status=active')).toEqual(['Globex Sdn Bhd', 'Acme Pte Ltd']);
    expect(await names('?status=closed')).toEqual([]);
    expect(await names('?currency=MYR')).toEqual(['Globex Sdn Bhd']);
    expect(await names('?currency=SGD&status=active')).toEqual(['Acme Pte Ltd']);
    // Acme has 35.50 usable (earlier test); the others none: below 10 SGD / 30 MYR.
    expect(await names('?lowPoints=true')).toEqual(['Initech Pte Ltd', 'Globex Sdn Bhd']);
    expect(await names('?lowPoints=false')).toEqual(['Acme Pte Ltd']); // at or above the threshold: the others' complement
    expect(await names('?usableBelow=40')).toEqual(['Initech Pte Ltd', 'Globex Sdn Bhd', 'Acme Pte Ltd']);
    expect(await names('?usableBelow=35.50')).toEqual(['Initech Pte Ltd', 'Globex Sdn Bhd']);
    expect((await api(t, admin, 'GET', '/api/v1/customers?usableBelow=-3.00')).statusCode).toBe(200); // a negative: in debt
    expect(await names('?lowPoints=true&q=pte')).toEqual(['Initech Pte Ltd']);
  });

  it('refuses bad filters with a 400 naming the parameter', async () => {
    for (const [query, path] of [
      ['?status=gone', 'status'], ['?currency=EUR', 'currency'], ['?lowPoints=yes', 'lowPoints'], ['?usableBelow=ten', 'usableBelow'],
      ['?usableBelow=1.1234567', 'usableBelow'], ['?usableBelow=-0.00', 'usableBelow'], ['?usableBelow=-0', 'usableBelow'],
      ['?usableBelow=%2012.50', 'usableBelow'], ['?usableBelow=12.50%20', 'usableBelow'], ['?usableBelow=%2B5', 'usableBelow'], ['?limit=0', 'limit'], ['?limit=201', 'limit'], ['?cursor=nope', 'cursor'], ['?sort=name', 'sort'],
    ] as const) {
      const res = await api(t, admin, 'GET', `/api/v1/customers${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().errors.map((e: { path: string }) => e.path), query).toContain(path);
    }
  });

  it('pages with limit and cursor, filters kept', async () => {
    const first = await list('?limit=2');
    expect(first.data).toHaveLength(2);
    const second = await list(`?limit=2&cursor=${first.nextCursor}`);
    expect(second.data.map((c) => c.name)).toEqual(['Acme Pte Ltd']);
    expect(second.nextCursor).toBeNull();
    const low = await list('?lowPoints=true&limit=1');
    expect(low.data.map((c) => c.name)).toEqual(['Initech Pte Ltd']);
    expect((await list(`?lowPoints=true&limit=1&cursor=${low.nextCursor}`)).data.map((c) => c.name)).toEqual(['Globex Sdn Bhd']);
  });

  it('searches through folio_customers_matching, which answers only the partner of the request\'s scope', async () => {
    const demo = await partnerIdOf(t.db, 'demo-telecom');
    const north = await partnerIdOf(t.db, 'northwind');
    const matching = (scopePartner: string, asked: string) =>
      inScope(t.db.app.db, { kind: 'partner', partnerId: scopePartner }, async (trx) =>
        (await sql<{ id: string }>`select folio_customers_matching(${asked}, '%', null) as id`.execute(trx)).rows.map((r) => r.id));
    expect(await matching(demo, demo)).toHaveLength(3);
    expect(await matching(demo, north)).toEqual([]);
    expect(await matching(north, north)).toEqual([await customerIdOf(t.db, 'Wombat Pty Ltd')]);
  });

  it('shows another partner only its own customers, and needs the Customer app', async () => {
    const north = await api(t, await signIn(t, 'admin@northwind.test'), 'GET', '/api/v1/customers');
    expect(north.json().data.map((c: { name: string }) => c.name)).toEqual(['Wombat Pty Ltd']);
    expect((await names(`?q=${await customerIdOf(t.db, 'Wombat Pty Ltd')}`))).toEqual([]);
    const key = (await api(t, admin, 'POST', '/api/v1/api-keys', { name: 'invoices only', apps: ['invoice'] })).json();
    expect((await api(t, { authorization: `Bearer ${key.token}` }, 'GET', '/api/v1/customers')).json().code).toBe('app_not_granted');
    expect((await api(t, await signIn(t, 'owner@acme.test'), 'GET', '/api/v1/customers')).statusCode).toBe(403);
  });
});
