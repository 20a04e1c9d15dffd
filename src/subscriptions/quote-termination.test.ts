import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestApp, customerIdOf, partnerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';
import { catalogPrice, givePoints, ledgerProblems, pointsOf, sgd, type CatalogPrice } from './test-support.ts';

/**
 * GET .../termination-quote says what terminating now would give back, computed as the termination computes it, and
 * writes nothing: the refund quoted is the refund made (full within 14 days, whole months after, less what credit notes
 * gave back), a pending purchase names the invoice it voids, and what cannot be terminated answers as the termination would.
 */
let t: TestApp;
let demo: string;
let acme: string;
let admin: Session;
let finance: Session;
let monthly: CatalogPrice;
let yearly: CatalogPrice;

type Quote = {
  subscriptionId: string; version: number; currency: string; outcome: string; invoiceNumber: string | null;
  refund: { rule: string; months: number | null; price: string; tax: string; total: string; withheld: string } | null;
};
type View = { id: string; status: string; version: number; pendingInvoiceId?: string | null; refund: { price: string; tax: string; total: string } | null };

beforeAll(async () => {
  t = await createTestApp();
  demo = await partnerIdOf(t.db, 'demo-telecom');
  acme = await customerIdOf(t.db, 'Acme Pte Ltd');
  await t.db.owner.db.updateTable('partnerSettings').set({ taxRateBps: 900 }).where('partnerId', '=', demo).execute();
  monthly = await catalogPrice(t, demo, { name: 'Quote Line', price: '30.00', cost: '12.00' }); // 30.00 + 2.70 tax
  yearly = await catalogPrice(t, demo, { name: 'Quote Board', cycle: 'yearly', price: '120.00', cost: '24.00' }); // 120.00 + 10.80 tax
  admin = await signIn(t, 'admin@demo.test');
  finance = await signIn(t, 'finance@demo.test');
  await givePoints(t, demo, acme, '1000.00');
});
afterAll(async () => t.close());

