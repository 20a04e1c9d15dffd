import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestApp, customerIdOf, expectUnknownId, lastMailTo, partnerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';
import { accountBalance, catalogPrice, givePoints, ledgerProblems, pointsOf, sgd, type CatalogPrice } from './test-support.ts';

/**
 * A subscription after it is bought, with the clock moved (issue 4 §2): add-ons pro rata, quantity down at renewal,
 * termination with its refund rule (docs/adr/0010), reactivation within 28 days on the original anchor, settings.
 */
let t: TestApp;
let demo: string;
let acme: string;
let initech: string;
let admin: Session;
let owner: Session;
let member: Session;
let monthly: CatalogPrice;
let yearly: CatalogPrice;
let seats: CatalogPrice;
let yearlySeats: CatalogPrice;

type AddOn = { id: string; quantity: number; pendingQuantity: number | null; renewalPrice: string; renewalCost: string };
type View = Record<string, unknown> & { id: string; status: string; addOns: AddOn[]; refund: { price: string; tax: string; total: string } | null };

beforeAll(async () => {
  t = await createTestApp();
  demo = await partnerIdOf(t.db, 'demo-telecom');
  acme = await customerIdOf(t.db, 'Acme Pte Ltd');
  initech = await customerIdOf(t.db, 'Initech Pte Ltd');
  await t.db.owner.db.updateTable('partnerSettings').set({ taxRateBps: 900 }).where('partnerId', '=', demo).execute();
  monthly = await catalogPrice(t, demo, { name: 'Cloud PBX', price: '30.00', cost: '12.00', activationFee: '10.00' });
  yearly = await catalogPrice(t, demo, { name: 'Wallboard', cycle: 'yearly', price: '120.00', cost: '50.00' });
  seats = await catalogPrice(t, demo, { name: 'Extra seat', price: '10.00', cost: '4.00', activationFee: '2.00' });
  yearlySeats = await catalogPrice(t, demo, { name: 'Wallboard screen', cycle: 'yearly', price: '24.00', cost: '6.00' });
  admin = await signIn(t, 'admin@demo.test');
  owner = await signIn(t, 'owner@acme.test');
  member = await signIn(t, 'member@acme.test');
  await givePoints(t, demo, acme, '5000.00');
  await givePoints(t, demo, initech, '5000.00');
});
afterAll(async () => t.close());

async function buy(customerId: string, priceId: string, at: string, quantity = 1): Promise<View> {
  t.clock.set(at);
  const res = await api(t, admin, 'POST', `/api/v1/customers/${customerId}/subscriptions`, { priceId, quantity });
  if (res.statusCode !== 201) throw new Error(`purchase failed: ${res.statusCode} ${res.body}`);
  return res.json<{ subscription: View }>().subscription;
}

/** What the renewal job does at expiry when nothing renewed it (src/subscriptions/renewals owns the real job). */
async function expire(id: string): Promise<void> {
  await t.db.owner.db.updateTable('subscriptions').set({ status: 'expired', expiredAt: t.clock.now() }).where('id', '=', id).execute();
}

const get = async (id: string) => (await api(t, admin, 'GET', `/api/v1/subscriptions/${id}`)).json<View & { history: { kind: string; amount: string | null; detail: string }[] }>();

