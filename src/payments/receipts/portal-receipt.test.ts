import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgetPortalTabs } from '../../settings/portal-tabs.ts';
import { sql } from 'kysely';
import { api, createTestApp, customerIdOf, partnerIdOf, signIn, type Session, type TestApp } from '../../test/harness.ts';
import { pdfText } from '../../invoices/pdf/pdf-text.ts';
import { newInvoice, record } from '../payments.test-kit.ts';

/** Portal Home > Invoices: the receipt of a Finance-recorded payment, downloadable from the invoice it paid. */
let t: TestApp;
let finance: Session;
let acmeOwner: Session;
let acmeMember: Session;
let globexOwner: Session;
let acme: string;

beforeAll(async () => {
  t = await createTestApp();
  finance = await signIn(t, 'finance@demo.test');
  [acmeOwner, acmeMember, globexOwner] = await Promise.all([signIn(t, 'owner@acme.test'), signIn(t, 'member@acme.test'), signIn(t, 'owner@globex.test')]);
  acme = await customerIdOf(t.db, 'Acme Pte Ltd');
});
afterAll(async () => t.close());

interface Detail { payments: Array<{ id: string; source: string; amount: string }> }

describe('GET /api/v1/portal/invoices/:invoiceId/payments/:invoicePaymentId/receipt.pdf (portalGetReceiptPdf)', () => {
  it("gives the organisation's owners and members the receipt of a bank payment that paid the invoice; nobody else", async () => {
    const inv = await newInvoice(t, finance, acme, '42.00');
    const pay = (await record(t, finance, { amount: '42.00', customerId: acme, reference: 'BANK-REF-77' })).json<{ id: string; receiptNumber: string }>();
    expect((await api(t, finance, 'POST', `/api/v1/payments/${pay.id}/allocate`, { allocations: [{ invoiceId: inv.id, amount: '42.00' }] })).statusCode).toBe(200);

    const detail = (await api(t, acmeOwner, 'GET', `/api/v1/portal/invoices/${inv.id}`)).json<Detail>();
    const line = detail.payments.find((p) => p.source === 'allocation')!;
    expect(line.amount).toBe('42.00');
    const url = `/api/v1/portal/invoices/${inv.id}/payments/${line.id}/receipt.pdf`;
    for (const who of [acmeOwner, acmeMember]) {
      const res = await api(t, who, 'GET', url);
      expect(res.statusCode, res.body.slice(0, 200)).toBe(200);
      expect(res.headers['content-type']).toBe('application/pdf');
      expect(res.headers['content-disposition']).toBe(`attachment; filename="${pay.receiptNumber}.pdf"`);
      const { text } = await pdfText(res.rawPayload);
      expect(text).toContain(pay.receiptNumber);
      expect(text).toContain('BANK-REF-77');
      expect(text).toContain(inv.number!);
      expect(text).toContain('42.00');
    }
    // Another organisation: not found, whether through its own view of the invoice or not.
    expect((await api(t, globexOwner, 'GET', url)).statusCode).toBe(404);
    // Staff use the Finance app's route, not the portal's.
    expect((await api(t, finance, 'GET', url)).statusCode).toBe(403);
    // With the Invoices tab hidden in Portal Settings, the receipt goes with it.
    const demo = await partnerIdOf(t.db, 'demo-telecom');
    await sql`update partner_settings set portal_tabs = portal_tabs || '{"invoices": false}'::jsonb where partner_id = ${demo}`.execute(t.db.owner.db);
    forgetPortalTabs(t.db.app.db, demo); // as another server process would see it, at the latest after PORTAL_TABS_CACHE_MS
    try {
      const hidden = await api(t, acmeOwner, 'GET', url);
      expect(hidden.statusCode).toBe(403);
      expect(hidden.json().code).toBe('tab_hidden');
    } finally {
      await sql`update partner_settings set portal_tabs = portal_tabs || '{"invoices": true}'::jsonb where partner_id = ${demo}`.execute(t.db.owner.db);
      forgetPortalTabs(t.db.app.db, demo); // as another server process would see it, at the latest after PORTAL_TABS_CACHE_MS
    }
    expect((await api(t, acmeOwner, 'GET', url)).statusCode).toBe(200);
  });

  it('a payment that also bought points: the owner gets its receipt, a member does not (it shows company credits: 404)', async () => {
    const inv = await newInvoice(t, finance, acme, '10.00');
    const pay = (await record(t, finance, { amount: '15.00', customerId: acme, reference: 'BANK-REF-88' })).json<{ id: string }>();
    const allocated = await api(t, finance, 'POST', `/api/v1/payments/${pay.id}/allocate`, { allocations: [{ invoiceId: inv.id, amount: '10.00' }], leftover: 'points' });
    expect(allocated.statusCode, allocated.body).toBe(200);
    const line = (await api(t, acmeOwner, 'GET', `/api/v1/portal/invoices/${inv.id}`)).json<Detail>().payments.find((p) => p.source === 'allocation')!;
    const url = `/api/v1/portal/invoices/${inv.id}/payments/${line.id}/receipt.pdf`;
    expect((await api(t, acmeOwner, 'GET', url)).statusCode).toBe(200);
    expect((await api(t, acmeMember, 'GET', url)).statusCode).toBe(404);
  });

  it('a payment with money kept as credit, or reversed: the owner gets its receipt, a member does not (404)', async () => {
    const inv = await newInvoice(t, finance, acme, '20.00');
    const pay = (await record(t, finance, { amount: '25.50', customerId: acme })).json<{ id: string }>();
    expect((await api(t, finance, 'POST', `/api/v1/payments/${pay.id}/allocate`, { allocations: [{ invoiceId: inv.id, amount: '20.00' }] })).statusCode).toBe(200);
    const line = (await api(t, acmeOwner, 'GET', `/api/v1/portal/invoices/${inv.id}`)).json<Detail>().payments.find((p) => p.source === 'allocation')!;
    const url = `/api/v1/portal/invoices/${inv.id}/payments/${line.id}/receipt.pdf`;
    const owners = await api(t, acmeOwner, 'GET', url);
    expect(owners.statusCode).toBe(200);
    expect((await pdfText(owners.rawPayload)).text).toContain('Unapplied (kept as credit) SGD 5.50');
    expect((await api(t, acmeMember, 'GET', url)).statusCode).toBe(404);

    // Wholly applied, then reversed: the member had it, and no longer does.
    const inv2 = await newInvoice(t, finance, acme, '8.00');
    const pay2 = (await record(t, finance, { amount: '8.00', customerId: acme })).json<{ id: string }>();
    expect((await api(t, finance, 'POST', `/api/v1/payments/${pay2.id}/allocate`, { allocations: [{ invoiceId: inv2.id, amount: '8.00' }] })).statusCode).toBe(200);
    const line2 = (await api(t, acmeOwner, 'GET', `/api/v1/portal/invoices/${inv2.id}`)).json<Detail>().payments.find((p) => p.source === 'allocation')!;
    const url2 = `/api/v1/portal/invoices/${inv2.id}/payments/${line2.id}/receipt.pdf`;
    expect((await api(t, acmeMember, 'GET', url2)).statusCode).toBe(200);
    expect((await api(t, finance, 'POST', `/api/v1/payments/${pay2.id}/reverse`, { reason: 'Cheque bounced' })).statusCode).toBe(200);
    expect((await api(t, acmeMember, 'GET', url2)).statusCode).toBe(404);
  });

  it('is 404 for a payment by card from the portal (no receipt), for an id of another invoice, and 400 for a malformed id', async () => {
    const inv = await newInvoice(t, finance, acme, '3.00');
    const other = await newInvoice(t, finance, acme, '4.00');
    const pay = (await record(t, finance, { amount: '4.00', customerId: acme })).json<{ id: string }>();
    expect((await api(t, finance, 'POST', `/api/v1/payments/${pay.id}/allocate`, { allocations: [{ invoiceId: other.id, amount: '4.00' }] })).statusCode).toBe(200);
    const otherLine = (await api(t, acmeOwner, 'GET', `/api/v1/portal/invoices/${other.id}`)).json<Detail>().payments[0]!;
    // The right payment line, asked for through the wrong invoice.
    expect((await api(t, acmeOwner, 'GET', `/api/v1/portal/invoices/${inv.id}/payments/${otherLine.id}/receipt.pdf`)).statusCode).toBe(404);
    const paid = await api(t, acmeOwner, 'POST', `/api/v1/portal/invoices/${inv.id}/pay`, { cardToken: 'tok_sandbox_success', usePoints: false });
    expect(paid.statusCode, paid.body).toBe(200);
    const cardLine = (await api(t, acmeOwner, 'GET', `/api/v1/portal/invoices/${inv.id}`)).json<Detail>().payments.find((p) => p.source === 'card')!;
    expect((await api(t, acmeOwner, 'GET', `/api/v1/portal/invoices/${inv.id}/payments/${cardLine.id}/receipt.pdf`)).statusCode).toBe(404);
    const bad = await api(t, acmeOwner, 'GET', `/api/v1/portal/invoices/${inv.id}/payments/not%20an%20id/receipt.pdf`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].path).toBe('invoicePaymentId');
  });
});
