import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { api, auditEventsOf, createTestApp, expectUnknownId, lastMailTo, signIn, type Session, type TestApp } from '../test/harness.ts';
import { checkLedger } from '../ledger/check-ledger.ts';
import { DomainError } from '../platform/errors.ts';
import type { Gateway } from '../gateway/gateway.ts';
import { gatewayOf } from '../topup/gateway-of.ts';
import { pdfText } from '../invoices/pdf/pdf-text.ts';
import { balanceOf, newCustomer, newInvoice, pointsOf, record } from '../payments/payments.test-kit.ts';
import { runCreditNoteRefund } from './credit-note-tasks.ts';

let t: TestApp;
let finance: Session;
let admin: Session;

beforeAll(async () => {
  t = await createTestApp();
  finance = await signIn(t, 'finance@demo.test');
  admin = await signIn(t, 'admin@demo.test');
});
afterAll(async () => t.close());

const create = (body: Record<string, unknown>, who: Session = finance) => api(t, who, 'POST', '/api/v1/credit-notes', body);
const issue = (id: string, body: Record<string, unknown> = {}) => api(t, finance, 'POST', `/api/v1/credit-notes/${id}/issue`, body);

async function counts() {
  const db = t.db.owner.db;
  const n = await db.selectFrom('creditNotes').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  const e = await db.selectFrom('journalEntries').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  return { notes: n.n, entries: e.n };
}

async function sound(): Promise<void> {
  expect(await checkLedger(t.db.owner.db)).toEqual([]);
}

async function payAll(customerId: string, invoiceId: string, amount: string) {
  const pay = await record(t, finance, { amount, customerId });
  expect(pay.statusCode, pay.body).toBe(201);
  const res = await api(t, finance, 'POST', `/api/v1/payments/${pay.json().id}/allocate`, { allocations: [{ invoiceId, amount }] });
  expect(res.statusCode, res.body).toBe(200);
}

async function entryOf(creditNoteId: string) {
  const row = await t.db.owner.db.selectFrom('creditNotes').select('entryId').where('id', '=', creditNoteId).executeTakeFirstOrThrow();
  return t.db.owner.db.selectFrom('postings as p').innerJoin('ledgerAccounts as a', 'a.id', 'p.accountId')
    .select(['a.code', 'p.amountMicros']).where('p.entryId', '=', row.entryId!).orderBy('a.code').execute();
}