describe('add-ons', () => {
  let sub: View;

  it('an add-on is charged pro rata to the expiry (awkward day counts, one rounding) plus its activation fee', async () => {
    // Anchored on 31 Jan: the first period ends on 28 Feb (28 days). On 11 Feb, 17 of 28 days remain.
    sub = await buy(acme, monthly.priceId, '2026-01-31T08:00:00Z');
    expect(sub).toMatchObject({ currentPeriodStart: '2026-01-31', currentPeriodEnd: '2026-02-28' });
    t.clock.set('2026-02-11T23:59:00Z');
    const before = await pointsOf(t, demo, acme);
    const res = await api(t, admin, 'POST', `/api/v1/subscriptions/${sub.id}/add-ons`, { priceId: seats.priceId, quantity: 3 });
    expect(res.statusCode, res.body).toBe(201);
    const view = res.json<View>();
    expect(view.addOns).toEqual([expect.objectContaining({ quantity: 3, pendingQuantity: null, renewalPrice: '30.00', renewalCost: '12.00' })]);
    expect(view).toMatchObject({ renewalPrice: '60.00', renewalCost: '24.00', margin: '36.00', marginPercent: '60.0' });
    // 3 x 10.00 x 17/28 = 18.2142... -> 18.21; + 2.00 fee = 20.21; 9% = 1.8189 -> 1.82; total 22.03
    expect(before.points - (await pointsOf(t, demo, acme)).points).toBe(sgd('22.03'));
    const charge = await t.db.owner.db.selectFrom('subscriptionCharges').selectAll().where('subscriptionId', '=', sub.id).where('kind', '=', 'add_on').executeTakeFirstOrThrow();
    expect(charge).toMatchObject({ priceMicros: '18210000', activationFeeMicros: '2000000', taxMicros: '1820000', quantity: 3 });
    expect(charge.periodStart?.toISOString()).toBe('2026-02-11T00:00:00.000Z');
    const audit = await t.db.owner.db.selectFrom('auditEvents').selectAll().where('action', '=', 'subscription.add_on_added').where('targetId', '=', sub.id).executeTakeFirstOrThrow();
    expect(audit).toMatchObject({ app: 'customer', customerId: acme });
    expect((await lastMailTo(t.db, 'owner@acme.test'))?.kind).toBe('subscription_changed');
    expect(await ledgerProblems(t)).toEqual([]);
  });

  it('the same add-on twice is 409; a price of another cycle or the subscription\'s own price is 422; nothing is charged', async () => {
    const before = await pointsOf(t, demo, acme);
    expect((await api(t, admin, 'POST', `/api/v1/subscriptions/${sub.id}/add-ons`, { priceId: seats.priceId, quantity: 1 })).statusCode).toBe(409);
    const cycle = await api(t, admin, 'POST', `/api/v1/subscriptions/${sub.id}/add-ons`, { priceId: yearlySeats.priceId, quantity: 1 });
    expect(cycle.statusCode).toBe(422);
    expect(cycle.json<{ errors: { path: string }[] }>().errors[0]!.path).toBe('priceId');
    expect((await api(t, admin, 'POST', `/api/v1/subscriptions/${sub.id}/add-ons`, { priceId: monthly.priceId, quantity: 1 })).statusCode).toBe(422);
    expect((await api(t, admin, 'POST', `/api/v1/subscriptions/${sub.id}/add-ons`, { priceId: seats.priceId, quantity: 0 })).statusCode).toBe(400);
    // An unknown price and another partner's: the same 422 naming priceId, staff and portal.
    const foreign = await catalogPrice(t, await partnerIdOf(t.db, 'northwind'), { name: 'Outback seat', currency: 'AUD', price: '9.00', cost: '2.00' });
    const addOn = (who: Session, path: string, priceId: string) => api(t, who, 'POST', `${path}/${sub.id}/add-ons`, { priceId, quantity: 1 });
    for (const [who, path] of [[admin, '/api/v1/subscriptions'], [owner, '/api/v1/portal/subscriptions']] as const) {
      expectUnknownId([await addOn(who, path, foreign.priceId), await addOn(who, path, 'prc_00000000000000000000000000')], 'price_not_found', 'priceId');
    }
    expect((await get(sub.id)).addOns).toHaveLength(1);
    expect(await pointsOf(t, demo, acme)).toEqual(before);
  });

  it('quantity up is charged pro rata for the extra units only (no second activation fee)', async () => {
    t.clock.set('2026-02-20T10:00:00Z'); // 8 of 28 days remain
    const addOnId = (await get(sub.id)).addOns[0]!.id;
    const before = await pointsOf(t, demo, acme);
    const res = await api(t, admin, 'PATCH', `/api/v1/subscriptions/${sub.id}/add-ons/${addOnId}`, { quantity: 5 });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<View>().addOns[0]).toMatchObject({ quantity: 5, pendingQuantity: null, renewalPrice: '50.00' });
    // 2 x 10.00 x 8/28 = 5.714... -> 5.71; 9% = 0.5139 -> 0.51; total 6.22
    expect(before.points - (await pointsOf(t, demo, acme)).points).toBe(sgd('6.22'));
  });

  it('quantity down takes effect at the next renewal (pending_quantity), with no refund; the renewal price follows it', async () => {
    const addOnId = (await get(sub.id)).addOns[0]!.id;
    const before = await pointsOf(t, demo, acme);
    const res = await api(t, admin, 'PATCH', `/api/v1/subscriptions/${sub.id}/add-ons/${addOnId}`, { quantity: 2 });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<View>().addOns[0]).toMatchObject({ quantity: 5, pendingQuantity: 2, renewalPrice: '20.00', renewalCost: '8.00' });
    expect(res.json<View>()).toMatchObject({ renewalPrice: '50.00', renewalCost: '20.00' });
    expect(await pointsOf(t, demo, acme)).toEqual(before);
    const history = (await get(sub.id)).history;
    expect(history[0]).toMatchObject({ kind: 'quantity_changed', amount: null });
    expect(history[0]!.detail).toContain('5 -> 2 at the next renewal');
  });

  it('another customer\'s add-on or subscription is not found; a member may not change add-ons', async () => {
    const addOnId = (await get(sub.id)).addOns[0]!.id;
    const other = await buy(initech, monthly.priceId, '2026-02-20T10:00:00Z');
    expect((await api(t, admin, 'PATCH', `/api/v1/subscriptions/${other.id}/add-ons/${addOnId}`, { quantity: 9 })).statusCode).toBe(404);
    expect((await api(t, owner, 'POST', `/api/v1/portal/subscriptions/${other.id}/add-ons`, { priceId: seats.priceId, quantity: 1 })).statusCode).toBe(404);
    const m = await api(t, member, 'PATCH', `/api/v1/portal/subscriptions/${sub.id}/add-ons/${addOnId}`, { quantity: 9 });
    expect(m.statusCode).toBe(403);
    expect(m.json<{ code: string }>().code).toBe('role_not_allowed');
    const o = await api(t, owner, 'PATCH', `/api/v1/portal/subscriptions/${sub.id}/add-ons/${addOnId}`, { quantity: 5 });
    expect(o.statusCode, o.body).toBe(200);
    expect(o.json<View>().addOns[0]).toMatchObject({ quantity: 5, pendingQuantity: null });
    expect(o.json<View>().addOns[0]).not.toHaveProperty('renewalCost');
  });
});

