import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestApp, signIn, type Session, type TestApp } from '../test/harness.ts';
import { newCustomer, newInvoice, record } from './payments.test-kit.ts';

let t: TestApp;
let finance: Session;

beforeAll(async () => {
  t = await createTestApp();
  finance = await signIn(t, 'finance@demo.test');
});
afterAll(async () => t.close());

const openOf = (id: string, who: Session = finance) => api(t, who, 'GET', `/api/v1/payments/${id}/open-invoices`);

describe('GET /api/v1/payments/:id/open-invoices (listPaymentOpenInvoices)', () => {
  it("lists the customer's open Purchase and Top-up invoices in the payment's currency, oldest due first, with what each owes", async () => {
    const c = await newCustomer(t, finance);
    const other = await newCustomer(t, finance);
    const later = await newInvoice(t, finance, c, '60.00', { dueDays: 30 });
    const sooner = await newInvoice(t, finance, c, '40.00', { dueDays: 5 });
    const topUp = await newInvoice(t, finance, c, '25.00', { type: 'top_up', dueDays: 60 });
    await newInvoice(t, finance, c, '99.00', { issue: false }); // a draft owes nothing yet
    await newInvoice(t, finance, other, '10.00'); // another customer's
    const pay = (await record(t, finance, { amount: '50.00', customerId: c })).json<{ id: string }>().id;

    const res = await openOf(pay);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{ currency: string; more: boolean; data: { id: string; type: string; amountDue: string; total: string; status: string; paymentInProgress: boolean }[] }>();
    expect(body.currency).toBe('SGD');
    expect(body.more).toBe(false);
    expect(body.data.map((i) => i.id)).toEqual([sooner.id, later.id, topUp.id]);
    expect(body.data[0]).toMatchObject({ type: 'purchase', status: 'awaiting_payment', total: '40.00', amountDue: '40.00', paymentInProgress: false });

    // After a partial allocation the invoice owes less; a paid one drops out.
    const alloc = await api(t, finance, 'POST', `/api/v1/payments/${pay}/allocate`, { allocations: [{ invoiceId: sooner.id, amount: '40.00' }, { invoiceId: later.id, amount: '10.00' }] });
    expect(alloc.statusCode, alloc.body).toBe(200);
    const after = (await openOf(pay)).json<{ data: { id: string; amountDue: string; status: string }[] }>();
    expect(after.data.map((i) => [i.id, i.status, i.amountDue])).toEqual([[later.id, 'partially_paid', '50.00'], [topUp.id, 'awaiting_payment', '25.00']]);
  });

  it('an unassigned or reversed payment has none; unknown ids are 404, bad ids 400; staff without Finance get 403', async () => {
    const c = await newCustomer(t, finance);
    await newInvoice(t, finance, c, '10.00');
    const unassigned = (await record(t, finance, { amount: '5.00' })).json<{ id: string }>().id;
    expect((await openOf(unassigned)).json()).toMatchObject({ data: [], more: false });

    const pay = (await record(t, finance, { amount: '5.00', customerId: c })).json<{ id: string }>().id;
    expect((await openOf(pay)).json<{ data: unknown[] }>().data).toHaveLength(1);
    expect((await api(t, finance, 'POST', `/api/v1/payments/${pay}/reverse`, { reason: 'Recorded twice' })).statusCode).toBe(200);
    expect((await openOf(pay)).json()).toMatchObject({ data: [] });

    expect((await openOf('pay_0000000000000000000000')).statusCode).toBe(404);
    const bad = await openOf('not-an-id');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'validation_failed' });

    const admin = await signIn(t, 'admin@demo.test');
    expect((await openOf(pay, admin)).statusCode).toBe(403);
    const north = await signIn(t, 'admin@northwind.test');
    expect((await openOf(pay, north)).statusCode).toBe(403);
  });
});
