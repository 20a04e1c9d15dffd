import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, createTestApp, partnerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';
import { inScope } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { findSellablePrice } from './sellable-price.ts';

let t: TestApp;
let admin: Session;
let partnerId: string;

beforeAll(async () => {
  t = await createTestApp();
  admin = await signIn(t, 'admin@demo.test');
  partnerId = await partnerIdOf(t.db, 'demo-telecom');
});
afterAll(async () => t.close());

type Price = { id: string; price: string; cost: string; activationFee: string; margin: string; marginPercent: string | null; archived: boolean; cycle: string; currency: string };
type Variant = { id: string; name: string; position: number; prices: Price[] };
type Product = { id: string; sku: string; name: string; type: string; taxCategory: string; archived: boolean; description: string | null; variants: Variant[] };

const createProduct = (payload: unknown, who: Session = admin) => api(t, who, 'POST', '/api/v1/products', payload);
const setPrice = (variantId: string, cycle: string, currency: string, payload: unknown, who: Session = admin) =>
  api(t, who, 'PUT', `/api/v1/variants/${variantId}/prices/${cycle}/${currency}`, payload);

async function productWithVariant(sku: string, variant = 'Basic'): Promise<{ product: Product; variant: Variant }> {
  const product = await createProduct({ sku, name: `Product ${sku}`, type: 'service' });
  expect(product.statusCode).toBe(201);
  const v = await api(t, admin, 'POST', `/api/v1/products/${product.json().id}/variants`, { name: variant });
  expect(v.statusCode).toBe(201);
  return { product: product.json(), variant: v.json() };
}

const errorPaths = (res: { json: () => { errors?: Array<{ path: string }> } }) => res.json().errors?.map((e) => e.path) ?? [];