describe('termination on request', () => {
  it('within 14 days of activation: refunded in full into points (price, activation fee, tax), the cost back', async () => {
    const sub = await buy(acme, monthly.priceId, '2026-04-01T09:00:00Z', 2);
    t.clock.set('2026-04-14T20:00:00Z');
    const before = { points: (await pointsOf(t, demo, acme)).points, returns: await accountBalance(t, demo, 'sales_returns'), tax: await accountBalance(t, demo, 'tax_payable'), cost: await accountBalance(t, demo, 'cost:subscription') };
    const res = await api(t, admin, 'POST', `/api/v1/subscriptions/${sub.id}/terminate`, { reason: 'Customer changed their mind' });
    expect(res.statusCode, res.body).toBe(200);
    // 2 x 30.00 + 10.00 = 70.00 + 6.30 tax
    expect(res.json<View>()).toMatchObject({ status: 'terminated', terminationReason: 'Customer changed their mind', refund: { price: '70.00', tax: '6.30', total: '76.30' }, nextRenewalAt: null });
    expect((await pointsOf(t, demo, acme)).points - before.points).toBe(sgd('76.30'));
    expect(await accountBalance(t, demo, 'sales_returns') - before.returns).toBe(sgd('70.00'));
    expect(await accountBalance(t, demo, 'tax_payable') - before.tax).toBe(sgd('6.30'));
    expect(await accountBalance(t, demo, 'cost:subscription') - before.cost).toBe(-sgd('24.00'));
    const audit = await t.db.owner.db.selectFrom('auditEvents').selectAll().where('action', '=', 'subscription.terminated').where('targetId', '=', sub.id).executeTakeFirstOrThrow();
    expect(audit).toMatchObject({ customerId: acme });
    expect(audit.changes).toMatchObject({ refundRule: { after: 'full' }, refundTotal: { after: '76.30' } });
    const mail = await lastMailTo(t.db, 'owner@acme.test');
    expect(mail).toMatchObject({ kind: 'subscription_terminated' });
    expect(mail?.bodyText).toContain('refunded in full: 76.30 SGD back to points');
    expect((await get(sub.id)).history[0]).toMatchObject({ kind: 'terminated', amount: '-76.30' });
    expect(await ledgerProblems(t)).toEqual([]);
    // Final: not again, not reactivated.
    expect((await api(t, admin, 'POST', `/api/v1/subscriptions/${sub.id}/terminate`, { reason: 'again' })).statusCode).toBe(409);
    expect((await api(t, admin, 'POST', `/api/v1/subscriptions/${sub.id}/reactivate`)).statusCode).toBe(409);
  });

  it('after 14 days: the remaining whole months of the period, price part only, tax in proportion', async () => {
    const sub = await buy(acme, yearly.priceId, '2026-01-15T09:00:00Z');
    // On 20 May, whole months left to 15 Jan 2027: 7 (20 Dec is before it, 20 Jan is after).
    t.clock.set('2026-05-20T12:00:00Z');
    const before = { points: (await pointsOf(t, demo, acme)).points, cost: await accountBalance(t, demo, 'cost:subscription') };
    const res = await api(t, admin, 'POST', `/api/v1/subscriptions/${sub.id}/terminate`, { reason: 'Moving to another plan' });
    expect(res.statusCode, res.body).toBe(200);
    // 120.00 x 7/12 = 70.00; tax 10.80 x 70/120 = 6.30; cost back 50.00 x 70/120 = 29.1666 -> 29.17
    expect(res.json<View>().refund).toEqual({ price: '70.00', tax: '6.30', total: '76.30' });
    expect((await pointsOf(t, demo, acme)).points - before.points).toBe(sgd('76.30'));
    expect(await accountBalance(t, demo, 'cost:subscription') - before.cost).toBe(-sgd('29.17'));
    expect(await ledgerProblems(t)).toEqual([]);
  });

  it('after 14 days of a monthly period there is no whole month left: nothing is refunded', async () => {
    const sub = await buy(acme, monthly.priceId, '2026-06-01T09:00:00Z');
    t.clock.set('2026-06-16T09:00:00Z');
    const before = await pointsOf(t, demo, acme);
    const res = await api(t, owner, 'POST', `/api/v1/portal/subscriptions/${sub.id}/terminate`, { reason: 'No longer needed' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<View>()).toMatchObject({ status: 'terminated', refund: { price: '0.00', tax: '0.00', total: '0.00' } });
    expect(await pointsOf(t, demo, acme)).toEqual(before);
    const audit = await t.db.owner.db.selectFrom('auditEvents').selectAll().where('action', '=', 'subscription.terminated').where('targetId', '=', sub.id).executeTakeFirstOrThrow();
    expect(audit).toMatchObject({ app: 'portal', customerId: acme });
  });

  it('a pending purchase is cancelled: its unpaid invoice voided and the receivable reversed', async () => {
    const poor = await customerIdOf(t.db, 'Globex Sdn Bhd');
    const myr = await catalogPrice(t, demo, { name: 'KL Line', currency: 'MYR', price: '30.00', cost: '10.00' });
    const sub = await buy(poor, myr.priceId, '2026-06-01T09:00:00Z');
    expect(sub.status).toBe('pending_payment');
    expect(await accountBalance(t, demo, 'receivable', 'MYR', poor)).toBe(32_700_000n);
    const res = await api(t, admin, 'POST', `/api/v1/subscriptions/${sub.id}/terminate`, { reason: 'Ordered by mistake' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<View>()).toMatchObject({ status: 'terminated', refund: null });
    const invoice = await t.db.owner.db.selectFrom('invoices').select(['status', 'amountDueMicros']).where('id', '=', String(sub.pendingInvoiceId)).executeTakeFirstOrThrow();
    expect(invoice).toEqual({ status: 'void', amountDueMicros: '0' });
    expect(await accountBalance(t, demo, 'receivable', 'MYR', poor)).toBe(0n);
    expect(await ledgerProblems(t)).toEqual([]);
  });

  it('a pending purchase partly paid is not cancelled: staff are sent to a credit note, the customer to pay the rest or ask the provider', async () => {
    const poor = await customerIdOf(t.db, 'Globex Sdn Bhd');
    const myr = await catalogPrice(t, demo, { name: 'Penang Line', currency: 'MYR', price: '20.00', cost: '8.00' });
    const sub = await buy(poor, myr.priceId, '2026-06-02T09:00:00Z');
    expect(sub.status).toBe('pending_payment');
    const finance = await signIn(t, 'finance@demo.test');
    const pay = await api(t, finance, 'POST', '/api/v1/payments', { method: 'bank_transfer', currency: 'MYR', receivedOn: '2026-06-02', amount: '5.00', customerId: poor });
    expect(pay.statusCode, pay.body).toBe(201);
    const allocated = await api(t, finance, 'POST', `/api/v1/payments/${pay.json().id}/allocate`, { allocations: [{ invoiceId: sub.pendingInvoiceId, amount: '5.00' }] });
    expect(allocated.statusCode, allocated.body).toBe(200);
    const globexOwner = await signIn(t, 'owner@globex.test');
    const theirs = await api(t, globexOwner, 'POST', `/api/v1/portal/subscriptions/${sub.id}/terminate`, { reason: 'Changed my mind' });
    expect(theirs.statusCode, theirs.body).toBe(409);
    expect(theirs.json().detail).toMatch(/is partially paid: pay the rest to start the subscription, or ask your provider to cancel it/);
    const staff = await api(t, admin, 'POST', `/api/v1/subscriptions/${sub.id}/terminate`, { reason: 'Changed their mind' });
    expect(staff.statusCode).toBe(409);
    expect(staff.json().detail).toMatch(/is partially paid: cancel it with a credit note first$/);
    expect((await get(sub.id)).status).toBe('pending_payment');
  });

  it('members and guests read a subscription without company credits: no refund into points, no usable points in a failed renewal', async () => {
    const sub = await buy(acme, monthly.priceId, '2026-09-01T09:00:00Z');
    t.clock.set('2026-09-03T09:00:00Z');
    const ended = await api(t, owner, 'POST', `/api/v1/portal/subscriptions/${sub.id}/terminate`, { reason: 'Moving provider' });
    expect(ended.statusCode, ended.body).toBe(200);
    // A failed renewal's reason as the renewal job writes it (renew-groups.ts).
    await t.db.owner.db.updateTable('subscriptions').set({ renewalFailedAt: new Date('2026-09-02T00:05:00Z'), renewalFailureReason: 'Not enough points: 30.00 SGD needed, 12.00 SGD usable' })
      .where('id', '=', sub.id).execute();
    type Detail = View & { lastRenewalFailure: { reason: string } | null; history: { kind: string; amount: string | null; detail: string | null }[] };
    const read = async (who: Session) => {
      const one = await api(t, who, 'GET', `/api/v1/portal/subscriptions/${sub.id}`);
      expect(one.statusCode, one.body).toBe(200);
      const listed = (await api(t, who, 'GET', '/api/v1/portal/subscriptions?limit=100')).json<{ data: Detail[] }>().data.find((s) => s.id === sub.id)!;
      return { one: one.json<Detail>(), listed };
    };

    const theOwner = await read(owner);
    expect(theOwner.one.refund).toEqual({ price: '40.00', tax: '3.60', total: '43.60' }); // in full within 14 days: 30.00 + 10.00 activation, 9% tax
    expect(theOwner.one.lastRenewalFailure?.reason).toBe('Not enough points: 30.00 SGD needed, 12.00 SGD usable');
    expect(theOwner.one.history.find((h) => h.kind === 'terminated')).toMatchObject({ amount: '-43.60', detail: expect.stringMatching(/^Moving provider \(refunded in full: 43\.60 SGD back to points\)$/) });

    const theMember = await read(member);
    for (const view of [theMember.one, theMember.listed]) {
      expect(view.refund).toBeNull();
      expect(view.lastRenewalFailure?.reason).toBe('Not enough points: 30.00 SGD needed');
    }
    expect(theMember.one.history.find((h) => h.kind === 'terminated')).toMatchObject({ amount: null, detail: 'Moving provider' });
    // How it was paid is the owner's to read ("... paid from points"); the member sees that it was bought, and its price.
    const purchased = (h: Detail['history'][number]) => h.kind === 'purchased';
    expect(theOwner.one.history.find(purchased)?.detail).toMatch(/points/);
    expect(theMember.one.history.find(purchased)).toMatchObject({ amount: theOwner.one.history.find(purchased)!.amount, detail: null });
    expect(JSON.stringify(theMember.one)).not.toMatch(/usable|back to points|from points|-43\.60/);
    // The owner's view is unchanged by a member's read.
    expect((await read(owner)).listed.refund).toEqual(theOwner.one.refund);
  });

  it('members cannot terminate; a reason is required', async () => {
    const sub = await buy(acme, monthly.priceId, '2026-07-01T09:00:00Z');
    expect((await api(t, member, 'POST', `/api/v1/portal/subscriptions/${sub.id}/terminate`, { reason: 'x' })).statusCode).toBe(403);
    const blank = await api(t, admin, 'POST', `/api/v1/subscriptions/${sub.id}/terminate`, { reason: '   ' });
    expect(blank.statusCode).toBe(400);
    expect(blank.json<{ errors: { path: string }[] }>().errors[0]!.path).toBe('reason');
    expect((await get(sub.id)).status).toBe('active');
  });

  it('its add-ons end with it: every add-on change and quote is refused as a state conflict (staff and portal), nothing written', async () => {
    const sub = await buy(acme, monthly.priceId, '2026-08-03T09:00:00Z');
    const extra = await catalogPrice(t, demo, { name: 'Call recording', price: '5.00', cost: '1.00' });
    t.clock.set('2026-08-05T09:00:00Z');
    const added = await api(t, admin, 'POST', `/api/v1/subscriptions/${sub.id}/add-ons`, { priceId: seats.priceId, quantity: 3 });
    expect(added.statusCode, added.body).toBe(201);
    const addOnId = added.json<View>().addOns[0]!.id;
    // A lower quantity planned for a renewal that will never come.
    expect((await api(t, owner, 'PATCH', `/api/v1/portal/subscriptions/${sub.id}/add-ons/${addOnId}`, { quantity: 1 })).statusCode).toBe(200);
    const ended = await api(t, owner, 'POST', `/api/v1/portal/subscriptions/${sub.id}/terminate`, { reason: 'No longer needed' });
    expect(ended.statusCode, ended.body).toBe(200);

    const before = { sub: await get(sub.id), points: await pointsOf(t, demo, acme) };
    const audits = async () => (await t.db.owner.db.selectFrom('auditEvents').select('id').where('targetId', '=', sub.id).execute()).length;
    const auditsBefore = await audits();
    // The subscription's state is the answer, before anything about the price: not "already on it: change its quantity"
    // (already_exists), nor "choose a monthly price" (rule_violation), which would send the caller to another change.
    for (const path of ['/api/v1/subscriptions', '/api/v1/portal/subscriptions']) {
      const who = path === '/api/v1/subscriptions' ? admin : owner;
      const refused = [
        await api(t, who, 'POST', `${path}/${sub.id}/add-ons`, { priceId: extra.priceId, quantity: 1 }),
        await api(t, who, 'POST', `${path}/${sub.id}/add-ons`, { priceId: seats.priceId, quantity: 1 }),
        await api(t, who, 'POST', `${path}/${sub.id}/add-ons`, { priceId: yearlySeats.priceId, quantity: 1 }),
        await api(t, who, 'PATCH', `${path}/${sub.id}/add-ons/${addOnId}`, { quantity: 9 }), // more
        await api(t, who, 'PATCH', `${path}/${sub.id}/add-ons/${addOnId}`, { quantity: 3 }), // cancel the lower one planned
        await api(t, who, 'PATCH', `${path}/${sub.id}/add-ons/${addOnId}`, { quantity: 2 }), // fewer
        await api(t, who, 'PATCH', `${path}/${sub.id}/add-ons/${addOnId}`, { quantity: 0 }), // remove
        await api(t, who, 'GET', `${path}/${sub.id}/add-ons/quote?priceId=${extra.priceId}&quantity=1`),
        await api(t, who, 'GET', `${path}/${sub.id}/add-ons/${addOnId}/quote?quantity=5`),
      ];
      for (const res of refused) {
        expect(res.statusCode, `${res.raw.req.method} ${res.raw.req.url}: ${res.body}`).toBe(409);
        expect(res.json<{ code: string; detail: string }>()).toMatchObject({ code: 'state_conflict', detail: expect.stringContaining('terminated') });
      }
    }

    const after = await get(sub.id);
    expect(after.version).toBe(before.sub.version);
    expect(after.addOns).toEqual(before.sub.addOns);
    expect(after.addOns).toEqual([expect.objectContaining({ id: addOnId, quantity: 3, pendingQuantity: 1 })]); // what it ended with
    expect(after.history).toEqual(before.sub.history);
    expect(await pointsOf(t, demo, acme)).toEqual(before.points);
    expect(await audits()).toBe(auditsBefore);
    expect(await ledgerProblems(t)).toEqual([]);
  });
});

describe('reactivation', () => {
  it('within 28 days of expiry: the full fee, and the new period runs from the old expiry on the original anchor', async () => {
    // Anchor 31 Jan: periods end 28 Feb, 31 Mar ... Expired on 28 Feb, reactivated on 10 Mar: 28 Feb to 31 Mar.
    const sub = await buy(initech, monthly.priceId, '2026-01-31T10:00:00Z');
    t.clock.set('2026-02-28T00:05:00Z');
    await expire(sub.id);
    expect((await get(sub.id))).toMatchObject({ status: 'expired', reactivatableUntil: '2026-03-27' });
    t.clock.set('2026-03-10T11:00:00Z');
    const before = await pointsOf(t, demo, initech);
    const res = await api(t, admin, 'POST', `/api/v1/subscriptions/${sub.id}/reactivate`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<View>()).toMatchObject({ status: 'active', currentPeriodStart: '2026-02-28', currentPeriodEnd: '2026-03-31', nextRenewalAt: '2026-03-24', expiredAt: null });
    // The full period's fee, no activation fee: 30.00 + 2.70 tax.
    expect(before.points - (await pointsOf(t, demo, initech)).points).toBe(sgd('32.70'));
    const charges = await t.db.owner.db.selectFrom('subscriptionCharges').select(['kind', 'periodStart']).where('subscriptionId', '=', sub.id).orderBy('chargedAt').execute();
    expect(charges.map((c) => [c.kind, c.periodStart?.toISOString().slice(0, 10)])).toEqual([['purchase', '2026-01-31'], ['reactivation', '2026-02-28']]);
    expect((await lastMailTo(t.db, 'owner@initech.test'))?.kind).toBe('subscription_reactivated');
    expect((await get(sub.id)).history[0]).toMatchObject({ kind: 'reactivated', amount: '32.70' });
    expect(await ledgerProblems(t)).toEqual([]);

    // A reactivation counts as a renewal for the refund rule: terminated 5 days later, it is refunded in full.
    t.clock.set('2026-03-15T11:00:00Z');
    const terminated = await api(t, admin, 'POST', `/api/v1/subscriptions/${sub.id}/terminate`, { reason: 'Changed plan' });
    expect(terminated.statusCode, terminated.body).toBe(200);
    expect(terminated.json<View>().refund).toEqual({ price: '30.00', tax: '2.70', total: '32.70' });
  });

  it('applies pending add-on decreases (0 removes the add-on) and charges the add-ons it keeps', async () => {
    const sub = await buy(initech, yearly.priceId, '2026-01-15T10:00:00Z');
    t.clock.set('2026-01-15T12:00:00Z');
    const added = await api(t, admin, 'POST', `/api/v1/subscriptions/${sub.id}/add-ons`, { priceId: yearlySeats.priceId, quantity: 4 });
    expect(added.statusCode, added.body).toBe(201);
    const addOnId = added.json<View>().addOns[0]!.id;
    expect((await api(t, admin, 'PATCH', `/api/v1/subscriptions/${sub.id}/add-ons/${addOnId}`, { quantity: 1 })).statusCode).toBe(200);
    const dropped = await api(t, admin, 'POST', `/api/v1/subscriptions/${sub.id}/add-ons`, { priceId: (await catalogPrice(t, demo, { name: 'Yearly extra', cycle: 'yearly', price: '12.00', cost: '1.00' })).priceId, quantity: 2 });
    expect(dropped.statusCode, dropped.body).toBe(201);
    const droppedId = dropped.json<View>().addOns.find((a) => a.id !== addOnId)!.id;
    expect((await api(t, admin, 'PATCH', `/api/v1/subscriptions/${sub.id}/add-ons/${droppedId}`, { quantity: 0 })).statusCode).toBe(200);
    t.clock.set('2027-01-15T00:00:00Z');
    await expire(sub.id);
    t.clock.set('2027-02-11T23:00:00Z'); // day 28 after expiry: the last day
    const before = await pointsOf(t, demo, initech);
    const res = await api(t, admin, 'POST', `/api/v1/subscriptions/${sub.id}/reactivate`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<View>()).toMatchObject({ currentPeriodStart: '2027-01-15', currentPeriodEnd: '2028-01-15' });
    expect(res.json<View>().addOns).toEqual([expect.objectContaining({ id: addOnId, quantity: 1, pendingQuantity: null })]);
    const removed = await t.db.owner.db.selectFrom('subscriptionAddOns').select(['removedAt', 'quantity']).where('id', '=', droppedId).executeTakeFirstOrThrow();
    expect(removed.removedAt?.toISOString()).toBe('2027-02-11T23:00:00.000Z');
    // 120.00 + 1 x 24.00 = 144.00 + 12.96 tax
    expect(before.points - (await pointsOf(t, demo, initech)).points).toBe(sgd('156.96'));
  });

  it('not after 28 days (409 reactivation_window_closed), nor an active one (409)', async () => {
    const sub = await buy(initech, monthly.priceId, '2026-05-05T10:00:00Z');
    expect((await api(t, admin, 'POST', `/api/v1/subscriptions/${sub.id}/reactivate`)).statusCode).toBe(409);
    t.clock.set('2026-06-05T00:00:00Z');
    await expire(sub.id);
    t.clock.set('2026-07-03T00:00:00Z'); // day 29
    const before = await pointsOf(t, demo, initech);
    const res = await api(t, admin, 'POST', `/api/v1/subscriptions/${sub.id}/reactivate`);
    expect(res.statusCode).toBe(409);
    expect(res.json<{ code: string; detail: string }>()).toMatchObject({ code: 'reactivation_window_closed' });
    expect(res.json<{ detail: string }>().detail).toContain('until 2026-07-02');
    expect(await pointsOf(t, demo, initech)).toEqual(before);
  });

  it('needs the points: 422 insufficient_points, nothing written', async () => {
    const poor = await customerIdOf(t.db, 'Globex Sdn Bhd');
    const myr = await catalogPrice(t, demo, { name: 'KL Trunk', currency: 'MYR', price: '10.00', cost: '1.00' });
    await givePoints(t, demo, poor, '10.90', 'MYR');
    const sub = await buy(poor, myr.priceId, '2026-05-05T10:00:00Z');
    expect(sub.status).toBe('active');
    t.clock.set('2026-06-05T00:00:00Z');
    await expire(sub.id);
    const res = await api(t, admin, 'POST', `/api/v1/subscriptions/${sub.id}/reactivate`);
    expect(res.statusCode).toBe(422);
    expect(res.json<{ code: string }>().code).toBe('insufficient_points');
    expect((await get(sub.id)).status).toBe('expired');
  });
});

describe('settings', () => {
  it('auto-renew off hides the next renewal; renewal by card needs a saved card', async () => {
    const sub = await buy(acme, monthly.priceId, '2026-08-01T10:00:00Z');
    const off = await api(t, owner, 'PATCH', `/api/v1/portal/subscriptions/${sub.id}`, { autoRenew: false });
    expect(off.statusCode, off.body).toBe(200);
    expect(off.json<View>()).toMatchObject({ autoRenew: false, nextRenewalAt: null });
    const noCard = await api(t, admin, 'PATCH', `/api/v1/subscriptions/${sub.id}`, { renewByCard: true });
    expect(noCard.statusCode).toBe(422);
    expect(noCard.json<{ code: string; errors: { path: string }[] }>()).toMatchObject({ code: 'saved_card_required', errors: [{ path: 'renewByCard' }] });
    await t.db.owner.db.insertInto('savedCards').values({
      id: 'card_test0000000000000000001', partnerId: demo, customerId: acme, gateway: 'sandbox', gatewayCustomerRef: 'cus_sandbox_1', methodRef: 'pm_sandbox_1',
      brand: 'visa', last4: '4242', expMonth: 12, expYear: 2030, createdBy: null, removedAt: null,
    }).execute();
    const on = await api(t, admin, 'PATCH', `/api/v1/subscriptions/${sub.id}`, { renewByCard: true, autoRenew: true });
    expect(on.statusCode, on.body).toBe(200);
    expect(on.json<View>()).toMatchObject({ autoRenew: true, renewByCard: true, nextRenewalAt: '2026-08-25' });
    const audit = await t.db.owner.db.selectFrom('auditEvents').selectAll().where('action', '=', 'subscription.updated').where('targetId', '=', sub.id).orderBy('seq', 'desc').executeTakeFirstOrThrow();
    expect(audit.changes).toEqual({ autoRenew: { before: false, after: true }, renewByCard: { before: false, after: true } });
    expect((await api(t, member, 'PATCH', `/api/v1/portal/subscriptions/${sub.id}`, { autoRenew: false })).statusCode).toBe(403);
    expect((await api(t, admin, 'PATCH', `/api/v1/subscriptions/${sub.id}`, { autoRenew: 'no' })).statusCode).toBe(400);
  });
});
