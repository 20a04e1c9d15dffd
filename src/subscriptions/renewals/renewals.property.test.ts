import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sql } from 'kysely';
import pino from 'pino';
import { createTestAppWithGateway, partnerIdOf, userIdOf, type TestAppWithGateway } from '../../test/harness.ts';
import { checkLedger } from '../../ledger/check-ledger.ts';
import type { Ctx } from '../../platform/context.ts';
import { DomainError } from '../../platform/errors.ts';
import { purchaseSubscription } from '../purchase-subscription.ts';
import { addAddOn } from '../add-add-on.ts';
import { changeAddOnQuantity } from '../change-add-on-quantity.ts';
import { terminateSubscription } from '../terminate-subscription.ts';
import { reactivateSubscription } from '../reactivate-subscription.ts';
import { runRenewals } from './run-renewals.ts';
import { recoverRenewal } from './recover-renewal.ts';
import type { RenewalDeps } from './renewal-by-card.ts';
import { createCustomer, createPrice, givePoints, setTaxRate, type PriceFixture } from './renewals.fixtures.ts';

/**
 * Issue 4 §6: over random purchases, add-on changes, top-ups, renewal runs (sometimes two at once), staff recoveries,
 * terminations and reactivations, with the clock moved forward by random steps, the ledger always balances
 * (checkLedger) and no subscription is ever charged twice for one period (no two period charges of one subscription
 * overlap in time). Uses the subscriptions' own use cases, as staff of the Customer app.
 */
let t: TestAppWithGateway;
let deps: RenewalDeps;
let ctx: Ctx;
let demo: string;
let mains: PriceFixture[];
let extras: PriceFixture[];
let customers: string[];

const SGD = (units: number) => BigInt(Math.round(units * 100)) * 10_000n;

beforeAll(async () => {
  t = await createTestAppWithGateway();
  const owner = t.db.owner.db;
  demo = await partnerIdOf(t.db, 'demo-telecom');
  await setTaxRate(owner, demo, 900);
  deps = { db: t.db.app.db, gateway: t.gateway, log: pino({ level: 'silent' }) };
  mains = [
    await createPrice(owner, { partnerId: demo, name: 'PBX', priceMicros: SGD(30), costMicros: SGD(12) }),
    await createPrice(owner, { partnerId: demo, name: 'Number', priceMicros: SGD(7.5), costMicros: SGD(2), taxCategory: 'zero_rated' }),
    await createPrice(owner, { partnerId: demo, name: 'Suite', priceMicros: SGD(120), costMicros: SGD(50), cycle: 'yearly' }),
  ];
  extras = [
    await createPrice(owner, { partnerId: demo, name: 'Seat', priceMicros: SGD(10), costMicros: SGD(4) }),
    await createPrice(owner, { partnerId: demo, name: 'Screen', priceMicros: SGD(24), costMicros: SGD(6), cycle: 'yearly' }),
  ];
  customers = [];
  for (let i = 0; i < 3; i++) {
    const c = await createCustomer(owner, { partnerId: demo, name: `Property ${i}` });
    customers.push(c.customerId);
    await givePoints(t.db.app.db, { partnerId: demo, customerId: c.customerId, micros: SGD(150) });
  }
  t.clock.set('2040-01-01T09:00:00Z');
  ctx = {
    db: t.db.app.db, config: t.config, log: pino({ level: 'silent' }), clock: t.clock, requestId: null, ip: null, userAgent: 'property-test',
    principal: {
      kind: 'staff', userId: await userIdOf(t.db, 'admin@demo.test'), partnerId: demo, email: 'admin@demo.test', name: 'Admin',
      apps: new Set(['customer']), sessionId: 'ses_property',
    },
  };
});
afterAll(async () => t.close());

type Op =
  | { op: 'purchase'; customer: number; price: number; quantity: number; autoRenew: boolean }
  | { op: 'addAddOn'; sub: number; extra: number; quantity: number }
  | { op: 'changeAddOn'; sub: number; quantity: number }
  | { op: 'terminate'; sub: number }
  | { op: 'reactivate'; sub: number }
  | { op: 'recover'; sub: number }
  | { op: 'topUp'; customer: number; units: number }
  | { op: 'advance'; days: number; concurrent: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('purchase' as const), customer: fc.nat(2), price: fc.nat(2), quantity: fc.integer({ min: 1, max: 3 }), autoRenew: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('addAddOn' as const), sub: fc.nat(20), extra: fc.nat(1), quantity: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('changeAddOn' as const), sub: fc.nat(20), quantity: fc.integer({ min: 0, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('terminate' as const), sub: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('reactivate' as const), sub: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('recover' as const), sub: fc.nat(20) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('topUp' as const), customer: fc.nat(2), units: fc.integer({ min: 5, max: 200 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('advance' as const), days: fc.integer({ min: 1, max: 20 }), concurrent: fc.boolean() }) },
);

/** The test's subscriptions so far (any state), oldest first; `n` picks one by index, modulo. */
async function pick(n: number): Promise<{ id: string; addOnId: string | null } | null> {
  const rows = await sql<{ id: string; addOnId: string | null }>`
    select s.id, (select a.id from subscription_add_ons a where a.subscription_id = s.id and a.removed_at is null order by a.id limit 1) as "addOnId"
    from subscriptions s where s.customer_id = any(${customers}::text[]) order by s.id`.execute(t.db.owner.db);
  if (rows.rows.length === 0) return null;
  return rows.rows[n % rows.rows.length]!;
}

/** Expected refusals (not enough points, wrong state, a closed window...) are part of the game; anything else is a bug. */
async function tolerate(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
  }
}

