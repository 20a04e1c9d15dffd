import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { api, createTestAppWithGateway, partnerIdOf, signIn, type Session, type TestAppWithGateway } from '../../test/harness.ts';
import { checkLedger } from '../../ledger/check-ledger.ts';
import type { Db } from '../../platform/database.ts';
import { runRenewals } from './run-renewals.ts';
import type { RenewalDeps } from './renewal-by-card.ts';
import {
  createCustomer, createPrice, createSubscription, givePoints, monthlyPeriodEndingAt, saveCard, setTaxRate, usableMicros, utcMidnight, type PriceFixture,
} from './renewals.fixtures.ts';

let t: TestAppWithGateway;
let owner: Db;
let deps: RenewalDeps;
let demo: string;
let northwind: string;
let price: PriceFixture; // 20.00 SGD + 9%
let admin: Session;

const SGD = (s: string) => BigInt(Math.round(Number(s) * 100)) * 10_000n;
const recover = (id: string, who: Session = admin) => api(t, who, 'POST', `/api/v1/subscriptions/${id}/recover-renewal`);

beforeAll(async () => {
  t = await createTestAppWithGateway();
  owner = t.db.owner.db;
  deps = { db: t.db.app.db, gateway: t.gateway, log: pino({ level: 'silent' }) };
  demo = await partnerIdOf(t.db, 'demo-telecom');
  northwind = await partnerIdOf(t.db, 'northwind');
  await setTaxRate(owner, demo, 900);
  price = await createPrice(owner, { partnerId: demo, name: 'Call centre seat', priceMicros: SGD('20.00'), costMicros: SGD('8.00') });
  admin = await signIn(t, 'admin@demo.test');
});
afterAll(async () => t.close());

/** Two subscriptions of a new customer whose renewal failed on `failedOn` (expiry 7 days later); the server's clock set to that day. */
async function failedGroup(end: string, opts: { points?: string; renewByCard?: boolean } = {}) {
  const c = await createCustomer(owner, { partnerId: demo });
  if (opts.points) await givePoints(t.db.app.db, { partnerId: demo, customerId: c.customerId, micros: SGD(opts.points) });
  const periodEnd = utcMidnight(end);
  const { anchorAt, periodStart } = monthlyPeriodEndingAt(periodEnd);
  const ids = [];
  for (let i = 0; i < 2; i++) {
    ids.push(await createSubscription(owner, { partnerId: demo, customerId: c.customerId, price, anchorAt, periodStart, periodEnd, renewByCard: opts.renewByCard ?? false }));
  }
  const asOf = new Date(periodEnd.getTime() - 7 * 86_400_000);
  await runRenewals(deps, { asOf });
  t.clock.set(new Date(asOf.getTime() + 3_600_000));
  const subs = await owner.selectFrom('subscriptions').select(['id', 'renewalFailedAt']).where('id', 'in', ids).execute();
  expect(subs.every((s) => s.renewalFailedAt !== null)).toBe(true);
  return { ...c, ids, periodEnd };
}

