import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { api, createTestApp, customerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';
import { pdfText } from './pdf/pdf-text.ts';

// Every issued invoice keeps whom it was addressed to (migration 0077, docs/adr/0046 amendment): an invoice issued at
// once (a subscription sold, here) as well as a draft issued from the Invoice app.

let t: TestApp;
let admin: Session;
let finance: Session;
let globex: string;
beforeAll(async () => {
  t = await createTestApp();
  admin = await signIn(t, 'admin@demo.test');
  finance = await signIn(t, 'finance@demo.test');
  globex = await customerIdOf(t.db, 'Acme Pte Ltd');
});
afterAll(async () => t.close());

const contact = (name: string, email: string) => api(t, admin, 'PATCH', `/api/v1/customers/${globex}`, { billingContact: { name, email, phone: null, address: `${name} street 1` } });

describe('an issued invoice keeps its bill-to', () => {
  it('an invoice issued at once keeps the billing contact it was issued to, on its page and its PDF, and it never changes', async () => {
    expect((await contact('Gabriel Old', 'old-ap@globex.test')).statusCode).toBe(200);
    expect((await api(t, finance, 'POST', `/api/v1/customers/${globex}/points/issue`, { amount: '500.00', reason: 'for a purchase' })).statusCode).toBe(200);
    const price = (await t.db.owner.db.selectFrom('productPrices as pr').innerJoin('productVariants as v', 'v.id', 'pr.variantId')
      .select('pr.id').where('pr.currency', '=', 'SGD').limit(1).executeTakeFirst())?.id;
    expect(price, 'an SGD price in the demo catalog').toBeTruthy();
    const sold = await api(t, admin, 'POST', `/api/v1/customers/${globex}/subscriptions`, { priceId: price });
    expect(sold.statusCode, sold.body).toBe(201);
    const invoiceId = sold.json().invoice.id as string;
    const stored = await t.db.owner.db.selectFrom('invoices').select('billTo').where('id', '=', invoiceId).executeTakeFirstOrThrow();
    expect(stored.billTo).toMatchObject({ name: 'Gabriel Old', email: 'old-ap@globex.test' });

    expect((await contact('Nadia New', 'new-ap@globex.test')).statusCode).toBe(200);
    const detail = (await api(t, admin, 'GET', `/api/v1/invoices/${invoiceId}`)).json();
    expect(detail.billTo).toMatchObject({ name: 'Gabriel Old', email: 'old-ap@globex.test', address: 'Gabriel Old street 1' });
    const pdf = await t.app.inject({ method: 'GET', url: `/api/v1/invoices/${invoiceId}/pdf`, headers: admin.headers });
    expect(pdf.statusCode).toBe(200);
    const { text } = await pdfText(pdf.rawPayload);
    expect(text).toContain('Gabriel Old');
    expect(text).not.toContain('Nadia New');

    // Once issued it never changes, even written around the code.
    await expect(sql`update invoices set bill_to = '{"name":"Someone else","email":null,"phone":null,"address":null}' where id = ${invoiceId}`.execute(t.db.owner.db))
      .rejects.toThrow();
    // An issued invoice always has one.
    await expect(sql`update invoices set bill_to = null where id = ${invoiceId}`.execute(t.db.owner.db)).rejects.toThrow();
  });
});