describe('products', () => {
  it('creates a product, lists it, and audits it', async () => {
    const res = await createProduct({ sku: 'VL-100', name: 'Virtual Line 100', description: 'A cloud phone line', type: 'service', taxCategory: 'zero_rated' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      id: expect.stringMatching(/^prd_/), sku: 'VL-100', name: 'Virtual Line 100', description: 'A cloud phone line', type: 'service',
      taxCategory: 'zero_rated', archived: false, archivedAt: null, variants: [],
    });
    const get = await api(t, admin, 'GET', `/api/v1/products/${res.json().id}`);
    expect(get.json()).toEqual(res.json());
    const [event] = await auditEventsOf(t.db, 'product.created');
    expect(event).toMatchObject({ app: 'product', targetType: 'product', targetId: res.json().id, changes: { sku: { after: 'VL-100' }, type: { after: 'service' }, taxCategory: { after: 'zero_rated' } } });
    const defaults = await createProduct({ sku: 'TAX-DEFAULT', name: 'Default tax', type: 'usage' });
    expect(defaults.json()).toMatchObject({ taxCategory: 'standard', description: null });
  });

  it('refuses a SKU already used by the partner, whatever its case, with 409 sku_taken; another partner may use it', async () => {
    expect((await createProduct({ sku: 'DUP-1', name: 'First', type: 'service' })).statusCode).toBe(201);
    const again = await createProduct({ sku: 'dup-1', name: 'Second', type: 'app_licence' });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'sku_taken', errors: [{ path: 'sku' }] });
    const north = await signIn(t, 'admin@northwind.test');
    expect((await createProduct({ sku: 'DUP-1', name: 'Northwind own', type: 'service' }, north)).statusCode).toBe(201);

    // Racing creates with one SKU: exactly one wins, the others get 409, never a 500.
    const raced = await Promise.all(Array.from({ length: 5 }, (_, i) => createProduct({ sku: 'RACE-SKU', name: `Race ${i}`, type: 'service' })));
    expect(raced.map((r) => r.statusCode).sort()).toEqual([201, 409, 409, 409, 409]);
  });

  it('refuses bad products with a 400 naming the field, writing nothing', async () => {
    const before = await auditEventsOf(t.db, 'product.created');
    const cases: Array<[unknown, string]> = [
      [{ name: 'X', type: 'service' }, 'sku'],
      [{ sku: '', name: 'X', type: 'service' }, 'sku'],
      [{ sku: 'has space', name: 'X', type: 'service' }, 'sku'],
      [{ sku: '-lead', name: 'X', type: 'service' }, 'sku'],
      [{ sku: 'A'.repeat(65), name: 'X', type: 'service' }, 'sku'],
      [{ sku: 'OK-1', name: '', type: 'service' }, 'name'],
      [{ sku: 'OK-1', name: 'X', type: 'hardware' }, 'type'],
      [{ sku: 'OK-1', name: 'X', type: 'service', taxCategory: 'luxury' }, 'taxCategory'],
      [{ sku: 'OK-1', name: 'X', type: 'service', description: 'd'.repeat(2001) }, 'description'],
      [{ sku: 'OK-1', name: 'X', type: 'service', price: '1.00' }, 'price'],
    ];
    for (const [payload, field] of cases) {
      const res = await createProduct(payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(errorPaths(res), JSON.stringify(payload)).toContain(field);
    }
    expect(await auditEventsOf(t.db, 'product.created')).toHaveLength(before.length);
  });

  it('updates name, description and tax category with before/after in the audit trail; SKU and type cannot change', async () => {
    const { product } = await productWithVariant('UPD-1');
    const res = await api(t, admin, 'PATCH', `/api/v1/products/${product.id}`, { name: 'Renamed', description: 'Now described', taxCategory: 'exempt' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ name: 'Renamed', description: 'Now described', taxCategory: 'exempt', sku: 'UPD-1', variants: [{ name: 'Basic' }] });
    const [event] = await auditEventsOf(t.db, 'product.updated');
    expect(event).toMatchObject({ targetId: product.id, changes: { name: { before: 'Product UPD-1', after: 'Renamed' }, description: { before: null, after: 'Now described' }, taxCategory: { before: 'standard', after: 'exempt' } } });
    const cleared = await api(t, admin, 'PATCH', `/api/v1/products/${product.id}`, { description: null });
    expect(cleared.json().description).toBeNull();
    // An empty or blank description is none, as null: never stored as "".
    for (const blank of ['', '   ']) {
      expect((await api(t, admin, 'PATCH', `/api/v1/products/${product.id}`, { description: 'Again' })).statusCode).toBe(200);
      const emptied = await api(t, admin, 'PATCH', `/api/v1/products/${product.id}`, { description: blank });
      expect(emptied.statusCode).toBe(200);
      expect(emptied.json().description).toBeNull();
    }
    const stored = await t.db.owner.db.selectFrom('products').select('description').where('id', '=', product.id).executeTakeFirstOrThrow();
    expect(stored.description).toBeNull();
    for (const [payload, field] of [[{ sku: 'NEW' }, 'sku'], [{ type: 'usage' }, 'type'], [{ name: '' }, 'name'], [{ taxCategory: 'none' }, 'taxCategory']] as const) {
      const bad = await api(t, admin, 'PATCH', `/api/v1/products/${product.id}`, payload);
      expect(bad.statusCode, JSON.stringify(payload)).toBe(400);
      expect(errorPaths(bad)).toContain(field);
    }
  });

  it('has an ETag; an update with a stale If-Match writes nothing (412), with the current one it goes through', async () => {
    const { product } = await productWithVariant('ETAG-1');
    const read = await api(t, admin, 'GET', `/api/v1/products/${product.id}`);
    const etag = String(read.headers.etag);
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    const withHeader = (ifMatch: string, body: unknown) => t.app.inject({ method: 'PATCH', url: `/api/v1/products/${product.id}`, headers: { ...admin.headers, 'if-match': ifMatch }, payload: body as object });
    // Someone else renames it meanwhile: the ETag read before is stale.
    const other = await api(t, admin, 'PATCH', `/api/v1/products/${product.id}`, { name: 'Renamed by a colleague' });
    expect(other.statusCode).toBe(200);
    const stale = await withHeader(etag, { name: 'My rename' });
    expect(stale.statusCode).toBe(412);
    expect(stale.json()).toMatchObject({ code: 'precondition_failed', errors: [{ path: 'If-Match' }] });
    expect((await api(t, admin, 'GET', `/api/v1/products/${product.id}`)).json().name).toBe('Renamed by a colleague');
    // The ETag a write answers is the one a read answers next, and it lets the next write through.
    const fresh = String(other.headers.etag);
    expect(fresh).toBe(String((await api(t, admin, 'GET', `/api/v1/products/${product.id}`)).headers.etag));
    const ok = await withHeader(fresh, { name: 'My rename' });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().name).toBe('My rename');
    expect((await withHeader('*', { name: 'Any version' })).statusCode).toBe(200);
  });

  it('archives and unarchives, never deletes; archived products cannot be sold', async () => {
    const { product, variant } = await productWithVariant('ARC-1');
    const price = (await setPrice(variant.id, 'monthly', 'SGD', { price: '10.00', cost: '4.00' })).json<Price>();
    const archived = await api(t, admin, 'POST', `/api/v1/products/${product.id}/archive`);
    expect(archived.statusCode).toBe(200);
    expect(archived.json()).toMatchObject({ archived: true, archivedAt: expect.any(String) });
    expect((await api(t, admin, 'POST', `/api/v1/products/${product.id}/archive`)).json()).toMatchObject({ code: 'state_conflict' });
    const scope = { kind: 'partner' as const, partnerId };
    await expect(inScope(t.db.app.db, scope, (trx) => findSellablePrice(trx, partnerId, price.id))).rejects.toMatchObject({
      code: 'product_archived', status: 409, message: expect.stringMatching(/\(ARC-1\) is archived and can no longer be bought$/),
    });

    const unarchived = await api(t, admin, 'POST', `/api/v1/products/${product.id}/unarchive`);
    expect(unarchived.json()).toMatchObject({ archived: false, archivedAt: null });
    expect((await api(t, admin, 'POST', `/api/v1/products/${product.id}/unarchive`)).statusCode).toBe(409);
    const sellable = await inScope(t.db.app.db, scope, (trx) => findSellablePrice(trx, partnerId, price.id, { forShare: true }));
    expect(sellable).toMatchObject({ price: { id: price.id, priceMicros: '10000000', costMicros: '4000000' }, variant: { id: variant.id }, product: { id: product.id, sku: 'ARC-1' } });
    // From the portal (customer scope), as a portal purchase reads it.
    const acme = await t.db.owner.db.selectFrom('customers').select('id').where('name', '=', 'Acme Pte Ltd').executeTakeFirstOrThrow();
    const fromPortal = await inScope(t.db.app.db, { kind: 'customer', partnerId, customerId: acme.id }, (trx) => findSellablePrice(trx, partnerId, price.id, { forShare: true }));
    expect(fromPortal.price.id).toBe(price.id);
    const events = await auditEventsOf(t.db, 'product.archived');
    expect(events[0]).toMatchObject({ targetId: product.id, changes: { archived: { before: false, after: true } } });
    expect((await auditEventsOf(t.db, 'product.unarchived'))[0]).toMatchObject({ targetId: product.id });

    // No delete route, and the app role cannot delete catalog rows.
    expect((await api(t, admin, 'DELETE', `/api/v1/products/${product.id}`)).statusCode).toBe(404);
    await expect(inScope(t.db.app.db, scope, (trx) => trx.deleteFrom('products').where('id', '=', product.id).execute())).rejects.toThrow(/permission denied/);
  });

  it('findSellablePrice: unknown or another partner\'s price is price_not_found', async () => {
    const { variant } = await productWithVariant('SELL-1');
    const price = (await setPrice(variant.id, 'yearly', 'SGD', { price: '100.00', cost: '40.00' })).json<Price>();
    const northId = await partnerIdOf(t.db, 'northwind');
    const err = await inScope(t.db.app.db, { kind: 'partner', partnerId: northId }, (trx) => findSellablePrice(trx, northId, price.id)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code: 'price_not_found', status: 422, errors: [{ path: 'priceId', message: 'no such price' }] });
    await expect(inScope(t.db.app.db, { kind: 'partner', partnerId }, (trx) => findSellablePrice(trx, partnerId, 'prc_00000000000000000000000000'))).rejects.toMatchObject({ code: 'price_not_found' });
    // An archived price is not sellable either.
    await api(t, admin, 'POST', `/api/v1/prices/${price.id}/archive`);
    // The message names the price archived, not the product: its other billing cycles still sell.
    await expect(inScope(t.db.app.db, { kind: 'partner', partnerId }, (trx) => findSellablePrice(trx, partnerId, price.id))).rejects.toMatchObject({
      code: 'product_archived', message: expect.stringMatching(/^The yearly SGD price of .* is archived and can no longer be bought$/),
    });
  });

  it('lists with search by SKU or name, filters by type and archived, and pages with a cursor', async () => {
    const north = await signIn(t, 'admin@northwind.test');
    await createProduct({ sku: 'SRCH-NORTH', name: 'Searchable Northwind', type: 'phone_number' }, north);
    const made: string[] = [];
    for (const [sku, name, type] of [['SRCH-A', 'Alpha Quokka', 'phone_number'], ['SRCH-B', 'Beta Licence', 'app_licence'], ['srch-c', 'Gamma 100%_ Quokka', 'phone_number']] as const) {
      made.push((await createProduct({ sku, name, type })).json().id);
    }
    await api(t, admin, 'POST', `/api/v1/products/${made[1]}/archive`);
    const q = async (query: string) => (await api(t, admin, 'GET', `/api/v1/products?${query}`)).json<{ data: Product[]; nextCursor: string | null }>();
    expect((await q('q=srch')).data.map((p) => p.sku)).toEqual(['srch-c', 'SRCH-B', 'SRCH-A']);
    expect((await q('q=QUOKKA')).data.map((p) => p.sku)).toEqual(['srch-c', 'SRCH-A']);
    expect((await q('q=100%25_')).data.map((p) => p.sku)).toEqual(['srch-c']);
    expect((await q('q=srch&type=phone_number')).data.map((p) => p.sku)).toEqual(['srch-c', 'SRCH-A']);
    expect((await q('q=srch&archived=true')).data.map((p) => p.sku)).toEqual(['SRCH-B']);
    expect((await q('q=srch&archived=false')).data.map((p) => p.sku)).toEqual(['srch-c', 'SRCH-A']);
    const first = await q('q=srch&limit=2');
    expect(first.data.map((p) => p.sku)).toEqual(['srch-c', 'SRCH-B']);
    expect(first.nextCursor).toBe(made[1]);
    const second = await q(`q=srch&limit=2&cursor=${first.nextCursor}`);
    expect(second).toEqual({ data: [expect.objectContaining({ sku: 'SRCH-A' })], nextCursor: null });
    for (const query of ['type=hardware', 'archived=maybe', 'limit=0', 'limit=201', 'surprise=1', 'cursor=garbage', 'cursor=rpl_00000000000000000000000000']) {
      expect((await api(t, admin, 'GET', `/api/v1/products?${query}`)).statusCode, query).toBe(400);
    }
    expect((await api(t, admin, 'GET', '/api/v1/products?cursor=garbage')).json()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'cursor', message: 'a prd_ id' }] });
  });
});

