import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestApp, signIn, type Session, type TestApp } from '../test/harness.ts';
import { expectSound, newInvoice, record } from '../payments/payments.test-kit.ts';

/**
 * What credit notes gave back on an invoice, as the invoice shows it (admin and portal, list and detail):
 * `amountRefunded` (issued, outcome refund, whatever the refund's progress) and `amountCreditedToPoints` (issued,
 * outcome points). Drafts and void credit notes gave nothing back; reduce_due is `amountCredited`, not these.
 */
let t: TestApp;
let finance: Session;
let owner: Session;
let member: Session;
let acme: string;

beforeAll(async () => {
  t = await createTestApp();
  finance = await signIn(t, 'finance@demo.test');
  owner = await signIn(t, 'owner@acme.test');
  member = await signIn(t, 'member@acme.test');
  acme = (await t.db.owner.db.selectFrom('customers').select('id').where('name', '=', 'Acme Pte Ltd').executeTakeFirstOrThrow()).id;
});
afterAll(async () => t.close());

interface Shown { id: string; status: string; amountPaid: string; amountCredited: string; amountRefunded: string; amountCreditedToPoints: string; amountDue: string }
const FIELDS = ['status', 'amountPaid', 'amountCredited', 'amountRefunded', 'amountCreditedToPoints', 'amountDue'] as const;
const figures = (row: Shown) => Object.fromEntries(FIELDS.map((f) => [f, row[f]]));

/** An issued Acme invoice of `price` (zero-rated), paid in full by a bank transfer Finance records. */
async function paidByTransfer(price: string) {
  const inv = await newInvoice(t, finance, acme, price);
  const pay = await record(t, finance, { amount: price, customerId: acme });
  expect(pay.statusCode, pay.body).toBe(201);
  const allocated = await api(t, finance, 'POST', `/api/v1/payments/${pay.json().id}/allocate`, { allocations: [{ invoiceId: inv.id, amount: price }] });
  expect(allocated.statusCode, allocated.body).toBe(200);
  return inv as { id: string; number: string; total: string };
}

