import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, customerIdOf, partnerIdOf, type TestApp } from '../test/harness.ts';
import { seedSubscriptionsDemo } from './demo-subscriptions.ts';
import { catalogPrice, givePoints, ledgerProblems, pointsOf, sgd } from './test-support.ts';

/** The demo subscriptions the seed gives Acme (outside tests): bought as a purchase would, skipped when points fall short. */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

describe('seedSubscriptionsDemo', () => {
  it('buys from points with paid invoices and the ledger entry, and skips what the points do not cover', async () => {
    const demo = await partnerIdOf(t.db, 'demo-telecom');
    const acme = await customerIdOf(t.db, 'Acme Pte Ltd');
    await givePoints(t, demo, acme, '20.00');
    const number = await catalogPrice(t, demo, { name: 'Demo number', price: '5.00', cost: '1.50' });
    const big = await catalogPrice(t, demo, { name: 'Demo wallboard', price: '45.00', cost: '18.00', activationFee: '50.00' });
    const ids = await t.db.owner.db.transaction().execute((trx) =>
      seedSubscriptionsDemo(trx, { partnerId: demo, customerId: acme, items: [{ priceId: number.priceId, quantity: 2 }, { priceId: big.priceId, quantity: 1 }], at: new Date('2026-11-30T04:00:00Z') }));
    expect(ids).toHaveLength(1);
    const sub = await t.db.owner.db.selectFrom('subscriptions').selectAll().where('id', '=', ids[0]!).executeTakeFirstOrThrow();
    expect(sub).toMatchObject({ status: 'active', quantity: 2, priceId: number.priceId });
    // 2 x 5.00 + 9% GST = 10.90
    expect((await pointsOf(t, demo, acme)).points).toBe(sgd('9.10'));
    expect(await ledgerProblems(t)).toEqual([]);
  });
});
