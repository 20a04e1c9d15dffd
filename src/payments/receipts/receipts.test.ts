import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestApp, partnerIdOf, signIn, type Session, type TestApp } from '../../test/harness.ts';
import { pdfText } from '../../invoices/pdf/pdf-text.ts';
import { newId } from '../../platform/ids.ts';
import { expectSound, newCustomer, newInvoice, record } from '../payments.test-kit.ts';
import { renderReceiptPdf } from './render-receipt-pdf.ts';
import type { ReceiptView } from './receipt-view.ts';

let t: TestApp;
let finance: Session;
let demo: string;

beforeAll(async () => {
  t = await createTestApp();
  finance = await signIn(t, 'finance@demo.test');
  demo = await partnerIdOf(t.db, 'demo-telecom');
  await t.db.owner.db.updateTable('partnerSettings').set({
    invoiceLegalName: 'Demo Telecom Pte Ltd', invoiceAddress: '1 Harbour Road, Singapore 000001', invoiceTaxId: 'GST-2026-01', invoiceEmail: 'billing@demo.test',
  }).where('partnerId', '=', demo).execute();
});
afterAll(async () => t.close());

const allocate = (id: string, body: unknown) => api(t, finance, 'POST', `/api/v1/payments/${id}/allocate`, body);
const receiptPdf = (who: Session, id: string) => api(t, who, 'GET', `/api/v1/payments/${id}/receipt.pdf`);
const mailsOf = (customerId: string) => t.db.owner.db.selectFrom('notifications')
  .select(['kind', 'toEmail', 'subject', 'bodyText']).where('customerId', '=', customerId).where('kind', 'in', ['payment_receipt', 'payment_reversed'])
  .orderBy('createdAt').orderBy('id').execute();
const ownerEmailOf = async (customerId: string) => (await t.db.owner.db.selectFrom('users').select('email')
  .where('customerId', '=', customerId).where('customerRole', '=', 'owner').executeTakeFirstOrThrow()).email;

describe('receipt numbers', () => {
  it('every recorded payment gets the next number of its own gapless series (RCT-YYYY-000000); a refused record takes none', async () => {
    const c = await newCustomer(t, finance);
    const usd = await newCustomer(t, finance, 'USD');
    const first = (await record(t, finance, { amount: '1.00', customerId: c })).json();
    const refused = await record(t, finance, { amount: '1.00', customerId: usd }); // SGD payment, USD customer
    expect(refused.statusCode).toBe(422);
    const second = (await record(t, finance, { amount: '2.00' })).json();
    expect(first.receiptNumber).toMatch(/^RCT-\d{4}-\d{6}$/);
    const seq = (n: string) => Number(n.slice(-6));
    expect(seq(second.receiptNumber)).toBe(seq(first.receiptNumber) + 1);
    // Invoices keep their own series: the receipt series never takes an invoice number.
    const inv = await newInvoice(t, finance, c, '5.00');
    expect(inv.number).toMatch(/^INV-/);
    // The number is listed, searchable, and in the CSV.
    const found = await api(t, finance, 'GET', `/api/v1/payments?q=${second.receiptNumber}`);
    expect(found.json().data.map((p: { id: string }) => p.id)).toEqual([second.id]);
    // It never changes.
    await expect(t.db.owner.db.updateTable('payments').set({ receiptNumber: 'RCT-1999-000001' } as never).where('id', '=', first.id).execute())
      .rejects.toThrow(/receipt number/);
  });
});

describe('the payer a receipt was issued to', () => {
  const setBilling = (customerId: string, billingName: string, billingAddress: string) => t.db.owner.db.updateTable('customers')
    .set({ billingName, billingAddress }).where('id', '=', customerId).execute();

  it('stays as it was when the payment got its customer: recorded for it, or assigned later; never changed afterwards', async () => {
    const c = await newCustomer(t, finance);
    await setBilling(c, 'Acme Accounts Payable', '5 Old Street, Singapore 100005');
    const recorded = (await record(t, finance, { amount: '10.00', customerId: c })).json();
    const waiting = (await record(t, finance, { amount: '20.00' })).json();
    await setBilling(c, 'Acme Finance Team', '9 New Avenue, Singapore 200009');
    expect((await api(t, finance, 'POST', `/api/v1/payments/${waiting.id}/assign`, { customerId: c })).statusCode).toBe(200);
    await setBilling(c, 'Acme Group Treasury', '1 Third Road, Singapore 300001');

    // Recorded for the customer: the contact of that moment, not the current one.
    const first = (await pdfText((await receiptPdf(finance, recorded.id)).rawPayload)).text;
    expect(first).toContain('Acme Accounts Payable');
    expect(first).toContain('5 Old Street, Singapore 100005');
    expect(first).not.toContain('Acme Group Treasury');
    // Assigned later: the contact when it was assigned.
    const second = (await pdfText((await receiptPdf(finance, waiting.id)).rawPayload)).text;
    expect(second).toContain('Acme Finance Team');
    expect(second).toContain('9 New Avenue, Singapore 200009');
    expect(second).not.toContain('Acme Group Treasury');
    // The database refuses a change, even from its owner.
    await expect(t.db.owner.db.updateTable('payments').set({ payer: JSON.stringify({ name: 'Someone else' }) } as never).where('id', '=', recorded.id).execute())
      .rejects.toThrow(/keeps the payer/);
    // A payment recorded now takes the contact as it is now.
    const later = (await record(t, finance, { amount: '1.00', customerId: c })).json();
    expect((await pdfText((await receiptPdf(finance, later.id)).rawPayload)).text).toContain('Acme Group Treasury');
  });
});

