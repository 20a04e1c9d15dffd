import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, createTestApp, expectUnknownId, customerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';

let t: TestApp;
let admin: Session;
let acme: string;
let globex: string;
let wombat: string;
let vl: { productId: string; basic: string; pro: string };
let did: string;

beforeAll(async () => {
  t = await createTestApp();
  admin = await signIn(t, 'admin@demo.test');
  acme = await customerIdOf(t.db, 'Acme Pte Ltd');
  globex = await customerIdOf(t.db, 'Globex Sdn Bhd');
  wombat = await customerIdOf(t.db, 'Wombat Pty Ltd');
  const owner = t.db.owner.db;
  const product = await owner.selectFrom('products').select('id').where('sku', '=', 'VL').executeTakeFirstOrThrow();
  const variants = await owner.selectFrom('productVariants').select(['id', 'name']).where('productId', '=', product.id).execute();
  vl = { productId: product.id, basic: variants.find((v) => v.name === 'Basic')!.id, pro: variants.find((v) => v.name === 'Pro')!.id };
  did = (await owner.selectFrom('products').select('id').where('sku', '=', 'DID-SG').executeTakeFirstOrThrow()).id;
});
afterAll(async () => t.close());

const create = (who: Session | Record<string, string>, body: unknown) => api(t, who, 'POST', '/api/v1/invoices', body);
const text = (description: string, unitPrice: string, extra: Record<string, unknown> = {}) => ({ description, unitPrice, ...extra });
const paths = (res: { json: () => { errors?: { path: string }[] } }) => (res.json().errors ?? []).map((e) => e.path);

