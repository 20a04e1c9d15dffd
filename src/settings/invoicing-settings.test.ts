import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