describe('variants and prices', () => {
  it('adds variants in order, names unique within the product', async () => {
    const { product } = await productWithVariant('VAR-1', 'Basic');
    const pro = await api(t, admin, 'POST', `/api/v1/products/${product.id}/variants`, { name: 'Pro' });
    expect(pro.json()).toMatchObject({ id: expect.stringMatching(/^var_/), name: 'Pro', position: 2, prices: [] });
    const dup = await api(t, admin, 'POST', `/api/v1/products/${product.id}/variants`, { name: 'basic' });
    expect(dup.statusCode).toBe(409);
    expect(errorPaths(dup)).toEqual(['name']);
    expect((await api(t, admin, 'POST', `/api/v1/products/${product.id}/variants`, { name: '' })).statusCode).toBe(400);
    expect((await api(t, admin, 'GET', `/api/v1/products/${product.id}`)).json().variants.map((v: Variant) => v.name)).toEqual(['Basic', 'Pro']);
    expect((await auditEventsOf(t.db, 'product_variant.created'))[0]).toMatchObject({ targetId: pro.json().id, changes: { name: { after: 'Pro' }, sku: { after: 'VAR-1' } } });
  });

  it('sets prices per cycle and currency with cost, activation fee and margin; changing one audits before/after', async () => {
    const { product, variant } = await productWithVariant('PRC-1');
    const monthly = await setPrice(variant.id, 'monthly', 'SGD', { price: '25.00', cost: '14.40', activationFee: '10.00' });
    expect(monthly.statusCode).toBe(200);
    expect(monthly.json()).toEqual({
      id: expect.stringMatching(/^prc_/), variantId: variant.id, cycle: 'monthly', currency: 'SGD',
      price: '25.00', cost: '14.40', activationFee: '10.00', margin: '10.60', marginPercent: '42.4', archived: false,
    });
    expect((await setPrice(variant.id, 'yearly', 'SGD', { price: '250', cost: '150' })).json()).toMatchObject({ price: '250.00', activationFee: '0.00', margin: '100.00', marginPercent: '40.0' });
    expect((await setPrice(variant.id, 'monthly', 'VND', { price: '500000', cost: '200000' })).json()).toMatchObject({ price: '500000', marginPercent: '60.0' });
    expect((await setPrice(variant.id, 'monthly', 'USD', { price: '0', cost: '1.00' })).json()).toMatchObject({ margin: '-1.00', marginPercent: null });
    expect((await setPrice(variant.id, 'monthly', 'MYR', { price: '3.00', cost: '4.00' })).json()).toMatchObject({ margin: '-1.00', marginPercent: '-33.3' });

    const changed = await setPrice(variant.id, 'monthly', 'SGD', { price: '27.50', cost: '14.40', activationFee: '10.00' });
    expect(changed.json()).toMatchObject({ id: monthly.json().id, price: '27.50', margin: '13.10', marginPercent: '47.6' });
    const [event] = await auditEventsOf(t.db, 'product_price.set');
    expect(event).toMatchObject({
      app: 'product', targetType: 'product_price', targetId: monthly.json().id,
      changes: { price: { before: '25.00', after: '27.50' }, sku: { after: 'PRC-1' }, cycle: { after: 'monthly' }, currency: { after: 'SGD' } },
    });
    expect(event?.changes).not.toHaveProperty('cost');

    const view = (await api(t, admin, 'GET', `/api/v1/products/${product.id}`)).json<Product>();
    expect(view.variants[0]!.prices.map((p) => `${p.currency} ${p.cycle} ${p.price}`)).toEqual(['MYR monthly 3.00', 'SGD monthly 27.50', 'SGD yearly 250.00', 'USD monthly 0.00', 'VND monthly 500000']);

    // Archive one price; setting it again puts it back on sale.
    const archived = await api(t, admin, 'POST', `/api/v1/prices/${monthly.json().id}/archive`);
    expect(archived.json()).toMatchObject({ archived: true });
    expect((await api(t, admin, 'POST', `/api/v1/prices/${monthly.json().id}/archive`)).statusCode).toBe(409);
    expect((await setPrice(variant.id, 'monthly', 'SGD', { price: '27.50', cost: '14.40' })).json()).toMatchObject({ archived: false, activationFee: '0.00' });
  });

  it('refuses malformed amounts and unknown cycles or currencies with a 400, negative, over-precise or too large ones with a 422, naming each field', async () => {
    const { variant } = await productWithVariant('PRC-BAD');
    const before = (await auditEventsOf(t.db, 'product_price.set')).length;
    const cases: Array<[string, string, unknown, string[], number]> = [
      // Numbers against the catalog's rules: 422 rule_violation (docs/adr/0040).
      ['monthly', 'SGD', { price: '-1.00', cost: '0' }, ['price'], 422],
      ['monthly', 'SGD', { price: '1.00', cost: '-0.01' }, ['cost'], 422],
      ['monthly', 'SGD', { price: '1.001', cost: '0.5' }, ['price'], 422],
      ['monthly', 'SGD', { price: '1.00', cost: '0.50', activationFee: '5.555' }, ['activationFee'], 422],
      ['monthly', 'SGD', { price: '1.00', cost: '0.50', activationFee: '5.5555555' }, ['activationFee'], 422],
      ['monthly', 'VND', { price: '1000.5', cost: '0' }, ['price'], 422],
      ['monthly', 'SGD', { price: '2000000.00', cost: '0' }, ['price'], 422],
      ['monthly', 'SGD', { price: '-1.001', cost: '-5', activationFee: '-2' }, ['price', 'cost', 'activationFee'], 422],
      // Malformed: 400 naming every bad field, those against a rule too.
      ['monthly', 'SGD', { price: '-1.001', cost: 'abc', activationFee: '-2' }, ['price', 'cost', 'activationFee'], 400],
      ['monthly', 'SGD', { price: '1e3', cost: '0' }, ['price'], 400],
      ['monthly', 'SGD', { price: 10, cost: '0' }, ['price'], 400],
      ['monthly', 'SGD', { cost: '0' }, ['price'], 400],
      ['weekly', 'SGD', { price: '1.00', cost: '0' }, ['cycle'], 400],
      ['monthly', 'XYZ', { price: '1.00', cost: '0' }, ['currency'], 400],
      ['monthly', 'SGD', { price: '1.00', cost: '0', margin: '1.00' }, ['margin'], 400],
    ];
    for (const [cycle, currency, payload, fields, status] of cases) {
      const res = await setPrice(variant.id, cycle, currency, payload);
      expect(res.statusCode, `${cycle} ${currency} ${JSON.stringify(payload)}`).toBe(status);
      expect(res.json().code, JSON.stringify(payload)).toBe(status === 400 ? 'validation_failed' : 'rule_violation');
      expect(errorPaths(res).sort(), JSON.stringify(payload)).toEqual([...fields].sort());
    }
    expect(await auditEventsOf(t.db, 'product_price.set')).toHaveLength(before);
    const rows = await t.db.owner.db.selectFrom('productPrices').select('id').where('variantId', '=', variant.id).execute();
    expect(rows).toEqual([]);
    expect((await setPrice('var_00000000000000000000000000', 'monthly', 'SGD', { price: '1.00', cost: '0' })).statusCode).toBe(404);
  });
});