describe('credit notes: outcomes', () => {
  it('lines by quantity, reduce_due: Dr sales_returns + tax_payable, Cr receivable; the invoice owes less; numbered, audited, notified, margin shown', async () => {
    const product = await t.db.owner.db.selectFrom('products as p').innerJoin('productVariants as v', 'v.productId', 'p.id')
      .innerJoin('partners as pt', 'pt.id', 'p.partnerId').select(['p.id', 'v.id as variantId'])
      .where('pt.slug', '=', 'demo-telecom').where('p.sku', '=', 'VL').orderBy('v.position').executeTakeFirstOrThrow();
    const c = await newCustomer(t, finance);
    const inv = await api(t, finance, 'POST', '/api/v1/invoices', {
      customerId: c, type: 'purchase', issue: true,
      lines: [{ productId: product.id, variantId: product.variantId, quantity: '3' }, { description: 'Set-up', quantity: '1', unitPrice: '40.00' }],
    });
    expect(inv.statusCode, inv.body).toBe(201);
    const invoice = inv.json<{ id: string; number: string; total: string; tax: string }>();

    const preview = await api(t, finance, 'GET', `/api/v1/credit-notes/creditable?invoiceId=${invoice.id}&mode=lines&lines=1:q:2`);
    expect(preview.statusCode, preview.body).toBe(200);
    expect(preview.json().lines[0]).toMatchObject({ position: 1, quantity: '3', creditableQuantity: '3', unitCost: '5.000000' });
    expect(preview.json().preview).toMatchObject({ subtotal: '24.00', cost: '10.00', margin: '14.00', costKnown: 'all' });

    const res = await create({ invoiceId: invoice.id, mode: 'lines', lines: [{ position: 1, quantity: '2' }, { position: 2, amount: '10.00' }], reason: 'downgrade', memo: 'Two lines fewer', outcome: 'reduce_due', issue: true });
    expect(res.statusCode, res.body).toBe(201);
    const cn = res.json();
    const taxRate = Number(cn.tax) / Number(cn.subtotal);
    expect(cn).toMatchObject({ status: 'issued', outcome: 'reduce_due', subtotal: '34.00', costKnown: 'some', cost: '10.00', margin: '14.00' });
    expect(taxRate).toBeGreaterThan(0);
    expect(cn.number).toMatch(/^CN-\d{4}-\d{6}$/);
    expect(cn.lines).toEqual([
      expect.objectContaining({ invoiceLinePosition: 1, quantity: '2', amount: '24.00', cost: '10.00', margin: '14.00' }),
      expect.objectContaining({ invoiceLinePosition: 2, quantity: null, amount: '10.00', cost: null, margin: null }),
    ]);
    const micros = (s: string) => BigInt(Math.round(Number(s) * 100)) * 10_000n;
    expect(await entryOf(cn.id)).toEqual([
      { code: 'receivable', amountMicros: (-micros(cn.total)).toString() },
      { code: 'sales_returns', amountMicros: micros(cn.subtotal).toString() },
      { code: 'tax_payable', amountMicros: micros(cn.tax).toString() },
    ]);
    const after = await t.db.owner.db.selectFrom('invoices').select(['status', 'amountCreditedMicros', 'amountDueMicros', 'totalMicros']).where('id', '=', invoice.id).executeTakeFirstOrThrow();
    expect(after.amountCreditedMicros).toBe(micros(cn.total).toString());
    expect(BigInt(after.amountDueMicros)).toBe(BigInt(after.totalMicros) - micros(cn.total));
    expect(after.status).toBe('awaiting_payment');
    expect((await auditEventsOf(t.db, 'credit_note.issued'))[0]).toMatchObject({ app: 'finance', targetId: cn.id });
    const customer = await t.db.owner.db.selectFrom('customers').select('billingEmail').where('id', '=', c).executeTakeFirstOrThrow();
    const owner = await t.db.owner.db.selectFrom('users').select('email').where('customerId', '=', c).executeTakeFirstOrThrow();
    const mail = await lastMailTo(t.db, customer.billingEmail ?? owner.email);
    expect(mail).toMatchObject({ kind: 'credit_note_issued' });
    expect(mail!.subject).toContain(cn.number);

    // What is left: line 1 has 1 unit, line 2 30.00; the same line cannot be credited past that.
    const over = await create({ invoiceId: invoice.id, mode: 'lines', lines: [{ position: 1, quantity: '2' }], reason: 'downgrade', outcome: 'reduce_due' });
    expect(over.statusCode).toBe(422);
    expect(over.json()).toMatchObject({ code: 'credit_exceeds_line', errors: [{ path: 'lines.0.quantity', message: 'at most 1' }] });

    // The rest by "whole": the invoice is settled by credit notes.
    const rest = await create({ invoiceId: invoice.id, mode: 'whole', reason: 'cancellation', outcome: 'reduce_due', issue: true });
    expect(rest.statusCode, rest.body).toBe(201);
    expect(BigInt(micros(rest.json().total)) + micros(cn.total)).toBe(micros(invoice.total));
    const settled = await t.db.owner.db.selectFrom('invoices').select(['status', 'amountDueMicros']).where('id', '=', invoice.id).executeTakeFirstOrThrow();
    expect(settled).toMatchObject({ status: 'paid', amountDueMicros: '0' });
    const nothing = await create({ invoiceId: invoice.id, mode: 'whole', reason: 'cancellation' });
    expect(nothing.json()).toMatchObject({ code: 'credit_exceeds_creditable' });
    await sound();
  });

  it('whole invoice to points on a paid invoice: Cr points, the invoice stays paid', async () => {
    const c = await newCustomer(t, finance);
    const inv = await newInvoice(t, finance, c, '50.00');
    await payAll(c, inv.id, '50.00');
    const res = await create({ invoiceId: inv.id, mode: 'whole', reason: 'service_issue', outcome: 'points', issue: true });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ status: 'issued', total: '50.00', outcome: 'points', costKnown: 'none', margin: null });
    expect(await pointsOf(t, c)).toBe(50_000_000n);
    const state = await t.db.owner.db.selectFrom('invoices').select(['status', 'amountPaidMicros', 'amountCreditedMicros']).where('id', '=', inv.id).executeTakeFirstOrThrow();
    expect(state).toEqual({ status: 'paid', amountPaidMicros: '50000000', amountCreditedMicros: '0' });
    await sound();
  });

  it('custom amount refunded by bank transfer: tax split by the invoice\'s share, Cr bank', async () => {
    const c = await newCustomer(t, finance);
    const created = await api(t, finance, 'POST', '/api/v1/invoices', { customerId: c, type: 'purchase', issue: true, lines: [{ description: 'Consulting', quantity: '1', unitPrice: '100.00' }] });
    const inv = created.json<{ id: string; total: string; tax: string }>();
    await payAll(c, inv.id, inv.total);
    const bankBefore = await balanceOf(t, 'bank');
    const res = await create({ invoiceId: inv.id, mode: 'amount', amount: '21.80', reason: 'billing_error', outcome: 'refund', refundMethod: 'bank_transfer', refundReference: 'FT-778', issue: true });
    expect(res.statusCode, res.body).toBe(201);
    const cn = res.json();
    expect(cn).toMatchObject({ total: '21.80', refundMethod: 'bank_transfer', refundReference: 'FT-778', refundStatus: null, requestedAmount: '21.80' });
    // 100.00 + tax T: the credit's tax is 21.80 x T / (100 + T), rounded once.
    const T = Number(inv.tax);
    expect(Number(cn.tax)).toBeCloseTo(Math.round((21.8 * T / (100 + T)) * 100) / 100, 2);
    expect(await balanceOf(t, 'bank')).toBe(bankBefore - 21_800_000n);
    await sound();
  });

  it('card refund: posted against card_clearing at issue, refunded by the job after commit, once', async () => {
    const owner = await signIn(t, 'owner@acme.test');
    const acme = (await t.db.owner.db.selectFrom('customers').select('id').where('name', '=', 'Acme Pte Ltd').executeTakeFirstOrThrow()).id;
    const inv = await newInvoice(t, finance, acme, '30.00');
    const paid = await api(t, owner, 'POST', `/api/v1/portal/invoices/${inv.id}/pay`, { usePoints: false, cardToken: 'tok_sandbox_success' });
    expect(paid.statusCode, paid.body).toBe(200);
    const clearingBefore = await balanceOf(t, 'card_clearing');

    const tooMuch = await create({ invoiceId: inv.id, mode: 'amount', amount: '30.01', reason: 'other', outcome: 'refund', refundMethod: 'card' });
    expect(tooMuch.statusCode).toBe(422);
    expect(tooMuch.json().code).toBe('credit_exceeds_creditable');

    const res = await create({ invoiceId: inv.id, mode: 'amount', amount: '12.00', reason: 'service_issue', outcome: 'refund', refundMethod: 'card', issue: true });
    expect(res.statusCode, res.body).toBe(201);
    const cn = res.json();
    expect(cn).toMatchObject({ refundMethod: 'card', refundStatus: 'pending', refunds: [{ amount: '12.00', status: 'pending' }] });
    expect(await balanceOf(t, 'card_clearing')).toBe(clearingBefore - 12_000_000n);
    const jobs = await t.db.owner.db.selectFrom('graphile_worker.jobs' as never).select('task_identifier' as never).where('key' as never, '=', `credit_note_refund:${cn.id}` as never).execute();
    expect(jobs).toHaveLength(1);

    const deps = { db: t.db.app.db, gateway: gatewayOf({ db: t.db.app.db }), log: pino({ level: 'silent' }) };
    const partnerId = (await t.db.owner.db.selectFrom('creditNotes').select('partnerId').where('id', '=', cn.id).executeTakeFirstOrThrow()).partnerId;
    expect(await runCreditNoteRefund(deps, { creditNoteId: cn.id, partnerId })).toBe('refunded');
    expect(await runCreditNoteRefund(deps, { creditNoteId: cn.id, partnerId })).toBe('refunded');
    const detail = (await api(t, finance, 'GET', `/api/v1/credit-notes/${cn.id}`)).json();
    expect(detail).toMatchObject({ refundStatus: 'refunded', refunds: [{ status: 'succeeded', amount: '12.00' }] });
    const charge = await t.db.owner.db.selectFrom('gatewaySandboxCharges').select(['refundedMinor']).where('id', '=', detail.refunds[0].chargeRef).executeTakeFirstOrThrow();
    expect(charge.refundedMinor).toBe('1200');
    expect((await auditEventsOf(t.db, 'credit_note.refunded'))[0]).toMatchObject({ targetId: cn.id, actorType: 'system' });

    // Only 18.00 of the card payment is left to refund.
    const more = await create({ invoiceId: inv.id, mode: 'amount', amount: '18.01', reason: 'other', outcome: 'refund', refundMethod: 'card' });
    expect(more.statusCode).toBe(422);
    await sound();
  });

  it('a card refund the gateway refuses moves to refunds_payable and the credit note says refund failed', async () => {
    const owner = await signIn(t, 'owner@acme.test');
    const acme = (await t.db.owner.db.selectFrom('customers').select('id').where('name', '=', 'Acme Pte Ltd').executeTakeFirstOrThrow()).id;
    const inv = await newInvoice(t, finance, acme, '20.00');
    const paid = await api(t, owner, 'POST', `/api/v1/portal/invoices/${inv.id}/pay`, { usePoints: false, cardToken: 'tok_sandbox_success' });
    expect(paid.statusCode, paid.body).toBe(200);
    const res = await create({ invoiceId: inv.id, mode: 'whole', reason: 'cancellation', outcome: 'refund', refundMethod: 'card', issue: true });
    expect(res.statusCode, res.body).toBe(201);
    const refusing = { name: 'sandbox', refund: async () => { throw new DomainError('rule_violation', 'the charge was disputed'); } } as unknown as Gateway;
    const partnerId = (await t.db.owner.db.selectFrom('creditNotes').select('partnerId').where('id', '=', res.json().id).executeTakeFirstOrThrow()).partnerId;
    expect(await runCreditNoteRefund({ db: t.db.app.db, gateway: refusing, log: pino({ level: 'silent' }) }, { creditNoteId: res.json().id, partnerId })).toBe('failed');
    const detail = (await api(t, finance, 'GET', `/api/v1/credit-notes/${res.json().id}`)).json();
    expect(detail).toMatchObject({ refundStatus: 'failed', refunds: [{ status: 'failed', failureReason: 'the charge was disputed' }] });
    const payable = await t.db.owner.db.selectFrom('ledgerAccounts').select('balanceMicros').where('partnerId', '=', partnerId).where('code', '=', 'refunds_payable').executeTakeFirstOrThrow();
    expect(BigInt(payable.balanceMicros)).toBeLessThanOrEqual(-20_000_000n);
    await sound();
  });
});