describe('POST /api/v1/invoices (createInvoice)', () => {
  it('creates a draft: no number, figures from the lines, 9% GST on standard lines, audited', async () => {
    const res = await create(admin, {
      customerId: acme, type: 'purchase', notes: 'PO 4711',
      lines: [text('Consulting', '80.00', { quantity: '1.5' }), text('Cabling', '12.345', { quantity: '0.333', taxCategory: 'zero_rated' })],
    });
    expect(res.statusCode).toBe(201);
    const inv = res.json();
    expect(inv).toMatchObject({
      status: 'draft', number: null, type: 'purchase', currency: 'SGD', issuedAt: null, dueAt: null, overdue: false, notes: 'PO 4711',
      customer: { id: acme, name: 'Acme Pte Ltd' }, subtotal: '124.11', tax: '10.80', total: '134.91', amountDue: '134.91', discount: '0.00',
      billTo: { name: 'Acme Pte Ltd' }, seller: { name: 'Demo Telecom', hasLogo: false }, statement: null,
    });
    expect(inv.lines).toEqual([
      expect.objectContaining({ position: 1, kind: 'text', quantity: '1.5', unitPrice: '80.00', gross: '120.00', amount: '120.00', taxRateBps: 900, tax: '10.80' }),
      expect.objectContaining({ position: 2, kind: 'text', quantity: '0.333', unitPrice: '12.345', gross: '4.11', taxCategory: 'zero_rated', taxRateBps: 0, tax: '0.00' }),
    ]);
    expect(inv.createdBy).toMatch(/^usr_/);
    const events = await auditEventsOf(t.db, 'invoice.created');
    expect(events[0]).toMatchObject({ app: 'invoice', targetId: inv.id, customerId: acme });
    expect(await t.db.owner.db.selectFrom('journalEntries').select('id').where('causeId', '=', inv.id).execute()).toEqual([]);
  });

  it('product lines: the variant\'s monthly price in the customer\'s currency and the product\'s tax category; discounts in whole cents', async () => {
    const res = await create(admin, {
      customerId: acme, type: 'purchase',
      lines: [
        { productId: vl.productId, variantId: vl.pro, quantity: '2', discount: '5.00' },
        { productId: did }, // one variant: found without naming it
        { productId: vl.productId, variantId: vl.basic, unitPrice: '11.50', description: 'Virtual Line, loyalty price' },
        { variantId: vl.basic }, // product found from the variant
      ],
    });
    expect(res.statusCode).toBe(201);
    const lines = res.json().lines;
    expect(lines.map((l: { description: string }) => l.description)).toEqual(['Virtual Line — Pro', 'Phone Number — Singapore local', 'Virtual Line, loyalty price', 'Virtual Line — Basic']);
    expect(lines.map((l: { unitPrice: string; discount: string; amount: string; kind: string }) => [l.kind, l.unitPrice, l.discount, l.amount])).toEqual([
      ['product', '20.00', '5.00', '35.00'], ['product', '5.00', '0.00', '5.00'], ['product', '11.50', '0.00', '11.50'], ['product', '12.00', '0.00', '12.00'],
    ]);
    expect(lines[0].productId).toBe(vl.productId);
    expect(lines[0].variantId).toBe(vl.pro);
    expect(res.json()).toMatchObject({ subtotal: '63.50', discount: '5.00', tax: '5.72', total: '69.22' });
  });

  it('issues at once with issue: true', async () => {
    const res = await create(admin, { customerId: acme, type: 'purchase', lines: [text('Setup', '50.00')], issue: true, dueDays: 7 });
    expect(res.statusCode).toBe(201);
    const inv = res.json();
    expect(inv).toMatchObject({ status: 'awaiting_payment', total: '54.50', amountDue: '54.50' });
    expect(inv.number).toMatch(/^INV-\d{4}-\d{6}$/);
    expect(new Date(inv.dueAt).getTime() - new Date(inv.issuedAt).getTime()).toBe(7 * 86_400_000);
    expect((await auditEventsOf(t.db, 'invoice.issued')).map((e) => e.targetId)).toContain(inv.id);
  });

  it('honours Idempotency-Key: a retried create makes one invoice', async () => {
    const send = () => t.app.inject({
      method: 'POST', url: '/api/v1/invoices', headers: { ...admin.headers, 'idempotency-key': 'create-once-1' },
      payload: { customerId: acme, type: 'purchase', issue: true, lines: [text('Retried', '10.00')] },
    });
    const [first, second] = [await send(), await send()];
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json().id).toBe(first.json().id);
    expect(await t.db.owner.db.selectFrom('invoiceLines').select('id').where('description', '=', 'Retried').execute()).toHaveLength(1);
  });

  it('a Top-up invoice: free-text lines, no tax (a deposit)', async () => {
    const res = await create(admin, { customerId: acme, type: 'top_up', lines: [text('Points top-up', '200.00')] });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ type: 'top_up', subtotal: '200.00', tax: '0.00', total: '200.00' });
    expect(res.json().lines[0]).toMatchObject({ kind: 'points', taxRateBps: 0, tax: '0.00' });
    const product = await create(admin, { customerId: acme, type: 'top_up', lines: [{ productId: did }] });
    expect(product.statusCode).toBe(422);
    expect(paths(product)).toEqual(['lines.0.productId']);
  });

  it('uses the customer\'s currency (MYR for Globex); a product without a price in it needs unitPrice', async () => {
    const res = await create(admin, { customerId: globex, type: 'purchase', lines: [text('Support', '99.99')] });
    expect(res.json()).toMatchObject({ currency: 'MYR', total: '108.99' });
    const noPrice = await create(admin, { customerId: globex, type: 'purchase', lines: [{ productId: did }] });
    expect(noPrice.statusCode).toBe(422);
    expect(noPrice.json().code).toBe('currency_mismatch');
    expect(paths(noPrice)).toEqual(['lines.0.unitPrice']);
  });

  it('refuses bad values with 400 naming each line\'s field (numbers against a line\'s rules alone: 422)', async () => {
    const bad = await create(admin, {
      customerId: acme, type: 'purchase',
      lines: [
        text('ok', '1.00'),
        text('', '1.00'),
        text('x', '1.00', { quantity: '0' }),
        text('x', '1.00', { quantity: '1000000.000001' }),
        text('x', '1.00', { quantity: '1.0000001' }),
        text('x', '-1.00'),
        text('x', '1.0000001'),
        text('x', '1', { discount: '-1' }),
        text('x'.repeat(501), '1'),
      ],
    });
    expect(bad.statusCode).toBe(400);
    expect(paths(bad)).toEqual(expect.arrayContaining([
      'lines.1.description', 'lines.2.quantity', 'lines.3.quantity', 'lines.4.quantity', 'lines.5.unitPrice', 'lines.6.unitPrice', 'lines.7.discount', 'lines.8.description',
    ]));
    // Amounts are read strictly: no surrounding whitespace, "+", exponent, bare point or negative zero (nothing is written).
    const loose = await create(admin, {
      customerId: acme, type: 'purchase',
      lines: [text('x', ' 12.50'), text('x', '12.50 '), text('x', '+5'), text('x', '1e3'), text('x', '.5'), text('x', '5.'), text('x', '-0.00'), text('x', '1', { discount: '-0.00' })],
    });
    expect(loose.statusCode).toBe(400);
    expect(loose.headers['content-type']).toMatch(/problem\+json/);
    expect(paths(loose)).toEqual([
      'lines.0.unitPrice', 'lines.1.unitPrice', 'lines.2.unitPrice', 'lines.3.unitPrice', 'lines.4.unitPrice', 'lines.5.unitPrice', 'lines.6.unitPrice', 'lines.7.discount',
    ]);
    expect((await create(admin, { customerId: acme, type: 'purchase', lines: [] })).statusCode).toBe(400);
    const tooMany = await create(admin, { customerId: acme, type: 'purchase', lines: Array.from({ length: 201 }, () => text('x', '1')) });
    expect(tooMany.statusCode).toBe(400);
    expect(paths(tooMany)).toEqual(['lines']);
    expect(paths(await create(admin, { customerId: acme, type: 'monthly', lines: [text('x', '1')] }))).toEqual(['type']);
    expect(paths(await create(admin, { customerId: acme, type: 'purchase', lines: [{ description: 'no price' }] }))).toEqual(['lines.0.unitPrice']);
    expect(paths(await create(admin, { customerId: acme, type: 'purchase', lines: [{ unitPrice: '1' }] }))).toEqual(['lines.0.description']);
    expect(paths(await create(admin, { customerId: acme, type: 'purchase', lines: [text('x', '1', { discount: '0.001' })] }))).toEqual(['lines.0.discount']);
    // Numbers against a line's rules, with every other value well-formed: 422 rule_violation naming each (docs/adr/0040).
    const rules = await create(admin, {
      customerId: acme, type: 'purchase',
      lines: [
        text('x', '1.00', { quantity: '0' }), text('x', '1.00', { quantity: '1.0000001' }), text('x', '1.00', { quantity: '-2' }),
        text('x', '-1.00'), text('x', '1.0000001'), text('x', '1', { discount: '-1' }), text('x', '1', { discount: '0.001' }),
      ],
    });
    expect(rules.statusCode).toBe(422);
    expect(rules.json().code).toBe('rule_violation');
    expect(paths(rules)).toEqual(['lines.0.quantity', 'lines.1.quantity', 'lines.2.quantity', 'lines.3.unitPrice', 'lines.4.unitPrice', 'lines.5.discount']);
    const cents = await create(admin, { customerId: acme, type: 'purchase', lines: [text('x', '1', { discount: '0.001' })] });
    expect(cents.statusCode).toBe(422);
    expect(cents.json()).toMatchObject({ code: 'rule_violation', errors: [{ path: 'lines.0.discount' }] });
    // Not numbers at all: 400.
    const words = await create(admin, { customerId: acme, type: 'purchase', lines: [text('x', 'ten'), text('x', '1', { quantity: 'two' }), text('x', '1', { discount: '-0' })] });
    expect(words.statusCode).toBe(400);
    expect(paths(words)).toEqual(['lines.0.unitPrice', 'lines.1.quantity', 'lines.2.discount']);
    expect(paths(await create(admin, { customerId: acme, type: 'purchase', lines: [text('x', '1')], dueDays: 366 }))).toEqual(['dueDays']);
    expect(paths(await create(admin, { customerId: acme, type: 'purchase', lines: [text('x', '1', { colour: 'red' })] }))).toEqual(['lines.0.colour']);
  });

  it('refuses lines adding up to more than one invoice can carry (1,000,000,000.00) with 422 naming the line that crosses it; nothing written', async () => {
    const before = await t.db.owner.db.selectFrom('invoices').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow();
    // Each line within its own bounds; together far beyond what 64-bit micro-units hold (this was a 500).
    const huge = await create(admin, { customerId: acme, type: 'purchase', lines: Array.from({ length: 50 }, () => text('big', '999999999999', { quantity: '1000000' })) });
    expect(huge.statusCode).toBe(422);
    expect(huge.json().code).toBe('rule_violation');
    expect(huge.json().errors).toEqual([{ path: 'lines.0.unitPrice', message: expect.stringContaining('1000000000.00 SGD') }]);
    const crossing = await create(admin, { customerId: acme, type: 'purchase', lines: [text('a', '600000000'), text('b', '400000000'), text('c', '0.01'), text('d', '5')] });
    expect(crossing.json().errors).toEqual([{ path: 'lines.2.unitPrice', message: expect.stringContaining('the most one invoice can carry') }]);
    expect((await t.db.owner.db.selectFrom('invoices').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()).n).toBe(before.n);
    // Exactly the limit is an invoice like any other.
    const limit = await create(admin, { customerId: acme, type: 'purchase', lines: [text('a', '600000000'), text('b', '400000000', { taxCategory: 'exempt' })] });
    expect(limit.statusCode).toBe(201);
    expect(limit.json()).toMatchObject({ subtotal: '1000000000.00' });
  });

  it('refuses a discount above the line\'s gross with 422 naming the line', async () => {
    const res = await create(admin, {
      customerId: acme, type: 'purchase',
      lines: [text('a', '1'), text('b', '1'), text('c', '1'), text('d', '3.333', { quantity: '1.5', discount: '5.01' })],
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('discount_exceeds_gross');
    expect(res.json().errors).toEqual([{ path: 'lines.3.discount', message: expect.stringContaining('5.00 SGD') }]);
    const whole = await create(admin, { customerId: acme, type: 'purchase', lines: [text('d', '3.333', { quantity: '1.5', discount: '5.00' })] });
    expect(whole.statusCode).toBe(201);
    expect(whole.json()).toMatchObject({ subtotal: '0.00', total: '0.00' });
  });

  it('product lines must be the partner\'s, not archived, with a matching variant and tax category', async () => {
    const northProduct = await t.db.owner.db.insertInto('products')
      .values({ id: 'prd_northwind0000000000001', partnerId: (await t.db.owner.db.selectFrom('partners').select('id').where('slug', '=', 'northwind').executeTakeFirstOrThrow()).id, sku: 'N1', name: 'North thing', description: null, type: 'service' })
      .returning('id').executeTakeFirstOrThrow();
    const other = await create(admin, { customerId: acme, type: 'purchase', lines: [{ productId: northProduct.id, unitPrice: '1' }] });
    expect(other.statusCode).toBe(422);
    expect(other.json().code).toBe('product_not_found');
    expect(paths(other)).toEqual(['lines.0.productId']);
    const wrongVariant = await create(admin, { customerId: acme, type: 'purchase', lines: [{ productId: did, variantId: vl.basic }] });
    expect(paths(wrongVariant)).toEqual(['lines.0.variantId']);
    const ambiguous = await create(admin, { customerId: acme, type: 'purchase', lines: [{ productId: vl.productId }] });
    expect(ambiguous.statusCode).toBe(422);
    expect(paths(ambiguous)).toEqual(['lines.0.variantId']);
    const category = await create(admin, { customerId: acme, type: 'purchase', lines: [{ productId: did, taxCategory: 'exempt' }] });
    expect(category.statusCode).toBe(422);
    expect(paths(category)).toEqual(['lines.0.taxCategory']);

    await t.db.owner.db.updateTable('products').set({ archivedAt: new Date() }).where('id', '=', did).execute();
    const archived = await create(admin, { customerId: acme, type: 'purchase', lines: [{ productId: did }] });
    expect(archived.statusCode).toBe(409);
    expect(archived.json().code).toBe('product_archived');
    await t.db.owner.db.updateTable('products').set({ archivedAt: null }).where('id', '=', did).execute();
  });

  it('an unknown or another partner\'s customer is 422 customer_not_found naming customerId, alike, and nothing is written; a suspended customer is refused', async () => {
    const invoices = async () => (await t.db.owner.db.selectFrom('invoices').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n;
    const before = await invoices();
    expectUnknownId([
      await create(admin, { customerId: wombat, type: 'purchase', lines: [text('x', '1')] }),
      await create(admin, { customerId: 'cus_00000000000000000000000000', type: 'purchase', lines: [text('x', '1')] }),
    ], 'customer_not_found', 'customerId');
    expect(await invoices()).toBe(before);
    const initech = await customerIdOf(t.db, 'Initech Pte Ltd');
    await t.db.owner.db.updateTable('customers').set({ status: 'suspended' }).where('id', '=', initech).execute();
    const suspended = await create(admin, { customerId: initech, type: 'purchase', lines: [text('x', '1')] });
    expect(suspended.statusCode).toBe(409);
    expect(suspended.json().code).toBe('customer_not_active');
    await t.db.owner.db.updateTable('customers').set({ status: 'active' }).where('id', '=', initech).execute();
  });

  it('needs the Invoice app (staff and API keys); customers cannot', async () => {
    const key = (await api(t, admin, 'POST', '/api/v1/api-keys', { name: 'audit only', apps: ['audit'] })).json();
    const byKey = await create({ authorization: `Bearer ${key.token}` }, { customerId: acme, type: 'purchase', lines: [text('x', '1')] });
    expect(byKey.statusCode).toBe(403);
    expect(byKey.json().code).toBe('app_not_granted');
    const invoiceKey = (await api(t, admin, 'POST', '/api/v1/api-keys', { name: 'invoices', apps: ['invoice'] })).json();
    expect((await create({ authorization: `Bearer ${invoiceKey.token}` }, { customerId: acme, type: 'purchase', lines: [text('x', '1')] })).statusCode).toBe(201);
    expect((await create(await signIn(t, 'owner@acme.test'), { customerId: acme, type: 'purchase', lines: [text('x', '1')] })).statusCode).toBe(403);
    const north = await signIn(t, 'admin@northwind.test');
    await api(t, north, 'DELETE', `/api/v1/staff/${(await api(t, north, 'GET', '/api/v1/auth/session')).json().user.id}/apps/invoice`);
    expect((await api(t, north, 'GET', '/api/v1/invoices')).json().code).toBe('app_not_granted');
  });
});
