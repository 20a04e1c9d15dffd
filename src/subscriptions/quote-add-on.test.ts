import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestApp, customerIdOf, partnerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';
import { catalogPrice, givePoints, ledgerProblems, pointsOf, sgd, type CatalogPrice } from './test-support.ts';

/**
 * GET .../add-ons/quote and .../add-ons/{addOnId}/quote say what adding an add-on or changing its quantity would charge
 * now, computed as the change computes it, and write nothing: the amount quoted is the amount charged, points falling
 * short are said (and the change is then refused), and what cannot be changed answers as the change would.
 */
let t: TestApp;
let demo: string;
let acme: string;
let admin: Session;
let owner: Session;
let line: CatalogPrice;
let seats: CatalogPrice;
let yearlySeats: CatalogPrice;

type Quote = {
  subscriptionId: string; version: number; currency: string; outcome: string; units: number; until: string;
  daysCharged: number | null; daysInPeriod: number | null; price: string; discount: string; activationFee: string; tax: string; total: string;
  usable: string; coveredByPoints: boolean;
};
type View = { id: string; version: number; addOns: Array<{ id: string; quantity: number; pendingQuantity: number | null }> };

beforeAll(async () => {
  t = await createTestApp();
  demo = await partnerIdOf(t.db, 'demo-telecom');
  acme = await customerIdOf(t.db, 'Acme Pte Ltd');
  await t.db.owner.db.updateTable('partnerSettings').set({ taxRateBps: 900 }).where('partnerId', '=', demo).execute();
  line = await catalogPrice(t, demo, { name: 'Addon Quote Line', price: '30.00', cost: '12.00' });
  seats = await catalogPrice(t, demo, { name: 'Addon Quote Seats', price: '8.00', cost: '2.00', activationFee: '5.00' });
  yearlySeats = await catalogPrice(t, demo, { name: 'Addon Quote Yearly Seats', cycle: 'yearly', price: '80.00', cost: '20.00' });
  admin = await signIn(t, 'admin@demo.test');
  owner = await signIn(t, 'owner@acme.test');
  await givePoints(t, demo, acme, '1000.00');
});
afterAll(async () => t.close());

async function buy(customerId: string): Promise<View> {
  const res = await api(t, admin, 'POST', `/api/v1/customers/${customerId}/subscriptions`, { priceId: line.priceId, quantity: 1 });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ subscription: View }>().subscription;
}
const quoteNew = (who: Session, subId: string, query: string, portal = true) =>
  api(t, who, 'GET', `/api/v1/${portal ? 'portal/' : ''}subscriptions/${subId}/add-ons/quote?${query}`);
const quoteChange = (who: Session, subId: string, addOnId: string, quantity: number | string, portal = true) =>
  api(t, who, 'GET', `/api/v1/${portal ? 'portal/' : ''}subscriptions/${subId}/add-ons/${addOnId}/quote?quantity=${quantity}`);
