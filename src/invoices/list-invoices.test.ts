import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestApp, customerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';
import { pdfText } from './pdf/pdf-text.ts';
import { tinyPng } from './audit-scenarios.ts';

let t: TestApp;
let admin: Session;
let acme: string;
let globex: string;
const made: Record<string, { id: string; number: string | null }> = {};

async function create(key: string, body: Record<string, unknown>) {
  const res = await api(t, admin, 'POST', '/api/v1/invoices', body);
  expect(res.statusCode, res.body).toBe(201);
  made[key] = res.json();
  return res.json();
}

beforeAll(async () => {
  t = await createTestApp();
  admin = await signIn(t, 'admin@demo.test');
  acme = await customerIdOf(t.db, 'Acme Pte Ltd');
  globex = await customerIdOf(t.db, 'Globex Sdn Bhd');
  t.clock.set(new Date('2026-10-05T08:00:00Z'));
  await create('octPurchase', { customerId: acme, type: 'purchase', issue: true, dueDays: 14, lines: [{ description: 'October work', unitPrice: '100' }] });
  t.clock.set(new Date('2026-11-02T08:00:00Z'));
  await create('novTopUp', { customerId: acme, type: 'top_up', issue: true, lines: [{ description: 'Points', unitPrice: '50' }] });
  await create('globexPurchase', { customerId: globex, type: 'purchase', issue: true, dueDays: 30, lines: [{ description: 'Support, "priority"', unitPrice: '10' }] });
  await create('acmeDraft', { customerId: acme, type: 'purchase', lines: [{ description: '=1+1 sneaky', unitPrice: '1' }] });
  t.clock.set(new Date('2026-11-30T08:00:00Z'));
});
afterAll(async () => t.close());