describe('credit notes: drafts', () => {
  it('a draft posts nothing; it is edited (If-Match), issued once, and an issued one never changes', async () => {
    const c = await newCustomer(t, finance);
    const inv = await newInvoice(t, finance, c, '80.00');
    const before = await counts();
    const draft = await create({ invoiceId: inv.id, mode: 'amount', amount: '10.00', reason: 'other' });
    expect(draft.statusCode, draft.body).toBe(201);
    expect(draft.json()).toMatchObject({ status: 'draft', number: null, total: '10.00', entryId: null });
    expect((await counts()).entries).toBe(before.entries);
    const id = draft.json().id;
    const got = await api(t, finance, 'GET', `/api/v1/credit-notes/${id}`);
    const etag = got.headers.etag as string;
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    const edited = await t.app.inject({ method: 'PATCH', url: `/api/v1/credit-notes/${id}`, headers: { ...finance.headers, 'if-match': etag }, payload: { amount: '15.00', memo: 'Late delivery' } });
    expect(edited.statusCode, edited.body).toBe(200);
    expect(edited.json()).toMatchObject({ total: '15.00', memo: 'Late delivery' });
    const stale = await t.app.inject({ method: 'PATCH', url: `/api/v1/credit-notes/${id}`, headers: { ...finance.headers, 'if-match': etag }, payload: { amount: '16.00' } });
    expect(stale.statusCode).toBe(412);

    const noOutcome = await issue(id);
    expect(noOutcome.statusCode).toBe(400);
    expect(noOutcome.json().errors).toEqual([expect.objectContaining({ path: 'outcome' })]);
    const issued = await issue(id, { outcome: 'reduce_due' });
    expect(issued.statusCode, issued.body).toBe(200);
    expect(issued.json()).toMatchObject({ status: 'issued', total: '15.00', outcome: 'reduce_due' });
    const again = await issue(id, { outcome: 'reduce_due' });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('credit_note_not_draft');
    expect((await api(t, finance, 'PATCH', `/api/v1/credit-notes/${id}`, { memo: 'x' })).json().code).toBe('credit_note_not_draft');
    expect((await api(t, finance, 'POST', `/api/v1/credit-notes/${id}/void`, { reason: 'x' })).statusCode).toBe(409);

    const other = await create({ invoiceId: inv.id, mode: 'whole', reason: 'other' });
    const voided = await api(t, finance, 'POST', `/api/v1/credit-notes/${other.json().id}/void`, { reason: 'Raised by mistake' });
    expect(voided.statusCode, voided.body).toBe(200);
    expect(voided.json()).toMatchObject({ status: 'void', voidReason: 'Raised by mistake' });
    expect((await issue(other.json().id, { outcome: 'reduce_due' })).statusCode).toBe(409);
    await sound();
  });

  it('the same Idempotency-Key issues once and answers the same', async () => {
    const c = await newCustomer(t, finance);
    const inv = await newInvoice(t, finance, c, '40.00');
    const draft = await create({ invoiceId: inv.id, mode: 'whole', reason: 'other', outcome: 'reduce_due' });
    const headers = { ...finance.headers, 'idempotency-key': `cn-${draft.json().id}` };
    const a = await t.app.inject({ method: 'POST', url: `/api/v1/credit-notes/${draft.json().id}/issue`, headers, payload: {} });
    const b = await t.app.inject({ method: 'POST', url: `/api/v1/credit-notes/${draft.json().id}/issue`, headers, payload: {} });
    expect(a.statusCode, a.body).toBe(200);
    expect(b.statusCode).toBe(200);
    expect(b.json().number).toBe(a.json().number);
  });
});