describe('access', () => {
  it('staff without the Product app get 403 on every catalog route; portal users too', async () => {
    const { product, variant } = await productWithVariant('ACC-1');
    const price = (await setPrice(variant.id, 'monthly', 'SGD', { price: '5.00', cost: '1.00' })).json<Price>();
    const finance = await signIn(t, 'finance@demo.test');
    const owner = await signIn(t, 'owner@acme.test');
    const calls: Array<[Parameters<typeof api>[2], string, unknown?]> = [
      ['GET', '/api/v1/products'],
      ['POST', '/api/v1/products', { sku: 'NOPE', name: 'Nope', type: 'service' }],
      ['GET', `/api/v1/products/${product.id}`],
      ['PATCH', `/api/v1/products/${product.id}`, { name: 'Nope' }],
      ['POST', `/api/v1/products/${product.id}/archive`],
      ['POST', `/api/v1/products/${product.id}/unarchive`],
      ['POST', `/api/v1/products/${product.id}/variants`, { name: 'Nope' }],
      ['PUT', `/api/v1/variants/${variant.id}/prices/monthly/SGD`, { price: '1.00', cost: '0' }],
      ['POST', `/api/v1/prices/${price.id}/archive`],
    ];
    for (const who of [finance, owner]) {
      for (const [method, url, payload] of calls) {
        const res = await api(t, who, method, url, payload);
        expect(res.statusCode, `${method} ${url}`).toBe(403);
      }
    }
    for (const [method, url, payload] of calls) expect((await api(t, null, method, url, payload)).statusCode, `${method} ${url}`).toBe(401);
    expect((await api(t, admin, 'GET', `/api/v1/products/${product.id}`)).json()).toMatchObject({ name: 'Product ACC-1', archived: false, variants: [{ prices: [{ price: '5.00' }] }] });
  });

  it('another partner\'s product, variant and price are 404 and stay unchanged', async () => {
    const { product, variant } = await productWithVariant('OTHER-1');
    const price = (await setPrice(variant.id, 'monthly', 'SGD', { price: '5.00', cost: '1.00' })).json<Price>();
    const north = await signIn(t, 'admin@northwind.test');
    const calls: Array<[Parameters<typeof api>[2], string, unknown?]> = [
      ['GET', `/api/v1/products/${product.id}`],
      ['PATCH', `/api/v1/products/${product.id}`, { name: 'Stolen' }],
      ['POST', `/api/v1/products/${product.id}/archive`],
      ['POST', `/api/v1/products/${product.id}/variants`, { name: 'Stolen' }],
      ['PUT', `/api/v1/variants/${variant.id}/prices/monthly/SGD`, { price: '0', cost: '0' }],
      ['PUT', `/api/v1/variants/${variant.id}/prices/yearly/AUD`, { price: '0', cost: '0' }],
      ['POST', `/api/v1/prices/${price.id}/archive`],
    ];
    for (const [method, url, payload] of calls) {
      const res = await api(t, north, method, url, payload);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
    }
    expect((await api(t, north, 'GET', '/api/v1/products?q=OTHER-1')).json().data).toEqual([]);
    const view = (await api(t, admin, 'GET', `/api/v1/products/${product.id}`)).json<Product>();
    expect(view).toMatchObject({ name: 'Product OTHER-1', archived: false, variants: [{ name: 'Basic', prices: [{ currency: 'SGD', price: '5.00', archived: false }] }] });
    expect(view.variants).toHaveLength(1);
  });
});

