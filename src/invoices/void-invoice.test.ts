import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, createTestApp, customerIdOf, lastMailTo, signIn, type Session, type TestApp } from '../test/harness.ts';
import { checkLedger } from '../ledger/check-ledger.ts';

let t: TestApp;
let admin: Session;
let acme: string;

beforeAll(async () => {
  t = await createTestApp();
  admin = await signIn(t, 'admin@demo.test');
  acme = await customerIdOf(t.db, 'Acme Pte Ltd');
});
afterAll(async () => t.close());

async function invoice(issue: boolean, type: 'purchase' | 'top_up' = 'purchase'): Promise<{ id: string; number: string | null }> {
  const res = await api(t, admin, 'POST', '/api/v1/invoices', { customerId: acme, type, issue, lines: [{ description: 'Consulting', quantity: '2', unitPrice: '45.50' }] });
  expect(res.statusCode).toBe(201);
  return res.json();
}
const voidIt = (id: string, reason: unknown = 'Raised in error', who: Session = admin) => api(t, who, 'POST', `/api/v1/invoices/${id}/void`, { reason });
const receivableOf = async (customerId: string) =>
  BigInt((await t.db.owner.db.selectFrom('ledgerAccounts').select('balanceMicros').where('code', '=', 'receivable').where('customerId', '=', customerId).executeTakeFirst())?.balanceMicros ?? '0');