describe('POST /api/v1/subscriptions/:id/recover-renewal', () => {
  it('retries the whole group now: points topped up since -> both renew, on one invoice; the staff member is in the trail', async () => {
    const g = await failedGroup('2031-05-20', { points: '10.00' });
    await givePoints(t.db.app.db, { partnerId: demo, customerId: g.customerId, micros: SGD('40.00') });
    const res = await recover(g.ids[1]!);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ outcome: 'renewed', total: '43.60', currency: 'SGD', topUpId: null });
    expect(body.subscriptionIds.sort()).toEqual([...g.ids].sort());
    expect(body.invoiceNumber).toMatch(/^INV-2031-/);
    const subs = await owner.selectFrom('subscriptions').selectAll().where('id', 'in', g.ids).execute();
    for (const s of subs) expect(s).toMatchObject({ renewalFailedAt: null, renewalFailureReason: null, currentPeriodEnd: utcMidnight('2031-06-20') });
    expect(await usableMicros(owner, demo, g.customerId)).toBe(SGD('6.40'));

    const recovered = await owner.selectFrom('auditEvents').selectAll().where('action', '=', 'subscription.renewal_recovered').where('targetId', 'in', g.ids).execute();
    expect(recovered).toHaveLength(2);
    for (const e of recovered) expect(e).toMatchObject({ actorType: 'user', actorLabel: 'admin@demo.test', customerId: g.customerId, requestId: res.headers['x-request-id'] });
    const renewed = await owner.selectFrom('auditEvents').selectAll().where('action', '=', 'subscription.renewed').where('targetId', 'in', g.ids).execute();
    expect(renewed.map((e) => [e.actorLabel, e.requestId])).toEqual([['admin@demo.test', res.headers['x-request-id']]]);
    const events = await owner.selectFrom('subscriptionEvents').select(['kind', 'actor']).where('subscriptionId', '=', g.ids[0]!).orderBy('id').execute();
    expect(events.map((e) => e.kind)).toEqual(['renewal_failed', 'renewed']);
    // The invoice records its points payment, paid by the staff member who recovered it, naming the renewal's entry.
    const charge = await owner.selectFrom('subscriptionCharges').select(['invoiceId', 'entryId']).where('subscriptionId', '=', g.ids[0]!).executeTakeFirstOrThrow();
    const staff = await owner.selectFrom('users').select('id').where('email', '=', 'admin@demo.test').executeTakeFirstOrThrow();
    expect(await owner.selectFrom('invoicePayments').select(['source', 'amountMicros', 'entryId', 'paidBy']).where('invoiceId', '=', charge.invoiceId!).execute())
      .toEqual([{ source: 'points', amountMicros: SGD('43.60').toString(), entryId: charge.entryId, paidBy: staff.id }]);

    // Done: a second recovery is a conflict, and the next job run does nothing more.
    expect((await recover(g.ids[0]!)).json()).toMatchObject({ status: 409, code: 'state_conflict' });
    await runRenewals(deps, { asOf: t.clock.now() });
    expect(await owner.selectFrom('subscriptionCharges').select('id').where('subscriptionId', 'in', g.ids).execute()).toHaveLength(2);
    expect(await checkLedger(owner)).toEqual([]);
  });

  it('points still short and no card: 422 insufficient_points naming the amounts, nothing changes', async () => {
    const g = await failedGroup('2031-06-20', { points: '30.00' });
    const before = await owner.selectFrom('subscriptions').select(['id', 'renewalFailedAt', 'renewalFailureReason', 'updatedAt']).where('id', 'in', g.ids).orderBy('id').execute();
    const res = await recover(g.ids[0]!);
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'insufficient_points', detail: 'Not enough points to renew: 43.60 SGD needed, 30.00 SGD usable' });
    expect(await owner.selectFrom('subscriptions').select(['id', 'renewalFailedAt', 'renewalFailureReason', 'updatedAt']).where('id', 'in', g.ids).orderBy('id').execute()).toEqual(before);
    expect(await owner.selectFrom('auditEvents').select('id').where('action', '=', 'subscription.renewal_recovered').where('targetId', 'in', g.ids).execute()).toEqual([]);
  });

  it('renew-by-card with a card saved since: charged for the fee, renewed; a declined card: 422 card_declined, still failed', async () => {
    const g = await failedGroup('2031-07-20', { renewByCard: true });
    await saveCard(owner, t.gateway, { partnerId: demo, customerId: g.customerId, cardToken: 'tok_sandbox_success' });
    const res = await recover(g.ids[0]!);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ outcome: 'renewed', total: '43.60' });
    const [topUp] = await owner.selectFrom('topUps').selectAll().where('customerId', '=', g.customerId).execute();
    expect(topUp).toMatchObject({ status: 'succeeded', amountMicros: SGD('43.60').toString(), id: res.json().topUpId });
    expect(await usableMicros(owner, demo, g.customerId)).toBe(0n);

    const d = await failedGroup('2031-08-20', { renewByCard: true });
    await saveCard(owner, t.gateway, { partnerId: demo, customerId: d.customerId, cardToken: 'tok_sandbox_declined' });
    const declined = await recover(d.ids[0]!);
    expect(declined.statusCode).toBe(422);
    expect(declined.json()).toMatchObject({ code: 'card_declined' });
    const subs = await owner.selectFrom('subscriptions').select(['renewalFailureReason', 'currentPeriodEnd']).where('id', 'in', d.ids).execute();
    for (const s of subs) expect(s).toEqual({ renewalFailureReason: 'the renewal card was declined (generic_decline)', currentPeriodEnd: utcMidnight('2031-08-20') });
    expect(await checkLedger(owner)).toEqual([]);
  });

  it('bad input and access: not failed 409, unknown or another partner\'s 404, malformed id 400, portal users and signed-out callers refused', async () => {
    const c = await createCustomer(owner, { partnerId: demo });
    const end = utcMidnight('2031-09-20');
    const { anchorAt, periodStart } = monthlyPeriodEndingAt(end);
    const healthy = await createSubscription(owner, { partnerId: demo, customerId: c.customerId, price, anchorAt, periodStart, periodEnd: end });
    expect((await recover(healthy)).json()).toMatchObject({ status: 409, code: 'state_conflict' });
    expect((await recover('sub_00000000000000000000000000')).statusCode).toBe(404);
    expect((await recover('not-an-id')).json()).toMatchObject({ status: 400, code: 'validation_failed' });

    const nw = await signIn(t, 'admin@northwind.test');
    const g = await failedGroup('2031-10-20');
    expect((await recover(g.ids[0]!, nw)).statusCode).toBe(404);
    expect((await recover(g.ids[0]!, await signIn(t, 'owner@acme.test'))).statusCode).toBe(403);
    expect((await api(t, null, 'POST', `/api/v1/subscriptions/${g.ids[0]}/recover-renewal`)).statusCode).toBe(401);
    expect(northwind).not.toBe(demo);
  });

  it('a closed customer\'s failed renewal is not recovered: 409 saying so, nothing charged or renewed', async () => {
    const g = await failedGroup('2031-11-20');
    await givePoints(t.db.app.db, { partnerId: demo, customerId: g.customerId, micros: SGD('100.00') });
    // Closed with auto-renew left on: what a purchase racing the close leaves (closing itself turns auto-renew off).
    await owner.updateTable('customers').set({ status: 'closed' }).where('id', '=', g.customerId).execute();
    const points = await usableMicros(owner, demo, g.customerId);
    const res = await recover(g.ids[0]!);
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json()).toMatchObject({ code: 'state_conflict', detail: 'The customer is closed: nothing of it renews' });
    expect(await usableMicros(owner, demo, g.customerId)).toBe(points);
    const subs = await owner.selectFrom('subscriptions').select(['currentPeriodEnd', 'renewalFailedAt']).where('id', 'in', g.ids).execute();
    for (const s of subs) expect(s.currentPeriodEnd).toEqual(g.periodEnd);
  });
});