describe('portal catalog', () => {
  it('shows products on sale with prices in the organisation\'s currency, never cost or margin', async () => {
    const { product, variant } = await productWithVariant('PORTAL-1', 'Basic');
    const pro = (await api(t, admin, 'POST', `/api/v1/products/${product.id}/variants`, { name: 'Pro' })).json<Variant>();
    const basicMonthly = (await setPrice(variant.id, 'monthly', 'SGD', { price: '20.00', cost: '8.00', activationFee: '15.00' })).json<Price>();
    await setPrice(variant.id, 'yearly', 'SGD', { price: '200.00', cost: '80.00' });
    await setPrice(variant.id, 'monthly', 'MYR', { price: '60.00', cost: '24.00' });
    const proMonthly = (await setPrice(pro.id, 'monthly', 'SGD', { price: '35.00', cost: '12.00' })).json<Price>();
    await api(t, admin, 'POST', `/api/v1/prices/${proMonthly.id}/archive`);
    const archivedProduct = await productWithVariant('PORTAL-ARCHIVED');
    await setPrice(archivedProduct.variant.id, 'monthly', 'SGD', { price: '1.00', cost: '0.50' });
    await api(t, admin, 'POST', `/api/v1/products/${archivedProduct.product.id}/archive`);
    const north = await signIn(t, 'admin@northwind.test');
    const northProduct = (await createProduct({ sku: 'PORTAL-NORTH', name: 'Northwind thing', type: 'service' }, north)).json<Product>();
    const northVariant = (await api(t, north, 'POST', `/api/v1/products/${northProduct.id}/variants`, { name: 'Only' })).json<Variant>();
    await setPrice(northVariant.id, 'monthly', 'SGD', { price: '9.00', cost: '1.00' }, north);

    for (const email of ['owner@acme.test', 'member@acme.test']) {
      const who = await signIn(t, email);
      const res = await api(t, who, 'GET', '/api/v1/portal/catalog');
      expect(res.statusCode).toBe(200);
      const body = res.json<{ data: Array<{ sku: string }>; nextCursor: null }>();
      expect(body.nextCursor).toBeNull();
      expect(body.data.map((p) => p.sku)).not.toContain('PORTAL-ARCHIVED');
      expect(body.data.map((p) => p.sku)).not.toContain('PORTAL-NORTH');
      expect(body.data.find((p) => p.sku === 'PORTAL-1')).toEqual({
        productId: product.id, sku: 'PORTAL-1', name: 'Product PORTAL-1', description: null, type: 'service',
        variants: [{
          variantId: variant.id, name: 'Basic',
          prices: [
            { priceId: basicMonthly.id, cycle: 'monthly', currency: 'SGD', price: '20.00', activationFee: '15.00' },
            { priceId: expect.stringMatching(/^prc_/), cycle: 'yearly', currency: 'SGD', price: '200.00', activationFee: '0.00' },
          ],
        }],
      });
      expect(res.body).not.toMatch(/cost|margin/i);
    }
    const globex = await signIn(t, 'owner@globex.test');
    const myr = (await api(t, globex, 'GET', '/api/v1/portal/catalog')).json<{ data: Array<{ sku: string; variants: Array<{ prices: Array<{ currency: string; price: string }> }> }> }>();
    expect(myr.data.find((p) => p.sku === 'PORTAL-1')?.variants[0]?.prices).toEqual([expect.objectContaining({ currency: 'MYR', price: '60.00' })]);
    expect(myr.data.every((p) => p.variants.every((v) => v.prices.every((pr) => pr.currency === 'MYR')))).toBe(true);

    expect((await api(t, admin, 'GET', '/api/v1/portal/catalog')).statusCode).toBe(403);
    expect((await api(t, null, 'GET', '/api/v1/portal/catalog')).statusCode).toBe(401);
  });
});