const auditCount = async () => Number((await t.db.owner.db.selectFrom('auditEvents').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);

describe('add-on quote', () => {
  it('a new add-on: the pro rata price, activation fee and tax quoted are what adding it charges, and the quote writes nothing', async () => {
    t.clock.set('2026-04-01T09:00:00Z');
    const sub = await buy(acme);
    t.clock.set('2026-04-16T09:00:00Z'); // 15 of the period's 30 days left
    const audits = await auditCount();
    const res = await quoteNew(owner, sub.id, `priceId=${seats.priceId}&quantity=2`);
    expect(res.statusCode, res.body).toBe(200);
    const q = res.json<Quote>();
    // 2 x 8.00 x 15/30 = 8.00, the activation fee 5.00, 9% tax on both: 1.17.
    expect(q).toMatchObject({
      subscriptionId: sub.id, version: sub.version, currency: 'SGD', outcome: 'charge_now', units: 2, until: '2026-05-01',
      daysCharged: 15, daysInPeriod: 30, price: '8.00', discount: '0.00', activationFee: '5.00', tax: '1.17', total: '14.17', coveredByPoints: true,
    });
    expect(sgd(q.usable)).toBe((await pointsOf(t, demo, acme)).points);
    expect(await auditCount()).toBe(audits);
    expect(await t.db.owner.db.selectFrom('subscriptionAddOns').select('id').where('subscriptionId', '=', sub.id).execute()).toEqual([]);
    // The staff route quotes the same.
    expect((await quoteNew(admin, sub.id, `priceId=${seats.priceId}&quantity=2`, false)).json<Quote>()).toMatchObject({ total: '14.17' });

    const before = (await pointsOf(t, demo, acme)).points;
    const added = await api(t, owner, 'POST', `/api/v1/portal/subscriptions/${sub.id}/add-ons`, { priceId: seats.priceId, quantity: 2 });
    expect(added.statusCode, added.body).toBe(201);
    expect(before - (await pointsOf(t, demo, acme)).points).toBe(sgd(q.total));
    // It is an add-on now: quoting it again as new answers as adding it again would.
    const again = await quoteNew(owner, sub.id, `priceId=${seats.priceId}`);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'already_exists' });
    expect(await ledgerProblems(t)).toEqual([]);
  });

  it('a quantity change: more units quoted as the change charges them (no activation fee again), fewer at the renewal, the same nothing', async () => {
    t.clock.set('2026-06-01T09:00:00Z');
    const sub = await buy(acme);
    const added = await api(t, admin, 'POST', `/api/v1/subscriptions/${sub.id}/add-ons`, { priceId: seats.priceId, quantity: 2 });
    expect(added.statusCode, added.body).toBe(201);
    const addOnId = added.json<View>().addOns[0]!.id;
    t.clock.set('2026-06-21T09:00:00Z'); // 10 of 30 days left

    const more = (await quoteChange(owner, sub.id, addOnId, 5)).json<Quote>();
    // 3 more x 8.00 x 10/30 = 8.00, no fee, tax 0.72.
    expect(more).toMatchObject({ outcome: 'charge_now', units: 3, daysCharged: 10, daysInPeriod: 30, price: '8.00', activationFee: '0.00', tax: '0.72', total: '8.72', coveredByPoints: true });
    const fewer = (await quoteChange(owner, sub.id, addOnId, 0)).json<Quote>();
    expect(fewer).toMatchObject({ outcome: 'at_renewal', units: 0, until: '2026-07-01', daysCharged: null, total: '0.00' });
    expect((await quoteChange(admin, sub.id, addOnId, 2, false)).json<Quote>()).toMatchObject({ outcome: 'no_change', total: '0.00' });

    const before = (await pointsOf(t, demo, acme)).points;
    const changed = await api(t, owner, 'PATCH', `/api/v1/portal/subscriptions/${sub.id}/add-ons/${addOnId}`, { quantity: 5 });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(before - (await pointsOf(t, demo, acme)).points).toBe(sgd(more.total));
  });

  it('points falling short are said, and adding it is then refused for them', async () => {
    t.clock.set('2026-08-01T09:00:00Z');
    const created = await api(t, admin, 'POST', '/api/v1/customers', { name: 'Addon Quote Short Ltd', currency: 'SGD', ownerEmail: 'owner@addon-short.test', ownerName: 'Sam' });
    expect(created.statusCode, created.body).toBe(201);
    const customerId = created.json<{ id: string }>().id;
    await givePoints(t, demo, customerId, '40.00'); // 32.70 for the line leaves 7.30
    const sub = await buy(customerId);
    const q = (await quoteNew(admin, sub.id, `priceId=${seats.priceId}`, false)).json<Quote>();
    // 8.00 x 31/31 + 5.00 fee, 9% tax: 14.17 against 7.30 usable.
    expect(q).toMatchObject({ daysCharged: 31, daysInPeriod: 31, total: '14.17', usable: '7.30', coveredByPoints: false });
    const refused = await api(t, admin, 'POST', `/api/v1/subscriptions/${sub.id}/add-ons`, { priceId: seats.priceId, quantity: 1 });
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({ code: 'insufficient_points' });
  });

  it('what cannot be added or changed answers as the change would; others, members and bad queries are refused', async () => {
    t.clock.set('2026-09-01T09:00:00Z');
    const sub = await buy(acme);
    const own = await quoteNew(owner, sub.id, `priceId=${line.priceId}`);
    expect(own.statusCode).toBe(422);
    expect(own.json()).toMatchObject({ code: 'rule_violation', errors: [{ path: 'priceId' }] });
    const yearly = await quoteNew(owner, sub.id, `priceId=${yearlySeats.priceId}`);
    expect(yearly.statusCode).toBe(422);
    expect(yearly.json()).toMatchObject({ code: 'rule_violation', errors: [{ path: 'priceId', message: 'a monthly price in SGD is needed' }] });
    expect((await quoteNew(owner, sub.id, 'priceId=prc_00000000000000000000000000')).statusCode).toBe(422);
    expect((await quoteChange(owner, sub.id, 'sad_00000000000000000000000000', 3)).statusCode).toBe(404);

    expect((await quoteNew(await signIn(t, 'member@acme.test'), sub.id, `priceId=${seats.priceId}`)).statusCode).toBe(403); // owners and admins only
    expect((await quoteNew(owner, sub.id, `priceId=${seats.priceId}`, false)).statusCode).toBe(403); // the staff route is not the portal's
    expect((await quoteNew(await signIn(t, 'admin@northwind.test'), sub.id, `priceId=${seats.priceId}`, false)).statusCode).toBe(404); // another partner's
    expect((await api(t, null, 'GET', `/api/v1/subscriptions/${sub.id}/add-ons/quote?priceId=${seats.priceId}`)).statusCode).toBe(401);
    const other = await api(t, admin, 'POST', '/api/v1/customers', { name: 'Addon Quote Other Ltd', currency: 'SGD', ownerEmail: 'owner@addon-other.test', ownerName: 'Oli' });
    const otherId = other.json<{ id: string }>().id;
    await givePoints(t, demo, otherId, '100.00');
    const otherOrg = await buy(otherId);
    expect((await quoteNew(owner, otherOrg.id, `priceId=${seats.priceId}`)).statusCode).toBe(404); // another organisation's

    for (const query of ['quantity=2', `priceId=${seats.priceId}&quantity=0`, `priceId=${seats.priceId}&quantity=two`, 'priceId=nope', `priceId=${seats.priceId}&extra=1`]) {
      const bad = await quoteNew(owner, sub.id, query);
      expect(bad.statusCode, query).toBe(400);
      expect(bad.json()).toMatchObject({ code: 'validation_failed' });
    }
    expect((await quoteChange(owner, sub.id, 'sad_00000000000000000000000000', -1)).statusCode).toBe(400);

    const ended = await api(t, admin, 'POST', `/api/v1/subscriptions/${sub.id}/terminate`, { reason: 'Customer cancelled' });
    expect(ended.statusCode, ended.body).toBe(200);
    const terminated = await quoteNew(owner, sub.id, `priceId=${seats.priceId}`);
    expect(terminated.statusCode).toBe(409);
    expect(terminated.json()).toMatchObject({ code: 'state_conflict' });
  });
});
