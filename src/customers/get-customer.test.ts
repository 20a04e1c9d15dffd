import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestApp, signIn, type Session, type TestApp } from '../test/harness.ts';

let t: TestApp;
let admin: Session;
beforeAll(async () => {
  t = await createTestApp();
  admin = await signIn(t, 'admin@demo.test');
});
afterAll(async () => t.close());

const customerIdOf = async (name: string) => (await t.db.owner.db.selectFrom('customers').select('id').where('name', '=', name).executeTakeFirstOrThrow()).id;

describe('getCustomer', () => {
  it('shows one customer with its users, owner first', async () => {
    await api(t, await signIn(t, 'owner@acme.test'), 'POST', '/api/v1/portal/members/invitations', { email: 'new@acme.test', name: 'Newbie', role: 'admin' });
    const id = await customerIdOf('Acme Pte Ltd');
    const res = await api(t, admin, 'GET', `/api/v1/customers/${id}`);
    expect(res.statusCode).toBe(200);
    const customer = res.json();
    expect(customer).toMatchObject({ id, name: 'Acme Pte Ltd', currency: 'SGD', status: 'active', userCount: 3 });
    expect(customer.users.map((u: { email: string; role: string; status: string }) => [u.email, u.role, u.status])).toEqual([
      ['owner@acme.test', 'owner', 'active'],
      ['new@acme.test', 'admin', 'invited'],
      ['member@acme.test', 'member', 'active'],
    ]);
    expect(customer.users[0]).toMatchObject({ emailVerified: true, lastLoginAt: expect.any(String) });
  });

  it('says what is still due on its open invoices (drafts, paid and void left out) and how many subscriptions are active', async () => {
    const created = await api(t, admin, 'POST', '/api/v1/customers', { name: 'Due Diligence Pte Ltd', currency: 'SGD', ownerEmail: 'owner@due.test', ownerName: 'Dee' });
    const id = created.json().id as string;
    expect(created.json()).toMatchObject({ openInvoices: { count: 0, amountDue: '0.00' }, activeSubscriptions: 0 });
    const invoice = (price: string, issue: boolean) => api(t, admin, 'POST', '/api/v1/invoices', {
      customerId: id, type: 'purchase', issue, dueDays: 14, lines: [{ description: 'Support', quantity: '1', unitPrice: price, taxCategory: 'zero_rated' }],
    });
    for (const [price, issue] of [['100.00', true], ['60.50', true], ['999.00', false]] as const) expect((await invoice(price, issue)).statusCode).toBe(201);
    expect((await api(t, admin, 'GET', `/api/v1/customers/${id}`)).json()).toMatchObject({ openInvoices: { count: 2, amountDue: '160.50' }, activeSubscriptions: 0 });

    const acme = await customerIdOf('Acme Pte Ltd');
    const active = await t.db.owner.db.selectFrom('subscriptions').select((eb) => eb.fn.countAll<string>().as('n')).where('customerId', '=', acme).where('status', '=', 'active').executeTakeFirstOrThrow();
    expect((await api(t, admin, 'GET', `/api/v1/customers/${acme}`)).json().activeSubscriptions).toBe(Number(active.n));
  });

  it('is 404 for another partner\'s customer and for unknown ids, 400 for a malformed id', async () => {
    const wombat = await api(t, admin, 'GET', `/api/v1/customers/${await customerIdOf('Wombat Pty Ltd')}`);
    expect(wombat.statusCode).toBe(404);
    expect(wombat.json().code).toBe('not_found');
    expect((await api(t, admin, 'GET', `/api/v1/customers/cus_${'0'.repeat(26)}`)).statusCode).toBe(404);
    expect((await api(t, admin, 'GET', '/api/v1/customers/acme')).statusCode).toBe(400);
  });

  it('needs the Customer app', async () => {
    const key = (await api(t, admin, 'POST', '/api/v1/api-keys', { name: 'audit only', apps: ['audit'] })).json();
    const res = await api(t, { authorization: `Bearer ${key.token}` }, 'GET', `/api/v1/customers/${await customerIdOf('Acme Pte Ltd')}`);
    expect(res.statusCode).toBe(403);
  });
});
