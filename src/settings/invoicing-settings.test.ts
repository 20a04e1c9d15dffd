import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { api, auditEventsOf, createTestApp, customerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';
import { tinyPng } from '../invoices/audit-scenarios.ts';
import { imageTypeOf, LOGO_MAX_BYTES } from './invoicing-settings.ts';

let t: TestApp;
let admin: Session;

beforeAll(async () => {
  t = await createTestApp();
  admin = await signIn(t, 'admin@demo.test');
});
afterAll(async () => t.close());

const put = (body: unknown, ifMatch?: string, who: Session = admin) =>
  t.app.inject({ method: 'PUT', url: '/api/v1/settings/invoicing', headers: { ...who.headers, ...(ifMatch ? { 'if-match': ifMatch } : {}) }, payload: body as object });
const putLogo = (data: Buffer, contentType: string, who: Session = admin) =>
  t.app.inject({ method: 'PUT', url: '/api/v1/settings/invoicing/logo', headers: { ...who.headers, 'content-type': contentType }, payload: data });
const jpeg = () => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(64, 1), Buffer.from([0xff, 0xd9])]);

describe('GET/PUT /api/v1/settings/invoicing', () => {
  it('shows the defaults, the tax rate (read-only) and an ETag', async () => {
    const res = await api(t, admin, 'GET', '/api/v1/settings/invoicing');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      // topUp and creditNote by their camelCase names; top_up, the deprecated name, still answered with topUp's value.
      numberFormats: { purchase: 'INV-{YYYY}-{seq:06}', monthly: 'STM-{YYYY}{MM}-{seq:06}', topUp: 'TOP-{YYYY}-{seq:06}', creditNote: 'CN-{YYYY}-{seq:06}', top_up: 'TOP-{YYYY}-{seq:06}' },
      dueDays: expect.any(Number), taxRateBps: 900, hasLogo: false,
      // the demo seed brands Demo Telecom's invoices
      legalName: 'Demo Telecom Pte Ltd', address: expect.any(String), taxId: expect.any(String), email: expect.any(String), paymentInstructions: expect.any(String),
    });
    expect(res.headers.etag).toMatch(/^"[0-9a-f]{32}"$/);
  });

  it('changes the fields given, audited with before and after; new formats number the next invoices', async () => {
    const etag = (await api(t, admin, 'GET', '/api/v1/settings/invoicing')).headers.etag as string;
    const res = await put({
      numberFormats: { purchase: 'DT/{YY}{MM}/{seq:04}' }, dueDays: 30, legalName: 'Demo Telecom Holdings Pte Ltd', address: '1 Demo Street\nSingapore 123456',
      taxId: 'M9-7654321-0', email: 'Billing@Demo.test', paymentInstructions: 'PayNow UEN 201912345K',
    }, etag);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      numberFormats: { purchase: 'DT/{YY}{MM}/{seq:04}', monthly: 'STM-{YYYY}{MM}-{seq:06}' }, dueDays: 30, legalName: 'Demo Telecom Holdings Pte Ltd', email: 'billing@demo.test',
    });
    const [event] = await auditEventsOf(t.db, 'settings.invoicing_updated');
    expect(event!.app).toBe('settings');
    expect(event!.changes).toMatchObject({ dueDays: { after: 30 }, legalName: { before: 'Demo Telecom Pte Ltd', after: 'Demo Telecom Holdings Pte Ltd' } });

    const stale = await put({ dueDays: 10 }, etag);
    expect(stale.statusCode).toBe(412);
    expect((await api(t, admin, 'GET', '/api/v1/settings/invoicing')).json().dueDays).toBe(30);

    t.clock.set(new Date('2026-11-30T04:00:00Z'));
    const inv = await api(t, admin, 'POST', '/api/v1/invoices', { customerId: await customerIdOf(t.db, 'Acme Pte Ltd'), type: 'purchase', issue: true, lines: [{ description: 'x', unitPrice: '1' }] });
    expect(inv.json().number).toMatch(/^DT\/2611\/\d{4,}$/);
    expect(inv.json().seller).toMatchObject({ legalName: 'Demo Telecom Holdings Pte Ltd', taxId: 'M9-7654321-0', email: 'billing@demo.test', paymentInstructions: 'PayNow UEN 201912345K' });
    expect(new Date(inv.json().dueAt).getTime() - new Date(inv.json().issuedAt).getTime()).toBe(30 * 86_400_000);
    t.clock.reset();

    const cleared = await put({ address: null, taxId: null });
    expect(cleared.json()).toMatchObject({ address: null, taxId: null, legalName: 'Demo Telecom Holdings Pte Ltd' });
    const before = (await auditEventsOf(t.db, 'settings.invoicing_updated')).length;
    expect((await put({ dueDays: 30 })).statusCode).toBe(200);
    expect(await auditEventsOf(t.db, 'settings.invoicing_updated')).toHaveLength(before); // nothing changed, nothing written
  });

  it('refuses a format that breaks a rule with 422 rule_violation naming the type, writing nothing', async () => {
    const before = (await api(t, admin, 'GET', '/api/v1/settings/invoicing')).json();
    const events = (await auditEventsOf(t.db, 'settings.invoicing_updated')).length;
    const refused = async (numberFormats: Record<string, string>) => {
      const res = await put({ numberFormats, dueDays: before.dueDays === 7 ? 8 : 7 });
      expect(res.statusCode, JSON.stringify(numberFormats)).toBe(422);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json().code).toBe('rule_violation');
      return res.json().errors as { path: string; message: string }[];
    };
    expect(await refused({ purchase: 'INV-{YYYY}' })).toEqual([{ path: 'numberFormats.purchase', message: 'must contain the counter exactly once: {seq} or {seq:06}' }]);
    expect(await refused({ purchase: 'INV-{seq}-{seq}' })).toEqual([{ path: 'numberFormats.purchase', message: 'must contain the counter exactly once: {seq} or {seq:06}' }]);
    // Named as the request spells it: top_up when sent by its deprecated name, else topUp.
    expect(await refused({ top_up: 'TOP-{seq:13}' })).toEqual([{ path: 'numberFormats.top_up', message: 'the counter is padded to at most 12 digits' }]);
    expect(await refused({ topUp: 'TOP-{seq:13}' })).toEqual([{ path: 'numberFormats.topUp', message: 'the counter is padded to at most 12 digits' }]);
    expect(await refused({ creditNote: 'CN-{YYYY}' })).toEqual([{ path: 'numberFormats.creditNote', message: 'must contain the counter exactly once: {seq} or {seq:06}' }]);
    expect((await refused({ creditNote: 'RCT-CN-{seq}' }))[0]).toMatchObject({ path: 'numberFormats.creditNote', message: expect.stringMatching(/receipt numbers \(RCT-\)/) });
    // The credit note format's prefix apart from the invoice types', both ways.
    expect(await refused({ purchase: 'INV-{seq}', creditNote: 'INV-CN-{seq}' })).toEqual([
      { path: 'numberFormats.purchase', message: 'its fixed prefix "INV-" must differ from the start of the credit note format' },
      { path: 'numberFormats.creditNote', message: 'must not start with the fixed prefix of the purchase format ("INV-")' },
    ]);
    expect((await refused({ topUp: 'CN-TOP-{seq}' })).map((e) => e.path)).toEqual(['numberFormats.creditNote', 'numberFormats.topUp']);
    // topUp and its deprecated name with different values: which to take? Neither: 422 naming both.
    expect(await refused({ topUp: 'TU-{seq}', top_up: 'TOPUP-{seq}' })).toEqual([
      { path: 'numberFormats.topUp', message: 'differs from numberFormats.top_up, the same format: send topUp only' },
      { path: 'numberFormats.top_up', message: 'deprecated name of numberFormats.topUp, with another value: send topUp only' },
    ]);
    expect((await refused({ purchase: '{seq}' }))[0]).toMatchObject({ path: 'numberFormats.purchase', message: expect.stringMatching(/must start with fixed text/) });
    expect((await refused({ purchase: 'INV {seq}' }))[0]).toMatchObject({ path: 'numberFormats.purchase', message: expect.stringMatching(/^only letters, digits/) });
    expect((await refused({ purchase: 'RCT-{seq}' }))[0]).toMatchObject({ path: 'numberFormats.purchase', message: expect.stringMatching(/receipt numbers \(RCT-\)/) });
    expect((await refused({ monthly: 'ST{seq}', top_up: 'STX{seq}' })).map((e) => e.path)).toContain('numberFormats.monthly');
    expect((await api(t, admin, 'GET', '/api/v1/settings/invoicing')).json()).toEqual(before);
    expect(await auditEventsOf(t.db, 'settings.invoicing_updated')).toHaveLength(events);
    // The same rules met: accepted.
    const fine = await put({ numberFormats: { purchase: 'INV-{seq:12}', monthly: 'ST-{seq}', top_up: 'STX-{seq}' } });
    expect(fine.statusCode, fine.body).toBe(200);
    // What was read is sent back as it is (topUp and top_up, the same value): accepted.
    expect((await put({ numberFormats: before.numberFormats })).statusCode).toBe(200);
    expect((await api(t, admin, 'GET', '/api/v1/settings/invoicing')).json()).toEqual(before);
  });

  it('takes topUp or its deprecated name top_up, and the credit note format, which numbers the next credit note; audited', async () => {
    const before = (await api(t, admin, 'GET', '/api/v1/settings/invoicing')).json();
    const byNew = await put({ numberFormats: { topUp: 'TU-{YYYY}-{seq:05}' } });
    expect(byNew.statusCode, byNew.body).toBe(200);
    expect(byNew.json().numberFormats).toMatchObject({ topUp: 'TU-{YYYY}-{seq:05}', top_up: 'TU-{YYYY}-{seq:05}' });
    // ... and numbers the next top-up invoice (the stored format was once read under another key and never used).
    t.clock.set(new Date('2026-11-30T04:00:00Z'));
    const topUpInvoice = await api(t, admin, 'POST', '/api/v1/invoices', {
      customerId: await customerIdOf(t.db, 'Acme Pte Ltd'), type: 'top_up', issue: true, lines: [{ description: 'Points', unitPrice: '5.00' }],
    });
    t.clock.reset();
    expect(topUpInvoice.statusCode, topUpInvoice.body).toBe(201);
    expect(topUpInvoice.json().number).toMatch(/^TU-2026-\d{5,}$/);
    const byOld = await put({ numberFormats: { top_up: 'TPU-{YYYY}-{seq:05}' } });
    expect(byOld.json().numberFormats).toMatchObject({ topUp: 'TPU-{YYYY}-{seq:05}', top_up: 'TPU-{YYYY}-{seq:05}' });
    const both = await put({ numberFormats: { topUp: 'TOP-{YYYY}-{seq:06}', top_up: 'TOP-{YYYY}-{seq:06}' } });
    expect(both.json().numberFormats).toMatchObject({ topUp: 'TOP-{YYYY}-{seq:06}', top_up: 'TOP-{YYYY}-{seq:06}' });

    const events = (await auditEventsOf(t.db, 'settings.invoicing_updated')).length;
    const cn = await put({ numberFormats: { creditNote: 'CRN/{YY}/{seq:05}' } });
    expect(cn.statusCode, cn.body).toBe(200);
    expect(cn.json().numberFormats).toMatchObject({ creditNote: 'CRN/{YY}/{seq:05}', purchase: before.numberFormats.purchase });
    const [event] = await auditEventsOf(t.db, 'settings.invoicing_updated');
    expect(await auditEventsOf(t.db, 'settings.invoicing_updated')).toHaveLength(events + 1);
    expect(event!.changes).toEqual({
      numberFormats: {
        before: { purchase: before.numberFormats.purchase, monthly: before.numberFormats.monthly, topUp: 'TOP-{YYYY}-{seq:06}', creditNote: 'CN-{YYYY}-{seq:06}' },
        after: { purchase: before.numberFormats.purchase, monthly: before.numberFormats.monthly, topUp: 'TOP-{YYYY}-{seq:06}', creditNote: 'CRN/{YY}/{seq:05}' },
      },
    });

    // The next credit note is numbered in it (Finance issues it).
    const finance = await signIn(t, 'finance@demo.test');
    t.clock.set(new Date('2026-11-30T04:00:00Z'));
    const inv = await api(t, admin, 'POST', '/api/v1/invoices', {
      customerId: await customerIdOf(t.db, 'Acme Pte Ltd'), type: 'purchase', issue: true, lines: [{ description: 'x', unitPrice: '10.00' }],
    });
    expect(inv.statusCode, inv.body).toBe(201);
    const note = await api(t, finance, 'POST', '/api/v1/credit-notes', { invoiceId: inv.json().id, mode: 'amount', amount: '1.00', reason: 'other', outcome: 'reduce_due', issue: true });
    t.clock.reset();
    expect(note.statusCode, note.body).toBe(201);
    expect(note.json().number).toMatch(/^CRN\/26\/\d{5,}$/);

    // Back to the default, as before.
    expect((await put({ numberFormats: { creditNote: 'CN-{YYYY}-{seq:06}' } })).json().numberFormats).toEqual(before.numberFormats);
  });

  it('refuses a malformed body with 400 naming the field', async () => {
    const paths = async (body: unknown) => {
      const res = await put(body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().code, JSON.stringify(body)).toBe('validation_failed');
      return res.json().errors.map((e: { path: string }) => e.path);
    };
    expect(await paths({ numberFormats: { weekly: 'W{seq}' } })).toEqual(['numberFormats.weekly']);
    expect(await paths({ numberFormats: { credit_note: 'C{seq}' } })).toEqual(['numberFormats.credit_note']); // the stored name is no field of the API
    expect(await paths({ numberFormats: { creditNote: '' } })).toEqual(['numberFormats.creditNote']);
    expect(await paths({ numberFormats: { topUp: 7 } })).toEqual(['numberFormats.topUp']);
    expect(await paths({ numberFormats: { purchase: '' } })).toEqual(['numberFormats.purchase']);
    expect(await paths({ numberFormats: { purchase: `INV-${'x'.repeat(33)}{seq}` } })).toEqual(['numberFormats.purchase']);
    expect(await paths({ numberFormats: { purchase: 42 } })).toEqual(['numberFormats.purchase']);
    expect(await paths({ dueDays: 366 })).toEqual(['dueDays']);
    expect(await paths({ dueDays: -1 })).toEqual(['dueDays']);
    expect(await paths({ email: 'nope' })).toEqual(['email']);
    expect(await paths({ legalName: '' })).toEqual(['legalName']);
    expect(await paths({ taxId: 'x'.repeat(61) })).toEqual(['taxId']);
    expect(await paths({ taxRateBps: 700 })).toEqual(['taxRateBps']);
    expect(await paths({ hasLogo: true })).toEqual(['hasLogo']);
  });

  it('needs the Portal Settings app; another partner sees its own settings', async () => {
    const finance = await signIn(t, 'finance@demo.test');
    expect((await api(t, finance, 'GET', '/api/v1/settings/invoicing')).json().code).toBe('app_not_granted');
    expect((await put({ dueDays: 1 }, undefined, finance)).statusCode).toBe(403);
    expect((await putLogo(tinyPng(), 'image/png', finance)).statusCode).toBe(403);
    const north = await signIn(t, 'admin@northwind.test');
    expect((await api(t, north, 'GET', '/api/v1/settings/invoicing')).json()).toMatchObject({ legalName: null, taxRateBps: 0 });
  });
});

