import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestApp, customerIdOf, expectUnknownId, joinOrganisation, lastMailTo, partnerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';
import { inScope } from '../platform/database.ts';
import { sha256Hex } from '../platform/crypto.ts';
import { postEntry } from '../ledger/post-entry.ts';
import { activatePaidSubscription } from './activate-paid-subscription.ts';
import { accountBalance, catalogPrice, givePoints, ledgerProblems, pointsOf, sgd, type CatalogPrice } from './test-support.ts';

/**
 * Buying a subscription (issue 4 §2): from points with a paid Purchase invoice, or pending on an unpaid one; tax once per
 * invoice; staff and portal; bad input and tenancy; idempotency and concurrency. The clock is the test's.
 */
let t: TestApp;
let demo: string;
let acme: string;
let initech: string;
let wombat: string;
let admin: Session;
let owner: Session;
let member: Session;
let pbx: CatalogPrice;
let wallboard: CatalogPrice;
let odd: CatalogPrice;
let number: CatalogPrice;

type View = Record<string, unknown> & { id: string; status: string };
type Invoice = { id: string; number: string; status: string; subtotal: string; tax: string; total: string; amountDue: string; dueAt: string | null };

beforeAll(async () => {
  t = await createTestApp();
  t.clock.set('2026-03-10T09:30:00Z');
  demo = await partnerIdOf(t.db, 'demo-telecom');
  acme = await customerIdOf(t.db, 'Acme Pte Ltd');
  initech = await customerIdOf(t.db, 'Initech Pte Ltd');
  wombat = await customerIdOf(t.db, 'Wombat Pty Ltd');
  await t.db.owner.db.updateTable('partnerSettings').set({ taxRateBps: 900, invoiceDueDays: 14 }).where('partnerId', '=', demo).execute();
  pbx = await catalogPrice(t, demo, { name: 'Cloud PBX', price: '30.00', cost: '12.00', activationFee: '10.00' });
  wallboard = await catalogPrice(t, demo, { name: 'Wallboard', cycle: 'yearly', price: '120.00', cost: '50.00' });
  odd = await catalogPrice(t, demo, { name: 'Odd Licence', price: '10.05', cost: '4.00', activationFee: '0.05' });
  number = await catalogPrice(t, demo, { name: 'Phone number', type: 'phone_number', taxCategory: 'zero_rated', price: '5.00', cost: '1.00' });
  admin = await signIn(t, 'admin@demo.test');
  owner = await signIn(t, 'owner@acme.test');
  member = await signIn(t, 'member@acme.test');
});
afterAll(async () => t.close());

const buy = (who: Session, customerId: string, body: object, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url: `/api/v1/customers/${customerId}/subscriptions`, headers: { ...who.headers, ...headers }, payload: body });