const list = async (query = '', who: Session = admin) => {
  const res = await api(t, who, 'GET', `/api/v1/invoices${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ data: { id: string; number: string | null; status: string; overdue: boolean; customer: { name: string } }[]; nextCursor: string | null }>();
};
const ids = (page: { data: { id: string }[] }) => page.data.map((r) => r.id);

describe('GET /api/v1/invoices (listInvoices)', () => {
  it('lists every invoice of the partner, newest first, drafts included, with the customer\'s name', async () => {
    const page = await list();
    expect(ids(page)).toEqual([made.acmeDraft!.id, made.globexPurchase!.id, made.novTopUp!.id, made.octPurchase!.id]);
    expect(page.data[1]).toMatchObject({ customer: { name: 'Globex Sdn Bhd' }, status: 'awaiting_payment', currency: 'MYR', total: '10.90' });
    expect(page.nextCursor).toBeNull();
  });

  it('filters by type, status, customer, issue dates and overdue (by the clock), combined', async () => {
    expect(ids(await list('?type=top_up'))).toEqual([made.novTopUp!.id]);
    expect(ids(await list('?status=draft'))).toEqual([made.acmeDraft!.id]);
    expect(ids(await list(`?customerId=${globex}`))).toEqual([made.globexPurchase!.id]);
    expect(ids(await list('?issuedFrom=2026-11-01'))).toEqual([made.globexPurchase!.id, made.novTopUp!.id]);
    expect(ids(await list('?issuedTo=2026-10-05'))).toEqual([made.octPurchase!.id]);
    expect(ids(await list('?issuedFrom=2026-10-06&issuedTo=2026-11-01'))).toEqual([]);
    const overdue = await list('?overdue=true');
    expect(ids(overdue)).toEqual([made.novTopUp!.id, made.octPurchase!.id]); // Top-up due after the partner's 14 days; Globex's in 30
    expect(overdue.data.every((r) => r.overdue)).toBe(true);
    expect(ids(await list(`?overdue=true&type=purchase&customerId=${acme}`))).toEqual([made.octPurchase!.id]);
    expect((await list()).data.find((r) => r.id === made.globexPurchase!.id)!.overdue).toBe(false);
  });

  it('counts an invoice overdue from the day after its due date (UTC), not from the hour it was issued', async () => {
    // The top-up was issued on 2 November at 08:00 with 14 days: due on 16 November, printed as that day.
    try {
      t.clock.set(new Date('2026-11-16T23:59:59Z'));
      expect(ids(await list('?overdue=true'))).toEqual([made.octPurchase!.id]);
      expect((await api(t, admin, 'GET', `/api/v1/invoices/${made.novTopUp!.id}`)).json()).toMatchObject({ dueAt: '2026-11-16T08:00:00.000Z', overdue: false });
      t.clock.set(new Date('2026-11-17T00:00:00Z'));
      expect(ids(await list('?overdue=true'))).toEqual([made.novTopUp!.id, made.octPurchase!.id]);
      expect((await api(t, admin, 'GET', `/api/v1/invoices/${made.novTopUp!.id}`)).json().overdue).toBe(true);
    } finally {
      t.clock.set(new Date('2026-11-30T08:00:00Z'));
    }
  });

  it('q matches part of a number (any case: its sequence digits alone will do) or part of the customer\'s name', async () => {
    const number = made.octPurchase!.number!;
    expect(ids(await list(`?q=${encodeURIComponent(number.toLowerCase())}`))).toEqual([made.octPurchase!.id]);
    expect(ids(await list('?q=top-'))).toEqual([made.novTopUp!.id]);
    expect(ids(await list('?q=GLOBEX'))).toEqual([made.globexPurchase!.id]);
    expect(ids(await list('?q=bex%20sdn'))).toEqual([made.globexPurchase!.id]);
    expect(ids(await list('?q=%25'))).toEqual([]);
    expect(ids(await list(`?q=${number.slice(4)}`))).toContain(made.octPurchase!.id); // "2026-000002" (a Top-up invoice may share it)
    expect(ids(await list(`?q=${number.slice(-6)}`))).toContain(made.octPurchase!.id); // "000002", as people read it off a PDF
    expect(ids(await list('?q=999999'))).toEqual([]);
  });

  it('pages by keyset with limit and cursor', async () => {
    const first = await list('?limit=3');
    expect(first.data).toHaveLength(3);
    const second = await list(`?limit=3&cursor=${first.nextCursor}`);
    expect(ids(second)).toEqual([made.octPurchase!.id]);
    expect(second.nextCursor).toBeNull();
  });

  it('refuses bad filters naming the field', async () => {
    for (const [query, path] of [['?limit=0', 'limit'], ['?limit=201', 'limit'], ['?status=late', 'status'], ['?issuedFrom=2026-13-01', 'issuedFrom'],
      ['?overdue=yes', 'overdue'], ['?cursor=abc', 'cursor'], ['?customerId=x', 'customerId'], ['?colour=red', 'colour']] as const) {
      const res = await api(t, admin, 'GET', `/api/v1/invoices${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().errors.map((e: { path: string }) => e.path), query).toContain(path);
    }
    // Days in the wrong order: well-formed, against a rule (docs/adr/0040).
    const order = await api(t, admin, 'GET', '/api/v1/invoices?issuedFrom=2026-11-02&issuedTo=2026-11-01');
    expect(order.statusCode).toBe(422);
    expect(order.json()).toMatchObject({ code: 'rule_violation', errors: [{ path: 'issuedTo', message: 'must not be before issuedFrom' }] });
  });

  it('streams every matching invoice as CSV (?format=csv or Accept: text/csv), formula cells guarded', async () => {
    const res = await api(t, admin, 'GET', '/api/v1/invoices?format=csv&customerId=' + acme);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/csv');
    expect(res.headers['content-disposition']).toMatch(/attachment; filename="invoices-2026-11-30\.csv"/);
    const rows = res.body.trim().split('\r\n');
    expect(rows[0]).toBe('number,id,type,status,overdue,customerId,customer,currency,subtotal,discount,tax,total,amountPaid,amountCredited,amountRefunded,amountCreditedToPoints,amountDue,issuedAt,dueAt,paidAt,voidedAt,createdAt');
    expect(rows).toHaveLength(4);
    expect(rows[3]).toContain(`${made.octPurchase!.number},${made.octPurchase!.id},purchase,awaiting_payment,true,${acme},Acme Pte Ltd,SGD,100.00,0.00,9.00,109.00,0.00,0.00,0.00,0.00,109.00`);
    const accept = await t.app.inject({ method: 'GET', url: '/api/v1/invoices', headers: { ...admin.headers, accept: 'text/csv' } });
    expect(accept.body.trim().split('\r\n')).toHaveLength(5);
  });

  it('shows only the partner\'s own invoices', async () => {
    const north = await signIn(t, 'admin@northwind.test');
    expect((await list('', north)).data).toEqual([]);
    expect((await api(t, north, 'GET', `/api/v1/invoices/${made.octPurchase!.id}`)).statusCode).toBe(404);
    expect((await api(t, north, 'GET', `/api/v1/invoices/${made.octPurchase!.id}/pdf`)).statusCode).toBe(404);
  });
});