describe('demo catalog (seed)', () => {
  it('gives Demo Telecom its SGD catalog with margins, and 9% GST', async () => {
    const all = (await api(t, admin, 'GET', '/api/v1/products?archived=false&limit=200')).json<{ data: Product[] }>();
    const demo = Object.fromEntries(all.data.filter((p) => ['VL', 'WALLBOARD', 'DID-SG', 'TEAMS-APP'].includes(p.sku)).map((p) => [p.sku, p]));
    expect(Object.keys(demo).sort()).toEqual(['DID-SG', 'TEAMS-APP', 'VL', 'WALLBOARD']);
    expect(demo.VL).toMatchObject({ name: 'Virtual Line', type: 'service', taxCategory: 'standard' });
    expect(demo.VL!.variants.map((v) => v.name)).toEqual(['Basic', 'Pro']);
    expect(demo.VL!.variants[0]!.prices).toEqual([
      expect.objectContaining({ cycle: 'monthly', currency: 'SGD', price: '12.00', cost: '5.00', activationFee: '10.00', margin: '7.00', marginPercent: '58.3' }),
      expect.objectContaining({ cycle: 'yearly', currency: 'SGD', price: '120.00', cost: '50.00', activationFee: '10.00', margin: '70.00' }),
    ]);
    expect(demo['WALLBOARD']).toMatchObject({ name: 'Call-centre Wallboard', type: 'service' });
    expect(demo['DID-SG']).toMatchObject({ name: 'Phone Number', type: 'phone_number' });
    expect(demo['TEAMS-APP']).toMatchObject({ name: 'Teams App Licence', type: 'app_licence' });
    for (const p of Object.values(demo)) for (const v of p.variants) for (const pr of v.prices) expect(BigInt(pr.margin.replace('.', ''))).toBeGreaterThan(0n);
    const settings = await t.db.owner.db.selectFrom('partnerSettings').select('taxRateBps').where('partnerId', '=', partnerId).executeTakeFirstOrThrow();
    expect(settings.taxRateBps).toBe(900);
    const north = await signIn(t, 'admin@northwind.test');
    expect((await api(t, north, 'GET', '/api/v1/products?q=Virtual')).json().data).toEqual([]);
  });
});

