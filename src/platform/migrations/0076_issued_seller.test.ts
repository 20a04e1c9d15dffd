import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { api, createTestApp, customerIdOf, partnerIdOf, signIn, type TestApp } from '../../test/harness.ts';
import { tinyPng } from '../../invoices/audit-scenarios.ts';
import { newInvoice, record } from '../../payments/payments.test-kit.ts';
import { snapshotIssuedSellers } from './0076_issued_seller.ts';

// Migration 0076 gives what was issued before it the partner's settings as they are (the best knowledge there is). The
// documents are made, put back the way they were before 0076 (no snapshot), and snapshotted again.

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

describe('migration 0076: issued documents before it take the current seller', () => {
  it('fills issued invoices, issued credit notes and payments from the current settings and logo; drafts stay without', async () => {
    const [admin, finance] = await Promise.all([signIn(t, 'admin@demo.test'), signIn(t, 'finance@demo.test')]);
    const acme = await customerIdOf(t.db, 'Acme Pte Ltd');
    const demo = await partnerIdOf(t.db, 'demo-telecom');
    const issued = await newInvoice(t, admin, acme, '60.00');
    const draft = await newInvoice(t, admin, acme, '6.00', { issue: false });
    const cn = await api(t, finance, 'POST', '/api/v1/credit-notes', { invoiceId: issued.id, mode: 'amount', amount: '6.00', reason: 'other', outcome: 'reduce_due', issue: true });
    expect(cn.statusCode, cn.body).toBe(201);
    const pay = await record(t, finance, { amount: '7.00', customerId: acme });
    expect(pay.statusCode, pay.body).toBe(201);

    const o = t.db.owner.db;
    // Before 0076: no snapshot anywhere.
    await sql`
      alter table invoices disable trigger invoices_guard;
      alter table credit_notes disable trigger credit_notes_guard;
      alter table payments disable trigger payments_guard;
      alter table invoices drop constraint invoices_issued_seller;
      alter table credit_notes drop constraint credit_notes_issued_seller;
      alter table payments alter column seller drop not null;
      update invoices set seller = null, seller_logo_sha256 = null;
      update credit_notes set seller = null, seller_logo_sha256 = null;
      update payments set seller = null, seller_logo_sha256 = null;
      alter table invoices enable trigger invoices_guard;
      alter table credit_notes enable trigger credit_notes_guard;
      alter table payments enable trigger payments_guard;
    `.execute(o);
    // The settings as they are when the migration runs.
    const logo = tinyPng([10, 20, 30]);
    await sql`update partner_settings set invoice_legal_name = 'At Migration Pte Ltd', invoice_tax_id = 'MIG-1', invoice_logo = ${logo},
      invoice_logo_type = 'image/png' where partner_id = ${demo}`.execute(o);

    await snapshotIssuedSellers(o);

    const hash = createHash('sha256').update(logo).digest('hex');
    const expected = { seller: expect.objectContaining({ legalName: 'At Migration Pte Ltd', taxId: 'MIG-1' }), sellerLogoSha256: hash };
    const of = (table: 'invoices' | 'creditNotes' | 'payments', id: string) =>
      o.selectFrom(table).select(['seller', 'sellerLogoSha256']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(await of('invoices', issued.id)).toEqual(expected);
    expect(await of('creditNotes', cn.json<{ id: string }>().id)).toEqual(expected);
    expect(await of('payments', pay.json<{ id: string }>().id)).toEqual(expected);
    expect(await of('invoices', draft.id)).toEqual({ seller: null, sellerLogoSha256: null });
    // The logo named is a kept version (written by the partner_settings trigger as the logo was stored).
    expect(await o.selectFrom('invoiceLogoVersions').select('sha256').where('partnerId', '=', demo).where('sha256', '=', hash).executeTakeFirst()).toBeTruthy();
    // Nothing issued is left without: the constraints hold again.
    await sql`
      alter table invoices add constraint invoices_issued_seller check (status = 'draft' or seller is not null);
      alter table credit_notes add constraint credit_notes_issued_seller check (status <> 'issued' or seller is not null);
      alter table payments alter column seller set not null;
    `.execute(o);
  });
});
