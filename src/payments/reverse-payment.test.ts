import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { api, auditEventsOf, createTestApp, partnerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';
import { pdfText } from '../invoices/pdf/pdf-text.ts';
import { catalogPrice } from '../subscriptions/test-support.ts';
import { checkLedger } from '../ledger/check-ledger.ts';
import { allocationsTo, balanceOf, expectSound, feeRevenue, invoiceState, newCustomer, newInvoice, pointsOf, record } from './payments.test-kit.ts';

let t: TestApp;
let finance: Session;

beforeAll(async () => {
  t = await createTestApp();
  finance = await signIn(t, 'finance@demo.test');
});
afterAll(async () => t.close());

const allocate = (id: string, body: unknown) => api(t, finance, 'POST', `/api/v1/payments/${id}/allocate`, body);
const reverse = (id: string, reason: unknown = 'Cheque bounced') => api(t, finance, 'POST', `/api/v1/payments/${id}/reverse`, { reason });
const paymentOf = async (customerId: string | undefined, amount: string) => {
  const res = await record(t, finance, { amount, method: 'cheque', ...(customerId ? { customerId } : {}) });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string }>().id;
};

describe('POST /api/v1/payments/:id/reverse (reversePayment)', () => {
  it('undoes every allocation by reversing entries, reopens the invoices, takes back its points; never deletes; twice is 409', async () => {
    const c = await newCustomer(t, finance);
    const inv1 = await newInvoice(t, finance, c, '60.00');
    const inv2 = await newInvoice(t, finance, c, '50.00');
    const earlier = await paymentOf(c, '10.00');
    expect((await allocate(earlier, { allocations: [{ invoiceId: inv2.id, amount: '10.00' }] })).statusCode).toBe(200);
    const pay = await paymentOf(c, '100.00');
    const alloc = await allocate(pay, { allocations: [{ invoiceId: inv1.id, amount: '60.00' }, { invoiceId: inv2.id, amount: '25.00' }], leftover: 'points' });
    expect(alloc.statusCode, alloc.body).toBe(200);
    expect(await invoiceState(t, inv1.id)).toMatchObject({ status: 'paid' });
    expect(await pointsOf(t, c)).toBe(15_000_000n);
    const bankBefore = await balanceOf(t, 'bank');
    const receivableBefore = await balanceOf(t, 'receivable', c);

    const res = await reverse(pay, '  Cheque bounced  ');
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ pointsTakenBack: '15.00', pointsOutcome: 'covered', pointsAfter: '0.00',
      payment: { status: 'reversed', reversalReason: 'Cheque bounced', allocated: '0.00', unallocated: '0.00', toPoints: '0.00' } });
    expect(body.payment.allocations).toHaveLength(3);
    for (const a of body.payment.allocations) expect(a.reversedAt).not.toBeNull();
    expect(body.reopenedInvoices).toEqual(expect.arrayContaining([
      { id: inv1.id, number: inv1.number, status: 'awaiting_payment', amountDue: '60.00' },
      { id: inv2.id, number: inv2.number, status: 'partially_paid', amountDue: '40.00' },
    ]));
    expect(await invoiceState(t, inv1.id)).toMatchObject({ status: 'awaiting_payment', amountPaidMicros: '0', amountDueMicros: '60000000', paidAt: null });
    expect(await invoiceState(t, inv2.id)).toMatchObject({ status: 'partially_paid', amountPaidMicros: '10000000', amountDueMicros: '40000000' });
    expect(await pointsOf(t, c)).toBe(0n);
    expect(await balanceOf(t, 'bank')).toBe(bankBefore - 100_000_000n);
    expect(await balanceOf(t, 'receivable', c)).toBe(receivableBefore + 85_000_000n);
    expect(await balanceOf(t, 'unapplied', c)).toBe(0n);

    // Each entry of the payment is mirrored by a new entry pointing to it.
    const entries = await t.db.owner.db.selectFrom('journalEntries').select(['id', 'kind', 'reversesEntryId']).where('causeId', '=', pay).execute();
    const originals = entries.filter((e) => !e.reversesEntryId);
    expect(originals).toHaveLength(4); // received, 2 allocations, leftover to points
    expect(entries.filter((e) => e.reversesEntryId).map((e) => e.reversesEntryId).sort()).toEqual(originals.map((e) => e.id).sort());
    expect(await t.db.owner.db.selectFrom('payments').select('status').where('id', '=', pay).executeTakeFirstOrThrow()).toEqual({ status: 'reversed' });

    const [event] = await auditEventsOf(t.db, 'payment.reversed');
    expect(event).toMatchObject({ app: 'finance', targetId: pay, changes: { reason: { after: 'Cheque bounced' }, pointsOutcome: { after: 'covered' }, pointsTakenBack: { after: '15.00' } } });

    const twice = await reverse(pay);
    expect(twice.statusCode).toBe(409);
    expect(twice.json().code).toBe('payment_reversed');
    const again = await allocate(pay, { auto: true });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('payment_reversed');
    const listed = await api(t, finance, 'GET', `/api/v1/payments?status=reversed&customerId=${c}`);
    expect(listed.json().data.map((p: { id: string }) => p.id)).toEqual([pay]);

    // The reopened invoice can be paid again, by another payment.
    const next = await paymentOf(c, '60.00');
    expect((await allocate(next, { allocations: [{ invoiceId: inv1.id, amount: '60.00' }] })).statusCode).toBe(200);
    expect(await invoiceState(t, inv1.id)).toMatchObject({ status: 'paid' });
    await expectSound(t);
  });

  it('reverses an unassigned payment (Dr unassigned · Cr bank) and an assigned one', async () => {
    const unassignedBefore = await balanceOf(t, 'unassigned');
    const lost = await paymentOf(undefined, '33.00');
    const res = await reverse(lost, 'Recorded by mistake');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ pointsOutcome: 'none', pointsAfter: null, payment: { status: 'reversed', customer: null } });
    expect(await balanceOf(t, 'unassigned')).toBe(unassignedBefore);
    const assign = await api(t, finance, 'POST', `/api/v1/payments/${lost}/assign`, { customerId: await newCustomer(t, finance) });
    expect(assign.statusCode).toBe(409);
    expect(assign.json().code).toBe('payment_reversed');

    const c = await newCustomer(t, finance);
    const later = await paymentOf(undefined, '12.00');
    expect((await api(t, finance, 'POST', `/api/v1/payments/${later}/assign`, { customerId: c })).statusCode).toBe(200);
    expect((await reverse(later)).statusCode).toBe(200);
    expect(await balanceOf(t, 'unapplied', c)).toBe(0n);
    expect(await balanceOf(t, 'unassigned')).toBe(unassignedBefore);
    await expectSound(t);
  });

  it('points already spent: taken back into the credit limit, said in the result and the audit; the top-up invoice reopens', async () => {
    const c = await newCustomer(t, finance);
    const top = await newInvoice(t, finance, c, '25.00', { type: 'top_up' });
    const pay = await paymentOf(c, '25.00');
    expect((await allocate(pay, { allocations: [{ invoiceId: top.id, amount: '25.00' }] })).statusCode).toBe(200);
    expect((await api(t, finance, 'POST', `/api/v1/customers/${c}/points/take-back`, { amount: '20.00', reason: 'Spent' })).statusCode).toBe(200);
    expect((await api(t, finance, 'PUT', `/api/v1/customers/${c}/credit-limit`, { amount: '50.00' })).statusCode).toBe(200);
    const res = await reverse(pay);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      pointsCreated: '25.00', pointsTakenBack: '25.00', intoCreditLimit: '20.00', toReceivable: '0.00', pointsOutcome: 'credit_limit', pointsAfter: '-20.00', debitNote: null,
    });
    expect(await pointsOf(t, c)).toBe(-20_000_000n);
    expect(await invoiceState(t, top.id)).toMatchObject({ status: 'awaiting_payment', amountDueMicros: '25000000' });
    expect((await auditEventsOf(t.db, 'payment.reversed'))[0]).toMatchObject({ changes: {
      pointsOutcome: { after: 'credit_limit' }, points: { before: '5.00', after: '-20.00' }, intoCreditLimit: { after: '20.00' }, toReceivable: { after: '0.00' },
    } });
    await expectSound(t);
  });

  it('a Top-up invoice with an admin fee: each reversal takes back exactly the fee and the points its allocation gave, by reversing entries', async () => {
    const c = await newCustomer(t, finance);
    const top = await newInvoice(t, finance, c, '15.00', { type: 'top_up' }); // 15.00 of points + 1.00 admin fee
    const feesBefore = await feeRevenue(t);
    const feeOnly = await paymentOf(c, '0.60');
    expect((await allocate(feeOnly, { allocations: [{ invoiceId: top.id, amount: '0.60' }] })).statusCode).toBe(200);
    const mixed = await paymentOf(c, '10.00');
    expect((await allocate(mixed, { allocations: [{ invoiceId: top.id, amount: '10.00' }] })).statusCode).toBe(200);
    expect(await pointsOf(t, c)).toBe(9_600_000n);
    expect(await feeRevenue(t)).toBe(feesBefore + 1_000_000n);

    // The cheque that paid only fee bounces: its fee revenue is taken back, no points; the fee is owed again.
    const first = await reverse(feeOnly);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ pointsCreated: '0.00', pointsTakenBack: '0.00', pointsOutcome: 'none', reopenedInvoices: [expect.objectContaining({ id: top.id, status: 'partially_paid', amountDue: '6.00' })] });
    expect(await pointsOf(t, c)).toBe(9_600_000n);
    expect(await feeRevenue(t)).toBe(feesBefore + 400_000n);
    expect((await auditEventsOf(t.db, 'payment.reversed'))[0]).toMatchObject({ targetId: feeOnly, changes: { adminFeesTakenBack: { after: '0.60' }, pointsCreated: { after: '0.00' } } });
    await expectSound(t);

    // The next allocation pays the fee owed again first: 6.00 is 0.60 of fee and 5.40 of points; the invoice is paid.
    const again = await paymentOf(c, '6.00');
    expect((await allocate(again, { auto: true })).statusCode).toBe(200);
    expect(await invoiceState(t, top.id)).toMatchObject({ status: 'paid', amountDueMicros: '0' });
    expect(await pointsOf(t, c)).toBe(15_000_000n);
    expect(await feeRevenue(t)).toBe(feesBefore + 1_000_000n);
    await expectSound(t);

    // The mixed one bounces: 0.40 of fee and 9.60 of points taken back, nothing else.
    const second = await reverse(mixed);
    expect(second.statusCode, second.body).toBe(200);
    expect(second.json()).toMatchObject({ pointsCreated: '9.60', pointsTakenBack: '9.60', pointsOutcome: 'covered', pointsAfter: '5.40' });
    expect(await pointsOf(t, c)).toBe(5_400_000n);
    expect(await feeRevenue(t)).toBe(feesBefore + 600_000n);
    expect(await invoiceState(t, top.id)).toMatchObject({ status: 'partially_paid', amountPaidMicros: '6000000', amountDueMicros: '10000000' });
    expect((await allocationsTo(t, top.id)).map((a) => [a.amountMicros, a.feeMicros, a.reversedBy !== null])).toEqual([
      ['600000', '600000', true], ['10000000', '400000', true], ['6000000', '600000', false],
    ]);
    // Taken back by new entries that mirror the allocations' (never an update): Dr revenue:fees 0.40, Dr points 9.60.
    const mirror = await t.db.owner.db.selectFrom('journalEntries as e').innerJoin('postings as p', 'p.entryId', 'e.id').innerJoin('ledgerAccounts as a', 'a.id', 'p.accountId')
      .select(['a.code', 'p.amountMicros'])
      .where('e.reversesEntryId', 'in', t.db.owner.db.selectFrom('paymentAllocations').select('entryId').where('paymentId', '=', mixed))
      .orderBy('p.id').execute();
    expect(mirror.map((p) => [p.code, p.amountMicros])).toEqual([['unapplied', '-10000000'], ['revenue:fees', '400000'], ['points', '9600000']]);
    await expectSound(t);

    // A full allocation reversed: the invoice owes all of it again, the fee and the points are back where they were.
    const c2 = await newCustomer(t, finance);
    const top2 = await newInvoice(t, finance, c2, '12.00', { type: 'top_up' });
    const full = await paymentOf(c2, '13.00');
    const fees2 = await feeRevenue(t);
    expect((await allocate(full, { allocations: [{ invoiceId: top2.id, amount: '13.00' }] })).statusCode).toBe(200);
    expect(await pointsOf(t, c2)).toBe(12_000_000n);
    const res = await reverse(full);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ pointsCreated: '12.00', pointsTakenBack: '12.00', pointsAfter: '0.00' });
    expect(await pointsOf(t, c2)).toBe(0n);
    expect(await feeRevenue(t)).toBe(fees2);
    expect(await invoiceState(t, top2.id)).toMatchObject({ status: 'awaiting_payment', amountPaidMicros: '0', amountDueMicros: '13000000' });
    await expectSound(t);
  });

  it('invoices_guard still refuses lowering the amount paid outside a payment reversal, and the reversal switch reopens nothing else', async () => {
    const c = await newCustomer(t, finance);
    const inv = await newInvoice(t, finance, c, '20.00');
    const pay = await paymentOf(c, '20.00');
    expect((await allocate(pay, { allocations: [{ invoiceId: inv.id, amount: '20.00' }] })).statusCode).toBe(200);
    const partnerId = (await t.db.owner.db.selectFrom('invoices').select('partnerId').where('id', '=', inv.id).executeTakeFirstOrThrow()).partnerId;
    const tryUpdate = (reversal: boolean, set: Record<string, unknown>) => t.db.app.db.transaction().execute(async (trx) => {
      await sql`select set_config('folio.partner_id', ${partnerId}, true)`.execute(trx);
      if (reversal) await sql`select set_config('folio.payment_reversal', 'on', true)`.execute(trx);
      await trx.updateTable('invoices').set(set as never).where('id', '=', inv.id).execute();
    });
    const reopen = { status: 'awaiting_payment', amountPaidMicros: 0n, amountDueMicros: 20_000_000n, paidAt: null };
    await expect(tryUpdate(false, reopen)).rejects.toThrow(/is paid, and is never changed again/);
    await expect(tryUpdate(true, { ...reopen, dueAt: new Date('2030-01-01') })).rejects.toThrow(/reopened by a payment reversal only/);
    await expect(tryUpdate(true, { amountCreditedMicros: 0n, notes: 'changed' })).rejects.toThrow(/is paid/);
    expect(await invoiceState(t, inv.id)).toMatchObject({ status: 'paid' });
    // The switch is transaction-local: a reversal leaves it off for whatever the connection runs next.
    expect((await reverse(pay)).statusCode).toBe(200);
    const { rows } = await sql<{ v: string | null }>`select current_setting('folio.payment_reversal', true) as v`.execute(t.db.app.db);
    expect(rows[0]!.v ?? '').not.toBe('on');
    await expectSound(t);
  });

  it('refuses bad input and callers without Finance', async () => {
    const c = await newCustomer(t, finance);
    const pay = await paymentOf(c, '5.00');
    for (const reason of ['', '   ', 'x'.repeat(501), 5]) expect((await reverse(pay, reason)).statusCode, String(reason)).toBe(400);
    expect((await api(t, finance, 'POST', `/api/v1/payments/${pay}/reverse`, {})).statusCode).toBe(400);
    expect((await reverse('pay_00000000000000000000000000')).statusCode).toBe(404);
    const admin = await signIn(t, 'admin@demo.test');
    expect((await api(t, admin, 'POST', `/api/v1/payments/${pay}/reverse`, { reason: 'x' })).statusCode).toBe(403);
    const north = await signIn(t, 'admin@northwind.test');
    expect([403, 404]).toContain((await api(t, north, 'POST', `/api/v1/payments/${pay}/reverse`, { reason: 'x' })).statusCode);
    await expectSound(t);
  });

  it('concurrent reversal and allocation of one payment: one wins, the books stay sound', async () => {
    const c = await newCustomer(t, finance);
    const inv = await newInvoice(t, finance, c, '30.00');
    const pay = await paymentOf(c, '30.00');
    const [a, r] = await Promise.all([allocate(pay, { allocations: [{ invoiceId: inv.id, amount: '30.00' }] }), reverse(pay)]);
    expect(r.statusCode).toBe(200);
    expect([200, 409]).toContain(a.statusCode);
    expect(await invoiceState(t, inv.id)).toMatchObject({ status: 'awaiting_payment', amountDueMicros: '30000000' });
    await expectSound(t);
  });

  it('points spent beyond the credit limit: the limit takes what it can, the rest is billed on a debit note (a Purchase invoice) and owed on the receivable; the books stay clean', async () => {
    const c = await newCustomer(t, finance);
    const pay = (await record(t, finance, { amount: '10.00', method: 'cheque', customerId: c, reference: 'CHQ 31' })).json<{ id: string; receiptNumber: string }>();
    expect((await allocate(pay.id, { auto: true, leftover: 'points' })).statusCode).toBe(200);
    expect((await api(t, finance, 'POST', `/api/v1/customers/${c}/points/take-back`, { amount: '9.00', reason: 'Spent' })).statusCode).toBe(200);
    expect((await api(t, finance, 'PUT', `/api/v1/customers/${c}/credit-limit`, { amount: '3.00' })).statusCode).toBe(200);
    const receivableBefore = await balanceOf(t, 'receivable', c);
    const res = await reverse(pay.id);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    // 1.00 still there, 3.00 into the credit limit, 6.00 to the receivable.
    expect(body).toMatchObject({ pointsCreated: '10.00', pointsTakenBack: '4.00', intoCreditLimit: '3.00', toReceivable: '6.00', pointsOutcome: 'receivable', pointsAfter: '-3.00' });
    expect(body.debitNote).toMatchObject({ amount: '6.00', number: expect.stringMatching(/^INV-/) });
    expect(await pointsOf(t, c)).toBe(-3_000_000n);
    expect(await balanceOf(t, 'receivable', c)).toBe(receivableBefore + 6_000_000n);
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
    await expectSound(t);

    // The debit note: an issued Purchase invoice, one exempt line naming the payment, awaiting payment, due per the partner's terms.
    const note = (await api(t, finance, 'GET', `/api/v1/invoices/${body.debitNote.id}`)).json();
    expect(note).toMatchObject({ type: 'purchase', status: 'awaiting_payment', total: '6.00', tax: '0.00', amountDue: '6.00', customer: { id: c } });
    expect(note.lines).toEqual([expect.objectContaining({ description: `Reversed payment ${pay.receiptNumber} (CHQ 31): points already spent`, amount: '6.00', taxCategory: 'exempt' })]);
    expect(note.dueAt).not.toBeNull();
    const entry = await t.db.owner.db.selectFrom('journalEntries').select(['kind', 'causeType']).where('causeId', '=', body.debitNote.id).execute();
    expect(entry).toEqual([{ kind: 'payment_reversal_receivable', causeType: 'invoice' }]);
    const issued = (await auditEventsOf(t.db, 'invoice.issued'))[0];
    expect(issued).toMatchObject({ app: 'finance', targetId: body.debitNote.id, changes: { debitNoteFor: { after: pay.id }, total: { after: '6.00' } } });
    expect((await auditEventsOf(t.db, 'payment.reversed'))[0]).toMatchObject({ changes: { toReceivable: { after: '6.00' }, pointsTakenBack: { after: '4.00' }, pointsOutcome: { after: 'receivable' } } });
    // The payment names it, and so do its receipt and the reversal notice.
    expect((await t.db.owner.db.selectFrom('payments').select('reversalInvoiceId').where('id', '=', pay.id).executeTakeFirstOrThrow()).reversalInvoiceId).toBe(body.debitNote.id);
    const notice = await t.db.owner.db.selectFrom('notifications').select('bodyText').where('customerId', '=', c).where('kind', '=', 'payment_reversed').executeTakeFirstOrThrow();
    expect(notice.bodyText).toContain(`billed on invoice ${body.debitNote.number}`);

    // The customer pays the debit note like any invoice: the receivable clears.
    const settle = (await record(t, finance, { amount: '6.00', customerId: c })).json<{ id: string }>();
    expect((await allocate(settle.id, { allocations: [{ invoiceId: body.debitNote.id, amount: '6.00' }] })).statusCode).toBe(200);
    expect(await balanceOf(t, 'receivable', c)).toBe(receivableBefore);
    await expectSound(t);
  });

  it('no credit limit at all and every point spent: all of it to the debit note, points back to zero', async () => {
    const c = await newCustomer(t, finance);
    const pay = await paymentOf(c, '8.00');
    expect((await allocate(pay, { auto: true, leftover: 'points' })).statusCode).toBe(200);
    expect((await api(t, finance, 'POST', `/api/v1/customers/${c}/points/take-back`, { amount: '8.00', reason: 'Spent' })).statusCode).toBe(200);
    const res = await reverse(pay);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ pointsTakenBack: '0.00', intoCreditLimit: '0.00', toReceivable: '8.00', pointsOutcome: 'receivable', pointsAfter: '0.00', debitNote: { amount: '8.00' } });
    expect(await pointsOf(t, c)).toBe(0n);
    await expectSound(t);
  });

  it('the invoice detail no longer lists a reversed payment among what paid it (screen, portal and PDF read the same list)', async () => {
    const c = await newCustomer(t, finance);
    const inv = await newInvoice(t, finance, c, '40.00');
    const keep = await paymentOf(c, '15.00');
    const bounce = await paymentOf(c, '25.00');
    expect((await allocate(keep, { allocations: [{ invoiceId: inv.id, amount: '15.00' }] })).statusCode).toBe(200);
    expect((await allocate(bounce, { allocations: [{ invoiceId: inv.id, amount: '25.00' }] })).statusCode).toBe(200);
    const before = (await api(t, finance, 'GET', `/api/v1/invoices/${inv.id}`)).json();
    expect(before.payments.map((p: { amount: string }) => p.amount)).toEqual(['15.00', '25.00']);
    expect((await reverse(bounce)).statusCode).toBe(200);
    const after = (await api(t, finance, 'GET', `/api/v1/invoices/${inv.id}`)).json();
    expect(after).toMatchObject({ status: 'partially_paid', amountPaid: '15.00', amountDue: '25.00' });
    // Each payment is named by its receipt number, as the customer's receipt is.
    const receipt = async (id: string) => (await t.db.owner.db.selectFrom('payments').select('receiptNumber').where('id', '=', id).executeTakeFirstOrThrow()).receiptNumber;
    expect(after.payments).toEqual([expect.objectContaining({ amount: '15.00', source: 'allocation', reference: await receipt(keep) })]);
    const { text } = await pdfText((await api(t, finance, 'GET', `/api/v1/invoices/${inv.id}/pdf`)).rawPayload);
    expect(text).toContain(await receipt(keep));
    expect(text).not.toContain(await receipt(bounce));
  });

  it('a subscription its invoice activated stays active (the domain has no suspension), flagged in its history and in the result', async () => {
    const demo = await partnerIdOf(t.db, 'demo-telecom');
    const price = await catalogPrice(t, demo, { name: 'Reversal PBX', price: '20.00', cost: '5.00', taxCategory: 'zero_rated' });
    const c = await newCustomer(t, finance);
    const admin = await signIn(t, 'admin@demo.test');
    const bought = await api(t, admin, 'POST', `/api/v1/customers/${c}/subscriptions`, { priceId: price.priceId });
    expect(bought.statusCode, bought.body).toBe(201);
    const { subscription, invoice } = bought.json<{ subscription: { id: string; status: string }; invoice: { id: string; total: string } }>();
    expect(subscription.status).toBe('pending_payment');
    const pay = await paymentOf(c, invoice.total);
    expect((await allocate(pay, { allocations: [{ invoiceId: invoice.id, amount: invoice.total }] })).statusCode).toBe(200);
    const active = (await api(t, admin, 'GET', `/api/v1/subscriptions/${subscription.id}`)).json();
    expect(active.status).toBe('active');

    const res = await reverse(pay, 'Cheque bounced');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().subscriptionsFlagged).toEqual([{ id: subscription.id, status: 'active', invoiceId: invoice.id }]);
    expect(await invoiceState(t, invoice.id)).toMatchObject({ status: 'awaiting_payment' });
    const after = (await api(t, admin, 'GET', `/api/v1/subscriptions/${subscription.id}`)).json();
    expect(after.status).toBe('active');
    const events = await t.db.owner.db.selectFrom('subscriptionEvents').select(['kind', 'invoiceId', 'detail']).where('subscriptionId', '=', subscription.id).orderBy('id').execute();
    expect(events.at(-1)).toMatchObject({ kind: 'payment_reversed', invoiceId: invoice.id, detail: expect.stringContaining('Cheque bounced') });
    expect((await auditEventsOf(t.db, 'payment.reversed'))[0]).toMatchObject({ changes: { subscriptionsFlagged: { after: [subscription.id] } } });
    await expectSound(t);
  });
});
