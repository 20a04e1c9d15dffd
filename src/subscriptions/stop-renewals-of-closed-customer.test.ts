import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { api, auditEventsOf, createTestAppWithGateway, partnerIdOf, signIn, type Session, type TestAppWithGateway } from '../test/harness.ts';
import { checkLedger } from '../ledger/check-ledger.ts';
import { inScope, type Db } from '../platform/database.ts';
import { runRenewals, RENEWAL_ACTOR } from './renewals/run-renewals.ts';
import { renewGroups } from './renewals/renew-groups.ts';
import type { RenewalDeps } from './renewals/renewal-by-card.ts';
import {
  createAddOn, createCustomer, createPrice, createSubscription, givePoints, monthlyPeriodEndingAt, usableMicros, utcMidnight, type PriceFixture,
} from './renewals/renewals.fixtures.ts';

/**
 * Closing a customer (PATCH status closed) turns off what would renew: a closed customer buys nothing more. Nor is a
 * suspended or closed customer sold an add-on, more of one or a reactivation.
 */
let t: TestAppWithGateway;
let owner: Db;
let deps: RenewalDeps;
let demo: string;
let price: PriceFixture;
let admin: Session;

const SGD = (whole: number) => BigInt(whole) * 1_000_000n;
const periodEnd = utcMidnight('2027-03-01');

beforeAll(async () => {
  t = await createTestAppWithGateway();
  owner = t.db.owner.db;
  deps = { db: t.db.app.db, gateway: t.gateway, log: pino({ level: 'silent' }) };
  demo = await partnerIdOf(t.db, 'demo-telecom');
  price = await createPrice(owner, { partnerId: demo, name: 'Hosted PBX seat', priceMicros: SGD(20), costMicros: SGD(8) });
  admin = await signIn(t, 'admin@demo.test');
});
afterAll(async () => t.close());

/** A customer with 500 SGD of points and two monthly subscriptions ending on `periodEnd`: one auto-renewing, one not. */
async function customerWithSubscriptions() {
  const c = await createCustomer(owner, { partnerId: demo });
  await givePoints(t.db.app.db, { partnerId: demo, customerId: c.customerId, micros: SGD(500) });
  const { anchorAt, periodStart } = monthlyPeriodEndingAt(periodEnd);
  const renewing = await createSubscription(owner, { partnerId: demo, customerId: c.customerId, price, anchorAt, periodStart, periodEnd });
  const lapsing = await createSubscription(owner, { partnerId: demo, customerId: c.customerId, price, anchorAt, periodStart, periodEnd, autoRenew: false });
  return { ...c, renewing, lapsing };
}

const subscription = (id: string) => owner.selectFrom('subscriptions').select(['status', 'autoRenew', 'currentPeriodEnd']).where('id', '=', id).executeTakeFirstOrThrow();
const close = (customerId: string, status = 'closed') => api(t, admin, 'PATCH', `/api/v1/customers/${customerId}`, { status });