describe('a number format never issues a number already issued (docs/adr/0041)', () => {
  const day = new Date('2026-12-03T04:00:00Z');
  const settingsNow = async () => (await api(t, admin, 'GET', '/api/v1/settings/invoicing')).json();
  const issue = async (type: 'purchase' | 'top_up') => {
    t.clock.set(day);
    const res = await api(t, admin, 'POST', '/api/v1/invoices', { customerId: await customerIdOf(t.db, 'Acme Pte Ltd'), type, issue: true, lines: [{ description: 'x', unitPrice: '10.00' }] });
    t.clock.reset();
    expect(res.statusCode, res.body).toBe(201);
    return res.json<{ id: string; number: string }>();
  };
  /** A refused change: 422 rule_violation with these errors, and nothing written (settings as they were, no audit event). */
  const refused = async (numberFormats: Record<string, string>) => {
    const before = await settingsNow();
    const events = (await auditEventsOf(t.db, 'settings.invoicing_updated')).length;
    const res = await put({ numberFormats, dueDays: before.dueDays === 7 ? 8 : 7 });
    expect(res.statusCode, res.body).toBe(422);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json().code).toBe('rule_violation');
    expect(await settingsNow()).toEqual(before);
    expect(await auditEventsOf(t.db, 'settings.invoicing_updated')).toHaveLength(events);
    return res.json().errors as { path: string; message: string }[];
  };
  const accepted = async (numberFormats: Record<string, string>) => {
    const res = await put({ numberFormats });
    expect(res.statusCode, res.body).toBe(200);
  };
  const counterOf = async (type: string) => {
    const { rows } = await sql<{ last: string }>`select last_value::text as last from invoice_number_series s join partners p on p.id = s.partner_id
      where p.slug = 'demo-telecom' and s.type = ${type}`.execute(t.db.owner.db);
    return BigInt(rows[0]!.last);
  };

  it('refuses A{seq}{MM} -> A{seq} once A{seq}{MM} has issued a number A{seq} reaches, naming the field; accepted once the counter is past it', async () => {
    // Nothing issued starts with A: any valid format is accepted.
    await accepted({ purchase: 'A{seq}{MM}' });
    const { number } = await issue('purchase');
    const counter = await counterOf('purchase');
    expect(number).toBe(`A${counter}12`);
    const again = BigInt(`${counter}12`);
    expect(await refused({ purchase: 'A{seq}' })).toEqual([{
      path: 'numberFormats.purchase',
      message: `this format would issue ${number} again (counter ${again}), already issued on 2026-12-03; keep the counter apart, e.g. with a different fixed prefix`,
    }]);
    // A change that renders the same numbers for the same counters reaches none of them again; one with another prefix neither.
    await accepted({ purchase: 'A{seq:01}{MM}' });
    await accepted({ purchase: 'A-{seq}' });
    // Once the counter has passed the number it would repeat, the format is accepted (the counter never goes back).
    await sql`update invoice_number_series s set last_value = ${again.toString()}::bigint from partners p
      where p.id = s.partner_id and p.slug = 'demo-telecom' and s.type = 'purchase'`.execute(t.db.owner.db);
    await accepted({ purchase: 'A{seq}' });
    expect((await issue('purchase')).number).toBe(`A${again + 1n}`);
    await accepted({ purchase: 'INV-{YYYY}-{seq:06}' });
  });

  it('checks a format against every issued document: another invoice type\'s numbers too', async () => {
    await accepted({ purchase: 'B{YY}{seq}' });
    const { number } = await issue('purchase'); // B26<counter>
    // Purchase moves on; Monthly takes the B prefix: its counter would reach B26<counter> (a number the partner already issued).
    const errors = await refused({ purchase: 'PUR-{seq}', monthly: 'B{seq}' });
    expect(errors).toEqual([{ path: 'numberFormats.monthly', message: expect.stringMatching(new RegExp(`^this format would issue ${number} again \\(counter ${number.slice(1)}\\)`)) }]);
    await accepted({ purchase: 'INV-{YYYY}-{seq:06}' });
  });

  it('holds top-up and credit note formats to it, named as the request spells them', async () => {
    await accepted({ topUp: 'T{YY}{seq}' });
    const topUp = await issue('top_up');
    const message = expect.stringMatching(new RegExp(`^this format would issue ${topUp.number} again`));
    expect(await refused({ topUp: 'T{seq}' })).toEqual([{ path: 'numberFormats.topUp', message }]);
    expect(await refused({ top_up: 'T{seq}' })).toEqual([{ path: 'numberFormats.top_up', message }]);
    await accepted({ topUp: 'TOP-{YYYY}-{seq:06}' });

    await accepted({ creditNote: 'C{seq}{MM}' });
    const invoice = await issue('purchase');
    const finance = await signIn(t, 'finance@demo.test');
    t.clock.set(day);
    const note = await api(t, finance, 'POST', '/api/v1/credit-notes', { invoiceId: invoice.id, mode: 'amount', amount: '1.00', reason: 'other', outcome: 'reduce_due', issue: true });
    t.clock.reset();
    expect(note.statusCode, note.body).toBe(201);
    expect(note.json().number).toMatch(/^C\d+12$/);
    expect(await refused({ creditNote: 'C{seq}' })).toEqual([{ path: 'numberFormats.creditNote', message: expect.stringMatching(new RegExp(`^this format would issue ${note.json().number} again`)) }]);
    await accepted({ creditNote: 'CN-{YYYY}-{seq:06}' });
  });

  it('a number already issued that a format reaches anyway (changed before this check) is a 409 document_number_taken, nothing issued', async () => {
    const demoId = async () => (await t.db.owner.db.selectFrom('partners').select('id').where('slug', '=', 'demo-telecom').executeTakeFirstOrThrow()).id;
    const partnerId = await demoId();
    // As a database changed before formats were checked against the numbers issued: set directly.
    const store = (formats: Record<string, string>) => sql`update partner_settings set invoice_number_formats = invoice_number_formats || ${JSON.stringify(formats)}::jsonb
      where partner_id = ${partnerId}`.execute(t.db.owner.db);
    await store({ purchase: 'Z{seq}{MM}', credit_note: 'ZC{seq}{MM}' });
    const invoice = await issue('purchase');
    const finance = await signIn(t, 'finance@demo.test');
    const creditNote = async () => {
      t.clock.set(day);
      const res = await api(t, finance, 'POST', '/api/v1/credit-notes', { invoiceId: invoice.id, mode: 'amount', amount: '1.00', reason: 'other', outcome: 'reduce_due', issue: true });
      t.clock.reset();
      return res;
    };
    const note = await creditNote();
    expect(note.statusCode, note.body).toBe(201);
    await store({ purchase: 'Z{seq}', credit_note: 'ZC{seq}' });
    const invoiceCounter = BigInt(invoice.number.slice(1));
    const noteCounter = BigInt(note.json().number.slice(2));
    await sql`update invoice_number_series set last_value = ${(invoiceCounter - 1n).toString()}::bigint where partner_id = ${partnerId} and type = 'purchase'`.execute(t.db.owner.db);
    await sql`update credit_note_number_series set last_value = ${(noteCounter - 1n).toString()}::bigint where partner_id = ${partnerId}`.execute(t.db.owner.db);
    const count = async () => (await t.db.owner.db.selectFrom('invoices').select((eb) => eb.fn.countAll<string>().as('n')).where('partnerId', '=', partnerId).executeTakeFirstOrThrow()).n;
    const invoices = await count();

    t.clock.set(day);
    const refusedInvoice = await api(t, admin, 'POST', '/api/v1/invoices', { customerId: await customerIdOf(t.db, 'Acme Pte Ltd'), type: 'purchase', issue: true, lines: [{ description: 'x', unitPrice: '10.00' }] });
    t.clock.reset();
    expect(refusedInvoice.statusCode, refusedInvoice.body).toBe(409);
    expect(refusedInvoice.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refusedInvoice.json()).toMatchObject({
      code: 'document_number_taken',
      detail: `The next purchase number, ${invoice.number}, was already issued on 2026-12-03: the purchase number format would issue it again. `
        + 'Staff with Portal Settings: change the purchase number format (e.g. a different fixed prefix), then try again.',
    });
    expect(await count()).toBe(invoices);
    const refusedNote = await creditNote();
    expect(refusedNote.statusCode, refusedNote.body).toBe(409);
    expect(refusedNote.json()).toMatchObject({ code: 'document_number_taken', detail: expect.stringContaining(`The next credit note number, ${note.json().number}, was already issued`) });

    // Staff change the formats (the save checks them now): the next documents are issued.
    await accepted({ purchase: 'INV-{YYYY}-{seq:06}', creditNote: 'CN-{YYYY}-{seq:06}' });
    expect((await issue('purchase')).number).toBe(`INV-2026-${String(invoiceCounter).padStart(6, '0')}`);
    expect((await creditNote()).statusCode).toBe(201);
  });
});