describe('purchase from points', () => {
  it('charges the first period x quantity, the activation fee and tax from points, with a paid Purchase invoice', async () => {
    await givePoints(t, demo, acme, '100.00');
    const before = { sub: await accountBalance(t, demo, 'revenue:subscription'), fee: await accountBalance(t, demo, 'revenue:one_time'), tax: await accountBalance(t, demo, 'tax_payable'), cost: await accountBalance(t, demo, 'cost:subscription') };
    const res = await buy(admin, acme, { priceId: pbx.priceId, quantity: 2 });
    expect(res.statusCode, res.body).toBe(201);
    const { subscription, invoice } = res.json<{ subscription: View; invoice: Invoice }>();
    expect(subscription).toMatchObject({
      customerId: acme, customerName: 'Acme Pte Ltd', productName: 'Cloud PBX', priceId: pbx.priceId, cycle: 'monthly', currency: 'SGD', quantity: 2,
      status: 'active', autoRenew: true, renewByCard: false, currentPeriodStart: '2026-03-10', currentPeriodEnd: '2026-04-10', nextRenewalAt: '2026-04-03',
      renewalPrice: '60.00', renewalCost: '24.00', margin: '36.00', marginPercent: '60.0', addOns: [], lastRenewalFailure: null, startedAt: '2026-03-10T09:30:00.000Z',
    });
    expect(subscription.id).toMatch(/^sub_/);
    // 2 x 30.00 + 10.00 fee = 70.00; 9% = 6.30
    expect(invoice).toMatchObject({ status: 'paid', subtotal: '70.00', tax: '6.30', total: '76.30', amountDue: '0.00' });
    expect((await pointsOf(t, demo, acme)).points).toBe(sgd('23.70'));
    expect(await accountBalance(t, demo, 'revenue:subscription') - before.sub).toBe(-sgd('60.00'));
    expect(await accountBalance(t, demo, 'revenue:one_time') - before.fee).toBe(-sgd('10.00'));
    expect(await accountBalance(t, demo, 'tax_payable') - before.tax).toBe(-sgd('6.30'));
    expect(await accountBalance(t, demo, 'cost:subscription') - before.cost).toBe(sgd('24.00'));
    expect(await ledgerProblems(t)).toEqual([]);

    const stored = await t.db.owner.db.selectFrom('invoices').selectAll().where('id', '=', invoice.id).executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ type: 'purchase', status: 'paid', customerId: acme });
    const lines = await t.db.owner.db.selectFrom('invoiceLines').select(['kind', 'amountMicros', 'taxMicros']).where('invoiceId', '=', invoice.id).orderBy('position').execute();
    expect(lines.map((l) => [l.kind, l.amountMicros, l.taxMicros])).toEqual([['subscription', '60000000', '5400000'], ['activation_fee', '10000000', '900000']]);

    // Audit on the customer (the portal's Audit section shows it), the receipt to the owner, the history.
    const audit = await t.db.owner.db.selectFrom('auditEvents').selectAll().where('action', '=', 'subscription.purchased').where('targetId', '=', subscription.id).executeTakeFirstOrThrow();
    expect(audit).toMatchObject({ app: 'customer', customerId: acme, actorLabel: 'admin@demo.test' });
    expect(audit.changes).toMatchObject({ total: { after: '76.30' }, status: { after: 'active' }, quantity: { after: 2 } });
    const mail = await lastMailTo(t.db, 'owner@acme.test');
    expect(mail).toMatchObject({ kind: 'subscription_purchased', customerId: acme });
    expect(mail?.bodyText).toContain('Paid from points: 76.30 SGD');
    const detail = await api(t, admin, 'GET', `/api/v1/subscriptions/${subscription.id}`);
    expect(detail.json<{ history: { kind: string; amount: string; invoiceNumber: string }[] }>().history).toEqual([
      expect.objectContaining({ kind: 'purchased', amount: '76.30', invoiceNumber: invoice.number }),
    ]);
  });

  it('rounds tax once for the invoice, not per line', async () => {
    await givePoints(t, demo, initech, '100.00');
    // 3 x 10.05 = 30.15 and a 0.05 fee: 9% of 30.20 = 2.718 -> 2.72 (per line it would be 2.71 + 0.00).
    const res = await buy(admin, initech, { priceId: odd.priceId, quantity: 3 });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json<{ invoice: Invoice }>().invoice).toMatchObject({ subtotal: '30.20', tax: '2.72', total: '32.92' });
  });

  it('charges no tax on a zero-rated product', async () => {
    const res = await buy(admin, initech, { priceId: number.priceId });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json<{ invoice: Invoice }>().invoice).toMatchObject({ subtotal: '5.00', tax: '0.00', total: '5.00' });
  });

  it('counts the credit limit as usable points', async () => {
    const globexLike = await customerIdOf(t.db, 'Initech Pte Ltd');
    const { usable } = await pointsOf(t, demo, globexLike);
    await t.db.owner.db.updateTable('wallets').set({ creditLimitMicros: sgd('200.00') }).where('customerId', '=', globexLike).execute();
    const res = await buy(admin, globexLike, { priceId: wallboard.priceId });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json<{ subscription: View }>().subscription.status).toBe('active');
    expect((await pointsOf(t, demo, globexLike)).usable).toBe(usable + sgd('200.00') - sgd('130.80'));
    await givePoints(t, demo, globexLike, '200.00'); // pay back what the limit lent before taking the limit away
    await t.db.owner.db.updateTable('wallets').set({ creditLimitMicros: 0n }).where('customerId', '=', globexLike).execute();
  });
});

