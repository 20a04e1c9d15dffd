import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestApp, customerIdOf, partnerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';
import { inScope } from '../platform/database.ts';
import { newId } from '../platform/ids.ts';
import { loadInvoiceDetail, loadInvoiceLogoOf, toInvoiceSummary, type InvoiceSummaryRow } from './invoice-views.ts';
import { tinyPng } from './audit-scenarios.ts';

let t: TestApp;
let admin: Session;
let demo: string;
let acme: string;
let globex: string;

beforeAll(async () => {
  t = await createTestApp();
  admin = await signIn(t, 'admin@demo.test');
  demo = await partnerIdOf(t.db, 'demo-telecom');
  acme = await customerIdOf(t.db, 'Acme Pte Ltd');
  globex = await customerIdOf(t.db, 'Globex Sdn Bhd');
});
afterAll(async () => t.close());

const row = (over: Partial<InvoiceSummaryRow> = {}): InvoiceSummaryRow => ({
  id: 'inv_x', number: 'INV-2026-000001', type: 'purchase', status: 'awaiting_payment', informational: false, customerId: 'cus_x', customerName: 'Acme',
  currency: 'SGD', subtotalMicros: '50000000', discountMicros: '0', taxMicros: '4500000', totalMicros: '54500000', amountPaidMicros: '0',
  amountCreditedMicros: '0', amountRefundedMicros: '0', amountCreditedToPointsMicros: '0', amountDueMicros: '54500000', issuedAt: new Date('2026-11-01T00:00:00Z'), dueAt: new Date('2026-11-15T00:00:00Z'),
  paidAt: null, voidedAt: null, createdAt: new Date('2026-11-01T00:00:00Z'), periodStart: null, periodEnd: null, ...over,
});

describe('toInvoiceSummary', () => {
  it('overdue only while open and past due; decimal strings in the currency', () => {
    const now = new Date('2026-11-20T00:00:00Z');
    expect(toInvoiceSummary(row(), now)).toMatchObject({ overdue: true, total: '54.50', tax: '4.50', amountDue: '54.50', dueAt: '2026-11-15T00:00:00.000Z' });
    expect(toInvoiceSummary(row(), new Date('2026-11-15T00:00:00Z')).overdue).toBe(false);
    // Due on 15 November (at any hour): on time all that day, overdue from the 16th (UTC).
    const dueMidDay = row({ dueAt: new Date('2026-11-15T07:57:00Z') });
    expect(toInvoiceSummary(dueMidDay, new Date('2026-11-15T23:59:59.999Z')).overdue).toBe(false);
    expect(toInvoiceSummary(dueMidDay, new Date('2026-11-16T00:00:00Z')).overdue).toBe(true);
    expect(toInvoiceSummary(row({ status: 'partially_paid', amountPaidMicros: '1000000', amountDueMicros: '53500000' }), now)).toMatchObject({ overdue: true, amountPaid: '1.00', amountDue: '53.50' });
    expect(toInvoiceSummary(row({ status: 'paid', amountPaidMicros: '54500000', amountDueMicros: '0' }), now).overdue).toBe(false);
    expect(toInvoiceSummary(row({ status: 'void', voidedAt: now, amountDueMicros: '0' }), now)).toMatchObject({ overdue: false, amountDue: '0.00', total: '54.50' });
    expect(toInvoiceSummary(row({ currency: 'VND', totalMicros: '54000000' }), now).total).toBe('54');
  });
});

