import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, createTestApp, customerIdOf, expectUnknownId, partnerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';
import { newId } from '../platform/ids.ts';
import { pdfText } from '../invoices/pdf/pdf-text.ts';
import { allocationsTo, balanceOf, expectSound, feeRevenue, invoiceState, newCustomer, newInvoice, pointsOf, record } from './payments.test-kit.ts';

let t: TestApp;
let finance: Session;

beforeAll(async () => {
  t = await createTestApp();
  finance = await signIn(t, 'finance@demo.test');
});
afterAll(async () => t.close());

const allocate = (id: string, body: unknown) => api(t, finance, 'POST', `/api/v1/payments/${id}/allocations`, body);
const paymentOf = async (customerId: string, amount: string) => {
  const res = await record(t, finance, { amount, customerId });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string }>().id;
};

describe('POST /api/v1/payments/:id/allocations (allocatePayment)', () => {
  it('allocates to Purchase invoices: Dr unapplied · Cr receivable, invoices paid or partly paid, leftover kept', async () => {
    const c = await newCustomer(t, finance);
    const inv1 = await newInvoice(t, finance, c, '60.00');
    const inv2 = await newInvoice(t, finance, c, '50.00');
    const pay = await paymentOf(c, '100.00');
    const receivableBefore = await balanceOf(t, 'receivable', c);
    const res = await allocate(pay, { allocations: [{ invoiceId: inv1.id, amount: '60.00' }, { invoiceId: inv2.id, amount: '30.00' }] });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ status: 'partially_allocated', unallocated: '10.00', allocated: '90.00', toPoints: '0.00' });
    expect(res.json().allocations.map((a: { invoiceId: string; amount: string; kind: string }) => [a.kind, a.invoiceId, a.amount]).sort())
      .toEqual([['invoice', inv1.id, '60.00'], ['invoice', inv2.id, '30.00']].sort());
    expect(await invoiceState(t, inv1.id)).toMatchObject({ status: 'paid', amountPaidMicros: '60000000', amountDueMicros: '0' });
    expect(await invoiceState(t, inv2.id)).toMatchObject({ status: 'partially_paid', amountPaidMicros: '30000000', amountDueMicros: '20000000' });
    expect(await balanceOf(t, 'receivable', c)).toBe(receivableBefore - 90_000_000n);
    expect(await balanceOf(t, 'unapplied', c)).toBe(-10_000_000n);
    const ipy = await t.db.owner.db.selectFrom('invoicePayments').select(['source', 'paymentId', 'amountMicros']).where('invoiceId', '=', inv2.id).execute();
    expect(ipy).toEqual([{ source: 'allocation', paymentId: pay, amountMicros: '30000000' }]);
    expect((await auditEventsOf(t.db, 'payment.allocated'))[0]).toMatchObject({ app: 'finance', targetId: pay, changes: { unallocated: { before: '100.00', after: '10.00' } } });
    await expectSound(t);

    // The rest turns into points later: Dr unapplied · Cr points.
    const rest = await allocate(pay, { allocations: [{ invoiceId: inv2.id, amount: '5.00' }], leftover: 'points' });
    expect(rest.statusCode, rest.body).toBe(200);
    expect(rest.json()).toMatchObject({ status: 'allocated', unallocated: '0.00', allocated: '95.00', toPoints: '5.00' });
    expect(await pointsOf(t, c)).toBe(5_000_000n);
    expect(await balanceOf(t, 'unapplied', c)).toBe(0n);
    await expectSound(t);
  });

  it('the invoice names the receipt the customer was sent for the payment, on screen and in its PDF, not the payment id', async () => {
    const c = await newCustomer(t, finance);
    const inv = await newInvoice(t, finance, c, '40.00');
    const res = await record(t, finance, { amount: '40.00', customerId: c, reference: 'T24' });
    expect(res.statusCode, res.body).toBe(201);
    const { id: pay, receiptNumber } = res.json<{ id: string; receiptNumber: string }>();
    expect(receiptNumber).toMatch(/^RCT-/);
    expect((await allocate(pay, { allocations: [{ invoiceId: inv.id, amount: '40.00' }] })).statusCode).toBe(200);
    const admin = await signIn(t, 'admin@demo.test');
    const detail = (await api(t, admin, 'GET', `/api/v1/invoices/${inv.id}`)).json<{ payments: { source: string; reference: string | null }[] }>();
    expect(detail.payments).toEqual([expect.objectContaining({ source: 'allocation', reference: receiptNumber })]);
    const pdf = await api(t, admin, 'GET', `/api/v1/invoices/${inv.id}/pdf`);
    expect(pdf.statusCode).toBe(200);
    const { text } = await pdfText(pdf.rawPayload);
    expect(text).toContain(receiptNumber);
    expect(text).not.toContain(pay);
  });

  it('allocating to a Top-up invoice credits points (Dr unapplied · Cr points) and pays the invoice; no receivable moves', async () => {
    const c = await newCustomer(t, finance);
    const top = await newInvoice(t, finance, c, '25.00', { type: 'top_up' });
    const pay = await paymentOf(c, '25.00');
    const res = await allocate(pay, { allocations: [{ invoiceId: top.id, amount: '25.00' }] });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ status: 'allocated', allocated: '25.00' });
    expect(res.json().allocations).toEqual([expect.objectContaining({ invoiceId: top.id, amount: '25.00', adminFee: null })]);
    expect(await pointsOf(t, c)).toBe(25_000_000n);
    expect(await balanceOf(t, 'receivable', c)).toBe(0n);
    expect(await invoiceState(t, top.id)).toMatchObject({ status: 'paid', amountDueMicros: '0' });
    // The customer's transactions show it as a top-up (points bought), as a card top-up is.
    const feed = await api(t, finance, 'GET', `/api/v1/customers/${c}/transactions?type=top_up`);
    expect(feed.statusCode, feed.body).toBe(200);
    expect(feed.json().data).toEqual([expect.objectContaining({ type: 'top_up', amount: '25.00', description: `Points bought by invoice ${top.number}` })]);
    await expectSound(t);
  });

  it('a Top-up invoice with an admin fee: the fee is paid first (Cr revenue:fees), then points; partial allocations split it exactly', async () => {
    const c = await newCustomer(t, finance);
    // 15.00 of points is below the default SGD threshold (20.00): issued with a 1.00 admin fee, 16.00 in all.
    const top = await newInvoice(t, finance, c, '15.00', { type: 'top_up' });
    expect(top.total).toBe('16.00');
    const pay = await paymentOf(c, '16.00');
    const feesBefore = await feeRevenue(t);
    const topUpFeed = async () => (await api(t, finance, 'GET', `/api/v1/customers/${c}/transactions?type=top_up`)).json().data;

    // Less than the fee: all of it pays the fee, no points, nothing in the customer's transactions.
    const first = await allocate(pay, { allocations: [{ invoiceId: top.id, amount: '0.60' }] });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ status: 'partially_allocated', allocated: '0.60', unallocated: '15.40' });
    expect(await pointsOf(t, c)).toBe(0n);
    expect(await feeRevenue(t)).toBe(feesBefore + 600_000n);
    expect(await invoiceState(t, top.id)).toMatchObject({ status: 'partially_paid', amountPaidMicros: '600000', amountDueMicros: '15400000' });
    expect(await topUpFeed()).toEqual([]);
    expect((await auditEventsOf(t.db, 'payment.allocated'))[0]).toMatchObject({ targetId: pay, changes: { allocations: { after: [expect.objectContaining({ amount: '0.60', adminFee: '0.60' })] } } });
    await expectSound(t);

    // The rest of the fee, then points: 5.00 is 0.40 of fee and 4.60 of points.
    expect((await allocate(pay, { allocations: [{ invoiceId: top.id, amount: '5.00' }] })).statusCode).toBe(200);
    expect(await pointsOf(t, c)).toBe(4_600_000n);
    expect(await feeRevenue(t)).toBe(feesBefore + 1_000_000n);
    expect(await topUpFeed()).toEqual([expect.objectContaining({ type: 'top_up', amount: '4.60', description: `Points bought by invoice ${top.number} (admin fee 0.40 SGD)` })]);
    await expectSound(t);

    // The fee is paid: the rest is all points.
    const last = await allocate(pay, { auto: true });
    expect(last.statusCode, last.body).toBe(200);
    expect(last.json()).toMatchObject({ status: 'allocated', allocated: '16.00', unallocated: '0.00', toPoints: '0.00' });
    expect(await pointsOf(t, c)).toBe(15_000_000n);
    expect(await feeRevenue(t)).toBe(feesBefore + 1_000_000n);
    expect(await invoiceState(t, top.id)).toMatchObject({ status: 'paid', amountPaidMicros: '16000000', amountDueMicros: '0' });
    expect((await allocationsTo(t, top.id)).map((a) => [a.amountMicros, a.feeMicros])).toEqual([['600000', '600000'], ['5000000', '400000'], ['10400000', '0']]);
    expect(last.json().allocations.map((a: { amount: string; adminFee: string | null }) => [a.amount, a.adminFee])).toEqual([['0.60', '0.60'], ['5.00', '0.40'], ['10.40', null]]);
    expect((await topUpFeed()).map((r: { amount: string }) => r.amount)).toEqual(['10.40', '4.60']);
    expect(await balanceOf(t, 'unapplied', c)).toBe(0n);
    expect(await balanceOf(t, 'receivable', c)).toBe(0n);
    await expectSound(t);
  });

  it('a full allocation to a Top-up invoice with an admin fee: the fee to revenue:fees, the points bought to points, in one entry', async () => {
    const c = await newCustomer(t, finance);
    const top = await newInvoice(t, finance, c, '19.99', { type: 'top_up' });
    const pay = await paymentOf(c, '25.00');
    const feesBefore = await feeRevenue(t);
    const res = await allocate(pay, { allocations: [{ invoiceId: top.id, amount: '20.99' }], leftover: 'points' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ status: 'allocated', allocated: '20.99', toPoints: '4.01' });
    expect(await pointsOf(t, c)).toBe(19_990_000n + 4_010_000n);
    expect(await feeRevenue(t)).toBe(feesBefore + 1_000_000n);
    expect(await invoiceState(t, top.id)).toMatchObject({ status: 'paid', amountDueMicros: '0' });
    const entry = await t.db.owner.db.selectFrom('postings as p').innerJoin('ledgerAccounts as a', 'a.id', 'p.accountId')
      .innerJoin('paymentAllocations as al', 'al.entryId', 'p.entryId')
      .select(['a.code', 'p.amountMicros']).where('al.invoiceId', '=', top.id).orderBy('p.id').execute();
    expect(entry.map((p) => [p.code, p.amountMicros])).toEqual([['unapplied', '20990000'], ['revenue:fees', '-1000000'], ['points', '-19990000']]);
    await expectSound(t);
  });

  it('auto: oldest due first, then the leftover to points', async () => {
    const c = await newCustomer(t, finance);
    const late = await newInvoice(t, finance, c, '40.00', { dueDays: 30 });
    const soon = await newInvoice(t, finance, c, '30.00', { dueDays: 5 });
    const middle = await newInvoice(t, finance, c, '20.00', { dueDays: 10 });
    const pay = await paymentOf(c, '60.00');
    const res = await allocate(pay, { auto: true });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ status: 'allocated', unallocated: '0.00', allocated: '60.00' });
    expect(await invoiceState(t, soon.id)).toMatchObject({ status: 'paid' });
    expect(await invoiceState(t, middle.id)).toMatchObject({ status: 'paid' });
    expect(await invoiceState(t, late.id)).toMatchObject({ status: 'partially_paid', amountDueMicros: '30000000' });
    await expectSound(t);

    const pay2 = await paymentOf(c, '50.00');
    const res2 = await allocate(pay2, { auto: true, leftover: 'points' });
    expect(res2.statusCode, res2.body).toBe(200);
    expect(res2.json()).toMatchObject({ status: 'allocated', allocated: '30.00', toPoints: '20.00' });
    expect(await invoiceState(t, late.id)).toMatchObject({ status: 'paid' });
    expect(await pointsOf(t, c)).toBe(20_000_000n);
    const nothing = await allocate(await paymentOf(c, '1.00'), { auto: true });
    expect(nothing.statusCode).toBe(422);
    expect(nothing.json().code).toBe('nothing_to_allocate');
    await expectSound(t);
  });

  it('refuses, writing nothing: over the unallocated amount, over what is owed, draft/paid/void/monthly, another customer, another partner, in-progress portal payment', async () => {
    const c = await newCustomer(t, finance);
    const other = await newCustomer(t, finance);
    const open = await newInvoice(t, finance, c, '50.00');
    const open2 = await newInvoice(t, finance, c, '50.00');
    const draft = await newInvoice(t, finance, c, '10.00', { issue: false });
    const voided = await newInvoice(t, finance, c, '10.00');
    expect((await api(t, finance, 'POST', `/api/v1/invoices/${voided.id}/void`, { reason: 'Wrong' })).statusCode).toBe(200);
    const othersInvoice = await newInvoice(t, finance, other, '10.00');
    const pay = await paymentOf(c, '40.00');
    const expectRefused = async (body: unknown, status: number, code: string) => {
      const res = await allocate(pay, body);
      expect(res.statusCode, `${JSON.stringify(body)} ${res.body}`).toBe(status);
      expect(res.json().code).toBe(code);
    };
    await expectRefused({ allocations: [{ invoiceId: open.id, amount: '30.00' }, { invoiceId: open2.id, amount: '10.01' }] }, 422, 'amount_exceeds_unallocated');
    expect((await allocate(pay, { allocations: [{ invoiceId: open.id, amount: '40.01' }] })).json().errors).toEqual([{ path: 'allocations', message: '40.01 in all, at most 40.00' }]);
    await expectRefused({ allocations: [{ invoiceId: open.id, amount: '50.01' }] }, 422, 'amount_exceeds_due');
    await expectRefused({ allocations: [{ invoiceId: draft.id, amount: '1.00' }] }, 409, 'invoice_not_payable');
    await expectRefused({ allocations: [{ invoiceId: voided.id, amount: '1.00' }] }, 409, 'invoice_not_payable');
    // A number against the rules (zero, too many decimals): 422 naming the allocation's amount; no number: 400 (docs/adr/0040).
    await expectRefused({ allocations: [{ invoiceId: open.id, amount: '0.00' }] }, 422, 'rule_violation');
    await expectRefused({ allocations: [{ invoiceId: open.id, amount: '1.005' }] }, 422, 'rule_violation');
    expect((await allocate(pay, { allocations: [{ invoiceId: open.id, amount: '1.00' }, { invoiceId: open2.id, amount: '-1.00' }] })).json().errors)
      .toEqual([{ path: 'allocations.1.amount', message: 'must be more than zero' }]);
    await expectRefused({ allocations: [{ invoiceId: open.id, amount: 'one' }] }, 400, 'validation_failed');
    await expectRefused({ allocations: [{ invoiceId: open.id, amount: '1.00' }, { invoiceId: open.id, amount: '1.00' }] }, 400, 'validation_failed');
    await expectRefused({ allocations: [{ invoiceId: open.id, amount: '1.00' }], auto: true }, 400, 'validation_failed');
    await expectRefused({}, 400, 'validation_failed');
    await expectRefused({ auto: true, leftover: 'burn' }, 400, 'validation_failed');

    // Another customer's invoice, another partner's and an unknown one: the same 422 naming the allocation's invoiceId.
    const northAdmin = await signIn(t, 'admin@northwind.test');
    const north = await newInvoice(t, northAdmin, await customerIdOf(t.db, 'Wombat Pty Ltd'), '10.00');
    const withSecond = (invoiceId: string) => allocate(pay, { allocations: [{ invoiceId: open.id, amount: '1.00' }, { invoiceId, amount: '1.00' }] });
    expectUnknownId([await withSecond(othersInvoice.id), await withSecond(north.id), await withSecond('inv_00000000000000000000000000')], 'invoice_not_found', 'allocations.1.invoiceId');
    // Nothing was written by any refusal.
    expect((await api(t, finance, 'GET', `/api/v1/payments/${pay}`)).json()).toMatchObject({ status: 'unallocated', unallocated: '40.00', allocations: [] });
    expect(await invoiceState(t, open.id)).toMatchObject({ status: 'awaiting_payment', amountPaidMicros: '0' });

    // A paid invoice.
    const paidPay = await paymentOf(c, '50.00');
    expect((await allocate(paidPay, { allocations: [{ invoiceId: open2.id, amount: '50.00' }] })).statusCode).toBe(200);
    await expectRefused({ allocations: [{ invoiceId: open2.id, amount: '1.00' }] }, 409, 'invoice_not_payable');

    // A monthly invoice (statement) is never allocated to.
    const partnerId = await partnerIdOf(t.db, 'demo-telecom');
    const monthlyId = newId('inv');
    await t.db.owner.db.insertInto('invoices').values({
      id: monthlyId, partnerId, customerId: c, type: 'monthly', status: 'awaiting_payment', number: `TEST-M-${monthlyId.slice(-6)}`, currency: 'SGD',
      subtotalMicros: 0n, taxMicros: 0n, totalMicros: 0n, amountDueMicros: 0n, issuedAt: new Date(), dueAt: new Date(), informational: false,
    } as never).execute();
    await expectRefused({ allocations: [{ invoiceId: monthlyId, amount: '1.00' }] }, 409, 'invoice_not_payable');

    // A portal payment in progress owns the invoice's amount.
    const busy = await newInvoice(t, finance, c, '20.00');
    const ownerOfC = await t.db.owner.db.selectFrom('users').select('id').where('customerId', '=', c).executeTakeFirstOrThrow();
    await t.db.owner.db.insertInto('invoicePayAttempts').values({
      id: newId('ipa'), partnerId, customerId: c, invoiceId: busy.id, userId: ownerOfC.id, currency: 'SGD', amountMicros: 20_000_000n,
      pointsMicros: 0n, cardMicros: 20_000_000n, gateway: 'sandbox', reservationId: null, savedCardId: null, requestKey: null, chargeRef: null, entryId: null, failureCode: null, failureReason: null,
    }).execute();
    await expectRefused({ allocations: [{ invoiceId: busy.id, amount: '5.00' }] }, 409, 'payment_in_progress');
    // ... and auto skips it.
    const auto = await allocate(pay, { auto: true });
    expect(auto.statusCode, auto.body).toBe(200);
    expect(auto.json().allocations.map((a: { invoiceId: string }) => a.invoiceId)).toEqual([open.id]);
    expect(await invoiceState(t, busy.id)).toMatchObject({ status: 'awaiting_payment', amountPaidMicros: '0' });

    // An unassigned payment cannot be allocated; an unknown payment is 404.
    const unassigned = (await record(t, finance, { amount: '5.00' })).json().id;
    const u = await allocate(unassigned, { auto: true });
    expect(u.statusCode).toBe(409);
    expect(u.json().code).toBe('payment_unassigned');
    expect((await allocate('pay_00000000000000000000000000', { auto: true })).statusCode).toBe(404);
    await expectSound(t);
  });

  it('the deprecated /allocate answers as /allocations does: it allocates, replays its Idempotency-Key, refuses the same bad input', async () => {
    const c = await newCustomer(t, finance);
    const inv = await newInvoice(t, finance, c, '30.00');
    const pay = await paymentOf(c, '50.00');
    const key = { ...finance.headers, 'idempotency-key': 'allocate-alias-1' };
    const old = await api(t, key, 'POST', `/api/v1/payments/${pay}/allocate`, { allocations: [{ invoiceId: inv.id, amount: '20.00' }] });
    expect(old.statusCode, old.body).toBe(200);
    expect(old.json()).toMatchObject({ id: pay, status: 'partially_allocated', allocated: '20.00', unallocated: '30.00' });
    const again = await api(t, key, 'POST', `/api/v1/payments/${pay}/allocate`, { allocations: [{ invoiceId: inv.id, amount: '20.00' }] });
    expect(again.json()).toEqual(old.json());
    const fresh = await allocate(pay, { allocations: [{ invoiceId: inv.id, amount: '10.00' }] });
    expect(fresh.statusCode, fresh.body).toBe(200);
    expect(fresh.json()).toMatchObject({ status: 'partially_allocated', allocated: '30.00', unallocated: '20.00' });
    expect(await invoiceState(t, inv.id)).toMatchObject({ status: 'paid', amountDueMicros: '0' });
    expect((await auditEventsOf(t.db, 'payment.allocated')).filter((e) => e.targetId === pay)).toHaveLength(2);

    for (const path of ['allocate', 'allocations']) {
      const extra = await api(t, finance, 'POST', `/api/v1/payments/${pay}/${path}`, { auto: true, dryRun: true });
      expect(extra.statusCode, path).toBe(400);
      expect(extra.json().errors.map((e: { path: string }) => e.path), path).toContain('dryRun');
      const tooMuch = await api(t, finance, 'POST', `/api/v1/payments/${pay}/${path}`, { allocations: [{ invoiceId: inv.id, amount: '1.00' }] });
      expect([tooMuch.statusCode, tooMuch.json().code], path).toEqual([409, 'invoice_not_payable']);
      expect((await api(t, finance, 'POST', `/api/v1/payments/pay_00000000000000000000000000/${path}`, { auto: true })).statusCode, path).toBe(404);
    }
    expect((await api(t, finance, 'GET', `/api/v1/payments/${pay}`)).json()).toMatchObject({ allocated: '30.00', unallocated: '20.00' });
    await expectSound(t);
  });

  it('one Idempotency-Key across /allocate and /allocations: the same key and body on either path, in either order, allocate once; another body is a 422', async () => {
    for (const [first, then] of [['allocate', 'allocations'], ['allocations', 'allocate']] as const) {
      const c = await newCustomer(t, finance);
      const inv = await newInvoice(t, finance, c, '30.00');
      const pay = await paymentOf(c, '50.00');
      const key = { ...finance.headers, 'idempotency-key': `allocate-${first}-then-${then}` };
      const body = { allocations: [{ invoiceId: inv.id, amount: '20.00' }] };
      const one = await api(t, key, 'POST', `/api/v1/payments/${pay}/${first}`, body);
      expect(one.statusCode, one.body).toBe(200);
      const two = await api(t, key, 'POST', `/api/v1/payments/${pay}/${then}`, body);
      expect(two.statusCode, `${first} then ${then}: ${two.body}`).toBe(200);
      expect(two.headers['idempotent-replayed']).toBe('true');
      expect(two.body).toBe(one.body);
      expect((await api(t, finance, 'GET', `/api/v1/payments/${pay}`)).json()).toMatchObject({ allocated: '20.00', unallocated: '30.00' });
      expect(await invoiceState(t, inv.id)).toMatchObject({ status: 'partially_paid', amountDueMicros: '10000000' });
      expect((await auditEventsOf(t.db, 'payment.allocated')).filter((e) => e.targetId === pay)).toHaveLength(1);

      // The same key with another body is another request, on either path: refused, nothing allocated.
      for (const path of [first, then]) {
        const other = await api(t, key, 'POST', `/api/v1/payments/${pay}/${path}`, { allocations: [{ invoiceId: inv.id, amount: '10.00' }] });
        expect([other.statusCode, other.json().code], path).toEqual([422, 'idempotency_key_reused']);
        expect(other.json().errors).toEqual([{ path: 'Idempotency-Key', message: 'already used for a different request' }]);
      }
      expect((await api(t, finance, 'GET', `/api/v1/payments/${pay}`)).json()).toMatchObject({ allocated: '20.00', unallocated: '30.00' });
    }
    await expectSound(t);
  });

  it('the OpenAPI document lists /allocations as allocatePayment and /allocate as deprecated, with one schema', async () => {
    type Op = { operationId: string; deprecated?: boolean; requestBody?: unknown; parameters?: unknown; responses?: unknown };
    const doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{ paths: Record<string, { post?: Op }> }>();
    const current = doc.paths['/api/v1/payments/{paymentId}/allocations']?.post;
    const alias = doc.paths['/api/v1/payments/{paymentId}/allocate']?.post;
    expect(current).toMatchObject({ operationId: 'allocatePayment' });
    expect(current?.deprecated).toBeUndefined();
    expect(alias).toMatchObject({ operationId: 'allocatePaymentDeprecated', deprecated: true });
    expect(alias?.requestBody).toEqual(current?.requestBody);
    expect(alias?.parameters).toEqual(current?.parameters);
    expect(alias?.responses).toEqual(current?.responses);
  });

  it('needs the Finance app', async () => {
    const c = await newCustomer(t, finance);
    const pay = await paymentOf(c, '5.00');
    const admin = await signIn(t, 'admin@demo.test');
    for (const path of ['allocations', 'allocate']) expect((await api(t, admin, 'POST', `/api/v1/payments/${pay}/${path}`, { auto: true })).statusCode, path).toBe(403);
  });

  it('concurrent allocations of one payment never exceed it: 10 requests of 15.00 against 100.00', async () => {
    const c = await newCustomer(t, finance);
    const invoices = [];
    for (let i = 0; i < 10; i++) invoices.push(await newInvoice(t, finance, c, '15.00'));
    const pay = await paymentOf(c, '100.00');
    const other = await signIn(t, 'finance@demo.test');
    const answers = await Promise.all(invoices.map((inv, i) =>
      api(t, i % 2 === 0 ? finance : other, 'POST', `/api/v1/payments/${pay}/allocations`, { allocations: [{ invoiceId: inv.id, amount: '15.00' }] })));
    const ok = answers.filter((a) => a.statusCode === 200);
    expect(ok).toHaveLength(6);
    for (const a of answers.filter((x) => x.statusCode !== 200)) {
      expect(a.statusCode).toBe(422);
      expect(a.json().code).toBe('amount_exceeds_unallocated');
    }
    const detail = (await api(t, finance, 'GET', `/api/v1/payments/${pay}`)).json();
    expect(detail).toMatchObject({ allocated: '90.00', unallocated: '10.00', status: 'partially_allocated' });
    expect(detail.allocations).toHaveLength(6);
    await expectSound(t);
  });
});
