import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestApp, customerIdOf, partnerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';
import { record } from '../payments/payments.test-kit.ts';
import { accountBalance, catalogPrice, givePoints, ledgerProblems, pointsOf, sgd, type CatalogPrice } from './test-support.ts';

/**
 * A subscription's termination refund and the credit notes of the invoice that billed it give back money paid on that
 * invoice between them at most once (ledger-design invariant 7): whichever comes second gives back only what is left.
 */
let t: TestApp;
let demo: string;
let acme: string;
let globex: string;
let admin: Session;
let finance: Session;
let line: CatalogPrice;

type View = { id: string; status: string; pendingInvoiceId?: string | null; refund: { price: string; tax: string; total: string } | null };

beforeAll(async () => {
  t = await createTestApp();
  demo = await partnerIdOf(t.db, 'demo-telecom');
  acme = await customerIdOf(t.db, 'Acme Pte Ltd');
  globex = await customerIdOf(t.db, 'Globex Sdn Bhd');
  await t.db.owner.db.updateTable('partnerSettings').set({ taxRateBps: 900 }).where('partnerId', '=', demo).execute();
  line = await catalogPrice(t, demo, { name: 'Refund Line', price: '30.00', cost: '12.00' }); // 30.00 + 2.70 tax = 32.70
  admin = await signIn(t, 'admin@demo.test');
  finance = await signIn(t, 'finance@demo.test');
  await givePoints(t, demo, acme, '1000.00');
});
afterAll(async () => t.close());

async function buy(customerId: string, priceId: string): Promise<View & { invoiceId: string }> {
  const res = await api(t, admin, 'POST', `/api/v1/customers/${customerId}/subscriptions`, { priceId, quantity: 1 });
  expect(res.statusCode, res.body).toBe(201);
  const sub = res.json<{ subscription: View }>().subscription;
  const charge = await t.db.owner.db.selectFrom('subscriptionCharges').select('invoiceId').where('subscriptionId', '=', sub.id).executeTakeFirstOrThrow();
  return { ...sub, invoiceId: charge.invoiceId! };
}

const terminate = (id: string) => api(t, admin, 'POST', `/api/v1/subscriptions/${id}/terminate`, { reason: 'Customer cancelled' });
const creditNote = (invoiceId: string, body: Record<string, unknown>) =>
  api(t, finance, 'POST', '/api/v1/credit-notes', { invoiceId, reason: 'cancellation', issue: true, ...body });

