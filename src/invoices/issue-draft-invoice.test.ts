import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, createTestApp, customerIdOf, lastMailTo, signIn, type Session, type TestApp } from '../test/harness.ts';
import { checkLedger } from '../ledger/check-ledger.ts';
import { pdfText } from './pdf/pdf-text.ts';

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

describe('a Top-up invoice follows the partner\'s top-up policy in force on the issue day (docs/adr/0043)', () => {
  const TODAY = '2026-12-07';
  const TOMORROW = '2026-12-08';
  const at = (day: string) => new Date(`${day}T09:00:00Z`);
  const topUpDraft = (customerId: string, price: string) => draft({ customerId, type: 'top_up', lines: [{ description: 'Points', unitPrice: price }] });
  const seq = (n: string) => Number(n.split('-').at(-1));
  const lastTopUpNumber = async () => Math.max(0, ...(await t.db.owner.db.selectFrom('invoices').select('number')
    .where('type', '=', 'top_up').where('number', 'is not', null).execute()).map((r) => seq(r.number!)));
  let aud: string;

  beforeAll(async () => {
    t.clock.set(at(TODAY));
    const res = await api(t, admin, 'POST', '/api/v1/customers', { name: 'Kangaroo Freight', currency: 'AUD', ownerEmail: 'owner@kangaroo.test', ownerName: 'Kanga Owner' });
    expect(res.statusCode, res.body).toBe(201);
    aud = res.json().id;
    // AUD: a minimum of 10.00 and a fee of 2.00 below 30.00 from today; from tomorrow, 50.00 and 5.00 below 100.00.
    for (const v of [
      { currency: 'AUD', effectiveFrom: TODAY, minimum: '10.00', feeThreshold: '30.00', fee: '2.00' },
      { currency: 'AUD', effectiveFrom: TOMORROW, minimum: '50.00', feeThreshold: '100.00', fee: '5.00' },
    ]) expect((await api(t, admin, 'PUT', '/api/v1/settings/top-up-policies', v)).statusCode).toBe(201);
  });

  it('the Invoice app reads the policy a Top-up invoice issued today follows (GET /api/v1/invoices/top-up-policy), without the Settings app', async () => {
    t.clock.set(at(TODAY));
    const clerk = await signIn(t, 'finance@demo.test'); // Invoice app, no Portal Settings app
    expect((await api(t, clerk, 'GET', '/api/v1/settings/top-up-policies')).statusCode).toBe(403);
    const audPolicy = await api(t, clerk, 'GET', '/api/v1/invoices/top-up-policy?currency=AUD');
    expect(audPolicy.statusCode, audPolicy.body).toBe(200);
    expect(audPolicy.json()).toMatchObject({
      currency: 'AUD', source: 'partner', effectiveFrom: TODAY, minimum: '10.00', feeThreshold: '30.00', fee: '2.00',
      upcoming: { effectiveFrom: TOMORROW, minimum: '50.00', feeThreshold: '100.00', fee: '5.00' },
    });
    expect((await api(t, clerk, 'GET', '/api/v1/invoices/top-up-policy?currency=SGD')).json()).toMatchObject({
      currency: 'SGD', source: 'default', versionId: null, minimum: '0.00', feeThreshold: '20.00', fee: '1.00', upcoming: null,
    });
    const missing = await api(t, clerk, 'GET', '/api/v1/invoices/top-up-policy');
    expect(missing.statusCode).toBe(400);
    expect(missing.json().errors).toEqual([expect.objectContaining({ path: 'currency' })]);
    expect((await api(t, clerk, 'GET', '/api/v1/invoices/top-up-policy?currency=EUR')).statusCode).toBe(400);
    expect((await api(t, await signIn(t, 'owner@acme.test'), 'GET', '/api/v1/invoices/top-up-policy?currency=SGD')).statusCode).toBe(403);
  });

  it('below the fee threshold the issued invoice gets an admin fee line, no tax; the draft shows none (the issue day decides)', async () => {
    t.clock.set(at(TODAY));
    const id = await topUpDraft(acme, '15.00');
    expect((await api(t, admin, 'GET', `/api/v1/invoices/${id}`)).json()).toMatchObject({ status: 'draft', total: '15.00', lines: [expect.objectContaining({ kind: 'points' })] });
    const res = await issue(id);
    expect(res.statusCode, res.body).toBe(200);
    const inv = res.json();
    expect(inv).toMatchObject({ status: 'awaiting_payment', subtotal: '16.00', tax: '0.00', total: '16.00', amountDue: '16.00' });
    expect(inv.lines.map((l: { kind: string; description: string; amount: string; tax: string; taxRateBps: number }) => [l.kind, l.description, l.amount, l.tax, l.taxRateBps])).toEqual([
      ['points', 'Points', '15.00', '0.00', 0], ['admin_fee', 'Admin fee (top-up below the fee threshold)', '1.00', '0.00', 0],
    ]);
    expect(await postingsOf(id)).toEqual([]);
    const audit = (await auditEventsOf(t.db, 'invoice.issued')).find((e) => e.targetId === id);
    expect(audit?.changes).toMatchObject({ total: { after: '16.00' }, adminFee: { after: '1.00' }, topUpPolicyVersion: { after: 'default' } });
    const pdf = await api(t, admin, 'GET', `/api/v1/invoices/${id}/pdf`);
    expect(pdf.statusCode).toBe(200);
    const { text } = await pdfText(pdf.rawPayload);
    expect(text).toContain('Admin fee (top-up below the fee threshold)');
    expect(text).toContain('16.00');
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('at or above the threshold no fee line is added; just below it is', async () => {
    t.clock.set(at(TODAY));
    const at20 = (await issue(await topUpDraft(acme, '20.00'))).json();
    expect(at20).toMatchObject({ total: '20.00', lines: [expect.objectContaining({ kind: 'points', amount: '20.00' })] });
    expect(at20.lines).toHaveLength(1);
    const below = (await issue(await topUpDraft(acme, '19.99'))).json();
    expect(below).toMatchObject({ total: '20.99' });
    expect(below.lines.map((l: { kind: string }) => l.kind)).toEqual(['points', 'admin_fee']);
    // A discount lowers the points bought: 25.00 less 6.00 is 19.00 of points, below the threshold.
    const discounted = (await api(t, admin, 'POST', '/api/v1/invoices', {
      customerId: acme, type: 'top_up', issue: true, lines: [{ description: 'Points', unitPrice: '25.00', discount: '6.00' }],
    })).json();
    expect(discounted).toMatchObject({ subtotal: '20.00', total: '20.00' });
  });

  it('points below the minimum: 422 rule_violation naming lines, nothing issued, no number taken, no audit; create with issue writes nothing', async () => {
    t.clock.set(at(TODAY));
    const numberBefore = await lastTopUpNumber();
    const id = await topUpDraft(aud, '9.99');
    const res = await issue(id);
    expect(res.statusCode).toBe(422);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ code: 'rule_violation', detail: 'The minimum top-up is 10.00 AUD', errors: [{ path: 'lines', message: 'at least 10.00 AUD' }] });
    expect((await api(t, admin, 'GET', `/api/v1/invoices/${id}`)).json()).toMatchObject({ status: 'draft', number: null, total: '9.99' });
    expect(await t.db.owner.db.selectFrom('invoiceLines').select('id').where('invoiceId', '=', id).execute()).toEqual([]);
    expect((await auditEventsOf(t.db, 'invoice.issued')).filter((e) => e.targetId === id)).toEqual([]);
    const invoicesBefore = await t.db.owner.db.selectFrom('invoices').select('id').where('customerId', '=', aud).execute();
    const created = await api(t, admin, 'POST', '/api/v1/invoices', { customerId: aud, type: 'top_up', issue: true, lines: [{ description: 'Points', unitPrice: '5.00' }] });
    expect(created.statusCode).toBe(422);
    expect(created.json()).toMatchObject({ code: 'rule_violation', errors: [{ path: 'lines', message: 'at least 10.00 AUD' }] });
    expect(await t.db.owner.db.selectFrom('invoices').select('id').where('customerId', '=', aud).execute()).toEqual(invoicesBefore);
    // The next top-up invoice issued takes the next number: the refusals took none.
    const ok = (await issue(await topUpDraft(aud, '10.00'))).json();
    expect(seq(ok.number)).toBe(numberBefore + 1);
    // At the minimum it is issued, with today's fee (2.00 below 30.00), not tomorrow's (5.00).
    expect(ok).toMatchObject({ status: 'awaiting_payment', total: '12.00' });
    expect((await auditEventsOf(t.db, 'invoice.issued')).find((e) => e.targetId === ok.id)?.changes).toMatchObject({ adminFee: { after: '2.00' }, topUpPolicyVersion: { after: expect.stringMatching(/^tpv_/) } });
  });

  it('a version starting tomorrow does not apply today; from tomorrow it applies, to drafts made before too', async () => {
    t.clock.set(at(TODAY));
    // Today: 40.00 is above today's minimum and threshold (tomorrow's would refuse it).
    const forty = (await issue(await topUpDraft(aud, '40.00'))).json();
    expect(forty).toMatchObject({ status: 'awaiting_payment', total: '40.00' });
    expect(forty.lines).toHaveLength(1);
    const early = await topUpDraft(aud, '40.00');
    const sixty = await topUpDraft(aud, '60.00');
    t.clock.set(at(TOMORROW));
    try {
      const refused = await issue(early);
      expect(refused.statusCode).toBe(422);
      expect(refused.json()).toMatchObject({ code: 'rule_violation', errors: [{ path: 'lines', message: 'at least 50.00 AUD' }] });
      const withFee = (await issue(sixty)).json();
      expect(withFee).toMatchObject({ status: 'awaiting_payment', total: '65.00' });
      expect(withFee.lines.map((l: { kind: string; amount: string }) => [l.kind, l.amount])).toEqual([['points', '60.00'], ['admin_fee', '5.00']]);
    } finally {
      t.clock.set(at(TODAY));
    }
  });
});