describe('GET /api/v1/payments/:paymentId/receipt.pdf (getPaymentReceiptPdf)', () => {
  it('shows the seller, payer, method, amount, received date, reference and each invoice it paid, the points and what is left', async () => {
    const c = await newCustomer(t, finance);
    const customer = (await api(t, finance, 'GET', `/api/v1/customers/${c}`)).json<{ name: string }>();
    const inv1 = await newInvoice(t, finance, c, '60.00');
    const top = await newInvoice(t, finance, c, '25.00', { type: 'top_up' });
    const small = await newInvoice(t, finance, c, '15.00', { type: 'top_up' }); // below the fee threshold: 1.00 admin fee, 16.00
    const pay = (await record(t, finance, { amount: '1234.50', method: 'cheque', customerId: c, reference: 'CHQ 000451', receivedOn: '2026-01-07' })).json();
    expect((await allocate(pay.id, { allocations: [{ invoiceId: inv1.id, amount: '60.00' }, { invoiceId: top.id, amount: '25.00' }, { invoiceId: small.id, amount: '16.00' }] })).statusCode).toBe(200);

    const res = await receiptPdf(finance, pay.id);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toContain('application/pdf');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="${pay.receiptNumber}.pdf"`);
    const { text, pages } = await pdfText(res.rawPayload);
    expect(pages).toBe(1);
    for (const expected of [
      'Payment receipt', `Receipt no. ${pay.receiptNumber}`, 'Demo Telecom Pte Ltd', 'Trading as Demo Telecom', '1 Harbour Road, Singapore 000001',
      'Tax ID: GST-2026-01', 'billing@demo.test', 'RECEIVED FROM', customer.name, `Customer ID: ${c}`, 'Method Cheque', 'Amount SGD 1,234.50',
      'Received on 7 Jan 2026', 'Reference CHQ 000451', `Invoice ${inv1.number}`, '60.00', `Top-up invoice ${top.number} (credited to your points)`, '25.00',
      `Top-up invoice ${small.number} (admin fee 1.00, 15.00 credited to your points)`, '16.00',
      'Applied to invoices SGD 101.00', 'Unapplied (kept as credit) SGD 1,133.50', 'Amount received SGD 1,234.50', 'Status Partly applied', 'Page 1 of 1',
    ]) expect(text, expected).toContain(expected);
    expect(text).not.toContain('REVERSED');
  });

  it('an unassigned payment: payer not yet identified; a reversed one: REVERSED watermark, the reason, its lines marked reversed', async () => {
    const unassigned = (await record(t, finance, { amount: '9.00', reference: 'Unknown transfer' })).json();
    const u = await pdfText((await receiptPdf(finance, unassigned.id)).rawPayload);
    expect(u.text).toContain('Payer not yet identified');
    expect(u.text).toContain('Status Received, payer not yet identified');

    const c = await newCustomer(t, finance);
    const inv = await newInvoice(t, finance, c, '20.00');
    const pay = (await record(t, finance, { amount: '20.00', method: 'cheque', customerId: c, reference: 'CHQ 9' })).json();
    expect((await allocate(pay.id, { auto: true })).statusCode).toBe(200);
    expect((await api(t, finance, 'POST', `/api/v1/payments/${pay.id}/reverse`, { reason: 'Cheque bounced' })).statusCode).toBe(200);
    const { text } = await pdfText((await receiptPdf(finance, pay.id)).rawPayload);
    expect(text).toContain('REVERSED');
    expect(text).toContain('Status Reversed');
    expect(text).toContain(`Invoice ${inv.number} (reversed)`);
    expect(text).toContain('This payment was reversed on');
    expect(text).toContain('Cheque bounced');
    expect(text).toContain('Applied before the reversal');
  });

  it('many allocations run over pages with the table header repeated; odd characters are made printable', async () => {
    const receipt: ReceiptView = {
      paymentId: 'pay_x', number: 'RCT-2026-000999', status: 'allocated', method: 'bank_transfer', currency: 'VND', amount: '6000000', receivedOn: '2026-02-01',
      reference: 'Chuyển khoản Nguyễn', recordedAt: '2026-02-01T03:00:00.000Z',
      seller: { name: 'Đông Á Telecom', legalName: null, address: null, taxId: null, email: null, paymentInstructions: null, hasLogo: false },
      payer: { id: 'cus_x', name: 'Công ty Trần', email: null, phone: null, address: null },
      lines: Array.from({ length: 80 }, (_, i) => ({ kind: 'invoice' as const, invoiceId: `inv_${i}`, invoiceNumber: `INV-2026-${String(i + 1).padStart(6, '0')}`, invoiceType: 'purchase' as const, amount: '75000', adminFee: null, pointsBought: null, at: '2026-02-01T03:00:00.000Z', reversed: false })),
      allocated: '6000000', toPoints: '0', unallocated: '0', reversal: null,
    };
    const { text, pages, pageTexts } = await pdfText(await renderReceiptPdf(receipt, { generatedAt: new Date('2026-02-02T00:00:00Z') }));
    expect(pages).toBeGreaterThan(1);
    expect(pageTexts[1]).toContain('Applied to');
    expect(text).toContain('INV-2026-000080');
    expect(text).toMatch(/Reference Chuy.n kho.n Nguy.n/);
    expect(text).toContain('Dông Á Telecom');
    expect(text).toContain('Công ty Tr');
    expect(text).toContain(`Page 2 of ${pages}`);
  });

  it('refuses: another partner\'s payment (404 both ways), unknown (404), malformed id (400), staff without Finance (403), anonymous (401)', async () => {
    const c = await newCustomer(t, finance);
    const pay = (await record(t, finance, { amount: '3.00', customerId: c })).json();
    const north = await signIn(t, 'admin@northwind.test');
    expect([403, 404]).toContain((await receiptPdf(north, pay.id)).statusCode);
    // A payment of the other partner: Demo's Finance never sees it.
    const northPayment = newId('pay');
    await t.db.owner.db.insertInto('payments').values({
      id: northPayment, partnerId: await partnerIdOf(t.db, 'northwind'), customerId: null, method: 'cash', currency: 'AUD', amountMicros: 1_000_000n,
      unallocatedMicros: 1_000_000n, status: 'unassigned', receivedOn: '2026-01-01', entryId: newId('je'), receiptNumber: 'RCT-2026-900001', updatedAt: new Date(),
    }).execute();
    expect((await receiptPdf(finance, northPayment)).statusCode).toBe(404);
    expect((await receiptPdf(finance, 'pay_00000000000000000000000000')).statusCode).toBe(404);
    expect((await receiptPdf(finance, 'not-an-id')).statusCode).toBe(400);
    const admin = await signIn(t, 'admin@demo.test');
    expect((await receiptPdf(admin, pay.id)).statusCode).toBe(403);
    expect((await api(t, null, 'GET', `/api/v1/payments/${pay.id}/receipt.pdf`)).statusCode).toBe(401);
  });
});

describe('receipt notices (notifications)', () => {
  it('the "applied" notice says what of a Top-up invoice\'s allocation paid its admin fee and what it credited to points', async () => {
    const c = await newCustomer(t, finance);
    const feeFirst = await newInvoice(t, finance, c, '10.00', { type: 'top_up' }); // 10.00 of points + 1.00 admin fee
    const pay = (await record(t, finance, { amount: '11.00', method: 'bank_transfer', customerId: c })).json();
    expect((await allocate(pay.id, { allocations: [{ invoiceId: feeFirst.id, amount: '0.50' }] })).statusCode).toBe(200);
    expect((await allocate(pay.id, { allocations: [{ invoiceId: feeFirst.id, amount: '10.50' }] })).statusCode).toBe(200);
    const mails = await mailsOf(c);
    expect(mails.at(-1)!.kind).toBe('payment_receipt');
    expect(mails.at(-1)!.bodyText).toContain(`- 0.50 SGD to invoice ${feeFirst.number} (top-up: admin fee 0.50)`);
    expect(mails.at(-1)!.bodyText).toContain(`- 10.50 SGD to invoice ${feeFirst.number} (top-up: admin fee 0.50, 10.00 credited to your points)`);
  });

  it('recorded with a customer: one "received"; partial allocations: none; the allocation that finishes it: one "applied"; reversal: one "payment_reversed"', async () => {
    const c = await newCustomer(t, finance);
    const owner = await ownerEmailOf(c);
    const inv1 = await newInvoice(t, finance, c, '30.00');
    const inv2 = await newInvoice(t, finance, c, '30.00');
    const pay = (await record(t, finance, { amount: '70.00', method: 'bank_transfer', customerId: c, reference: 'TT-77' })).json();
    let mails = await mailsOf(c);
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({ kind: 'payment_receipt', toEmail: owner });
    expect(mails[0]!.subject).toContain(`receipt ${pay.receiptNumber}`);
    expect(mails[0]!.bodyText).toContain('Amount: 70.00 SGD');
    expect(mails[0]!.bodyText).toContain('Method: Bank transfer');
    expect(mails[0]!.bodyText).toContain('Reference: TT-77');

    expect((await allocate(pay.id, { allocations: [{ invoiceId: inv1.id, amount: '30.00' }] })).statusCode).toBe(200);
    expect((await allocate(pay.id, { allocations: [{ invoiceId: inv2.id, amount: '10.00' }] })).statusCode).toBe(200);
    expect(await mailsOf(c)).toHaveLength(1);
    expect((await allocate(pay.id, { allocations: [{ invoiceId: inv2.id, amount: '20.00' }], leftover: 'points' })).statusCode).toBe(200);
    mails = await mailsOf(c);
    expect(mails).toHaveLength(2);
    expect(mails[1]!.subject).toContain(`payment ${pay.receiptNumber} of 70.00 SGD applied`);
    expect(mails[1]!.bodyText).toContain(`- 30.00 SGD to invoice ${inv1.number}`);
    expect(mails[1]!.bodyText).toContain('- 10.00 SGD credited to your points');
    expect(mails[1]!.bodyText).toContain('Applied to invoices: 60.00 SGD');

    expect((await api(t, finance, 'POST', `/api/v1/payments/${pay.id}/reverse`, { reason: 'Recorded twice' })).statusCode).toBe(200);
    mails = await mailsOf(c);
    expect(mails).toHaveLength(3);
    expect(mails[2]).toMatchObject({ kind: 'payment_reversed', toEmail: owner });
    expect(mails[2]!.subject).toContain(`payment ${pay.receiptNumber} of 70.00 SGD reversed`);
    expect(mails[2]!.bodyText).toContain('Recorded twice');
    expect(mails[2]!.bodyText).toContain('The invoices it paid are open again.');
    // Logged like every notification: a queued status line each.
    const history = await t.db.owner.db.selectFrom('notificationStatusHistory').select('status').where('customerId', '=', c).where('status', '=', 'queued').execute();
    expect(history.length).toBeGreaterThanOrEqual(3);
    await expectSound(t);
  });

  it('unassigned: no notice until assigned; then "received" to the billing email when the customer has one', async () => {
    const c = await newCustomer(t, finance);
    await t.db.owner.db.updateTable('customers').set({ billingEmail: 'ap@payer.test' }).where('id', '=', c).execute();
    const pay = (await record(t, finance, { amount: '12.00' })).json();
    expect(await mailsOf(c)).toHaveLength(0);
    expect((await api(t, finance, 'POST', `/api/v1/payments/${pay.id}/assign`, { customerId: c })).statusCode).toBe(200);
    const mails = await mailsOf(c);
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({ kind: 'payment_receipt', toEmail: 'ap@payer.test' });
    // A refused assignment (already assigned) sends nothing more.
    expect((await api(t, finance, 'POST', `/api/v1/payments/${pay.id}/assign`, { customerId: c })).statusCode).toBe(409);
    expect(await mailsOf(c)).toHaveLength(1);
  });
});

describe('GET /api/v1/payments?unassigned=', () => {
  it('true: the Unassigned list only; false: payments with a customer; anything else is 400', async () => {
    const c = await newCustomer(t, finance);
    const waiting = (await record(t, finance, { amount: '4.00', reference: 'UNASSIGNED-FILTER' })).json();
    const known = (await record(t, finance, { amount: '5.00', reference: 'UNASSIGNED-FILTER', customerId: c })).json();
    const gone = (await record(t, finance, { amount: '6.00', reference: 'UNASSIGNED-FILTER' })).json();
    expect((await api(t, finance, 'POST', `/api/v1/payments/${gone.id}/reverse`, { reason: 'Not ours' })).statusCode).toBe(200);
    const ids = async (qs: string) => (await api(t, finance, 'GET', `/api/v1/payments?q=UNASSIGNED-FILTER&${qs}`)).json().data.map((p: { id: string }) => p.id);
    expect(await ids('unassigned=true')).toEqual([waiting.id]);
    expect(await ids('unassigned=false')).toEqual([known.id]);
    expect(await ids('')).toEqual([gone.id, known.id, waiting.id]);
    expect((await api(t, finance, 'GET', '/api/v1/payments?unassigned=yes')).statusCode).toBe(400);
    const csv = await api(t, finance, 'GET', '/api/v1/payments?q=UNASSIGNED-FILTER&unassigned=true&format=csv');
    expect(csv.body.trim().split('\r\n')).toHaveLength(2);
  });
});
