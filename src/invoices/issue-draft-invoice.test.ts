import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, createTestApp, customerIdOf, lastMailTo, signIn, type Session, type TestApp } from '../test/harness.ts';
import { checkLedger } from '../ledger/check-ledger.ts';

let t: TestApp;
let admin: Session;
let acme: string;
let initech: string;

beforeAll(async () => {
  t = await createTestApp();
  admin = await signIn(t, 'admin@demo.test');
  acme = await customerIdOf(t.db, 'Acme Pte Ltd');
  initech = await customerIdOf(t.db, 'Initech Pte Ltd');
});
afterAll(async () => t.close());

async function draft(body: Record<string, unknown> = {}): Promise<string> {
  const res = await api(t, admin, 'POST', '/api/v1/invoices', {
    customerId: acme, type: 'purchase', lines: [{ description: 'Consulting', quantity: '1.5', unitPrice: '80.00' }, { description: 'Cable', unitPrice: '9.99', taxCategory: 'exempt' }], ...body,
  });
  expect(res.statusCode).toBe(201);
  return res.json().id;
}
const issue = (id: string, who: Session = admin) => api(t, who, 'POST', `/api/v1/invoices/${id}/issue`);

async function postingsOf(invoiceId: string) {
  return t.db.owner.db.selectFrom('journalEntries as e').innerJoin('postings as p', 'p.entryId', 'e.id').innerJoin('ledgerAccounts as a', 'a.id', 'p.accountId')
    .select(['e.id', 'e.kind', 'e.reversesEntryId', 'a.code', 'a.customerId', 'p.amountMicros'])
    .where('e.causeType', '=', 'invoice').where('e.causeId', '=', invoiceId).orderBy('e.postedAt').orderBy('p.id').execute();
}