describe('credit notes: bad input writes nothing', () => {
  it('refuses each with a clear 4xx', async () => {
    const c = await newCustomer(t, finance);
    const inv = await newInvoice(t, finance, c, '60.00');
    const draftInvoice = await newInvoice(t, finance, c, '10.00', { issue: false });
    const topUp = await newInvoice(t, finance, c, '25.00', { type: 'top_up' });
    const toVoid = await newInvoice(t, finance, c, '5.00');
    expect((await api(t, finance, 'POST', `/api/v1/invoices/${toVoid.id}/void`, { reason: 'wrong' })).statusCode).toBe(200);
    const north = await signIn(t, 'admin@northwind.test');
    const wombat = (await t.db.owner.db.selectFrom('customers').select('id').where('name', '=', 'Wombat Pty Ltd').executeTakeFirst())?.id;
    const foreign = wombat ? await api(t, north, 'POST', '/api/v1/invoices', { customerId: wombat, type: 'purchase', issue: true, lines: [{ description: 'x', quantity: '1', unitPrice: '10.00' }] }) : null;
    const before = await counts();

    const cases: Array<[Record<string, unknown>, number, string]> = [
      [{ invoiceId: inv.id, mode: 'amount', amount: '60.01', reason: 'other' }, 422, 'credit_exceeds_creditable'],
      [{ invoiceId: inv.id, mode: 'whole', reason: 'other', outcome: 'points' }, 422, 'refund_exceeds_paid'],
      [{ invoiceId: inv.id, mode: 'amount', amount: '5.00', reason: 'other', outcome: 'refund', refundMethod: 'bank_transfer', issue: true }, 422, 'refund_exceeds_paid'],
      [{ invoiceId: inv.id, mode: 'amount', amount: '5.00', reason: 'other', outcome: 'refund', refundMethod: 'card', issue: true }, 422, 'refund_exceeds_paid'],
      [{ invoiceId: toVoid.id, mode: 'whole', reason: 'other' }, 409, 'invoice_not_creditable'],
      [{ invoiceId: draftInvoice.id, mode: 'whole', reason: 'other' }, 409, 'invoice_not_creditable'],
      [{ invoiceId: topUp.id, mode: 'whole', reason: 'other' }, 409, 'invoice_not_creditable'],
      [{ invoiceId: inv.id, mode: 'whole', reason: 'other', currency: 'USD' }, 422, 'currency_mismatch'],
      [{ invoiceId: inv.id, mode: 'lines', lines: [{ position: 1, quantity: '1.5' }], reason: 'other' }, 422, 'credit_exceeds_line'],
      [{ invoiceId: inv.id, mode: 'lines', lines: [{ position: 1, amount: '60.01' }], reason: 'other' }, 422, 'credit_exceeds_line'],
      // Well-formed but against a rule (docs/adr/0040): 422 rule_violation naming the field.
      [{ invoiceId: inv.id, mode: 'lines', lines: [{ position: 2, quantity: '1' }], reason: 'other' }, 422, 'rule_violation'],
      [{ invoiceId: inv.id, mode: 'lines', lines: [{ position: 1, quantity: '0' }], reason: 'other' }, 422, 'rule_violation'],
      [{ invoiceId: inv.id, mode: 'lines', lines: [{ position: 1, quantity: '0.1234567' }], reason: 'other' }, 422, 'rule_violation'],
      [{ invoiceId: inv.id, mode: 'lines', lines: [{ position: 1, quantity: '0.000001' }], reason: 'other' }, 422, 'rule_violation'],
      [{ invoiceId: inv.id, mode: 'lines', lines: [{ position: 1, amount: '0.00' }], reason: 'other' }, 422, 'rule_violation'],
      [{ invoiceId: inv.id, mode: 'lines', lines: [{ position: 1, amount: '1.005' }], reason: 'other' }, 422, 'rule_violation'],
      [{ invoiceId: inv.id, mode: 'amount', amount: '0', reason: 'other' }, 422, 'rule_violation'],
      [{ invoiceId: inv.id, mode: 'amount', amount: '-5.00', reason: 'other' }, 422, 'rule_violation'],
      [{ invoiceId: inv.id, mode: 'amount', amount: '5.001', reason: 'other' }, 422, 'rule_violation'],
      // Malformed: not a number, a missing amount, fields that do not go together, a line twice: 400.
      [{ invoiceId: inv.id, mode: 'lines', lines: [{ position: 1, quantity: 'one' }], reason: 'other' }, 400, 'validation_failed'],
      [{ invoiceId: inv.id, mode: 'lines', lines: [{ position: 1, amount: '1.5.0' }], reason: 'other' }, 400, 'validation_failed'],
      [{ invoiceId: inv.id, mode: 'lines', lines: [{ position: 1, amount: '1.00' }, { position: 1, amount: '1.00' }], reason: 'other' }, 400, 'validation_failed'],
      [{ invoiceId: inv.id, mode: 'amount', reason: 'other' }, 400, 'validation_failed'],
      [{ invoiceId: inv.id, mode: 'amount', amount: 'five', reason: 'other' }, 400, 'validation_failed'],
      [{ invoiceId: inv.id, mode: 'whole', reason: 'other', issue: true }, 400, 'validation_failed'],
      [{ invoiceId: inv.id, mode: 'whole', reason: 'other', outcome: 'refund' }, 400, 'validation_failed'],
      [{ invoiceId: inv.id, mode: 'whole', reason: 'nope' }, 400, 'validation_failed'],
    ];
    for (const [body, status, code] of cases) {
      const res = await create(body);
      expect([res.statusCode, res.json().code], JSON.stringify(body)).toEqual([status, code]);
      if (code === 'rule_violation') expect(res.json().errors?.[0]?.path, JSON.stringify(body)).toMatch(/^(amount|lines\.0\.(position|quantity|amount))$/);
    }
    // An unknown invoice and another partner's: the same 422 naming invoiceId, to create and to preview.
    expect(foreign?.statusCode).toBe(201);
    const foreignId = foreign!.json<{ id: string }>().id;
    const unknownId = 'inv_00000000000000000000000000';
    expectUnknownId([
      await create({ invoiceId: foreignId, mode: 'whole', reason: 'other' }),
      await create({ invoiceId: unknownId, mode: 'whole', reason: 'other' }),
    ], 'invoice_not_found', 'invoiceId');
    expectUnknownId([
      await api(t, finance, 'GET', `/api/v1/credit-notes/creditable?invoiceId=${foreignId}`),
      await api(t, finance, 'GET', `/api/v1/credit-notes/creditable?invoiceId=${unknownId}&mode=whole`),
    ], 'invoice_not_found', 'invoiceId');
    // reduce_due above the amount due: part of it paid first.
    await payAll(c, inv.id, '50.00');
    const aboveDue = await create({ invoiceId: inv.id, mode: 'amount', amount: '10.01', reason: 'other', outcome: 'reduce_due' });
    expect([aboveDue.statusCode, aboveDue.json().code]).toEqual([422, 'credit_exceeds_due']);
    const after = await counts();
    expect(after.notes).toBe(before.notes);
    await sound();
  });

  it('only the Finance app: admin without it gets 403', async () => {
    expect((await api(t, admin, 'GET', '/api/v1/credit-notes')).statusCode).toBe(403);
    expect((await create({ invoiceId: 'inv_00000000000000000000000000', mode: 'whole', reason: 'other' }, admin)).statusCode).toBe(403);
  });
});