describe('purchase when points fall short', () => {
  let pendingId: string;
  let invoice: Invoice;

  it('waits on an unpaid Purchase invoice, due per the partner\'s due days, billed to the receivable', async () => {
    const pointsBefore = await pointsOf(t, demo, acme);
    const res = await buy(admin, acme, { priceId: wallboard.priceId });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json<{ subscription: View; invoice: Invoice }>();
    pendingId = body.subscription.id;
    invoice = body.invoice;
    expect(body.subscription).toMatchObject({ status: 'pending_payment', currentPeriodStart: null, currentPeriodEnd: null, nextRenewalAt: null, startedAt: null, pendingInvoiceId: invoice.id });
    expect(invoice).toMatchObject({ status: 'awaiting_payment', total: '130.80', amountDue: '130.80', dueAt: '2026-03-24T09:30:00.000Z' });
    expect(await pointsOf(t, demo, acme)).toEqual(pointsBefore);
    expect(await accountBalance(t, demo, 'receivable', 'SGD', acme)).toBe(sgd('130.80'));
    expect(await ledgerProblems(t)).toEqual([]);
    expect((await lastMailTo(t.db, 'owner@acme.test'))?.kind).toBe('invoice_issued');
  });

  it('becomes active from the day its invoice is paid (activatePaidSubscription), and the cost is posted then', async () => {
    t.clock.set('2026-03-12T15:00:00Z');
    await givePoints(t, demo, acme, '200.00');
    const costBefore = await accountBalance(t, demo, 'cost:subscription');
    const ctx = { principal: { kind: 'system' as const, job: 'test_invoice_payment' }, requestId: null, ip: null, userAgent: null, clock: t.clock };
    const activated = await inScope(t.db.app.db, { kind: 'partner', partnerId: demo }, async (trx) => {
      // What the Invoices issue will do: pay it from points, mark it paid, then activate.
      await postEntry(trx, {
        partnerId: demo, currency: 'SGD', customerId: acme, kind: 'invoice_payment', causeType: 'invoice', causeId: invoice.id, description: 'Paid from points', auditEventId: null,
        postings: [{ code: 'points', customerId: acme, amountMicros: sgd('130.80') }, { code: 'receivable', customerId: acme, amountMicros: -sgd('130.80') }],
      });
      await trx.updateTable('invoices').set({ status: 'paid', amountDueMicros: 0n, amountPaidMicros: sgd('130.80'), paidAt: t.clock.now() }).where('id', '=', invoice.id).execute();
      return activatePaidSubscription(trx, ctx, { partnerId: demo, invoiceId: invoice.id });
    });
    expect(activated).toEqual({ subscriptionId: pendingId });
    const view = (await api(t, admin, 'GET', `/api/v1/subscriptions/${pendingId}`)).json<View & { history: { kind: string }[] }>();
    expect(view).toMatchObject({ status: 'active', currentPeriodStart: '2026-03-12', currentPeriodEnd: '2027-03-12', nextRenewalAt: '2027-03-05', pendingInvoiceId: null });
    expect(view.history.map((h) => h.kind)).toEqual(['activated', 'purchased']);
    expect(await accountBalance(t, demo, 'cost:subscription') - costBefore).toBe(sgd('50.00'));
    expect(await accountBalance(t, demo, 'receivable', 'SGD', acme)).toBe(0n);
    const charge = await t.db.owner.db.selectFrom('subscriptionCharges').selectAll().where('subscriptionId', '=', pendingId).executeTakeFirstOrThrow();
    expect(charge.periodStart?.toISOString()).toBe('2026-03-12T00:00:00.000Z');
    expect((await t.db.owner.db.selectFrom('auditEvents').select('customerId').where('action', '=', 'subscription.activated').where('targetId', '=', pendingId).executeTakeFirstOrThrow()).customerId).toBe(acme);
    // Calling it again (or for any other invoice) does nothing.
    expect(await inScope(t.db.app.db, { kind: 'partner', partnerId: demo }, (trx) => activatePaidSubscription(trx, ctx, { partnerId: demo, invoiceId: invoice.id }))).toBeNull();
    expect(await ledgerProblems(t)).toEqual([]);
    t.clock.set('2026-03-10T09:30:00Z');
  });
});