describe('POST /api/v1/invoices/:id/issue (issueInvoice)', () => {
  it('issues a draft: number, bill-to snapshot, due date, lines, ledger entry, audit, notice to the owner', async () => {
    t.clock.set(new Date('2026-11-30T04:00:00Z'));
    const id = await draft({ notes: 'PO 77' });
    const res = await issue(id);
    expect(res.statusCode).toBe(200);
    const inv = res.json();
    expect(inv).toMatchObject({
      status: 'awaiting_payment', subtotal: '129.99', tax: '10.80', total: '140.79', amountDue: '140.79', issuedAt: '2026-11-30T04:00:00.000Z',
      billTo: { name: 'Acme Pte Ltd', email: null }, notes: 'PO 77', overdue: false,
    });
    expect(inv.number).toMatch(/^INV-2026-\d{6}$/);
    const settings = await t.db.owner.db.selectFrom('partnerSettings').select('invoiceDueDays').where('partnerId', '=', (await t.db.owner.db.selectFrom('customers').select('partnerId').where('id', '=', acme).executeTakeFirstOrThrow()).partnerId).executeTakeFirstOrThrow();
    expect(new Date(inv.dueAt).getTime()).toBe(new Date('2026-11-30T04:00:00Z').getTime() + settings.invoiceDueDays * 86_400_000);
    expect(inv.lines.map((l: { quantity: string; amount: string; tax: string }) => [l.quantity, l.amount, l.tax])).toEqual([['1.5', '120.00', '10.80'], ['1', '9.99', '0.00']]);

    const row = await t.db.owner.db.selectFrom('invoices').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.draftLines).toBeNull();
    expect(row.dueDays).toBe(settings.invoiceDueDays);
    const lines = await t.db.owner.db.selectFrom('invoiceLines').selectAll().where('invoiceId', '=', id).orderBy('position').execute();
    expect(lines.map((l) => [l.quantity, l.grossMicros, l.taxRateBps, l.taxMicros])).toEqual([['1.500000', '120000000', 900, '10800000'], ['1.000000', '9990000', 0, '0']]);

    const postings = await postingsOf(id);
    expect(postings.map((p) => [p.kind, p.code, p.amountMicros])).toEqual([
      ['invoice_issued', 'receivable', '140790000'], ['invoice_issued', 'revenue:one_time', '-129990000'], ['invoice_issued', 'tax_payable', '-10800000'],
    ]);
    expect(postings[0]!.customerId).toBe(acme);
    expect(await checkLedger(t.db.owner.db)).toEqual([]);

    const [event] = await auditEventsOf(t.db, 'invoice.issued');
    expect(event).toMatchObject({ app: 'invoice', targetId: id, customerId: acme, changes: { number: { before: null, after: inv.number } } });
    // An auditor finds it by the invoice's number.
    const found = await api(t, admin, 'GET', `/api/v1/audit-events?q=${inv.number}`);
    expect(found.statusCode, found.body).toBe(200);
    expect(found.json().data.map((e: { action: string; target: { id: string } | null }) => e.action)).toContain('invoice.issued');
    const mail = await lastMailTo(t.db, 'owner@acme.test');
    expect(mail).toMatchObject({ kind: 'invoice_issued', customerId: acme });
    expect(mail!.subject).toContain(inv.number);
    expect(mail!.bodyText).toContain('140.79 SGD');
    expect(mail!.bodyText).toContain(`/portal/invoices/${id}`);
    t.clock.reset();
  });

  it('the bill-to snapshot and notice follow the billing contact; the draft\'s own due days win', async () => {
    await api(t, admin, 'PATCH', `/api/v1/customers/${acme}`, { billingContact: { name: 'Acme Accounts', email: 'ap@acme.test', address: '1 Acme Way' } });
    const id = await draft({ dueDays: 0 });
    const inv = (await issue(id)).json();
    expect(inv.billTo).toEqual({ name: 'Acme Accounts', email: 'ap@acme.test', phone: null, address: '1 Acme Way' });
    expect(inv.dueAt).toBe(inv.issuedAt);
    expect((await lastMailTo(t.db, 'ap@acme.test'))?.kind).toBe('invoice_issued');
    // Later changes to the contact do not change the issued invoice.
    await api(t, admin, 'PATCH', `/api/v1/customers/${acme}`, { billingContact: { name: null, email: null, address: null } });
    expect((await api(t, admin, 'GET', `/api/v1/invoices/${id}`)).json().billTo.name).toBe('Acme Accounts');
  });

  it('revenue by line: catalog products to revenue:subscription, free text to revenue:one_time', async () => {
    const did = (await t.db.owner.db.selectFrom('products').select('id').where('sku', '=', 'DID-SG').executeTakeFirstOrThrow()).id;
    const id = (await api(t, admin, 'POST', '/api/v1/invoices', {
      customerId: acme, type: 'purchase', issue: true, lines: [{ productId: did, quantity: '3' }, { description: 'Porting fee', unitPrice: '10' }],
    })).json().id;
    expect((await postingsOf(id)).map((p) => [p.code, p.amountMicros])).toEqual([
      ['receivable', '27250000'], ['revenue:subscription', '-15000000'], ['revenue:one_time', '-10000000'], ['tax_payable', '-2250000'],
    ]);
  });

  it('a Top-up invoice posts nothing at issue (a request for a deposit)', async () => {
    const id = await draft({ type: 'top_up', lines: [{ description: 'Points', unitPrice: '100' }] });
    const inv = (await issue(id)).json();
    expect(inv).toMatchObject({ status: 'awaiting_payment', tax: '0.00', total: '100.00' });
    expect(inv.number).toMatch(/^TOP-\d{4}-\d{6}$/);
    expect(await postingsOf(id)).toEqual([]);
  });

  it('refuses a total of 0 (422 invoice_total_zero) and leaves the draft as it was', async () => {
    const id = await draft({ lines: [{ description: 'Free', unitPrice: '0' }] });
    const res = await issue(id);
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('invoice_total_zero');
    expect((await api(t, admin, 'GET', `/api/v1/invoices/${id}`)).json()).toMatchObject({ status: 'draft', number: null });
    const created = await api(t, admin, 'POST', '/api/v1/invoices', { customerId: acme, type: 'purchase', issue: true, lines: [{ description: 'x', unitPrice: '1', discount: '1' }] });
    expect(created.statusCode).toBe(422);
    expect(await t.db.owner.db.selectFrom('invoices').select('id').where('subtotalMicros', '=', '0').where('status', '=', 'draft').execute()).toHaveLength(1);
  });

  it('an issued invoice is never edited or issued again (409 invoice_not_draft); another partner\'s is not found', async () => {
    const id = await draft();
    await issue(id);
    const again = await issue(id);
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('invoice_not_draft');
    const edit = await api(t, admin, 'PATCH', `/api/v1/invoices/${id}`, { notes: 'changed' });
    expect(edit.statusCode).toBe(409);
    expect(edit.json().code).toBe('invoice_not_draft');
    const north = await signIn(t, 'admin@northwind.test');
    expect((await issue(id, north)).statusCode).toBe(404);
    expect((await api(t, north, 'GET', `/api/v1/invoices/${id}`)).statusCode).toBe(404);
  });

  it('a suspended customer\'s draft is not issued', async () => {
    const id = (await api(t, admin, 'POST', '/api/v1/invoices', { customerId: initech, type: 'purchase', lines: [{ description: 'x', unitPrice: '1' }] })).json().id;
    await t.db.owner.db.updateTable('customers').set({ status: 'suspended' }).where('id', '=', initech).execute();
    const res = await issue(id);
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('customer_not_active');
    await t.db.owner.db.updateTable('customers').set({ status: 'active' }).where('id', '=', initech).execute();
  });

  it('issues a draft once under 8 concurrent issue requests', async () => {
    const id = await draft();
    const results = await Promise.all(Array.from({ length: 8 }, () => issue(id)));
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409, 409, 409, 409, 409, 409, 409]);
    expect((await postingsOf(id)).filter((p) => p.code === 'receivable')).toHaveLength(1);
    expect(await t.db.owner.db.selectFrom('invoiceLines').select('id').where('invoiceId', '=', id).execute()).toHaveLength(2);
  });

  it('numbers stay gapless and unique under 10 concurrent issues of different drafts', async () => {
    const ids = [];
    for (let i = 0; i < 10; i++) ids.push(await draft());
    const before = await t.db.owner.db.selectFrom('invoices').select('number').where('type', '=', 'purchase').where('number', 'is not', null).execute();
    const results = await Promise.all(ids.map((id) => issue(id)));
    expect(results.map((r) => r.statusCode)).toEqual(Array(10).fill(200));
    const seq = (n: string) => Number(n.split('-').at(-1));
    const mine = results.map((r) => seq(r.json().number)).sort((a, b) => a - b);
    const highestBefore = Math.max(...before.map((r) => seq(r.number!)));
    expect(mine).toEqual(Array.from({ length: 10 }, (_, i) => highestBefore + 1 + i));
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });
});