describe('loadInvoiceDetail', () => {
  it('quantity without trailing zeros; unit price with at least the currency\'s decimals, up to 6', async () => {
    const id = (await api(t, admin, 'POST', '/api/v1/invoices', {
      customerId: acme, type: 'purchase', issue: true,
      lines: [{ description: 'a', quantity: '2.500', unitPrice: '12.3' }, { description: 'b', quantity: '3', unitPrice: '0.123456' }, { description: 'c', quantity: '0.000001', unitPrice: '10000' }],
    })).json().id;
    const detail = await inScope(t.db.app.db, { kind: 'partner', partnerId: demo }, (trx) => loadInvoiceDetail(trx, { partnerId: demo, invoiceId: id }));
    expect(detail!.lines.map((l) => [l.quantity, l.unitPrice, l.gross])).toEqual([['2.5', '12.30', '30.75'], ['3', '0.123456', '0.37'], ['0.000001', '10000.00', '0.01']]);
  });

  it('with customerId (the portal), another customer\'s invoice is null; drafts read their draft lines', async () => {
    const id = (await api(t, admin, 'POST', '/api/v1/invoices', { customerId: acme, type: 'purchase', lines: [{ description: 'draft line', unitPrice: '5' }] })).json().id;
    await inScope(t.db.app.db, { kind: 'partner', partnerId: demo }, async (trx) => {
      expect(await loadInvoiceDetail(trx, { partnerId: demo, customerId: globex, invoiceId: id })).toBeNull();
      const mine = await loadInvoiceDetail(trx, { partnerId: demo, customerId: acme, invoiceId: id });
      expect(mine).toMatchObject({ status: 'draft', total: '5.45', lines: [expect.objectContaining({ description: 'draft line', tax: '0.45' })] });
      expect(await loadInvoiceDetail(trx, { partnerId: 'ptn_nope000000000000000000', invoiceId: id })).toBeNull();
    });
  });

  it('a Monthly invoice shows its statement; the seller shows the logo flag and the logo loads', async () => {
    const owner = t.db.owner.db;
    const invoiceId = newId('inv');
    // The logo set before the invoice is issued: the invoice shows the logo it was issued with (docs/adr/0046).
    await t.app.inject({ method: 'PUT', url: '/api/v1/settings/invoicing/logo', headers: { ...admin.headers, 'content-type': 'image/png' }, payload: tinyPng() });
    await owner.insertInto('invoices').values({
      id: invoiceId, partnerId: demo, customerId: acme, type: 'monthly', status: 'paid', number: 'STM-202610-000001', currency: 'SGD', subtotalMicros: 8_800_000n,
      taxMicros: 0n, totalMicros: 8_800_000n, amountDueMicros: 0n, amountPaidMicros: 8_800_000n, issuedAt: new Date('2026-11-01T00:00:00Z'),
      dueAt: new Date('2026-11-01T00:00:00Z'), paidAt: new Date('2026-11-01T00:00:00Z'), updatedAt: new Date(), periodStart: '2026-10-01', periodEnd: '2026-11-01',
    }).execute();
    const bucket = (count: number, amountMicros: string) => ({ count, amountMicros });
    await owner.insertInto('statements').values({
      id: `stm_${invoiceId.slice(4)}`, partnerId: demo, customerId: acme, invoiceId, currency: 'SGD', periodStart: '2026-10-01', periodEnd: '2026-11-01',
      openingPointsMicros: 50_000_000n, closingPointsMicros: 41_200_000n,
      summary: JSON.stringify({ version: 1, usage: [{ category: 'local', label: 'Local calls', calls: 12, seconds: 3600, amountMicros: '8800000' }], renewals: bucket(0, '0'),
        purchases: bucket(0, '0'), topUps: bucket(0, '0'), credits: bucket(0, '0'), other: bucket(0, '0'), chargesMicros: '8800000' }),
    }).execute();
    const res = await api(t, admin, 'GET', `/api/v1/invoices/${invoiceId}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      type: 'monthly', periodStart: '2026-10-01', periodEnd: '2026-11-01', seller: { name: 'Demo Telecom', hasLogo: true },
      statement: { openingPoints: '50.00', closingPoints: '41.20', usage: [{ category: 'local', calls: 12, amount: '8.80' }], topUps: { count: 0, amount: '0.00' } },
    });
    const logo = await inScope(t.db.app.db, { kind: 'partner', partnerId: demo }, (trx) => loadInvoiceLogoOf(trx, demo, invoiceId));
    expect(logo?.type).toBe('image/png');
    expect(logo?.data.equals(tinyPng())).toBe(true);
  });
});