describe('in the portal', () => {
  it('an owner buys for their organisation and sees no cost or margin; the audit is the portal\'s, on the customer', async () => {
    await givePoints(t, demo, acme, '50.00');
    const res = await api(t, owner, 'POST', '/api/v1/portal/subscriptions', { priceId: number.priceId, quantity: 2 });
    expect(res.statusCode, res.body).toBe(201);
    const { subscription } = res.json<{ subscription: View }>();
    expect(subscription).toMatchObject({ customerId: acme, status: 'active', quantity: 2, renewalPrice: '10.00' });
    expect(subscription).not.toHaveProperty('renewalCost');
    expect(subscription).not.toHaveProperty('margin');
    expect(subscription).not.toHaveProperty('marginPercent');
    const audit = await t.db.owner.db.selectFrom('auditEvents').selectAll().where('targetId', '=', subscription.id).executeTakeFirstOrThrow();
    expect(audit).toMatchObject({ app: 'portal', customerId: acme, actorLabel: 'owner@acme.test' });
    // The organisation's own Audit section shows it, and the staff purchases made for it too.
    const seen = (await api(t, owner, 'GET', '/api/v1/portal/audit-events?limit=200')).json<{ data: { action: string; target: { id: string | null } }[] }>().data;
    expect(seen.filter((e) => e.action === 'subscription.purchased').length).toBeGreaterThan(1);
    expect(seen.some((e) => e.target.id === subscription.id)).toBe(true);
    const mine = (await api(t, owner, 'GET', '/api/v1/portal/subscriptions')).json<{ data: View[] }>().data;
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((s) => s.customerId === acme)).toBe(true);
    expect(mine[0]).not.toHaveProperty('renewalCost');
  });

  it('members and guests may look but not buy (403 role_not_allowed), and nothing is written', async () => {
    const count = async () => (await t.db.owner.db.selectFrom('subscriptions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;
    const before = await count();
    const res = await api(t, member, 'POST', '/api/v1/portal/subscriptions', { priceId: number.priceId });
    expect(res.statusCode).toBe(403);
    expect(res.json<{ code: string }>().code).toBe('role_not_allowed');
    const guest = await joinOrganisation(t, owner, 'guest@acme.test', 'guest');
    expect((await api(t, guest.session, 'POST', '/api/v1/portal/subscriptions', { priceId: number.priceId })).statusCode).toBe(403);
    expect(await count()).toBe(before);
    expect((await api(t, member, 'GET', '/api/v1/portal/subscriptions')).statusCode).toBe(200);
  });

  it('another organisation\'s subscription is not found', async () => {
    const initechSub = await t.db.owner.db.selectFrom('subscriptions').select('id').where('customerId', '=', initech).executeTakeFirstOrThrow();
    expect((await api(t, owner, 'GET', `/api/v1/portal/subscriptions/${initechSub.id}`)).statusCode).toBe(404);
    expect((await api(t, owner, 'PATCH', `/api/v1/portal/subscriptions/${initechSub.id}`, { autoRenew: false })).statusCode).toBe(404);
  });
});

describe('bad input', () => {
  const cases: [string, () => Promise<{ statusCode: number; body: string }>, number, string, string?][] = [
    ['negative quantity', () => buy(admin, acme, { priceId: 'prc_00000000000000000000000000', quantity: -1 }), 400, 'validation_failed', 'quantity'],
    ['zero quantity', () => buy(admin, acme, { priceId: 'prc_00000000000000000000000000', quantity: 0 }), 400, 'validation_failed', 'quantity'],
    ['fractional quantity', () => buy(admin, acme, { priceId: 'prc_00000000000000000000000000', quantity: 1.5 }), 400, 'validation_failed', 'quantity'],
    ['quantity as a string', () => buy(admin, acme, { priceId: 'prc_00000000000000000000000000', quantity: '2' }), 400, 'validation_failed', 'quantity'],
    ['no price', () => buy(admin, acme, { quantity: 1 }), 400, 'validation_failed', 'priceId'],
    ['a price id of another type', () => buy(admin, acme, { priceId: 'prd_00000000000000000000000000' }), 400, 'validation_failed', 'priceId'],
    ['an unknown price', () => buy(admin, acme, { priceId: 'prc_00000000000000000000000000' }), 422, 'price_not_found', 'priceId'],
    ['another partner\'s customer', () => buy(admin, wombat, { priceId: 'prc_00000000000000000000000000' }), 404, 'not_found'],
  ];
  for (const [name, send, status, code, field] of cases) {
    it(`${name}: ${status} ${code}${field ? ` naming ${field}` : ''}`, async () => {
      const res = await send();
      expect(res.statusCode, res.body).toBe(status);
      const problem = JSON.parse(res.body) as { code: string; errors?: { path: string }[] };
      expect(problem.code).toBe(code);
      if (field) expect(problem.errors?.map((e) => e.path)).toContain(field);
    });
  }

  it('an archived product is 409 product_archived; a price in another currency is 422 currency_mismatch naming it; another partner\'s price is 422 price_not_found as an unknown one', async () => {
    const archived = await catalogPrice(t, demo, { name: 'Old Fax', price: '3.00', cost: '1.00', archived: true });
    const myr = await catalogPrice(t, demo, { name: 'Malaysian Line', currency: 'MYR', price: '20.00', cost: '5.00' });
    const northwind = await partnerIdOf(t.db, 'northwind');
    const foreign = await catalogPrice(t, northwind, { name: 'Outback Line', currency: 'AUD', price: '9.00', cost: '2.00' });
    const count = async () => (await t.db.owner.db.selectFrom('subscriptions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;
    const invoices = async () => (await t.db.owner.db.selectFrom('invoices').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;
    const before = [await count(), await invoices()];
    const a = await buy(admin, acme, { priceId: archived.priceId });
    expect(a.statusCode).toBe(409);
    expect(a.json<{ code: string; detail: string }>()).toMatchObject({ code: 'product_archived' });
    const m = await buy(admin, acme, { priceId: myr.priceId });
    expect(m.statusCode).toBe(422);
    expect(m.json<{ code: string; detail: string; errors: { path: string }[] }>()).toMatchObject({ code: 'currency_mismatch', errors: [{ path: 'priceId' }] });
    expect(m.json<{ detail: string }>().detail).toContain('MYR');
    const unknown = 'prc_00000000000000000000000000';
    expectUnknownId([await buy(admin, acme, { priceId: foreign.priceId }), await buy(admin, acme, { priceId: unknown })], 'price_not_found', 'priceId');
    const portalBuy = (priceId: string) => api(t, owner, 'POST', '/api/v1/portal/subscriptions', { priceId });
    expectUnknownId([await portalBuy(foreign.priceId), await portalBuy(unknown)], 'price_not_found', 'priceId');
    expect([await count(), await invoices()]).toEqual(before);
  });

  it('without the Customer app: 403 app_not_granted, for staff API keys too', async () => {
    const token = 'fk_subscriptions_test_product_only_0001';
    await t.db.owner.db.insertInto('apiKeys').values({ id: 'key_subscriptionstest00001', partnerId: demo, name: 'Catalog sync', tokenPrefix: token.slice(0, 10), tokenHash: sha256Hex(token), apps: ['product'], createdBy: null, lastUsedAt: null, revokedAt: null }).execute();
    const headers = { authorization: `Bearer ${token}` };
    const list = await api(t, headers, 'GET', '/api/v1/subscriptions');
    expect(list.statusCode).toBe(403);
    expect(list.json<{ code: string }>().code).toBe('app_not_granted');
    expect((await api(t, headers, 'POST', `/api/v1/customers/${acme}/subscriptions`, { priceId: number.priceId })).statusCode).toBe(403);
  });

  it('another partner\'s staff cannot see or change Demo Telecom\'s subscriptions', async () => {
    const north = await signIn(t, 'admin@northwind.test');
    const sub = await t.db.owner.db.selectFrom('subscriptions').select('id').where('customerId', '=', acme).executeTakeFirstOrThrow();
    expect((await api(t, north, 'GET', `/api/v1/subscriptions/${sub.id}`)).statusCode).toBe(404);
    expect((await api(t, north, 'POST', `/api/v1/subscriptions/${sub.id}/terminate`, { reason: 'x' })).statusCode).toBe(404);
    expect((await api(t, north, 'GET', '/api/v1/subscriptions')).json<{ data: unknown[] }>().data).toEqual([]);
  });
});

describe('lists', () => {
  it('filters partner-wide by customer, status, renewal due and failed renewal; per customer too', async () => {
    const list = async (q: string) => (await api(t, admin, 'GET', `/api/v1/subscriptions${q}`)).json<{ data: View[]; nextCursor: string | null }>();
    const all = await list('');
    expect(all.data.length).toBeGreaterThan(3);
    expect((await list(`?customerId=${acme}`)).data.every((s) => s.customerId === acme)).toBe(true);
    expect((await list('?status=active')).data.every((s) => s.status === 'active')).toBe(true);
    // Monthly ones from 2026-03-10 renew on 2026-04-03; yearly ones in 2027.
    const dueSoon = (await list('?renewalDueBefore=2026-04-03')).data;
    expect(dueSoon.length).toBeGreaterThan(0);
    expect(dueSoon.every((s) => s.nextRenewalAt! <= '2026-04-03')).toBe(true);
    expect((await list('?renewalDueBefore=2026-04-02')).data).toEqual([]);
    const failed = all.data.find((s) => s.status === 'active')!;
    await t.db.owner.db.updateTable('subscriptions').set({ renewalFailedAt: new Date('2026-04-03T01:00:00Z'), renewalFailureReason: 'Not enough points' }).where('id', '=', failed.id).execute();
    const failedList = (await list('?renewalFailed=true')).data;
    expect(failedList.map((s) => s.id)).toEqual([failed.id]);
    expect(failedList[0]!.lastRenewalFailure).toEqual({ at: '2026-04-03T01:00:00.000Z', reason: 'Not enough points' });
    const page1 = await list('?limit=2');
    expect(page1.data).toHaveLength(2);
    const page2 = await list(`?limit=2&cursor=${page1.nextCursor}`);
    expect(page2.data[0]!.id < page1.data[1]!.id).toBe(true);
    const perCustomer = (await api(t, admin, 'GET', `/api/v1/customers/${acme}/subscriptions`)).json<{ data: View[] }>().data;
    expect(perCustomer.length).toBeGreaterThan(0);
    expect(perCustomer.every((s) => s.customerId === acme)).toBe(true);
    expect((await api(t, admin, 'GET', `/api/v1/customers/${wombat}/subscriptions`)).statusCode).toBe(404);
    const bad = await api(t, admin, 'GET', '/api/v1/subscriptions?renewalDueBefore=2026-02-30');
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ errors: { path: string }[] }>().errors.map((e) => e.path)).toContain('renewalDueBefore');
  });
});

describe('idempotency and concurrency', () => {
  it('20 concurrent identical purchases with one Idempotency-Key charge once', async () => {
    const customer = await customerIdOf(t.db, 'Initech Pte Ltd');
    await givePoints(t, demo, customer, '500.00');
    const before = await pointsOf(t, demo, customer);
    const subsBefore = (await t.db.owner.db.selectFrom('subscriptions').select('id').where('customerId', '=', customer).execute()).length;
    const answers = await Promise.all(Array.from({ length: 20 }, () => buy(admin, customer, { priceId: pbx.priceId }, { 'idempotency-key': 'buy-pbx-once' })));
    const statuses = answers.map((a) => a.statusCode);
    expect(statuses.every((s) => s === 201 || s === 409), statuses.join(',')).toBe(true);
    const created = new Set(answers.filter((a) => a.statusCode === 201).map((a) => a.json<{ subscription: View }>().subscription.id));
    expect(created.size).toBe(1);
    const replay = await buy(admin, customer, { priceId: pbx.priceId }, { 'idempotency-key': 'buy-pbx-once' });
    expect(replay.statusCode).toBe(201);
    expect(replay.json<{ subscription: View }>().subscription.id).toBe([...created][0]);
    expect((await t.db.owner.db.selectFrom('subscriptions').select('id').where('customerId', '=', customer).execute()).length).toBe(subsBefore + 1);
    expect((await pointsOf(t, demo, customer)).points).toBe(before.points - sgd('43.60'));
  });

  it('concurrent purchases never take usable points below zero: the ones points do not cover wait on invoices', async () => {
    const customer = await customerIdOf(t.db, 'Globex Sdn Bhd');
    const myr = await catalogPrice(t, demo, { name: 'KL Line', currency: 'MYR', price: '30.00', cost: '10.00' });
    await givePoints(t, demo, customer, '100.00', 'MYR');
    const answers = await Promise.all(Array.from({ length: 8 }, () => buy(admin, customer, { priceId: myr.priceId })));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(8).fill(201));
    const states = answers.map((a) => a.json<{ subscription: View }>().subscription.status);
    // 30.00 + 9% = 32.70: three fit in 100.00.
    expect(states.filter((s) => s === 'active')).toHaveLength(3);
    expect(states.filter((s) => s === 'pending_payment')).toHaveLength(5);
    const { points, usable } = await pointsOf(t, demo, customer, 'MYR');
    expect(points).toBe(100_000_000n - 3n * 32_700_000n);
    expect(usable >= 0n).toBe(true);
    expect(await ledgerProblems(t)).toEqual([]);
  });
});