describe('closing a customer', () => {
  it('turns off auto-renew of its subscriptions, audited and in their history; they expire at the end of the period paid, uncharged', async () => {
    t.clock.set(new Date(periodEnd.getTime() - 20 * 86_400_000));
    const closed = await customerWithSubscriptions();
    const open = await customerWithSubscriptions();

    const res = await close(closed.customerId);
    expect(res.statusCode, res.body).toBe(200);
    expect(await subscription(closed.renewing)).toMatchObject({ status: 'active', autoRenew: false });
    expect(await subscription(closed.lapsing)).toMatchObject({ status: 'active', autoRenew: false });
    const events = (await auditEventsOf(t.db, 'subscription.updated')).filter((e) => e.customerId === closed.customerId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ app: 'customer', targetId: closed.renewing, changes: { autoRenew: { before: true, after: false } } });
    const detail = (await api(t, admin, 'GET', `/api/v1/subscriptions/${closed.renewing}`)).json<{ autoRenew: boolean; history: { kind: string; detail: string | null }[] }>();
    expect(detail.autoRenew).toBe(false);
    expect(detail.history.map((h) => h.detail)).toContain('auto-renew off: the customer was closed');

    // The renewal run a week before the end renews the open customer's subscription and charges it; not the closed one's.
    await runRenewals(deps, { asOf: new Date(periodEnd.getTime() - 7 * 86_400_000) });
    expect((await subscription(open.renewing)).currentPeriodEnd!.getTime()).toBeGreaterThan(periodEnd.getTime());
    expect(await usableMicros(owner, demo, open.customerId)).toBeLessThan(SGD(500));
    expect((await subscription(closed.renewing)).currentPeriodEnd!.getTime()).toBe(periodEnd.getTime());
    expect(await usableMicros(owner, demo, closed.customerId)).toBe(SGD(500));

    // At the end of the period paid it expires, as with auto-renew turned off by hand.
    await runRenewals(deps, { asOf: new Date(periodEnd.getTime() + 3_600_000) });
    expect(await subscription(closed.renewing)).toMatchObject({ status: 'expired', autoRenew: false });
    expect(await usableMicros(owner, demo, closed.customerId)).toBe(SGD(500));
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('a closed or suspended customer is sold nothing on its subscriptions: no add-on, no more of one, no reactivation; a closed one no auto-renew', async () => {
    t.clock.set(new Date(periodEnd.getTime() - 20 * 86_400_000));
    const seat = await createPrice(owner, { partnerId: demo, name: 'Extra seat', priceMicros: SGD(5), costMicros: SGD(1) });
    const extra = await createPrice(owner, { partnerId: demo, name: 'Recording', priceMicros: SGD(3), costMicros: SGD(1) });
    for (const status of ['suspended', 'closed'] as const) {
      const c = await customerWithSubscriptions();
      const addOnId = await createAddOn(owner, { partnerId: demo, customerId: c.customerId, subscriptionId: c.renewing, price: seat, quantity: 2, at: t.clock.now() });
      await owner.updateTable('subscriptions').set({ status: 'expired', expiredAt: t.clock.now() }).where('id', '=', c.lapsing).execute();
      expect((await close(c.customerId, status)).statusCode).toBe(200);
      const points = await usableMicros(owner, demo, c.customerId);

      const refused = [
        await api(t, admin, 'POST', `/api/v1/subscriptions/${c.renewing}/add-ons`, { priceId: extra.priceId, quantity: 1 }),
        await api(t, admin, 'PATCH', `/api/v1/subscriptions/${c.renewing}/add-ons/${addOnId}`, { quantity: 3 }),
        await api(t, admin, 'POST', `/api/v1/subscriptions/${c.lapsing}/reactivate`),
      ];
      for (const res of refused) {
        expect(res.statusCode, `${status}: ${res.body}`).toBe(409);
        expect(res.json()).toMatchObject({ code: 'state_conflict', detail: `The customer is ${status}: nothing can be sold to it` });
      }
      expect(await usableMicros(owner, demo, c.customerId)).toBe(points);
      expect(await subscription(c.lapsing)).toMatchObject({ status: 'expired' });
      // Fewer of an add-on is no sale: it is taken at the next renewal.
      expect((await api(t, admin, 'PATCH', `/api/v1/subscriptions/${c.renewing}/add-ons/${addOnId}`, { quantity: 1 })).statusCode).toBe(200);

      const autoRenew = await api(t, admin, 'PATCH', `/api/v1/subscriptions/${c.renewing}`, { autoRenew: true });
      if (status === 'closed') {
        expect(autoRenew.statusCode, autoRenew.body).toBe(409);
        expect(autoRenew.json()).toMatchObject({ code: 'state_conflict', errors: [{ path: 'autoRenew' }] });
        expect((await subscription(c.renewing)).autoRenew).toBe(false);
      } else {
        expect(autoRenew.statusCode, autoRenew.body).toBe(200); // suspension stops no renewal: it was never turned off
      }
    }
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('a subscription that raced the close (still renewing) is turned off by the renewal run, not renewed, and expires without offering reactivation', async () => {
    t.clock.set(new Date(periodEnd.getTime() - 20 * 86_400_000));
    const c = await customerWithSubscriptions();
    expect((await close(c.customerId)).statusCode).toBe(200);
    // What a purchase that read the customer as active before the close committed leaves behind: an auto-renewing subscription.
    const { anchorAt, periodStart } = monthlyPeriodEndingAt(periodEnd);
    const raced = await createSubscription(owner, { partnerId: demo, customerId: c.customerId, price, anchorAt, periodStart, periodEnd });
    const other = await customerWithSubscriptions();
    const before = (await auditEventsOf(t.db, 'subscription.updated')).filter((e) => e.customerId === c.customerId).length;

    // Staff recovering it, or any renewal reaching it before the run's first step, renews nothing of a closed customer.
    const direct = await inScope(t.db.app.db, { kind: 'partner', partnerId: demo }, (trx) =>
      renewGroups(trx, [{ partnerId: demo, customerId: c.customerId, currency: 'SGD', periodEnd }], {
        asOf: new Date(periodEnd.getTime() - 7 * 86_400_000), actor: RENEWAL_ACTOR.actor, retryFailed: true, onShort: 'fail', cardGateway: 'sandbox',
      }));
    expect(direct).toEqual([]);

    const run = await runRenewals(deps, { asOf: new Date(periodEnd.getTime() - 7 * 86_400_000) });
    expect(run.stoppedForClosedCustomers).toBe(1);
    expect(await subscription(raced)).toMatchObject({ status: 'active', autoRenew: false });
    expect((await subscription(raced)).currentPeriodEnd!.getTime()).toBe(periodEnd.getTime());
    expect(await usableMicros(owner, demo, c.customerId)).toBe(SGD(500));
    const events = (await auditEventsOf(t.db, 'subscription.updated')).filter((e) => e.customerId === c.customerId);
    expect(events).toHaveLength(before + 1);
    expect(events.find((e) => e.targetId === raced)).toMatchObject({ app: 'customer', actorType: 'system', targetId: raced, changes: { autoRenew: { before: true, after: false } } });
    const detail = (await api(t, admin, 'GET', `/api/v1/subscriptions/${raced}`)).json<{ history: { kind: string; detail: string | null }[] }>();
    expect(detail.history.map((h) => h.detail)).toContain('auto-renew off: the customer was closed');
    // The open customer alongside renews as before; a second run finds nothing more to stop.
    expect((await subscription(other.renewing)).currentPeriodEnd!.getTime()).toBeGreaterThan(periodEnd.getTime());
    expect((await runRenewals(deps, { asOf: new Date(periodEnd.getTime() - 7 * 86_400_000) })).stoppedForClosedCustomers).toBe(0);

    // At the period's end it expires; the message tells a closed organisation it cannot reactivate, an open one that it can.
    await runRenewals(deps, { asOf: new Date(periodEnd.getTime() + 3_600_000) });
    expect(await subscription(raced)).toMatchObject({ status: 'expired' });
    const expiredMail = await owner.selectFrom('notifications').select(['customerId', 'bodyText']).where('kind', '=', 'subscription_expired')
      .where('customerId', 'in', [c.customerId, other.customerId]).execute();
    const closedMail = expiredMail.find((m) => m.customerId === c.customerId);
    expect(closedMail?.bodyText).toContain('Your account is closed, so they cannot be reactivated.');
    expect(closedMail?.bodyText).not.toContain('You can reactivate');
    const openMail = expiredMail.find((m) => m.customerId === other.customerId);
    expect(openMail?.bodyText).toContain('You can reactivate it until');
    expect(await usableMicros(owner, demo, c.customerId)).toBe(SGD(500));
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('suspending changes no subscription, closing again writes nothing more, and reopening leaves auto-renew off', async () => {
    t.clock.set(new Date(periodEnd.getTime() - 20 * 86_400_000));
    const c = await customerWithSubscriptions();
    expect((await close(c.customerId, 'suspended')).statusCode).toBe(200);
    expect(await subscription(c.renewing)).toMatchObject({ status: 'active', autoRenew: true });

    expect((await close(c.customerId)).statusCode).toBe(200);
    expect((await subscription(c.renewing)).autoRenew).toBe(false);
    const count = (await auditEventsOf(t.db, 'subscription.updated')).filter((e) => e.customerId === c.customerId).length;
    expect(count).toBe(1);

    expect((await close(c.customerId)).statusCode).toBe(200);
    expect((await close(c.customerId, 'active')).statusCode).toBe(200);
    expect((await subscription(c.renewing)).autoRenew).toBe(false);
    expect((await auditEventsOf(t.db, 'subscription.updated')).filter((e) => e.customerId === c.customerId)).toHaveLength(count);
  });
});
