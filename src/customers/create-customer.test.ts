import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptInvitationFor, api, auditEventsOf, createTestApp, lastMailTo, signIn, type Session, type TestApp } from '../test/harness.ts';

let t: TestApp;
let admin: Session;
beforeAll(async () => {
  t = await createTestApp();
  admin = await signIn(t, 'admin@demo.test');
});
afterAll(async () => t.close());

const create = (who: Session | null, payload: unknown) => api(t, who, 'POST', '/api/v1/customers', payload);

describe('createCustomer', () => {
  it('creates the organisation and invites its owner, who can then use the portal', async () => {
    const res = await create(admin, { name: 'Hooli Pte Ltd', currency: 'SGD', ownerEmail: 'Gavin@Hooli.test', ownerName: 'Gavin Belson' });
    expect(res.statusCode).toBe(201);
    const customer = res.json();
    expect(customer).toEqual({
      id: expect.stringMatching(/^cus_/), name: 'Hooli Pte Ltd', currency: 'SGD', status: 'active', userCount: 1, createdAt: expect.any(String),
      updatedAt: expect.any(String), billingContact: { name: null, email: null, phone: null, address: null },
      points: '0.00', usable: '0.00', lowPoints: true, currencyLocked: false, openInvoices: { count: 0, amountDue: '0.00' }, activeSubscriptions: 0,
      users: [{ id: expect.stringMatching(/^usr_/), email: 'gavin@hooli.test', name: 'Gavin Belson', role: 'owner', status: 'invited', emailVerified: false, lastLoginAt: null }],
    });
    const mail = await lastMailTo(t.db, 'gavin@hooli.test');
    expect(mail).toMatchObject({ kind: 'invitation', customerId: customer.id, subject: expect.stringContaining('Hooli Pte Ltd') });

    const [created] = await auditEventsOf(t.db, 'customer.created');
    expect(created).toMatchObject({ app: 'customer', customerId: customer.id, targetId: customer.id, changes: { name: { after: 'Hooli Pte Ltd' }, currency: { after: 'SGD' } } });
    const [invited] = await auditEventsOf(t.db, 'member.invited');
    expect(invited).toMatchObject({ customerId: customer.id, targetId: customer.users[0].id, changes: { role: { after: 'owner' } } });

    await acceptInvitationFor(t, 'gavin@hooli.test', 'Gavin B.');
    const owner = await signIn(t, 'gavin@hooli.test');
    const session = (await api(t, owner, 'GET', '/api/v1/auth/session')).json();
    expect(session).toMatchObject({ user: { name: 'Gavin B.', emailVerified: true }, customer: { id: customer.id, role: 'owner' } });
  });

  it('keeps the billing contact given at creation, and audits it', async () => {
    const res = await create(admin, {
      name: 'Pied Piper Pte Ltd', currency: 'USD', ownerEmail: 'richard@piedpiper.test', ownerName: 'Richard',
      billingContact: { name: ' Jared Dunn ', email: 'Jared@PiedPiper.test', phone: '+1 (650) 555-0100', address: '5230 Newell Road\nPalo Alto' },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().billingContact).toEqual({ name: 'Jared Dunn', email: 'jared@piedpiper.test', phone: '+1 (650) 555-0100', address: '5230 Newell Road\nPalo Alto' });
    const created = (await auditEventsOf(t.db, 'customer.created')).find((e) => e.customerId === res.json().id);
    expect(created?.changes).toMatchObject({ billingName: { after: 'Jared Dunn' }, billingEmail: { after: 'jared@piedpiper.test' } });
  });

  it('creates nothing when the owner\'s address is taken (409)', async () => {
    const before = await t.db.owner.db.selectFrom('customers').select('id').execute();
    // Addresses of the partner's own people (another tenant's are invited as new addresses: ADR 0042).
    for (const email of ['member@acme.test', 'admin@demo.test', 'OWNER@globex.test']) {
      const res = await create(admin, { name: 'Dup Ltd', currency: 'SGD', ownerEmail: email, ownerName: 'Dup' });
      expect(res.statusCode, email).toBe(409);
      expect(res.json().code).toBe('already_exists');
    }
    expect(await t.db.owner.db.selectFrom('customers').select('id').execute()).toHaveLength(before.length);
  });

  it('validates the body: a name, a supported currency, an owner email and name, no unknown fields', async () => {
    const res = await create(admin, { name: '', currency: 'sgd', ownerEmail: 'nope', creditLimit: '100' });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['name', 'currency', 'ownerEmail', 'ownerName', 'creditLimit']));
    expect((await create(admin, { name: 'X', currency: 'EUR', ownerEmail: 'x@x.test', ownerName: 'X' })).json().errors[0].path).toBe('currency');
    const billing = await create(admin, { name: 'X', currency: 'SGD', ownerEmail: 'x@x.test', ownerName: 'X', billingContact: { email: 'not-an-email', phone: 'call me', fax: '1' } });
    expect(billing.statusCode).toBe(400);
    expect(billing.json().errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['billingContact.email', 'billingContact.phone', 'billingContact.fax']));
    expect(await t.db.owner.db.selectFrom('customers').select('id').where('name', '=', 'X').execute()).toEqual([]);
  });

  it('needs the Customer app', async () => {
    const north = await signIn(t, 'admin@northwind.test');
    await api(t, north, 'DELETE', `/api/v1/staff/${(await api(t, north, 'GET', '/api/v1/auth/session')).json().user.id}/apps/customer`);
    const res = await create(north, { name: 'Roo Pty Ltd', currency: 'AUD', ownerEmail: 'roo@roo.test', ownerName: 'Roo' });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('app_not_granted');
    expect((await create(await signIn(t, 'owner@acme.test'), { name: 'Roo Pty Ltd', currency: 'AUD', ownerEmail: 'roo@roo.test', ownerName: 'Roo' })).statusCode).toBe(403);
  });
});