describe('termination refund and credit notes of the same invoice', () => {
  it('terminated first (refunded in full): a credit note can no longer give points or refund', async () => {
    t.clock.set('2026-03-02T09:00:00Z');
    const sub = await buy(acme, line.priceId);
    t.clock.set('2026-03-05T09:00:00Z');
    const before = (await pointsOf(t, demo, acme)).points;
    const res = await terminate(sub.id);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<View>().refund).toMatchObject({ total: '32.70' });
    expect((await pointsOf(t, demo, acme)).points - before).toBe(sgd('32.70'));

    const refused = await creditNote(sub.invoiceId, { mode: 'whole', outcome: 'points' });
    expect(refused.statusCode, refused.body).toBe(422);
    expect(refused.json<{ code: string; detail: string }>()).toMatchObject({ code: 'refund_exceeds_paid' });
    expect(refused.json<{ detail: string }>().detail).toContain('termination refunds gave back 32.70 SGD');
    const card = await creditNote(sub.invoiceId, { mode: 'whole', outcome: 'refund', refundMethod: 'bank_transfer', refundReference: 'TT-1' });
    expect(card.statusCode).toBe(422);
    const creditable = await api(t, finance, 'GET', `/api/v1/credit-notes/creditable?invoiceId=${sub.invoiceId}`);
    expect(creditable.statusCode, creditable.body).toBe(200);
    expect(creditable.json<{ creditable: { pointsOrRefund: string } }>().creditable.pointsOrRefund).toBe('0.00');
    expect((await pointsOf(t, demo, acme)).points - before).toBe(sgd('32.70'));
    expect(await ledgerProblems(t)).toEqual([]);
  });

  it('credited first (whole, to points): the termination refunds nothing more, and says so', async () => {
    t.clock.set('2026-03-10T09:00:00Z');
    const sub = await buy(acme, line.priceId);
    const credited = await creditNote(sub.invoiceId, { mode: 'whole', outcome: 'points' });
    expect(credited.statusCode, credited.body).toBe(201);
    const before = { points: (await pointsOf(t, demo, acme)).points, returns: await accountBalance(t, demo, 'sales_returns') };
    const res = await terminate(sub.id);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<View>()).toMatchObject({ status: 'terminated', refund: { total: '0.00' } });
    expect((await pointsOf(t, demo, acme)).points).toBe(before.points);
    expect(await accountBalance(t, demo, 'sales_returns')).toBe(before.returns);
    const audit = await t.db.owner.db.selectFrom('auditEvents').select('changes').where('action', '=', 'subscription.terminated').where('targetId', '=', sub.id).executeTakeFirstOrThrow();
    expect(audit.changes).toMatchObject({ refundWithheld: { after: '32.70' }, refundTotal: { after: '0.00' } });
    expect(await ledgerProblems(t)).toEqual([]);
  });

  it('credited in part: the termination refunds only the rest', async () => {
    t.clock.set('2026-03-12T09:00:00Z');
    const sub = await buy(acme, line.priceId);
    expect((await creditNote(sub.invoiceId, { mode: 'amount', amount: '10.90', outcome: 'points' })).statusCode).toBe(201);
    const before = (await pointsOf(t, demo, acme)).points;
    const res = await terminate(sub.id);
    expect(res.statusCode, res.body).toBe(200);
    // 32.70 - 10.90 = 21.80: price 30.00 x 21.80 / 32.70 = 20.00, tax the rest 1.80.
    expect(res.json<View>().refund).toEqual({ price: '20.00', tax: '1.80', total: '21.80' });
    expect((await pointsOf(t, demo, acme)).points - before).toBe(sgd('21.80'));
    // Nothing is left for a further credit note to give back.
    expect((await creditNote(sub.invoiceId, { mode: 'amount', amount: '0.01', outcome: 'points' })).statusCode).toBe(422);
    expect(await ledgerProblems(t)).toEqual([]);
  });

  it('an active subscription whose invoice has something due again (a bounced cheque) is not refunded: 409 until it is settled or credited', async () => {
    t.clock.set('2026-03-15T09:00:00Z');
    const sub = await buy(globex, (await catalogPrice(t, demo, { name: 'Cheque Line', currency: 'MYR', price: '20.00', cost: '5.00' })).priceId);
    expect(sub.status).toBe('pending_payment');
    const cheque = await record(t, finance, { amount: '21.80', currency: 'MYR', customerId: globex, method: 'cheque', reference: 'CHQ-9' });
    expect(cheque.statusCode, cheque.body).toBe(201);
    const paid = await api(t, finance, 'POST', `/api/v1/payments/${cheque.json().id}/allocate`, { allocations: [{ invoiceId: sub.invoiceId, amount: '21.80' }] });
    expect(paid.statusCode, paid.body).toBe(200);
    expect((await api(t, admin, 'GET', `/api/v1/subscriptions/${sub.id}`)).json<View>().status).toBe('active');
    expect((await api(t, finance, 'POST', `/api/v1/payments/${cheque.json().id}/reverse`, { reason: 'Cheque bounced' })).statusCode).toBe(200);

    const before = (await pointsOf(t, demo, globex, 'MYR')).points;
    const refused = await terminate(sub.id);
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json<{ detail: string }>().detail).toContain('21.80 MYR due');
    expect((await pointsOf(t, demo, globex, 'MYR')).points).toBe(before);

    expect((await creditNote(sub.invoiceId, { mode: 'whole', outcome: 'reduce_due' })).statusCode).toBe(201);
    const res = await terminate(sub.id);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<View>()).toMatchObject({ status: 'terminated', refund: { total: '0.00' } });
    expect((await pointsOf(t, demo, globex, 'MYR')).points).toBe(before);
    expect(await ledgerProblems(t)).toEqual([]);
  });

  it('a pending purchase whose invoice was credited in whole can be terminated: nothing owed, nothing voided or refunded', async () => {
    t.clock.set('2026-03-20T09:00:00Z');
    const sub = await buy(globex, (await catalogPrice(t, demo, { name: 'Credited Line', currency: 'MYR', price: '10.00', cost: '2.00' })).priceId);
    expect(sub.status).toBe('pending_payment');
    expect((await creditNote(sub.invoiceId, { mode: 'whole', outcome: 'reduce_due' })).statusCode).toBe(201);
    const res = await terminate(sub.id);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<View>()).toMatchObject({ status: 'terminated', refund: null });
    const invoice = await t.db.owner.db.selectFrom('invoices').select(['status', 'amountDueMicros']).where('id', '=', sub.invoiceId).executeTakeFirstOrThrow();
    expect(invoice).toEqual({ status: 'paid', amountDueMicros: '0' });
    const history = (await api(t, admin, 'GET', `/api/v1/subscriptions/${sub.id}`)).json<{ history: { kind: string; detail: string }[] }>().history;
    expect(history[0]).toMatchObject({ kind: 'terminated' });
    expect(history[0]!.detail).toContain('was credited: nothing is owed');
    expect(await ledgerProblems(t)).toEqual([]);
  });
});