describe('PUT/DELETE /api/v1/settings/invoicing/logo', () => {
  it('stores a PNG or JPEG, shown as hasLogo on the settings and on invoices; DELETE removes it', async () => {
    const png = await putLogo(tinyPng(), 'image/png');
    expect(png.statusCode, png.body).toBe(200);
    expect(png.json().hasLogo).toBe(true);
    const row = await t.db.owner.db.selectFrom('partnerSettings').innerJoin('partners', 'partners.id', 'partnerSettings.partnerId')
      .select(['invoiceLogo', 'invoiceLogoType']).where('partners.slug', '=', 'demo-telecom').executeTakeFirstOrThrow();
    expect(row.invoiceLogoType).toBe('image/png');
    expect(row.invoiceLogo!.equals(tinyPng())).toBe(true);
    expect((await putLogo(jpeg(), 'image/jpeg')).json().hasLogo).toBe(true);
    const del = await api(t, admin, 'DELETE', '/api/v1/settings/invoicing/logo');
    expect(del.statusCode).toBe(200);
    expect(del.json().hasLogo).toBe(false);
    expect((await api(t, admin, 'DELETE', '/api/v1/settings/invoicing/logo')).statusCode).toBe(200);
  });

  it('refuses other types (415), oversized images (413) and bytes that are not the declared image (422)', async () => {
    const gif = await putLogo(Buffer.from('GIF89a........'), 'image/gif');
    expect(gif.statusCode).toBe(415);
    expect(gif.json().code).toBe('unsupported_media_type');
    expect((await putLogo(Buffer.from(JSON.stringify({ a: 1 })), 'application/json')).statusCode).toBe(415);
    const big = await putLogo(Buffer.concat([tinyPng(), Buffer.alloc(LOGO_MAX_BYTES)]), 'image/png');
    expect(big.statusCode).toBe(413);
    const fake = await putLogo(Buffer.from('not really a png at all'), 'image/png');
    expect(fake.statusCode).toBe(422);
    expect(fake.json().code).toBe('image_invalid');
    const mislabelled = await putLogo(tinyPng(), 'image/jpeg');
    expect(mislabelled.statusCode).toBe(422);
    expect((await putLogo(Buffer.alloc(0), 'image/png')).statusCode).toBeGreaterThanOrEqual(400);
    expect((await api(t, admin, 'GET', '/api/v1/settings/invoicing')).json().hasLogo).toBe(false);
  });

  it('recognises images by their first bytes', () => {
    expect(imageTypeOf(tinyPng())).toBe('image/png');
    expect(imageTypeOf(jpeg())).toBe('image/jpeg');
    expect(imageTypeOf(Buffer.from([0x89, 0x50]))).toBeNull();
    expect(imageTypeOf(Buffer.from('GIF89a'))).toBeNull();
  });
});