async function creditNote(body: Record<string, unknown>) {
  const res = await api(t, finance, 'POST', '/api/v1/credit-notes', { reason: 'service_issue', ...body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string; status: string; total: string }>();
}

/** The invoice's figures as each view shows them: admin list and detail, portal list and detail (owner), portal detail (member). */
async function everywhere(inv: { id: string; number: string }) {
  const list = await api(t, finance, 'GET', `/api/v1/invoices?q=${encodeURIComponent(inv.number)}`);
  expect(list.statusCode, list.body).toBe(200);
  const adminRow = list.json<{ data: Shown[] }>().data.find((r) => r.id === inv.id)!;
  const adminDetail = await api(t, finance, 'GET', `/api/v1/invoices/${inv.id}`);
  expect(adminDetail.statusCode, adminDetail.body).toBe(200);
  const portalList = await api(t, owner, 'GET', '/api/v1/portal/invoices?limit=200');
  expect(portalList.statusCode, portalList.body).toBe(200);
  const portalRow = portalList.json<{ data: Shown[] }>().data.find((r) => r.id === inv.id)!;
  const portalDetail = await api(t, owner, 'GET', `/api/v1/portal/invoices/${inv.id}`);
  expect(portalDetail.statusCode, portalDetail.body).toBe(200);
  const memberDetail = await api(t, member, 'GET', `/api/v1/portal/invoices/${inv.id}`);
  expect(memberDetail.statusCode, memberDetail.body).toBe(200);
  const views = [adminRow, adminDetail.json<Shown>(), portalRow, portalDetail.json<Shown>(), memberDetail.json<Shown>()].map(figures);
  // Every view says the same.
  for (const v of views.slice(1)) expect(v).toEqual(views[0]);
  return views[0]!;
}

describe('invoices: what credit notes gave back', () => {
  it('refunded in full by bank transfer: amountRefunded is the total, the invoice still says what was paid', async () => {
    const inv = await paidByTransfer('40.00');
    const untouched = await paidByTransfer('25.00');
    await creditNote({ invoiceId: inv.id, mode: 'whole', outcome: 'refund', refundMethod: 'bank_transfer', refundReference: 'FT-REF-1', issue: true });
    expect(await everywhere(inv)).toEqual({
      status: 'paid', amountPaid: '40.00', amountCredited: '0.00', amountRefunded: '40.00', amountCreditedToPoints: '0.00', amountDue: '0.00',
    });
    // Another invoice of the same customer is not touched.
    expect(await everywhere(untouched)).toEqual({
      status: 'paid', amountPaid: '25.00', amountCredited: '0.00', amountRefunded: '0.00', amountCreditedToPoints: '0.00', amountDue: '0.00',
    });
    await expectSound(t);
  });

  it('partly: a card refund still pending counts, points count apart, drafts and void credit notes do not', async () => {
    const inv = await newInvoice(t, finance, acme, '50.00') as { id: string; number: string };
    const paid = await api(t, owner, 'POST', `/api/v1/portal/invoices/${inv.id}/pay`, { usePoints: false, cardToken: 'tok_sandbox_success' });
    expect(paid.statusCode, paid.body).toBe(200);

    await creditNote({ invoiceId: inv.id, mode: 'amount', amount: '12.00', outcome: 'refund', refundMethod: 'card', issue: true });
    const draftRefund = await creditNote({ invoiceId: inv.id, mode: 'amount', amount: '3.00', outcome: 'refund', refundMethod: 'card' });
    expect(draftRefund.status).toBe('draft');
    expect(await everywhere(inv)).toMatchObject({ amountPaid: '50.00', amountRefunded: '12.00', amountCreditedToPoints: '0.00' });

    await creditNote({ invoiceId: inv.id, mode: 'amount', amount: '5.00', outcome: 'points', issue: true });
    const voided = await creditNote({ invoiceId: inv.id, mode: 'amount', amount: '7.00', outcome: 'points' });
    const voidRes = await api(t, finance, 'POST', `/api/v1/credit-notes/${voided.id}/void`, { reason: 'Raised twice' });
    expect(voidRes.statusCode, voidRes.body).toBe(200);
    expect(await everywhere(inv)).toEqual({
      status: 'paid', amountPaid: '50.00', amountCredited: '0.00', amountRefunded: '12.00', amountCreditedToPoints: '5.00', amountDue: '0.00',
    });
    await expectSound(t);
  });

  it('to points in full: amountCreditedToPoints is what was paid', async () => {
    const inv = await paidByTransfer('30.00');
    await creditNote({ invoiceId: inv.id, mode: 'whole', outcome: 'points', issue: true });
    expect(await everywhere(inv)).toEqual({
      status: 'paid', amountPaid: '30.00', amountCredited: '0.00', amountRefunded: '0.00', amountCreditedToPoints: '30.00', amountDue: '0.00',
    });
  });

  it('a credit note that reduced the amount due is amountCredited, not a refund', async () => {
    const inv = await newInvoice(t, finance, acme, '20.00') as { id: string; number: string };
    await creditNote({ invoiceId: inv.id, mode: 'amount', amount: '8.00', outcome: 'reduce_due', issue: true });
    expect(await everywhere(inv)).toEqual({
      status: 'awaiting_payment', amountPaid: '0.00', amountCredited: '8.00', amountRefunded: '0.00', amountCreditedToPoints: '0.00', amountDue: '12.00',
    });
  });

  it('the CSV export carries both', async () => {
    const inv = await paidByTransfer('10.00');
    await creditNote({ invoiceId: inv.id, mode: 'amount', amount: '4.00', outcome: 'refund', refundMethod: 'cheque', refundReference: 'CHQ-1', issue: true });
    const res = await api(t, finance, 'GET', `/api/v1/invoices?format=csv&q=${encodeURIComponent(inv.number)}`);
    expect(res.statusCode).toBe(200);
    const [header, row] = res.body.trim().split('\r\n');
    const cells = Object.fromEntries(header!.split(',').map((h, i) => [h, row!.split(',')[i]]));
    expect(cells).toMatchObject({ amountPaid: '10.00', amountCredited: '0.00', amountRefunded: '4.00', amountCreditedToPoints: '0.00', amountDue: '0.00' });
  });
});
