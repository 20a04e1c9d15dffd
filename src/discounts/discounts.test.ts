import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { api, createTestAppWithGateway, customerIdOf, partnerIdOf, signIn, type Session, type TestAppWithGateway } from '../test/harness.ts';
import { givePoints } from '../subscriptions/test-support.ts';
import { runRenewals } from '../subscriptions/renewals/run-renewals.ts';
import { checkLedger } from '../ledger/check-ledger.ts';

/**
 * The Discount app (issue 8 §1, §4, §5): discounts by customer and scope, applied to purchases and renewals, precedence,
 * margin preview, history, end; every refusal names its field and writes nothing.
 */
let t: TestAppWithGateway;
let admin: Session;
let finance: Session;
let north: Session;
let demo: string;
let acme: string;
let globex: string;
let initech: string;
const ids: Record<string, { productId: string; variantId: string; priceId: string }> = {};

async function priceOf(partnerId: string, sku: string, variant: string, cycle: string) {
  const row = await t.db.owner.db.selectFrom('productPrices as pr')
    .innerJoin('productVariants as v', 'v.id', 'pr.variantId').innerJoin('products as p', 'p.id', 'v.productId')
    .select(['p.id as productId', 'v.id as variantId', 'pr.id as priceId'])
    .where('p.partnerId', '=', partnerId).where('p.sku', '=', sku).where('v.name', '=', variant).where('pr.cycle', '=', cycle as 'monthly').executeTakeFirstOrThrow();
  return row;
}

beforeAll(async () => {
  t = await createTestAppWithGateway();
  t.clock.set('2026-03-01T09:00:00Z');
  admin = await signIn(t, 'admin@demo.test');
  finance = await signIn(t, 'finance@demo.test');
  north = await signIn(t, 'admin@northwind.test');
  demo = await partnerIdOf(t.db, 'demo-telecom');
  acme = await customerIdOf(t.db, 'Acme Pte Ltd');
  globex = await customerIdOf(t.db, 'Globex Sdn Bhd');
  initech = await customerIdOf(t.db, 'Initech Pte Ltd');
  ids.basicMonthly = await priceOf(demo, 'VL', 'Basic', 'monthly'); // 12.00, cost 5.00
  ids.basicYearly = await priceOf(demo, 'VL', 'Basic', 'yearly'); // 120.00, cost 50.00
  ids.proMonthly = await priceOf(demo, 'VL', 'Pro', 'monthly'); // 20.00, cost 8.50
  ids.wallboard = await priceOf(demo, 'WALLBOARD', 'Standard', 'monthly'); // 45.00, cost 18.00
  ids.number = await priceOf(demo, 'DID-SG', 'Singapore local', 'monthly'); // 5.00, cost 1.50
});
afterAll(async () => t.close());