describe('GET /api/v1/invoices/:id and PATCH (getInvoice, updateInvoice)', () => {
  it('a draft has an ETag; PATCH with a stale one is 412 and writes nothing; lines are replaced as a whole', async () => {
    const id = made.acmeDraft!.id;
    const got = await api(t, admin, 'GET', `/api/v1/invoices/${id}`);
    const etag = got.headers.etag as string;
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    const update = (body: unknown, ifMatch?: string) => t.app.inject({ method: 'PATCH', url: `/api/v1/invoices/${id}`, headers: { ...admin.headers, ...(ifMatch ? { 'if-match': ifMatch } : {}) }, payload: body as object });
    const changed = await update({ lines: [{ description: 'Replaced', quantity: '0.25', unitPrice: '19.99', discount: '0.50' }], notes: 'Net 7', dueDays: 7 }, etag);
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({ notes: 'Net 7', subtotal: '4.50', tax: '0.41', total: '4.91', lines: [expect.objectContaining({ description: 'Replaced', quantity: '0.25', gross: '5.00', discount: '0.50' })] });
    expect(changed.headers.etag).not.toBe(etag);
    const stale = await update({ notes: 'Late' }, etag);
    expect(stale.statusCode).toBe(412);
    expect(stale.json().code).toBe('precondition_failed');
    const cleared = await update({ notes: null, dueDays: null }, changed.headers.etag);
    expect(cleared.json().notes).toBeNull();
    const bad = await update({ lines: [{ description: 'x', unitPrice: '1', discount: '2' }] });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().errors[0].path).toBe('lines.0.discount');
    expect((await update({ notes: '' })).json().errors[0].path).toBe('notes');
    const row = await t.db.owner.db.selectFrom('invoices').select(['dueDays', 'notes']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toEqual({ dueDays: null, notes: null });
    const audits = await t.db.owner.db.selectFrom('auditEvents').select('action').where('targetId', '=', id).where('action', '=', 'invoice.updated').execute();
    expect(audits).toHaveLength(2);
  });

  it('an issued invoice has no ETag', async () => {
    const res = await api(t, admin, 'GET', `/api/v1/invoices/${made.octPurchase!.id}`);
    expect(res.headers.etag).toBeUndefined();
    expect(res.json()).toMatchObject({ number: made.octPurchase!.number, overdue: true, amountDue: '109.00', payments: [] });
  });
});

describe('GET /api/v1/invoices/:id/pdf (getInvoicePdf)', () => {
  it('the PDF carries the number, lines and totals the screen shows; named after the number (or the draft id)', async () => {
    await api(t, admin, 'PUT', '/api/v1/settings/invoicing', { legalName: 'Demo Telecom Pte Ltd', taxId: '201912345K', paymentInstructions: 'Bank transfer to DBS 123-456789-0' });
    await t.app.inject({ method: 'PUT', url: '/api/v1/settings/invoicing/logo', headers: { ...admin.headers, 'content-type': 'image/png' }, payload: tinyPng() });
    const res = await api(t, admin, 'GET', `/api/v1/invoices/${made.octPurchase!.id}/pdf`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="${made.octPurchase!.number}.pdf"`);
    const { text } = await pdfText(res.rawPayload);
    expect(text).toContain(made.octPurchase!.number!);
    expect(text).toContain('October work');
    expect(text).toContain('109.00');
    // The seller it was issued by (the demo's settings then), not the settings changed since (docs/adr/0046).
    expect(text).toContain('Demo Telecom Pte Ltd');
    expect(text).toContain('M2-1234567-8');
    expect(text).toContain('DBS 012-345678-9');
    expect(text).not.toContain('201912345K');
    const draft = await api(t, admin, 'GET', `/api/v1/invoices/${made.acmeDraft!.id}/pdf`);
    expect(draft.statusCode).toBe(200);
    expect(draft.headers['content-disposition']).toBe(`attachment; filename="${made.acmeDraft!.id}.pdf"`);
    // A draft previews the current settings.
    const preview = (await pdfText(draft.rawPayload)).text;
    expect(preview).toContain('201912345K');
    expect(preview).toContain('Bank transfer to DBS 123-456789-0');
  });
});