describe('credit notes: races', () => {
  it('two credit notes on one invoice at once never exceed what is creditable', async () => {
    const c = await newCustomer(t, finance);
    const inv = await newInvoice(t, finance, c, '100.00');
    const drafts = await Promise.all([1, 2, 3].map(() => create({ invoiceId: inv.id, mode: 'amount', amount: '60.00', reason: 'other', outcome: 'reduce_due' })));
    drafts.forEach((d) => expect(d.statusCode, d.body).toBe(201));
    const answers = await Promise.all(drafts.map((d) => issue(d.json().id)));
    expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 422, 422]);
    const state = await t.db.owner.db.selectFrom('invoices').select(['amountCreditedMicros', 'amountDueMicros']).where('id', '=', inv.id).executeTakeFirstOrThrow();
    expect(state).toEqual({ amountCreditedMicros: '60000000', amountDueMicros: '40000000' });
    await sound();
  });
});

describe('credit notes: created and issued at once, in parallel', () => {
  it('four at once on one invoice: each is issued or refused, none fails (no deadlock), never above what is due', async () => {
    for (let round = 0; round < 3; round++) {
      const c = await newCustomer(t, finance);
      const inv = await newInvoice(t, finance, c, '100.00');
      const answers = await Promise.all([1, 2, 3, 4].map(() => create({ invoiceId: inv.id, mode: 'amount', amount: '50.00', reason: 'billing_error', outcome: 'reduce_due', issue: true })));
      expect(answers.map((a) => a.statusCode).sort(), answers.map((a) => a.body).join('\n')).toEqual([201, 201, 422, 422]);
      const state = await t.db.owner.db.selectFrom('invoices').select(['amountCreditedMicros', 'amountDueMicros', 'status']).where('id', '=', inv.id).executeTakeFirstOrThrow();
      expect(state).toEqual({ amountCreditedMicros: '100000000', amountDueMicros: '0', status: 'paid' });
    }
    await sound();
  });

  it('a refund issued while the payment it refunds is reversed: one of the two wins, neither fails', async () => {
    for (let round = 0; round < 3; round++) {
      const c = await newCustomer(t, finance);
      const inv = await newInvoice(t, finance, c, '100.00');
      const pay = await record(t, finance, { amount: '100.00', customerId: c });
      const payment = pay.json().id as string;
      expect((await api(t, finance, 'POST', `/api/v1/payments/${payment}/allocate`, { allocations: [{ invoiceId: inv.id, amount: '100.00' }] })).statusCode).toBe(200);
      const [refund, reversal] = await Promise.all([
        create({ invoiceId: inv.id, mode: 'amount', amount: '30.00', reason: 'billing_error', outcome: 'refund', refundMethod: 'cheque', issue: true }),
        api(t, finance, 'POST', `/api/v1/payments/${payment}/reverse`, { reason: 'Cheque bounced' }),
      ]);
      const statuses = [refund.statusCode, reversal.statusCode];
      expect(statuses.every((s) => s < 500), `${refund.body}\n${reversal.body}`).toBe(true);
      expect(statuses.filter((s) => s === 200 || s === 201).length, `${refund.body}\n${reversal.body}`).toBe(1);
    }
    await sound();
  });
});