describe('what the Customer app can sell', () => {
  it("staff with the Customer app but not the Product app read a customer's sellable catalog: its currency only, with cost and margin", async () => {
    const finance = await signIn(t, 'finance@demo.test');
    expect((await api(t, finance, 'GET', '/api/v1/products')).statusCode).toBe(403);
    const acme = (await t.db.owner.db.selectFrom('customers').select('id').where('name', '=', 'Acme Pte Ltd').executeTakeFirstOrThrow()).id;
    const res = await api(t, finance, 'GET', `/api/v1/customers/${acme}/sellable-products`);
    expect(res.statusCode).toBe(200);
    const products = res.json<{ data: Array<{ sku: string; archived: boolean; variants: Array<{ prices: Array<{ currency: string; cost: string; margin: string }> }> }> }>().data;
    expect(products.map((p) => p.sku)).toEqual(expect.arrayContaining(['VL', 'WALLBOARD', 'DID-SG', 'TEAMS-APP']));
    const prices = products.flatMap((p) => p.variants.flatMap((v) => v.prices));
    expect(prices.length).toBeGreaterThan(0);
    expect(prices.every((p) => p.currency === 'SGD' && typeof p.cost === 'string' && typeof p.margin === 'string')).toBe(true);
    expect(products.every((p) => !p.archived)).toBe(true);

    const globex = (await t.db.owner.db.selectFrom('customers').select('id').where('name', '=', 'Globex Sdn Bhd').executeTakeFirstOrThrow()).id;
    const myr = (await api(t, finance, 'GET', `/api/v1/customers/${globex}/sellable-products`)).json<{ data: Array<{ variants: Array<{ prices: Array<{ currency: string }> }> }> }>().data;
    expect(myr.flatMap((p) => p.variants.flatMap((v) => v.prices)).every((p) => p.currency === 'MYR')).toBe(true);

    const north = await signIn(t, 'admin@northwind.test');
    expect((await api(t, north, 'GET', `/api/v1/customers/${acme}/sellable-products`)).statusCode).toBe(404);
    const owner = await signIn(t, 'owner@acme.test');
    expect((await api(t, owner, 'GET', `/api/v1/customers/${acme}/sellable-products`)).statusCode).toBe(403);
    expect((await api(t, finance, 'GET', '/api/v1/customers/nonsense/sellable-products')).statusCode).toBe(400);
  });
});
