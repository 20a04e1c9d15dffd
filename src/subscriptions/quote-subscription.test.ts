import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestApp, customerIdOf, expectUnknownId, partnerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';
import { formatDecimal } from '../money/money.ts';
import { catalogPrice, givePoints, pointsOf, sgd, type CatalogPrice } from './test-support.ts';

/**
 * The quote a Sell / Buy dialog shows before a purchase: the price after the customer's discount, the activation fee and
 * tax, the total the purchase charges, and whether usable points cover it; nothing written.
 */
let t: TestApp;
let demo: string;
let acme: string;
let initech: string;
let admin: Session;
let owner: Session;
let member: Session;
let pbx: CatalogPrice;
let archived: CatalogPrice;

beforeAll(async () => {
  t = await createTestApp();
  t.clock.set('2026-03-10T09:30:00Z');
  demo = await partnerIdOf(t.db, 'demo-telecom');
  acme = await customerIdOf(t.db, 'Acme Pte Ltd');
  initech = await customerIdOf(t.db, 'Initech Pte Ltd');
  await t.db.owner.db.updateTable('partnerSettings').set({ taxRateBps: 900 }).where('partnerId', '=', demo).execute();
  pbx = await catalogPrice(t, demo, { name: 'Quoted PBX', price: '30.00', cost: '12.00', activationFee: '10.00' });
  archived = await catalogPrice(t, demo, { name: 'Old PBX', price: '30.00', cost: '12.00', archived: true });
  admin = await signIn(t, 'admin@demo.test');
  owner = await signIn(t, 'owner@acme.test');
  member = await signIn(t, 'member@acme.test');
  const discount = await api(t, admin, 'POST', '/api/v1/discounts', { name: 'Acme PBX deal', customerId: acme, scope: 'price', priceId: pbx.priceId, percentOff: '10' });
  expect(discount.statusCode, discount.body).toBe(201);
});
afterAll(async () => t.close());

const staffQuote = (customerId: string, query: string, who: Session = admin) => api(t, who, 'GET', `/api/v1/customers/${customerId}/subscriptions/quote?${query}`);
const portalQuote = (query: string, who: Session = owner) => api(t, who, 'GET', `/api/v1/portal/subscriptions/quote?${query}`);

describe('quoting a purchase', () => {
  it('staff see the price less the customer\'s discount, plus fee and tax, the total the purchase then charges, cost and margin', async () => {
    const before = await t.db.owner.db.selectFrom('subscriptions').select('id').execute();
    const res = await staffQuote(acme, `priceId=${pbx.priceId}&quantity=2`);
    expect(res.statusCode, res.body).toBe(200);
    // 2 x 30.00 = 60.00, 10% off = 6.00; + 10.00 fee; 9% of 64.00 = 5.76; total 69.76
    expect(res.json()).toMatchObject({
      currency: 'SGD', price: '60.00', discount: '6.00', discountName: 'Acme PBX deal', activationFee: '10.00', tax: '5.76', total: '69.76',
      cost: '24.00', margin: '30.00', marginPercent: '55.6',
    });
    expect(await t.db.owner.db.selectFrom('subscriptions').select('id').execute()).toEqual(before);

    // The purchase charges exactly the quoted total.
    await givePoints(t, demo, acme, '100.00');
    const sold = await api(t, admin, 'POST', `/api/v1/customers/${acme}/subscriptions`, { priceId: pbx.priceId, quantity: 2 });
    expect(sold.statusCode, sold.body).toBe(201);
    expect(sold.json().invoice).toMatchObject({ total: '69.76' });
  });

  it('says whether usable points cover the total, not just the catalog price x quantity', async () => {
    const { usable } = await pointsOf(t, demo, initech);
    // Initech's usable points cover 2 x 30.00 pre-tax at most, short of the total with fee and tax.
    const need = sgd('60.00') - usable;
    if (need > 0n) await givePoints(t, demo, initech, formatDecimal(need, 'SGD'));
    const short = (await staffQuote(initech, `priceId=${pbx.priceId}&quantity=2`)).json();
    expect(short).toMatchObject({ price: '60.00', discount: '0.00', discountName: null, total: '76.30', paidFromPoints: false });
    expect(sgd(short.usable)).toBeGreaterThanOrEqual(sgd('60.00'));
    await givePoints(t, demo, initech, '16.30');
    expect((await staffQuote(initech, `priceId=${pbx.priceId}&quantity=2`)).json()).toMatchObject({ total: '76.30', paidFromPoints: true });
  });

  it('in the portal: owners see their own quote without cost or margin; members may not buy (403)', async () => {
    const res = await portalQuote(`priceId=${pbx.priceId}`);
    expect(res.statusCode, res.body).toBe(200);
    const quote = res.json();
    // 30.00 - 3.00 + 10.00; 9% of 37.00 = 3.33
    expect(quote).toMatchObject({ currency: 'SGD', price: '30.00', discount: '3.00', activationFee: '10.00', tax: '3.33', total: '40.33' });
    expect(quote).not.toHaveProperty('cost');
    expect(quote).not.toHaveProperty('margin');
    expect(quote).not.toHaveProperty('marginPercent');
    expect((await portalQuote(`priceId=${pbx.priceId}`, member)).json()).toMatchObject({ code: 'role_not_allowed' });
  });

  it('refuses what the purchase would refuse, naming the field', async () => {
    const bad = await staffQuote(acme, `priceId=${pbx.priceId}&quantity=0`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors).toEqual([expect.objectContaining({ path: 'quantity' })]);
    const noPrice = await staffQuote(acme, '');
    expect(noPrice.statusCode).toBe(400);
    expect(noPrice.json().errors).toEqual([expect.objectContaining({ path: 'priceId' })]);
    expect((await staffQuote(acme, `priceId=${archived.priceId}`)).json()).toMatchObject({ code: 'product_archived' });
    const wombat = await customerIdOf(t.db, 'Wombat Pty Ltd');
    expect((await staffQuote(wombat, `priceId=${pbx.priceId}`)).statusCode).toBe(404);
    // The price is the query's, not the path's: unknown or another partner's, the same 422 naming priceId.
    const foreign = await catalogPrice(t, await partnerIdOf(t.db, 'northwind'), { name: 'Outback Line', currency: 'AUD', price: '9.00', cost: '2.00' });
    expectUnknownId([await staffQuote(acme, `priceId=${foreign.priceId}`), await staffQuote(acme, 'priceId=prc_00000000000000000000000000')], 'price_not_found', 'priceId');
    expectUnknownId([await portalQuote(`priceId=${foreign.priceId}`), await portalQuote('priceId=prc_00000000000000000000000000')], 'price_not_found', 'priceId');
  });
});