describe('credit notes: list, CSV, PDF', () => {
  it('lists with filters, exports CSV, renders the PDF', async () => {
    const c = await newCustomer(t, finance);
    const inv = await newInvoice(t, finance, c, '70.00');
    const cn = (await create({ invoiceId: inv.id, mode: 'amount', amount: '7.00', reason: 'write_off', memo: 'Goodwill', outcome: 'reduce_due', issue: true })).json();
    const list = await api(t, finance, 'GET', `/api/v1/credit-notes?customerId=${c}&reason=write_off&status=issued&limit=1`);
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json().data).toEqual([expect.objectContaining({ id: cn.id, number: cn.number, total: '7.00', invoice: { id: inv.id, number: inv.number } })]);
    expect((await api(t, finance, 'GET', `/api/v1/credit-notes?invoiceId=${inv.id}&status=draft`)).json().data).toEqual([]);
    const csv = await api(t, finance, 'GET', `/api/v1/credit-notes?format=csv&customerId=${c}`);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.body.split('\r\n')[0]).toContain('number');
    expect(csv.body).toContain(cn.number);
    const pdf = await api(t, finance, 'GET', `/api/v1/credit-notes/${cn.id}/pdf`);
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-disposition']).toContain(`${cn.number}.pdf`);
    const text = (await pdfText(pdf.rawPayload)).text;
    expect(text).toContain('CREDIT NOTE');
    expect(text).toContain(cn.number);
    expect(text).toContain(inv.number!);
    expect(text).toContain('7.00 SGD');
    expect(text).toContain('Deducted from the amount due');
    expect(text).toContain('Goodwill');
    // The invoice's footer: who, what, when generated, page count; no watermark on an issued note.
    expect(text).toContain(`Credit note ${cn.number}`);
    expect(text).toMatch(/Generated \d{1,2} \w{3} \d{4} \d\d:\d\d UTC/);
    expect(text).toContain('Page 1 of 1');
    expect(text).not.toMatch(/DRAFT|VOID/);
  });
});