describe('POST /api/v1/invoices/:id/void (voidInvoice)', () => {
  it('voids an issued Purchase invoice: the receivable entry is reversed by a new entry, the books stay balanced', async () => {
    const before = await receivableOf(acme);
    const inv = await invoice(true);
    expect(await receivableOf(acme)).toBe(before + 99_190_000n); // 91.00 + 8.19 GST
    const res = await voidIt(inv.id, '  Customer cancelled the order  ');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'void', voidReason: 'Customer cancelled the order', amountDue: '0.00', total: '99.19', number: inv.number });
    expect(res.json().voidedAt).not.toBeNull();
    expect(await receivableOf(acme)).toBe(before);
    const entries = await t.db.owner.db.selectFrom('journalEntries').select(['id', 'kind', 'reversesEntryId']).where('causeId', '=', inv.id).orderBy('postedAt').execute();
    expect(entries.map((e) => e.kind)).toEqual(['invoice_issued', 'invoice_voided']);
    expect(entries[1]!.reversesEntryId).toBe(entries[0]!.id);
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
    expect((await auditEventsOf(t.db, 'invoice.voided'))[0]).toMatchObject({ targetId: inv.id, app: 'invoice' });

    const again = await voidIt(inv.id);
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('invoice_not_voidable');
  });

  it('a void invoice is final: no issue, no edit, no resend', async () => {
    const inv = await invoice(true);
    await voidIt(inv.id);
    expect((await api(t, admin, 'POST', `/api/v1/invoices/${inv.id}/issue`)).json().code).toBe('invoice_not_draft');
    expect((await api(t, admin, 'PATCH', `/api/v1/invoices/${inv.id}`, { notes: 'x' })).json().code).toBe('invoice_not_draft');
    expect((await api(t, admin, 'POST', `/api/v1/invoices/${inv.id}/resend`)).json().code).toBe('invoice_not_issued');
  });

  it('voids a Top-up invoice (nothing was posted) and a draft (which takes the next number, so the series has no gap)', async () => {
    const top = await invoice(true, 'top_up');
    expect((await voidIt(top.id)).json().status).toBe('void');
    expect(await t.db.owner.db.selectFrom('journalEntries').select('id').where('causeId', '=', top.id).execute()).toEqual([]);

    const d = await invoice(false);
    const res = await voidIt(d.id);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'void', total: '99.19', amountDue: '0.00' });
    expect(res.json().number).toMatch(/^INV-/);
    expect(res.json().lines).toHaveLength(1);
    const next = await invoice(true);
    const seq = (n: string) => Number(n.split('-').at(-1));
    expect(seq(next.number!)).toBe(seq(res.json().number) + 1);
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('refuses once something is paid or credited on it (409 invoice_not_voidable)', async () => {
    const paid = await invoice(true);
    await t.db.owner.db.insertInto('invoicePayments').values({
      id: 'ipy_voidtest00000000000001', partnerId: (await t.db.owner.db.selectFrom('invoices').select('partnerId').where('id', '=', paid.id).executeTakeFirstOrThrow()).partnerId,
      customerId: acme, invoiceId: paid.id, source: 'allocation', currency: 'SGD', amountMicros: 10_000_000n, entryId: 'je_voidtest', attemptId: null, paymentId: null, chargeRef: null, paidBy: null,
    }).execute();
    await t.db.owner.db.updateTable('invoices').set({ amountPaidMicros: 10_000_000n, amountDueMicros: 89_190_000n, status: 'partially_paid' }).where('id', '=', paid.id).execute();
    const res = await voidIt(paid.id);
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('invoice_not_voidable');

    const credited = await invoice(true);
    await t.db.owner.db.updateTable('invoices').set({ amountCreditedMicros: 9_190_000n, amountDueMicros: 90_000_000n }).where('id', '=', credited.id).execute();
    expect((await voidIt(credited.id)).json().code).toBe('invoice_not_voidable');
    expect((await t.db.owner.db.selectFrom('invoices').select('status').where('id', '=', credited.id).executeTakeFirstOrThrow()).status).toBe('awaiting_payment');
  });

  it('refuses an invoice a pending subscription waits on (409 invoice_has_pending_subscription)', async () => {
    const wallboard = await t.db.owner.db.selectFrom('productPrices as pp').innerJoin('productVariants as v', 'v.id', 'pp.variantId').innerJoin('products as p', 'p.id', 'v.productId')
      .select('pp.id').where('p.sku', '=', 'WALLBOARD').where('pp.cycle', '=', 'monthly').where('pp.currency', '=', 'SGD').executeTakeFirstOrThrow();
    const bought = await api(t, admin, 'POST', `/api/v1/customers/${acme}/subscriptions`, { priceId: wallboard.id });
    expect(bought.statusCode, bought.body).toBe(201);
    const pendingInvoice = bought.json().invoice.id;
    expect(bought.json().subscription.status).toBe('pending_payment');
    const res = await voidIt(pendingInvoice);
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('invoice_has_pending_subscription');
    expect(res.json().detail).toContain('Customer app');
  });

  it('validates the reason; another partner\'s invoice is not found; needs the Invoice app', async () => {
    const inv = await invoice(true);
    expect((await voidIt(inv.id, '')).statusCode).toBe(400);
    expect((await voidIt(inv.id, '   ')).statusCode).toBe(400);
    expect((await voidIt(inv.id, 'x'.repeat(501))).json().errors[0].path).toBe('reason');
    expect((await api(t, admin, 'POST', `/api/v1/invoices/${inv.id}/void`, {})).json().errors[0].path).toBe('reason');
    expect((await voidIt(inv.id, 'x', await signIn(t, 'admin@northwind.test'))).statusCode).toBe(404);
    const key = (await api(t, admin, 'POST', '/api/v1/api-keys', { name: 'products', apps: ['product'] })).json();
    expect((await voidIt(inv.id, 'x', { headers: { authorization: `Bearer ${key.token}` } } as unknown as Session)).json().code).toBe('app_not_granted');
    expect((await t.db.owner.db.selectFrom('invoices').select('status').where('id', '=', inv.id).executeTakeFirstOrThrow()).status).toBe('awaiting_payment');
  });
});

describe('POST /api/v1/invoices/:id/resend (resendInvoice)', () => {
  it('sends an issued invoice again with its number, total, due date and portal link: 202', async () => {
    const inv = await invoice(true);
    const res = await api(t, admin, 'POST', `/api/v1/invoices/${inv.id}/resend`);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ toEmail: 'owner@acme.test' });
    const mail = await lastMailTo(t.db, 'owner@acme.test');
    expect(mail).toMatchObject({ kind: 'invoice_resent', id: res.json().notificationId });
    expect(mail!.subject).toContain(inv.number);
    expect(mail!.bodyText).toContain('99.19 SGD');
    expect(mail!.bodyText).toMatch(/Due: \d{4}-\d{2}-\d{2}/);
    expect(mail!.bodyText).toContain(`http://localhost:3000/portal/invoices/${inv.id}`);
    expect((await auditEventsOf(t.db, 'invoice.resent'))[0]).toMatchObject({ targetId: inv.id });
  });

  it('refuses a draft (409 invoice_not_issued)', async () => {
    const d = await invoice(false);
    const res = await api(t, admin, 'POST', `/api/v1/invoices/${d.id}/resend`);
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('invoice_not_issued');
  });
});
