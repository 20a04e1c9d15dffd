import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { api, createTestApp, customerIdOf, partnerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';
import { inScope } from '../platform/database.ts';
import { pdfText } from './pdf/pdf-text.ts';
import { tinyPng } from './audit-scenarios.ts';
import { loadInvoiceLogoOf } from './invoice-views.ts';
import { newInvoice, record } from '../payments/payments.test-kit.ts';

// An issued document keeps the seller it was issued by (docs/adr/0046, migration 0076): changing Portal Settings >
// Invoicing (and the partner's name, and its logo) changes new invoices and drafts, never an issued invoice, its PDF, its
// portal view, a payment's receipt or a credit note issued before.

let t: TestApp;
let admin: Session;
let finance: Session;
let acmeOwner: Session;
let acme: string;
let demo: string;
let demoName: string;

const OLD = {
  legalName: 'Old Legal Name Pte Ltd', address: '1 Old Road\nSingapore 100001', taxId: 'OLD-TAX-111', email: 'old-billing@seller.test',
  paymentInstructions: 'Transfer to OLD-BANK 111-222',
};
const NEW = {
  legalName: 'New Legal Name Holdings Ltd', address: '9 New Avenue\nSingapore 900009', taxId: 'NEW-TAX-999', email: 'new-billing@seller.test',
  paymentInstructions: 'PayNow UEN NEW-999',
};
const oldLogo = tinyPng([200, 30, 30]);
const newLogo = tinyPng([30, 200, 30]);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const putSettings = async (body: Record<string, unknown>) => {
  const res = await t.app.inject({ method: 'PUT', url: '/api/v1/settings/invoicing', headers: admin.headers, payload: body });
  expect(res.statusCode, res.body).toBe(200);
};
const putLogo = async (data: Buffer) => {
  const res = await t.app.inject({ method: 'PUT', url: '/api/v1/settings/invoicing/logo', headers: { ...admin.headers, 'content-type': 'image/png' }, payload: data });
  expect(res.statusCode, res.body).toBe(200);
};
const textOf = async (res: { statusCode: number; body: string; rawPayload: Buffer }) => {
  expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
  return (await pdfText(res.rawPayload)).text;
};
/** The PDF text names every old detail and none of the new ones. */
const expectOld = (text: string, opts: { howToPay: boolean } = { howToPay: true }) => {
  for (const s of [OLD.legalName, '1 Old Road', OLD.taxId, OLD.email, ...(opts.howToPay ? [OLD.paymentInstructions] : [])]) expect(text).toContain(s);
  for (const s of [NEW.legalName, '9 New Avenue', NEW.taxId, NEW.email, NEW.paymentInstructions]) expect(text).not.toContain(s);
};
const logoOf = (invoiceId: string) => inScope(t.db.app.db, { kind: 'partner', partnerId: demo }, (trx) => loadInvoiceLogoOf(trx, demo, invoiceId));

beforeAll(async () => {
  t = await createTestApp();
  [admin, finance, acmeOwner] = await Promise.all([signIn(t, 'admin@demo.test'), signIn(t, 'finance@demo.test'), signIn(t, 'owner@acme.test')]);
  acme = await customerIdOf(t.db, 'Acme Pte Ltd');
  demo = await partnerIdOf(t.db, 'demo-telecom');
  demoName = (await t.db.owner.db.selectFrom('partners').select('name').where('id', '=', demo).executeTakeFirstOrThrow()).name;
});
afterAll(async () => {
  await sql`update partners set name = ${demoName} where id = ${demo}`.execute(t.db.owner.db);
  await t.close();
});

describe('issued documents keep their seller (docs/adr/0046)', () => {
  let issued: { id: string; number: string | null };
  let draft: { id: string };
  let paymentId: string;
  let creditNote: { id: string; number: string };

  it('an invoice, a receipt and a credit note issued before a change of every invoicing setting still show the old seller', async () => {
    await putSettings(OLD);
    await putLogo(oldLogo);
    issued = await newInvoice(t, admin, acme, '100.00');
    draft = await newInvoice(t, admin, acme, '30.00', { issue: false });
    const credited = await newInvoice(t, admin, acme, '50.00');
    const cn = await api(t, finance, 'POST', '/api/v1/credit-notes', { invoiceId: credited.id, mode: 'amount', amount: '10.00', reason: 'billing_error', outcome: 'reduce_due', issue: true });
    expect(cn.statusCode, cn.body).toBe(201);
    creditNote = cn.json();
    const pay = await record(t, finance, { amount: '20.00', customerId: acme, reference: 'SELLER-SNAP-1' });
    expect(pay.statusCode, pay.body).toBe(201);
    paymentId = pay.json<{ id: string }>().id;

    // Every invoicing detail changes, the logo, and the partner's (trading) name.
    await putSettings(NEW);
    await putLogo(newLogo);
    await sql`update partners set name = 'Renamed Telecom' where id = ${demo}`.execute(t.db.owner.db);

    // The invoice's API detail (admin and portal).
    const oldSeller = { name: demoName, ...OLD, hasLogo: true };
    expect((await api(t, admin, 'GET', `/api/v1/invoices/${issued.id}`)).json().seller).toEqual(oldSeller);
    expect((await api(t, acmeOwner, 'GET', `/api/v1/portal/invoices/${issued.id}`)).json().seller).toEqual(oldSeller);
    // Its PDF (admin and portal): the seller block and "How to pay", and the logo it was issued with.
    expectOld(await textOf(await api(t, admin, 'GET', `/api/v1/invoices/${issued.id}/pdf`)));
    expectOld(await textOf(await api(t, acmeOwner, 'GET', `/api/v1/portal/invoices/${issued.id}/pdf`)));
    expect((await logoOf(issued.id))?.data.equals(oldLogo)).toBe(true);
    // Sent again: from the seller it names.
    const resent = await api(t, admin, 'POST', `/api/v1/invoices/${issued.id}/resend`);
    expect(resent.statusCode, resent.body).toBe(202);
    const notice = await t.db.owner.db.selectFrom('notifications').select('subject').where('id', '=', resent.json<{ notificationId: string }>().notificationId).executeTakeFirstOrThrow();
    expect(notice.subject).toContain(`from ${demoName}:`);

    // The payment's receipt (recorded before) and the credit note (issued before).
    const receipt = await textOf(await api(t, finance, 'GET', `/api/v1/payments/${paymentId}/receipt.pdf`));
    expectOld(receipt, { howToPay: false });
    expect(receipt).toContain('SELLER-SNAP-1');
    const credit = await textOf(await api(t, finance, 'GET', `/api/v1/credit-notes/${creditNote.id}/pdf`));
    expectOld(credit, { howToPay: false });
    expect(credit).toContain(creditNote.number);
    expectOld(await textOf(await api(t, acmeOwner, 'GET', `/api/v1/portal/credit-notes/${creditNote.id}/pdf`)), { howToPay: false });
  });

  it('a new invoice, a draft\'s preview, a draft issued now and a new receipt show the new seller', async () => {
    const newSeller = { name: 'Renamed Telecom', ...NEW, hasLogo: true };
    const fresh = await newInvoice(t, admin, acme, '40.00');
    expect((await api(t, admin, 'GET', `/api/v1/invoices/${fresh.id}`)).json().seller).toEqual(newSeller);
    const text = await textOf(await api(t, admin, 'GET', `/api/v1/invoices/${fresh.id}/pdf`));
    for (const s of [NEW.legalName, '9 New Avenue', NEW.taxId, NEW.email, NEW.paymentInstructions]) expect(text).toContain(s);
    expect(text).not.toContain(OLD.legalName);
    expect((await logoOf(fresh.id))?.data.equals(newLogo)).toBe(true);

    // The draft made before the change previews the current settings, and takes them when issued.
    expect((await api(t, admin, 'GET', `/api/v1/invoices/${draft.id}`)).json().seller).toEqual(newSeller);
    expect((await logoOf(draft.id))?.data.equals(newLogo)).toBe(true);
    const issuedNow = await api(t, admin, 'POST', `/api/v1/invoices/${draft.id}/issue`);
    expect(issuedNow.statusCode, issuedNow.body).toBe(200);
    expect(issuedNow.json().seller).toEqual(newSeller);

    const pay = await record(t, finance, { amount: '5.00', customerId: acme });
    const receipt = await textOf(await api(t, finance, 'GET', `/api/v1/payments/${pay.json<{ id: string }>().id}/receipt.pdf`));
    expect(receipt).toContain(NEW.legalName);
    expect(receipt).not.toContain(OLD.legalName);

    // The logo removed: new invoices have none; the one issued with the old logo keeps it.
    expect((await t.app.inject({ method: 'DELETE', url: '/api/v1/settings/invoicing/logo', headers: admin.headers })).statusCode).toBe(200);
    const plain = await newInvoice(t, admin, acme, '1.00');
    expect((await api(t, admin, 'GET', `/api/v1/invoices/${plain.id}`)).json().seller.hasLogo).toBe(false);
    expect(await logoOf(plain.id)).toBeNull();
    expect((await api(t, admin, 'GET', `/api/v1/invoices/${issued.id}`)).json().seller.hasLogo).toBe(true);
    expect((await logoOf(issued.id))?.data.equals(oldLogo)).toBe(true);
  });

  it('every logo uploaded is kept by its hash, and the snapshot of an issued document never changes, not even by the owner', async () => {
    const o = t.db.owner.db;
    const versions = await o.selectFrom('invoiceLogoVersions').select(['sha256', 'type']).where('partnerId', '=', demo).orderBy('createdAt').execute();
    expect(versions.map((v) => v.sha256)).toEqual(expect.arrayContaining([sha(oldLogo), sha(newLogo)]));
    const row = await o.selectFrom('invoices').select(['seller', 'sellerLogoSha256']).where('id', '=', issued.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ seller: { name: demoName, ...OLD }, sellerLogoSha256: sha(oldLogo) });

    const refused = async (statement: ReturnType<typeof sql>, message: RegExp) => {
      await expect(statement.execute(o)).rejects.toThrow(message);
    };
    await refused(sql`update invoices set seller = seller || '{"legalName": "Forged Ltd"}' where id = ${issued.id}`, /keeps the seller it was issued by/);
    await refused(sql`update invoices set seller_logo_sha256 = ${sha(newLogo)} where id = ${issued.id}`, /keeps the seller it was issued by/);
    await refused(sql`update invoices set seller = null where id = ${issued.id}`, /keeps the seller it was issued by/);
    await refused(sql`update credit_notes set seller = seller || '{"taxId": "FORGED"}' where id = ${creditNote.id}`, /is issued, and is never changed again/);
    await refused(sql`update payments set seller = seller || '{"taxId": "FORGED"}' where id = ${paymentId}`, /keeps its amount, method, day, reference, receipt number, seller/);
    await refused(sql`update payments set seller_logo_sha256 = null where id = ${paymentId}`, /keeps its amount, method, day, reference, receipt number, seller/);
    // A version is never changed or removed by the app, and a document names only a logo that was uploaded.
    await expect(sql`delete from invoice_logo_versions where partner_id = ${demo}`.execute(t.db.app.db)).rejects.toThrow(/permission denied/);
    const another = await newInvoice(t, admin, acme, '2.00', { issue: false });
    await expect(sql`update invoices set seller_logo_sha256 = ${'0'.repeat(64)} where id = ${another.id}`.execute(o)).rejects.toThrow(/foreign key/);
    // Every issued invoice has its seller (a check constraint); a draft has none until it is issued.
    const missing = await o.selectFrom('invoices').select('id').where('status', '<>', 'draft').where('seller', 'is', null).execute();
    expect(missing).toEqual([]);
  });
});