describe('credit notes in the portal', () => {
  it('the customer sees the issued credit notes of its invoice and their PDFs; not drafts, not another organisation\'s', async () => {
    const acme = (await t.db.owner.db.selectFrom('customers').select('id').where('name', '=', 'Acme Pte Ltd').executeTakeFirstOrThrow()).id;
    const inv = await newInvoice(t, finance, acme, '33.00');
    const issued = (await create({ invoiceId: inv.id, mode: 'amount', amount: '3.00', reason: 'service_issue', memo: 'Sorry for the outage', outcome: 'reduce_due', issue: true })).json();
    const draft = (await create({ invoiceId: inv.id, mode: 'amount', amount: '1.00', reason: 'other' })).json();
    const owner = await signIn(t, 'owner@acme.test');
    const list = await api(t, owner, 'GET', `/api/v1/portal/invoices/${inv.id}/credit-notes`);
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json().data).toEqual([expect.objectContaining({ id: issued.id, number: issued.number, total: '3.00', outcome: 'reduce_due', memo: 'Sorry for the outage' })]);
    const pdf = await api(t, owner, 'GET', `/api/v1/portal/credit-notes/${issued.id}/pdf`);
    expect(pdf.statusCode).toBe(200);
    expect((await pdfText(pdf.rawPayload)).text).toContain(issued.number);
    expect((await api(t, owner, 'GET', `/api/v1/portal/credit-notes/${draft.id}/pdf`)).statusCode).toBe(404);
    const globex = await signIn(t, 'owner@globex.test');
    expect((await api(t, globex, 'GET', `/api/v1/portal/credit-notes/${issued.id}/pdf`)).statusCode).toBe(404);
    // Another organisation's invoice, or one this user does not see: 404, as the invoice itself answers.
    expect((await api(t, globex, 'GET', `/api/v1/portal/invoices/${inv.id}/credit-notes`)).statusCode).toBe(404);
    const member = await signIn(t, 'member@acme.test');
    expect((await api(t, member, 'GET', `/api/v1/portal/invoices/${inv.id}/credit-notes`)).statusCode).toBe(200);
    const topUp = await api(t, finance, 'POST', '/api/v1/invoices', { customerId: acme, type: 'top_up', lines: [{ description: 'Top-up', quantity: '1', unitPrice: '10.00' }], issue: true });
    expect(topUp.statusCode, topUp.body).toBe(201);
    expect((await api(t, member, 'GET', `/api/v1/portal/invoices/${topUp.json().id}/credit-notes`)).statusCode).toBe(404);
    expect((await api(t, owner, 'GET', `/api/v1/portal/invoices/${topUp.json().id}/credit-notes`)).statusCode).toBe(200);
    expect((await api(t, owner, 'GET', '/api/v1/portal/invoices/inv_0000000000000000000000000/credit-notes')).statusCode).toBe(404);
    // Its PDF answers as its invoice does (a Monthly statement's: src/credit-notes/portal-credit-note-pdf.test.ts).
    expect((await api(t, member, 'GET', `/api/v1/portal/credit-notes/${issued.id}/pdf`)).statusCode).toBe(200);
  });
});