type View = { id: string; status: string; startsOn: string; endsOn: string | null; percentOff: string | null; amountOff: { amount: string; currency: string } | null; specificity: number; scopeLabel: string; name: string };
const create = (body: Record<string, unknown>, who: Session = admin) => api(t, who, 'POST', '/api/v1/discounts', body);
const created = async (body: Record<string, unknown>) => {
  const res = await create(body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json<View>();
};
const end = (id: string) => api(t, admin, 'POST', `/api/v1/discounts/${id}/end`);
const discountCount = async () => Number((await t.db.owner.db.selectFrom('discounts').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
const auditCount = async () => Number((await t.db.owner.db.selectFrom('auditEvents').select((eb) => eb.fn.countAll().as('n')).where('app', '=', 'discount').where('action', '!=', 'discount.previewed').executeTakeFirstOrThrow()).n);

describe('creating a discount', () => {
  it('a percent for one customer on a product: shown with its scope and status, audited, with its history', async () => {
    const d = await created({ name: 'Acme wallboards', customerId: acme, scope: 'product', productId: ids.wallboard!.productId, percentOff: '12.5', endsOn: '2026-12-31' });
    expect(d).toMatchObject({
      name: 'Acme wallboards', target: 'customer', customer: { id: acme, name: 'Acme Pte Ltd' }, scope: 'product', productType: 'service',
      scopeLabel: 'All variants of Call-centre Wallboard', kind: 'percent', percentOff: '12.5', amountOff: null, startsOn: '2026-03-01', endsOn: '2026-12-31',
      status: 'active', specificity: 5,
    });
    const history = await api(t, admin, 'GET', `/api/v1/discounts/${d.id}/history`);
    expect(history.json().data).toEqual([expect.objectContaining({ action: 'discount.created', actor: 'admin@demo.test', changes: expect.objectContaining({ percentOff: { after: '12.5' } }) })]);
    const event = await t.db.owner.db.selectFrom('auditEvents').selectAll().where('action', '=', 'discount.created').where('targetId', '=', d.id).executeTakeFirstOrThrow();
    expect(event).toMatchObject({ app: 'discount', customerId: acme, targetType: 'discount' });
    expect((await api(t, admin, 'GET', `/api/v1/discounts/${d.id}`)).json()).toMatchObject({ id: d.id, status: 'active' });
    expect((await end(d.id)).statusCode).toBe(200);
  });

  it('a fixed amount on one billing cycle, in its currency', async () => {
    const d = await created({ name: 'Numbers 1.00 off', customerId: null, scope: 'price', priceId: ids.number!.priceId, amountOff: { amount: '1.00', currency: 'SGD' }, startsOn: '2026-03-05' });
    expect(d).toMatchObject({ target: 'all', customer: null, kind: 'fixed', amountOff: { amount: '1.00', currency: 'SGD' }, status: 'scheduled', specificity: 3 });
    expect(d.scopeLabel).toBe('Phone Number — Singapore local, monthly (SGD)');
    expect((await end(d.id)).json()).toMatchObject({ status: 'ended', endsOn: '2026-03-04' }); // withdrawn: never in force
  });

  it('refuses bad input with a 4xx naming the field, and writes nothing', async () => {
    const before = { discounts: await discountCount(), audit: await auditCount() };
    const northPrice = await priceOf(await partnerIdOf(t.db, 'northwind'), 'X', 'Y', 'monthly').catch(() => null);
    const base = { name: 'Bad', customerId: acme, scope: 'variant', variantId: ids.basicMonthly!.variantId };
    const cases: Array<[Record<string, unknown>, number, string, string?]> = [
      // A percent that is a number but out of its rules is a 422 (docs/adr/0040); one that is not a number, a 400.
      [{ ...base, percentOff: '100.01' }, 422, 'percentOff', 'rule_violation'],
      [{ ...base, percentOff: '150' }, 422, 'percentOff', 'rule_violation'],
      [{ ...base, percentOff: '0' }, 422, 'percentOff', 'rule_violation'],
      [{ ...base, percentOff: '-5' }, 422, 'percentOff', 'rule_violation'],
      [{ ...base, percentOff: '12.345' }, 422, 'percentOff', 'rule_violation'],
      [{ ...base, percentOff: 'ten' }, 400, 'percentOff', 'validation_failed'],
      [{ ...base, percentOff: '5%' }, 400, 'percentOff', 'validation_failed'],
      [{ ...base }, 400, 'percentOff'],
      [{ ...base, percentOff: '5', amountOff: { amount: '1.00', currency: 'SGD' } }, 400, 'percentOff'],
      [{ ...base, amountOff: { amount: '1.00', currency: 'SGD' } }, 422, 'amountOff', 'rule_violation'],
      [{ ...base, scope: 'product_type', productType: 'service', variantId: undefined, amountOff: { amount: '1.00', currency: 'SGD' } }, 422, 'amountOff'],
      [{ ...base, percentOff: '5', startsOn: '2026-04-01', endsOn: '2026-03-31' }, 422, 'endsOn', 'rule_violation'],
      [{ ...base, percentOff: '5', startsOn: '2026-02-28' }, 422, 'startsOn'],
      [{ ...base, percentOff: '5', startsOn: '2026-02-30' }, 400, 'startsOn'],
      [{ ...base, variantId: 'var_00000000000000000000000000', percentOff: '5' }, 422, 'variantId', 'product_not_found'],
      [{ ...base, scope: 'price', variantId: undefined, priceId: 'prc_00000000000000000000000000', percentOff: '5' }, 422, 'priceId', 'product_not_found'],
      [{ ...base, scope: 'price', variantId: undefined, priceId: ids.number!.priceId, amountOff: { amount: '1.00', currency: 'MYR' } }, 422, 'amountOff.currency', 'currency_mismatch'],
      [{ ...base, scope: 'price', variantId: undefined, priceId: ids.number!.priceId, amountOff: { amount: '1.001', currency: 'SGD' } }, 422, 'amountOff.amount', 'rule_violation'],
      [{ ...base, scope: 'price', variantId: undefined, priceId: ids.number!.priceId, amountOff: { amount: '0', currency: 'SGD' } }, 422, 'amountOff.amount', 'rule_violation'],
      [{ ...base, scope: 'price', variantId: undefined, priceId: ids.number!.priceId, amountOff: { amount: 'one', currency: 'SGD' } }, 400, 'amountOff.amount', 'validation_failed'],
      // More than any catalog price (and, far above it, more than 64-bit micro-units hold: this was a 500).
      [{ ...base, scope: 'price', variantId: undefined, priceId: ids.number!.priceId, amountOff: { amount: '1000000.01', currency: 'SGD' } }, 422, 'amountOff.amount', 'rule_violation'],
      [{ ...base, scope: 'price', variantId: undefined, priceId: ids.number!.priceId, amountOff: { amount: '999999999999999', currency: 'SGD' } }, 422, 'amountOff.amount', 'rule_violation'],
      [{ ...base, customerId: 'cus_00000000000000000000000000', percentOff: '5' }, 422, 'customerId', 'customer_not_found'],
      [{ ...base, scope: 'product', variantId: undefined, percentOff: '5' }, 400, 'productId'],
      [{ ...base, productId: ids.wallboard!.productId, percentOff: '5' }, 400, 'productId'],
      [{ ...base, scope: 'product_type', variantId: undefined, productType: 'satellite', percentOff: '5' }, 400, 'productType'],
    ];
    for (const [body, status, path, code] of cases) {
      const res = await create(body);
      expect(res.statusCode, `${JSON.stringify(body)}: ${res.body}`).toBe(status);
      expect(res.json<{ errors: { path: string }[] }>().errors.map((e) => e.path), res.body).toContain(path);
      if (code) expect(res.json().code).toBe(code);
    }
    expect(northPrice).toBeNull();
    // Another partner's catalog and customers are unknown here.
    const wombat = await customerIdOf(t.db, 'Wombat Pty Ltd');
    expect((await create({ ...base, customerId: wombat, percentOff: '5' })).json().errors).toEqual([{ path: 'customerId', message: 'no such customer' }]);
    const theirs = await api(t, north, 'POST', '/api/v1/discounts', { name: 'x', customerId: null, scope: 'price', priceId: ids.number!.priceId, percentOff: '5' });
    expect(theirs.statusCode).toBe(422);
    expect(theirs.json().errors).toEqual([{ path: 'priceId', message: 'not in your catalog' }]);
    expect({ discounts: await discountCount(), audit: await auditCount() }).toEqual(before);
  });

  it('refuses an overlapping discount of the same target and scope (409 naming the dates); other targets, scopes or days are fine', async () => {
    const first = await created({ name: 'Basic spring', customerId: acme, scope: 'variant', variantId: ids.basicMonthly!.variantId, percentOff: '10', startsOn: '2026-04-01', endsOn: '2026-04-30' });
    const before = { discounts: await discountCount(), audit: await auditCount() };
    const overlap = await create({ name: 'Basic overlap', customerId: acme, scope: 'variant', variantId: ids.basicMonthly!.variantId, percentOff: '20', startsOn: '2026-04-30' });
    expect(overlap.statusCode).toBe(409);
    expect(overlap.json()).toMatchObject({ code: 'discount_overlap', errors: [{ path: 'startsOn', message: expect.stringContaining('Basic spring') }] });
    expect({ discounts: await discountCount(), audit: await auditCount() }).toEqual(before);
    // The day after its end; every customer; another scope: no overlap.
    const later = await created({ name: 'Basic May', customerId: acme, scope: 'variant', variantId: ids.basicMonthly!.variantId, percentOff: '20', startsOn: '2026-05-01' });
    const all = await created({ name: 'Basic all', customerId: null, scope: 'variant', variantId: ids.basicMonthly!.variantId, percentOff: '5', startsOn: '2026-04-01' });
    const cycle = await created({ name: 'Basic monthly', customerId: acme, scope: 'price', priceId: ids.basicMonthly!.priceId, percentOff: '15', startsOn: '2026-04-01' });
    // An ended discount no longer blocks its days from tomorrow on... but still holds the days it was in force.
    for (const d of [first, later, all, cycle]) expect((await end(d.id)).statusCode).toBe(200);
    await created({ name: 'Basic again', customerId: acme, scope: 'variant', variantId: ids.basicMonthly!.variantId, percentOff: '30', startsOn: '2026-04-10' }).then((d) => end(d.id));
  });

  it('two overlapping creates at the same time: the database lets exactly one through', async () => {
    const body = (n: number) => ({ name: `Race ${n}`, customerId: globex, scope: 'product_type', productType: 'app_licence', percentOff: `${n}` });
    const results = await Promise.all([1, 2, 3, 4].map((n) => create(body(n))));
    expect(results.map((r) => r.statusCode).sort()).toEqual([201, 409, 409, 409]);
    const winner = results.find((r) => r.statusCode === 201)!.json<View>();
    expect(await t.db.owner.db.selectFrom('discounts').select('id').where('customerId', '=', globex).where('scope', '=', 'product_type').execute()).toEqual([{ id: winner.id }]);
    // And the constraint itself, past the application's check:
    const row = await t.db.owner.db.selectFrom('discounts').selectAll().where('id', '=', winner.id).executeTakeFirstOrThrow();
    await expect(t.db.owner.db.insertInto('discounts').values({ ...row, id: 'dsc_x0000000000000000000000000', createdAt: new Date(), startsOn: '2027-01-01', endsOn: null, amountMicros: null }).execute())
      .rejects.toMatchObject({ code: '23P01' });
    await end(winner.id);
  });
});

describe('changing and ending', () => {
  it('a started discount keeps its rate (409 naming the field: end it and create a new one); its name and end may change; ending never rewrites invoices', async () => {
    const d = await created({ name: 'Pro deal', customerId: acme, scope: 'price', priceId: ids.proMonthly!.priceId, percentOff: '25' });
    const rate = await api(t, admin, 'PATCH', `/api/v1/discounts/${d.id}`, { percentOff: '30' });
    expect(rate.statusCode).toBe(409);
    expect(rate.json()).toMatchObject({ code: 'discount_started', errors: [{ path: 'percentOff' }] });
    expect((await api(t, admin, 'PATCH', `/api/v1/discounts/${d.id}`, { startsOn: '2026-03-10' })).json().errors).toEqual([expect.objectContaining({ path: 'startsOn' })]);
    expect((await api(t, admin, 'PATCH', `/api/v1/discounts/${d.id}`, { endsOn: '2026-02-01' })).json().errors).toEqual([expect.objectContaining({ path: 'endsOn' })]);
    const renamed = await api(t, admin, 'PATCH', `/api/v1/discounts/${d.id}`, { name: 'Pro deal (Acme)', endsOn: '2026-06-30' });
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect(renamed.json()).toMatchObject({ name: 'Pro deal (Acme)', endsOn: '2026-06-30', percentOff: '25' });

    // Acme buys Pro monthly with the discount: 20.00 - 25% = 15.00 (+ 10.00 activation fee, not discounted).
    await givePoints(t, demo, acme, '200.00');
    const sold = await api(t, admin, 'POST', `/api/v1/customers/${acme}/subscriptions`, { priceId: ids.proMonthly!.priceId });
    expect(sold.statusCode, sold.body).toBe(201);
    const invoiceId = sold.json().invoice.id as string;
    const lines = async () => t.db.owner.db.selectFrom('invoiceLines').select(['kind', 'grossMicros', 'discountMicros', 'amountMicros', 'discountId']).where('invoiceId', '=', invoiceId).orderBy('position').execute();
    const issued = await lines();
    expect(issued).toEqual([
      { kind: 'subscription', grossMicros: '20000000', discountMicros: '5000000', amountMicros: '15000000', discountId: d.id },
      { kind: 'activation_fee', grossMicros: '10000000', discountMicros: '0', amountMicros: '10000000', discountId: null },
    ]);
    const invoice = await api(t, admin, 'GET', `/api/v1/invoices/${invoiceId}`);
    expect(invoice.json()).toMatchObject({ subtotal: '25.00', discount: '5.00', tax: '2.25', total: '27.25' });

    // It started today and an invoice today carries it: it ends today (never a period ending before it starts), and what is
    // sold after it ended, today too, goes without it.
    const ended = await end(d.id);
    expect(ended.json()).toMatchObject({ status: 'ended', startsOn: '2026-03-01', endsOn: '2026-03-01' });
    const after = await api(t, admin, 'POST', `/api/v1/customers/${acme}/subscriptions`, { priceId: ids.proMonthly!.priceId });
    expect(after.statusCode, after.body).toBe(201);
    expect(await t.db.owner.db.selectFrom('invoiceLines').select(['discountMicros', 'discountId']).where('invoiceId', '=', after.json().invoice.id as string).where('kind', '=', 'subscription').execute())
      .toEqual([{ discountMicros: '0', discountId: null }]);
    expect((await end(d.id)).json().code).toBe('discount_ended');
    expect((await api(t, admin, 'PATCH', `/api/v1/discounts/${d.id}`, { name: 'again' })).statusCode).toBe(409);
    expect(await lines()).toEqual(issued);
    expect((await api(t, admin, 'GET', `/api/v1/invoices/${invoiceId}`)).json()).toMatchObject({ discount: '5.00', total: '27.25' });
    const history = (await api(t, admin, 'GET', `/api/v1/discounts/${d.id}/history`)).json<{ data: { action: string; changes: Record<string, unknown> }[] }>().data;
    expect(history.map((h) => h.action)).toEqual(['discount.ended', 'discount.changed', 'discount.created']);
    expect(history[1]!.changes).toEqual({ name: { before: 'Pro deal', after: 'Pro deal (Acme)' }, endsOn: { before: null, after: '2026-06-30' } });
    expect(history[0]!.changes).toMatchObject({ endsOn: { before: '2026-06-30', after: '2026-03-01' }, status: { before: 'active', after: 'ended' } });
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('its history is a list like the others: newest first, a page at a time with limit and cursor, so the latest change is never cut off', async () => {
    const d = await created({ name: 'Renamed 0', customerId: globex, scope: 'product_type', productType: 'usage', percentOff: '3' });
    for (let i = 1; i <= 4; i++) expect((await api(t, admin, 'PATCH', `/api/v1/discounts/${d.id}`, { name: `Renamed ${i}` })).statusCode).toBe(200);
    type Page = { data: { id: string; action: string; changes: { name?: { after: string } } }[]; nextCursor: string | null };
    const history = async (query: string) => (await api(t, admin, 'GET', `/api/v1/discounts/${d.id}/history${query}`)).json<Page>();
    const names: string[] = [];
    let page = await history('?limit=2');
    expect(page.data[0]!.changes.name?.after).toBe('Renamed 4');
    for (;;) {
      names.push(...page.data.map((h) => h.changes.name?.after ?? '?'));
      if (!page.nextCursor) break;
      expect(page.nextCursor).toBe(page.data.at(-1)!.id);
      page = await history(`?limit=2&cursor=${page.nextCursor}`);
    }
    expect(names).toEqual(['Renamed 4', 'Renamed 3', 'Renamed 2', 'Renamed 1', 'Renamed 0']);
    expect((await history('')).data.map((h) => h.action)).toEqual(['discount.changed', 'discount.changed', 'discount.changed', 'discount.changed', 'discount.created']);

    const other = await created({ name: 'Other', customerId: initech, scope: 'product_type', productType: 'usage', percentOff: '3' });
    const otherEvent = (await api(t, admin, 'GET', `/api/v1/discounts/${other.id}/history`)).json<Page>().data[0]!.id;
    for (const query of ['?cursor=garbage', `?cursor=${otherEvent}`, '?limit=201', '?limit=0']) {
      const res = await api(t, admin, 'GET', `/api/v1/discounts/${d.id}/history${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().errors.map((e: { path: string }) => e.path), query).toEqual([query.startsWith('?cursor') ? 'cursor' : 'limit']);
    }
    await end(d.id);
    await end(other.id);
  });

  it('has an ETag; a change with a stale If-Match writes nothing (412), with the current one it goes through', async () => {
    const d = await created({ name: 'Autumn', customerId: null, scope: 'product_type', productType: 'usage', percentOff: '5', startsOn: '2026-10-01', endsOn: '2026-10-31' });
    const etag = String((await api(t, admin, 'GET', `/api/v1/discounts/${d.id}`)).headers.etag);
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    const patch = (ifMatch: string, body: unknown) => t.app.inject({ method: 'PATCH', url: `/api/v1/discounts/${d.id}`, headers: { ...admin.headers, 'if-match': ifMatch }, payload: body as object });
    const colleague = await api(t, admin, 'PATCH', `/api/v1/discounts/${d.id}`, { percentOff: '6' });
    expect(colleague.statusCode).toBe(200);
    const before = await auditCount();
    const stale = await patch(etag, { percentOff: '8' });
    expect(stale.statusCode).toBe(412);
    expect(stale.json()).toMatchObject({ code: 'precondition_failed' });
    expect((await api(t, admin, 'GET', `/api/v1/discounts/${d.id}`)).json()).toMatchObject({ percentOff: '6' });
    expect(await auditCount()).toBe(before);
    const fresh = String(colleague.headers.etag);
    expect(fresh).toBe(String((await api(t, admin, 'GET', `/api/v1/discounts/${d.id}`)).headers.etag));
    const ok = await patch(fresh, { percentOff: '8' });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ percentOff: '8' });
    await end(d.id);
  });

  it('a scheduled discount may change its rate and dates', async () => {
    const d = await created({ name: 'Summer', customerId: null, scope: 'product_type', productType: 'usage', percentOff: '5', startsOn: '2026-06-01', endsOn: '2026-08-31' });
    const res = await api(t, admin, 'PATCH', `/api/v1/discounts/${d.id}`, { percentOff: '7.5', startsOn: '2026-06-15' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ percentOff: '7.5', startsOn: '2026-06-15', status: 'scheduled' });
    expect((await api(t, admin, 'PATCH', `/api/v1/discounts/${d.id}`, { startsOn: '2026-09-01' })).json().errors).toEqual([expect.objectContaining({ path: 'startsOn' })]);
    expect((await api(t, admin, 'PATCH', `/api/v1/discounts/${d.id}`, { amountOff: { amount: '1.00', currency: 'SGD' } })).json().errors).toEqual([expect.objectContaining({ path: 'amountOff' })]);
    await end(d.id);
  });

  it("a scheduled fixed discount may change its amount, within what a catalog price can be (422 rule_violation naming amountOff.amount); so does the preview's", async () => {
    const d = await created({ name: 'Numbers in summer', customerId: globex, scope: 'price', priceId: ids.number!.priceId, amountOff: { amount: '1.00', currency: 'SGD' }, startsOn: '2026-07-01' });
    const changed = await api(t, admin, 'PATCH', `/api/v1/discounts/${d.id}`, { amountOff: { amount: '2.50', currency: 'SGD' } });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({ amountOff: { amount: '2.50', currency: 'SGD' } });
    const tooLarge = [{ path: 'amountOff.amount', message: 'at most 1000000.00, the most a catalog price can be' }];
    // Far above it is more than the 64-bit micro-units it is stored in: this was a 500.
    for (const amount of ['1000000.01', '999999999999999']) {
      const res = await api(t, admin, 'PATCH', `/api/v1/discounts/${d.id}`, { amountOff: { amount, currency: 'SGD' } });
      expect(res.statusCode, amount).toBe(422);
      expect(res.json().errors, amount).toEqual(tooLarge);
      const preview = await api(t, admin, 'POST', '/api/v1/discounts/preview', { customerId: globex, scope: 'price', priceId: ids.number!.priceId, amountOff: { amount, currency: 'SGD' } });
      expect(preview.statusCode, amount).toBe(422);
      expect(preview.json().errors, amount).toEqual(tooLarge);
    }
    // A price's worth exactly is taken (capped at the price when it applies).
    expect((await api(t, admin, 'PATCH', `/api/v1/discounts/${d.id}`, { amountOff: { amount: '1000000.00', currency: 'SGD' } })).statusCode).toBe(200);
    const stored = await t.db.owner.db.selectFrom('discounts').select('amountMicros').where('id', '=', d.id).executeTakeFirstOrThrow();
    expect(BigInt(stored.amountMicros!)).toBe(1_000_000_000_000n);
    await end(d.id);
  });
});

describe('precedence, purchases and renewals', () => {
  it('the most specific discount in force wins: one customer beats every customer, then billing cycle > variant > product > type', async () => {
    const made = [
      await created({ name: 'All services 10%', customerId: null, scope: 'product_type', productType: 'service', percentOff: '10' }),
      await created({ name: 'All Basic monthly 40%', customerId: null, scope: 'price', priceId: ids.basicMonthly!.priceId, percentOff: '40' }),
      await created({ name: 'Initech services 20%', customerId: initech, scope: 'product_type', productType: 'service', percentOff: '20' }),
    ];
    // Initech: its own type-wide 20% beats the every-customer 40% on the billing cycle (target first).
    const initechSale = await api(t, admin, 'POST', `/api/v1/customers/${initech}/subscriptions`, { priceId: ids.basicMonthly!.priceId });
    expect(initechSale.statusCode, initechSale.body).toBe(201);
    expect(initechSale.json().subscription).toMatchObject({ renewalPrice: '9.60', renewalDiscount: '2.40', discount: { id: made[2]!.id, name: 'Initech services 20%' } });
    // Acme: no discount of its own, so the every-customer billing cycle (40%) beats the every-customer type (10%).
    const acmeSale = await api(t, admin, 'POST', `/api/v1/customers/${acme}/subscriptions`, { priceId: ids.basicMonthly!.priceId });
    expect(acmeSale.json().subscription).toMatchObject({ renewalPrice: '7.20', renewalDiscount: '4.80', discount: { name: 'All Basic monthly 40%' } });
    const acmeWallboard = await api(t, admin, 'POST', `/api/v1/customers/${acme}/subscriptions`, { priceId: ids.wallboard!.priceId });
    expect(acmeWallboard.json().subscription).toMatchObject({ renewalPrice: '40.50', renewalDiscount: '4.50', margin: '22.50' });
    // The Customer app lists what applies to a customer, most specific first, and links to the Discount app.
    const forInitech = await api(t, admin, 'GET', `/api/v1/customers/${initech}/discounts`);
    expect(forInitech.json().data.map((d: View) => d.name)).toEqual(['Initech services 20%', 'All Basic monthly 40%', 'All services 10%']);
    const forGlobex = await api(t, finance, 'GET', `/api/v1/customers/${globex}/discounts`);
    expect(forGlobex.statusCode).toBe(200);
    expect(forGlobex.json().data.map((d: View) => d.name)).not.toContain('Initech services 20%');
    expect((await api(t, north, 'GET', `/api/v1/customers/${acme}/discounts`)).statusCode).toBe(404);
    // Portal renewal price shows the discount too.
    const owner = await signIn(t, 'owner@acme.test');
    const portal = await api(t, owner, 'GET', '/api/v1/portal/subscriptions');
    expect(portal.json().data.find((s: { id: string }) => s.id === acmeWallboard.json().subscription.id)).toMatchObject({ renewalPrice: '40.50', renewalDiscount: '4.50' });
    for (const d of made) await end(d.id);
    // Ended: the renewal price is the catalog's again.
    const again = await api(t, admin, 'GET', `/api/v1/subscriptions/${acmeWallboard.json().subscription.id}`);
    expect(again.json()).toMatchObject({ renewalPrice: '45.00', renewalDiscount: '0.00', discount: null });
  });

  it('the renewal charges the discount in force on the first day of the new period, shown on the invoice line', async () => {
    t.clock.set('2026-03-02T09:00:00Z');
    await givePoints(t, demo, initech, '500.00');
    const sold = await api(t, admin, 'POST', `/api/v1/customers/${initech}/subscriptions`, { priceId: ids.wallboard!.priceId, quantity: 2 });
    expect(sold.statusCode, sold.body).toBe(201);
    const sub = sold.json().subscription as { id: string; currentPeriodEnd: string };
    expect(sub.currentPeriodEnd).toBe('2026-04-02');
    // From 2 April (the first day of the next period), 4.00 off each wallboard; one ending the day before does not apply.
    const before = await created({ name: 'Initech wallboards March', customerId: initech, scope: 'price', priceId: ids.wallboard!.priceId, amountOff: { amount: '9.00', currency: 'SGD' }, endsOn: '2026-04-01' });
    const d = await created({ name: 'Initech wallboards', customerId: initech, scope: 'price', priceId: ids.wallboard!.priceId, amountOff: { amount: '4.00', currency: 'SGD' }, startsOn: '2026-04-02' });
    expect((await api(t, admin, 'GET', `/api/v1/subscriptions/${sub.id}`)).json()).toMatchObject({ renewalPrice: '82.00', renewalDiscount: '8.00', discount: { id: d.id } });

    // A week before, the "renewal coming" notice names what the renewal will charge: the discount in, tax on the net.
    const deps = { db: t.db.app.db, gateway: t.gateway, log: pino({ level: 'silent' }) };
    await runRenewals(deps, { asOf: new Date('2026-03-19T01:00:00Z') });
    const notice = await t.db.owner.db.selectFrom('notifications').select(['subject', 'bodyText']).where('customerId', '=', initech)
      .where('kind', '=', 'subscription_renewal_upcoming').where('bodyText', 'like', '%renews on 2026-03-26%').executeTakeFirstOrThrow();
    expect(notice.bodyText).toContain('Call-centre Wallboard');
    expect(notice.bodyText).toContain('89.38 SGD');
    expect(notice.bodyText).not.toContain('98.10 SGD');

    const run = await runRenewals(deps, { asOf: new Date('2026-03-26T01:00:00Z') });
    expect(run.renewedSubscriptions).toBeGreaterThanOrEqual(1);
    const charge = await t.db.owner.db.selectFrom('subscriptionCharges').select(['invoiceId', 'priceMicros']).where('subscriptionId', '=', sub.id).where('kind', '=', 'renewal').executeTakeFirstOrThrow();
    expect(charge.priceMicros).toBe('82000000');
    const line = await t.db.owner.db.selectFrom('invoiceLines').select(['kind', 'quantity', 'unitAmountMicros', 'grossMicros', 'discountMicros', 'amountMicros', 'taxMicros', 'discountId'])
      .where('invoiceId', '=', charge.invoiceId!).executeTakeFirstOrThrow();
    expect(line).toMatchObject({ kind: 'subscription_renewal', unitAmountMicros: '45000000', grossMicros: '90000000', discountMicros: '8000000', amountMicros: '82000000', taxMicros: '7380000', discountId: d.id });
    const invoice = (await api(t, admin, 'GET', `/api/v1/invoices/${charge.invoiceId}`)).json();
    expect(invoice).toMatchObject({ subtotal: '82.00', discount: '8.00', tax: '7.38', total: '89.38' });
    expect(invoice.lines[0]).toMatchObject({ discount: '8.00', amount: '82.00' });
    // Ending it afterwards leaves the issued invoice as it was.
    await end(d.id);
    await end(before.id).catch(() => null);
    expect((await api(t, admin, 'GET', `/api/v1/invoices/${charge.invoiceId}`)).json()).toMatchObject({ discount: '8.00', total: '89.38' });
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });
});

describe('margin preview', () => {
  it('lists the subscriptions a discount would touch with price, cost and margin after it, warns below cost, saves nothing', async () => {
    t.clock.set('2026-03-03T09:00:00Z');
    const before = await discountCount();
    const res = await api(t, admin, 'POST', '/api/v1/discounts/preview', { customerId: initech, scope: 'price', priceId: ids.wallboard!.priceId, percentOff: '70' });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.total).toBeGreaterThanOrEqual(1);
    const row = body.data.find((r: { quantity: number }) => r.quantity === 2);
    // 2 x 45.00 = 90.00 - 70% = 27.00 against a cost of 36.00.
    expect(row).toMatchObject({ customer: { name: 'Initech Pte Ltd' }, productName: 'Call-centre Wallboard', renewalPrice: '27.00', renewalCost: '36.00', margin: '-9.00', belowCost: true, applies: true });
    expect(body.warning).toMatch(/below cost/);
    expect(body.belowCostCount).toBeGreaterThanOrEqual(1);
    const modest = await api(t, admin, 'POST', '/api/v1/discounts/preview', { customerId: initech, scope: 'price', priceId: ids.wallboard!.priceId, percentOff: '10' });
    expect(modest.json()).toMatchObject({ warning: null, belowCostCount: 0 });
    expect(modest.json().data.find((r: { quantity: number }) => r.quantity === 2)).toMatchObject({ renewalPrice: '81.00', margin: '45.00', marginPercent: '55.6' });
    // Someone else's scope: nothing to touch. Bad input: the same refusals as a create.
    expect((await api(t, admin, 'POST', '/api/v1/discounts/preview', { customerId: globex, scope: 'price', priceId: ids.wallboard!.priceId, percentOff: '10' })).json()).toMatchObject({ data: [], total: 0 });
    expect((await api(t, admin, 'POST', '/api/v1/discounts/preview', { customerId: null, scope: 'product', productId: ids.wallboard!.productId, amountOff: { amount: '1.00', currency: 'SGD' } })).statusCode).toBe(422);
    expect(await discountCount()).toBe(before);
  });
});

describe('list and access', () => {
  it('filters by customer, target, scope and status, pages by id; the Discount grant is needed', async () => {
    const all = await api(t, admin, 'GET', '/api/v1/discounts?limit=200');
    expect(all.statusCode).toBe(200);
    const data = all.json<{ data: View[] }>().data;
    expect(data.length).toBeGreaterThan(5);
    const acmeOnly = (await api(t, admin, 'GET', `/api/v1/discounts?customerId=${acme}`)).json<{ data: { customer: { id: string } }[] }>().data;
    expect(acmeOnly.length).toBeGreaterThan(0);
    expect(acmeOnly.every((d) => d.customer.id === acme)).toBe(true);
    expect((await api(t, admin, 'GET', '/api/v1/discounts?target=all')).json<{ data: { target: string }[] }>().data.every((d) => d.target === 'all')).toBe(true);
    expect((await api(t, admin, 'GET', '/api/v1/discounts?scope=price')).json<{ data: { scope: string }[] }>().data.every((d) => d.scope === 'price')).toBe(true);
    expect((await api(t, admin, 'GET', '/api/v1/discounts?status=ended')).json<{ data: View[] }>().data.every((d) => d.status === 'ended')).toBe(true);
    const first = await api(t, admin, 'GET', '/api/v1/discounts?limit=2');
    const second = await api(t, admin, 'GET', `/api/v1/discounts?limit=2&cursor=${first.json().nextCursor}`);
    expect(second.json().data[0].id < first.json().data[1].id).toBe(true);
    expect((await api(t, admin, 'GET', '/api/v1/discounts?status=sleeping')).statusCode).toBe(400);
    const badCursor = await api(t, admin, 'GET', '/api/v1/discounts?cursor=garbage');
    expect(badCursor.statusCode).toBe(400);
    expect(badCursor.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'cursor', message: 'a dsc_ id' }] });
    expect((await api(t, finance, 'GET', '/api/v1/discounts')).statusCode).toBe(403);
    expect((await api(t, finance, 'POST', '/api/v1/discounts', { name: 'x', customerId: null, scope: 'product_type', productType: 'service', percentOff: '5' })).statusCode).toBe(403);
    expect((await api(t, north, 'GET', `/api/v1/discounts/${data[0]!.id}`)).statusCode).toBe(404);
    expect((await api(t, north, 'POST', `/api/v1/discounts/${data[0]!.id}/end`)).statusCode).toBe(404);
    expect((await api(t, north, 'GET', '/api/v1/discounts')).json().data).toEqual([]);
  });

  it('the form\'s lookups: the catalog tree and customers by name, the partner\'s own only', async () => {
    const catalog = await api(t, admin, 'GET', '/api/v1/discounts/catalog');
    expect(catalog.statusCode).toBe(200);
    const number = catalog.json().products.find((p: { sku: string }) => p.sku === 'DID-SG');
    expect(number).toMatchObject({ type: 'phone_number', variants: [{ name: 'Singapore local', prices: expect.arrayContaining([expect.objectContaining({ cycle: 'monthly', currency: 'SGD', price: '5.00', cost: '1.50' })]) }] });
    expect((await api(t, north, 'GET', '/api/v1/discounts/catalog')).json().products.some((p: { sku: string }) => p.sku === 'DID-SG')).toBe(false);
    const found = await api(t, admin, 'GET', '/api/v1/discounts/customers?q=acm');
    expect(found.json().data).toEqual([{ id: acme, name: 'Acme Pte Ltd', currency: 'SGD' }]);
    expect((await api(t, admin, 'GET', '/api/v1/discounts/customers?q=%25')).json().data).toEqual([]);
    expect((await api(t, north, 'GET', '/api/v1/discounts/customers?q=acm')).json().data).toEqual([]);
    expect((await api(t, finance, 'GET', '/api/v1/discounts/catalog')).statusCode).toBe(403);
  });
});