async function apply(op: Op): Promise<void> {
  switch (op.op) {
    case 'purchase':
      return tolerate(() => purchaseSubscription(ctx, { customerId: customers[op.customer]!, priceId: mains[op.price]!.priceId, quantity: op.quantity, autoRenew: op.autoRenew }));
    case 'addAddOn': {
      const s = await pick(op.sub);
      if (s) await tolerate(() => addAddOn(ctx, { subscriptionId: s.id, priceId: extras[op.extra]!.priceId, quantity: op.quantity }));
      return;
    }
    case 'changeAddOn': {
      const s = await pick(op.sub);
      if (s?.addOnId) await tolerate(() => changeAddOnQuantity(ctx, { subscriptionId: s.id, addOnId: s.addOnId!, quantity: op.quantity }));
      return;
    }
    case 'terminate': {
      const s = await pick(op.sub);
      if (s) await tolerate(() => terminateSubscription(ctx, { subscriptionId: s.id, reason: 'Property test' }));
      return;
    }
    case 'reactivate': {
      const s = await pick(op.sub);
      if (s) await tolerate(() => reactivateSubscription(ctx, { subscriptionId: s.id }));
      return;
    }
    case 'recover': {
      const s = await pick(op.sub);
      if (s) await tolerate(() => recoverRenewal({ ...ctx, gateway: t.gateway }, { subscriptionId: s.id }));
      return;
    }
    case 'topUp':
      return givePoints(t.db.app.db, { partnerId: demo, customerId: customers[op.customer]!, micros: SGD(op.units) });
    case 'advance': {
      t.clock.advance({ days: op.days });
      const asOf = t.clock.now();
      if (op.concurrent) await Promise.all([runRenewals(deps, { asOf, batchSize: 1 }), runRenewals(deps, { asOf, batchSize: 2 })]);
      else await runRenewals(deps, { asOf });
      return;
    }
  }
}

describe('renewals, property', () => {
  it('over random purchases, add-on changes, renewals, recoveries, terminations and reactivations: books balance, no period charged twice', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 18 }), async (ops) => {
        for (const op of ops) await apply(op);
        expect(await checkLedger(t.db.owner.db)).toEqual([]);
        const overlaps = await sql<{ subscriptionId: string }>`
          select a.subscription_id as "subscriptionId"
          from subscription_charges a
          join subscription_charges b on b.subscription_id = a.subscription_id and b.id <> a.id
            and a.kind in ('purchase', 'renewal', 'reactivation') and b.kind in ('purchase', 'renewal', 'reactivation')
            and a.period_start < b.period_end and b.period_start < a.period_end
          limit 5`.execute(t.db.owner.db);
        expect(overlaps.rows).toEqual([]);
        // Every renewal charge matches a `renewed` history event, and every active subscription's period was charged.
        const uncharged = await sql<{ id: string }>`
          select s.id from subscriptions s
          where s.customer_id = any(${customers}::text[]) and s.status = 'active'
            and not exists (select 1 from subscription_charges c where c.subscription_id = s.id and c.period_start = s.current_period_start
                            and c.kind in ('purchase', 'renewal', 'reactivation'))`.execute(t.db.owner.db);
        expect(uncharged.rows).toEqual([]);
      }),
      { numRuns: 10, endOnFailure: true },
    );
    // Whatever the random runs did, end with a sure renewal, and the books still sound.
    await apply({ op: 'topUp', customer: 0, units: 500 });
    await apply({ op: 'purchase', customer: 0, price: 0, quantity: 1, autoRenew: true });
    await apply({ op: 'advance', days: 30, concurrent: true });
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
    const renewed = await t.db.owner.db.selectFrom('subscriptionCharges').select('id').where('customerId', 'in', customers).where('kind', '=', 'renewal').execute();
    expect(renewed.length).toBeGreaterThan(0);
  }, 240_000);
});