async function buy(customerId: string, priceId: string): Promise<View> {
  const res = await api(t, admin, 'POST', `/api/v1/customers/${customerId}/subscriptions`, { priceId, quantity: 1 });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ subscription: View }>().subscription;
}
const quote = (id: string, who: Session = admin, portal = false) => api(t, who, 'GET', `/api/v1/${portal ? 'portal/' : ''}subscriptions/${id}/termination-quote`);
const terminate = (id: string) => api(t, admin, 'POST', `/api/v1/subscriptions/${id}/terminate`, { reason: 'Customer cancelled' });
const auditCount = async () => Number((await t.db.owner.db.selectFrom('auditEvents').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);

describe('termination quote', () => {
  it('within 14 days: the full refund quoted is the refund made, and the quote itself writes nothing', async () => {
    t.clock.set('2026-04-01T09:00:00Z');
    const sub = await buy(acme, monthly.priceId);
    t.clock.set('2026-04-05T09:00:00Z');
    const audits = await auditCount();
    const res = await quote(sub.id);
    expect(res.statusCode, res.body).toBe(200);
    const q = res.json<Quote>();
    expect(q).toMatchObject({
      subscriptionId: sub.id, version: sub.version, currency: 'SGD', outcome: 'refund', invoiceNumber: null,
      refund: { rule: 'full', months: null, price: '30.00', tax: '2.70', total: '32.70', withheld: '0.00' },
    });
    expect(await auditCount()).toBe(audits);
    const row = await t.db.owner.db.selectFrom('subscriptions').select(['status', 'version']).where('id', '=', sub.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'active', version: sub.version });

    const before = (await pointsOf(t, demo, acme)).points;
    const done = await terminate(sub.id);
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json<View>().refund).toMatchObject({ total: q.refund!.total, tax: q.refund!.tax });
    expect((await pointsOf(t, demo, acme)).points - before).toBe(sgd(q.refund!.total));
    // Terminated: nothing more to quote, as the termination itself would say.
    const again = await quote(sub.id);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'state_conflict', detail: 'This subscription is terminated: it cannot be terminated' });
  });

  it('after 14 days of a yearly plan: the whole months left, as the termination refunds them', async () => {
    t.clock.set('2026-01-10T09:00:00Z');
    const sub = await buy(acme, yearly.priceId);
    t.clock.set('2026-05-20T09:00:00Z'); // 4 months and 10 days in: 7 whole months left
    const q = (await quote(sub.id)).json<Quote>();
    expect(q.outcome).toBe('refund');
    expect(q.refund).toMatchObject({ rule: 'whole_months', months: 7, price: '70.00', tax: '6.30', total: '76.30', withheld: '0.00' });
    const before = (await pointsOf(t, demo, acme)).points;
    const done = await terminate(sub.id);
    expect(done.json<View>().refund).toMatchObject({ total: '76.30' });
    expect((await pointsOf(t, demo, acme)).points - before).toBe(sgd('76.30'));
  });

  it('a partial credit note first: the quote withholds what it gave back, and the termination refunds only the rest', async () => {
    t.clock.set('2026-06-01T09:00:00Z');
    const sub = await buy(acme, monthly.priceId);
    const charge = await t.db.owner.db.selectFrom('subscriptionCharges').select('invoiceId').where('subscriptionId', '=', sub.id).executeTakeFirstOrThrow();
    const credited = await api(t, finance, 'POST', '/api/v1/credit-notes', {
      invoiceId: charge.invoiceId, reason: 'service_issue', issue: true, mode: 'amount', amount: '10.00', outcome: 'points',
    });
    expect(credited.statusCode, credited.body).toBe(201);
    const q = (await quote(sub.id)).json<Quote>();
    expect(q.refund).toMatchObject({ rule: 'full', total: '22.70', withheld: '10.00' });
    const before = (await pointsOf(t, demo, acme)).points;
    expect((await terminate(sub.id)).json<View>().refund).toMatchObject({ total: '22.70' });
    expect((await pointsOf(t, demo, acme)).points - before).toBe(sgd('22.70'));
  });

  it('a pending purchase names the invoice it voids; the portal owner gets the quote of its own, nobody else does', async () => {
    t.clock.set('2026-07-01T09:00:00Z');
    // A new customer has no points: the purchase waits on an unpaid invoice.
    const created = await api(t, admin, 'POST', '/api/v1/customers', { name: 'Quote Pending Ltd', currency: 'SGD', ownerEmail: 'owner@quote-pending.test', ownerName: 'Pat' });
    expect(created.statusCode, created.body).toBe(201);
    const sub = await buy(created.json<{ id: string }>().id, monthly.priceId);
    expect(sub.status).toBe('pending_payment');
    const invoice = await t.db.owner.db.selectFrom('invoices').select('number').where('id', '=', sub.pendingInvoiceId!).executeTakeFirstOrThrow();
    expect((await quote(sub.id)).json<Quote>()).toMatchObject({ outcome: 'void_invoice', refund: null, invoiceNumber: invoice.number });

    const acmeOwner = await signIn(t, 'owner@acme.test');
    expect((await quote(sub.id, acmeOwner, true)).statusCode).toBe(404); // another customer's
    const mine = await buy(acme, monthly.priceId);
    const portal = await quote(mine.id, acmeOwner, true);
    expect(portal.statusCode, portal.body).toBe(200);
    expect(portal.json<Quote>()).toMatchObject({ outcome: 'refund', refund: { total: '32.70' } });
    expect((await quote(mine.id, await signIn(t, 'member@acme.test'), true)).statusCode).toBe(403); // owners and admins only
    expect((await quote(mine.id, acmeOwner)).statusCode).toBe(403); // the staff route is not the portal's
    expect((await quote(mine.id, await signIn(t, 'admin@northwind.test'))).statusCode).toBe(404); // another partner's
    expect((await api(t, null, 'GET', `/api/v1/subscriptions/${mine.id}/termination-quote`)).statusCode).toBe(401);
    expect((await quote('sub_00000000000000000000000000')).statusCode).toBe(404);
    expect((await quote('not-an-id')).json()).toMatchObject({ status: 400, code: 'validation_failed' });
    expect(await ledgerProblems(t)).toEqual([]);
  });
});
