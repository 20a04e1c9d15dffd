import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { api, createTestApp, customerIdOf, partnerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';
import { resolveAccounts } from '../ledger/accounts.ts';
import type { AccountCode } from '../platform/db-types.ts';
import { MICROS_PER_UNIT } from '../money/money.ts';

let t: TestApp;
let admin: Session;
let north: Session;
let demo: string;
let northwind: string;
beforeAll(async () => {
  t = await createTestApp();
  admin = await signIn(t, 'admin@demo.test');
  north = await signIn(t, 'admin@northwind.test');
  demo = await partnerIdOf(t.db, 'demo-telecom');
  northwind = await partnerIdOf(t.db, 'northwind');
});
afterAll(async () => t.close());

const micros = (decimal: string) => {
  const negative = decimal.startsWith('-');
  const [whole, fraction = ''] = decimal.replace('-', '').split('.');
  const value = BigInt(whole!) * MICROS_PER_UNIT + BigInt(fraction.padEnd(6, '0'));
  return negative ? -value : value;
};
const uid = (prefix: string) => `${prefix}_${randomBytes(10).toString('hex')}`;

/**
 * A balanced entry of two postings at a chosen instant (the database owner writes it: the app always posts at now()).
 * `debit` gets +amount, `credit` gets -amount.
 */
async function post(partnerId: string, currency: string, at: string, debit: AccountCode, credit: AccountCode, amount: string) {
  await t.db.owner.db.transaction().execute(async (trx) => {
    const accounts = await resolveAccounts(trx, partnerId, currency, [{ code: debit }, { code: credit }]);
    const entryId = uid('je');
    await trx.insertInto('journalEntries').values({
      id: entryId, partnerId, currency, customerId: null, kind: 'dashboard_test', causeType: 'test', causeId: entryId, description: 'dashboard test',
      reversesEntryId: null, auditEventId: null, postedAt: at,
    }).execute();
    await trx.insertInto('postings').values([
      { entryId, partnerId, currency, accountId: accounts.get(`${debit}|`)!, customerId: null, amountMicros: micros(amount), balanceAfterMicros: null, postedAt: at },
      { entryId, partnerId, currency, accountId: accounts.get(`${credit}|`)!, customerId: null, amountMicros: -micros(amount), balanceAfterMicros: null, postedAt: at },
    ]).execute();
  });
}

type Dashboard = {
  currency: string; from: string; to: string; granularity: string;
  series: Array<{ period: string; revenue: string; cost: string; margin: string }>;
  totals: { revenue: string; cost: string; margin: string; marginPercent: string | null; byAccount: Array<{ account: string; amount: string }> };
  lowPoints: { threshold: string; count: number; customers: Array<{ name: string; usable: string }> };
  renewals: { dueThisWeek: { count: number; items: Array<{ customerName: string; productName: string; renewalAt: string; currentPeriodEnd: string }> }; failed: { count: number; items: Array<{ customerName: string; failureReason: string | null; status: string }> } } | null;
};
const dashboard = async (who: Session, query: string) => {
  const res = await api(t, who, 'GET', `/api/v1/dashboard${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<Dashboard>();
};

describe('getDashboard: revenue, cost and margin from the ledger', () => {
  beforeAll(async () => {
    // Northwind, AUD: the known set.
    await post(northwind, 'AUD', '2026-02-28T23:59:59Z', 'card_clearing', 'revenue:usage', '7.00'); // before the day range, in February
    await post(northwind, 'AUD', '2026-03-01T00:00:00Z', 'card_clearing', 'revenue:usage', '10.20544'); // sub-cent call charges
    await post(northwind, 'AUD', '2026-03-01T10:00:00Z', 'cost:usage', 'platform_payable', '4.12');
    await post(northwind, 'AUD', '2026-03-03T08:00:00Z', 'card_clearing', 'revenue:subscription', '50.00');
    await post(northwind, 'AUD', '2026-03-03T08:00:00Z', 'cost:subscription', 'platform_payable', '20.00');
    await post(northwind, 'AUD', '2026-03-03T23:59:59Z', 'revenue:usage', 'card_clearing', '0.20544'); // a call charge reversed
    await post(northwind, 'AUD', '2026-04-15T12:00:00Z', 'card_clearing', 'revenue:fees', '1.00');
    await post(northwind, 'AUD', '2026-03-02T12:00:00Z', 'card_clearing', 'bank', '500.00'); // not revenue nor cost
    // Noise that must not count: another currency of the same partner, another partner.
    await post(northwind, 'SGD', '2026-03-01T12:00:00Z', 'card_clearing', 'revenue:usage', '99.00');
    await post(demo, 'AUD', '2026-03-01T12:00:00Z', 'card_clearing', 'revenue:usage', '88.00');
  });

  it('sums revenue:* credits and cost:* debits per UTC day, with empty days as zero, and totals with the margin percent', async () => {
    const d = await dashboard(north, '?from=2026-03-01&to=2026-03-03&currency=AUD');
    expect(d).toMatchObject({ currency: 'AUD', from: '2026-03-01', to: '2026-03-03', granularity: 'day' });
    expect(d.series).toEqual([
      { period: '2026-03-01', revenue: '10.20544', cost: '4.12', margin: '6.08544' },
      { period: '2026-03-02', revenue: '0.00', cost: '0.00', margin: '0.00' },
      { period: '2026-03-03', revenue: '49.79456', cost: '20.00', margin: '29.79456' },
    ]);
    expect(d.totals).toEqual({
      revenue: '60.00', cost: '24.12', margin: '35.88', marginPercent: '59.8',
      byAccount: [
        { account: 'cost:subscription', amount: '20.00' },
        { account: 'cost:usage', amount: '4.12' },
        { account: 'revenue:subscription', amount: '50.00' },
        { account: 'revenue:usage', amount: '10.00' },
      ],
    });
  });

  it('revenue is net of returns: a credit note or termination refund (sales_returns debited) lowers revenue and margin', async () => {
    await post(northwind, 'AUD', '2026-05-04T09:00:00Z', 'card_clearing', 'revenue:subscription', '80.00');
    await post(northwind, 'AUD', '2026-05-04T09:00:00Z', 'cost:subscription', 'platform_payable', '30.00');
    // The sale is given back two days later: returns, and the cost back to the partner.
    await post(northwind, 'AUD', '2026-05-06T09:00:00Z', 'sales_returns', 'card_clearing', '80.00');
    await post(northwind, 'AUD', '2026-05-06T09:00:00Z', 'platform_payable', 'cost:subscription', '30.00');
    const d = await dashboard(north, '?from=2026-05-04&to=2026-05-06&currency=AUD');
    expect(d.series).toEqual([
      { period: '2026-05-04', revenue: '80.00', cost: '30.00', margin: '50.00' },
      { period: '2026-05-05', revenue: '0.00', cost: '0.00', margin: '0.00' },
      { period: '2026-05-06', revenue: '-80.00', cost: '-30.00', margin: '-50.00' },
    ]);
    expect(d.totals).toEqual({
      revenue: '0.00', cost: '0.00', margin: '0.00', marginPercent: null,
      byAccount: [
        { account: 'cost:subscription', amount: '0.00' },
        { account: 'revenue:subscription', amount: '80.00' },
        { account: 'sales_returns', amount: '80.00' },
      ],
    });
  });

  it('groups by month, and uses the partner\'s default currency when none is asked', async () => {
    const d = await dashboard(north, '?from=2026-02-01&to=2026-04-30&granularity=month');
    expect(d.currency).toBe('AUD');
    expect(d.series).toEqual([
      { period: '2026-02-01', revenue: '7.00', cost: '0.00', margin: '7.00' },
      { period: '2026-03-01', revenue: '60.00', cost: '24.12', margin: '35.88' },
      { period: '2026-04-01', revenue: '1.00', cost: '0.00', margin: '1.00' },
    ]);
    expect(d.totals).toMatchObject({ revenue: '68.00', cost: '24.12', margin: '43.88', marginPercent: '64.5' });
    // more than 92 days: months by default
    expect((await dashboard(north, '?from=2026-01-01&to=2026-04-30')).granularity).toBe('month');
  });

  it('shows each partner and currency only its own postings; no revenue means no margin percent', async () => {
    const sgd = await dashboard(north, '?from=2026-03-01&to=2026-03-01&currency=SGD');
    expect(sgd.totals).toMatchObject({ revenue: '99.00', cost: '0.00' });
    const demoAud = await dashboard(admin, '?from=2026-03-01&to=2026-03-03&currency=AUD');
    expect(demoAud.totals).toMatchObject({ revenue: '88.00', cost: '0.00', marginPercent: '100.0' });
    const empty = await dashboard(north, '?from=2025-01-01&to=2025-01-02&currency=VND');
    expect(empty.series).toEqual([{ period: '2025-01-01', revenue: '0', cost: '0', margin: '0' }, { period: '2025-01-02', revenue: '0', cost: '0', margin: '0' }]);
    expect(empty.totals).toMatchObject({ marginPercent: null, byAccount: [] });
  });

  it('refuses bad parameters with a 400 naming them, and a period against its rules (from after to, too long) with a 422', async () => {
    for (const [query, path] of [
      ['?from=2026-02-30', 'from'], ['?to=30-11-2026', 'to'], ['?to=0000-01-01', 'to'], ['?currency=EUR', 'currency'],
      ['?granularity=week', 'granularity'], ['?customer=1', 'customer'],
    ] as const) {
      const res = await api(t, north, 'GET', `/api/v1/dashboard${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().errors.map((e: { path: string }) => e.path), query).toContain(path);
    }
    // Well-formed days that break the period's rules (docs/adr/0040).
    for (const query of ['?from=2026-03-05&to=2026-03-01', '?from=2020-01-01&to=2026-01-01']) {
      const res = await api(t, north, 'GET', `/api/v1/dashboard${query}`);
      expect(res.statusCode, query).toBe(422);
      expect(res.json(), query).toMatchObject({ code: 'rule_violation', errors: [{ path: 'from' }] });
    }
  });
});

describe('getDashboard: low points', () => {
  it('lists the customers of the currency whose usable points are below its threshold, lowest first; closed ones left out', async () => {
    const before = await dashboard(admin, '?currency=SGD');
    expect(before.lowPoints).toMatchObject({ threshold: '10.00', count: 2 });
    expect(before.lowPoints.customers.map((c) => c.name).sort()).toEqual(['Acme Pte Ltd', 'Initech Pte Ltd']);

    const finance = await signIn(t, 'finance@demo.test');
    const acme = await customerIdOf(t.db, 'Acme Pte Ltd');
    expect((await api(t, finance, 'POST', `/api/v1/customers/${acme}/points/issue`, { amount: '9.99', reason: 'test' })).statusCode).toBe(200);
    const initech = await customerIdOf(t.db, 'Initech Pte Ltd');
    const d = await dashboard(admin, '?currency=SGD');
    expect(d.lowPoints.customers.map((c) => [c.name, c.usable])).toEqual([['Initech Pte Ltd', '0.00'], ['Acme Pte Ltd', '9.99']]);

    expect((await api(t, finance, 'POST', `/api/v1/customers/${acme}/points/issue`, { amount: '0.01', reason: 'test' })).statusCode).toBe(200);
    expect((await api(t, admin, 'PATCH', `/api/v1/customers/${initech}`, { status: 'closed' })).statusCode).toBe(200);
    expect((await dashboard(admin, '?currency=SGD')).lowPoints).toMatchObject({ count: 0, customers: [] });
    expect((await dashboard(admin, '?currency=MYR')).lowPoints).toMatchObject({ threshold: '30.00', count: 1, customers: [{ name: 'Globex Sdn Bhd' }] });
  });
});

describe('getDashboard: renewals', () => {
  async function catalogPrice(partnerId: string, currency: string) {
    const db = t.db.owner.db;
    const productId = uid('prd');
    const variantId = uid('var');
    const priceId = uid('prc');
    await db.insertInto('products').values({ id: productId, partnerId, sku: `SKU-${randomBytes(3).toString('hex')}`, name: 'Cloud PBX', description: null, type: 'service', archivedAt: null, updatedAt: new Date() }).execute();
    await db.insertInto('productVariants').values({ id: variantId, partnerId, productId, name: 'Pro', archivedAt: null }).execute();
    await db.insertInto('productPrices').values({ id: priceId, partnerId, variantId, cycle: 'monthly', currency, priceMicros: 50_000_000n, costMicros: 20_000_000n, archivedAt: null, updatedAt: new Date() }).execute();
    return { productId, variantId, priceId };
  }
  async function subscription(partnerId: string, customerId: string, currency: string, end: string, extra: Record<string, unknown> = {}) {
    const p = await catalogPrice(partnerId, currency);
    const endAt = new Date(end);
    const start = new Date(endAt);
    start.setUTCMonth(start.getUTCMonth() - 1);
    await t.db.owner.db.insertInto('subscriptions').values({
      id: uid('sub'), partnerId, customerId, ...p, currency, cycle: 'monthly', quantity: 1, status: 'active',
      anchorAt: start, currentPeriodStart: start, currentPeriodEnd: endAt, activatedAt: start, createdAt: start, updatedAt: start, ...extra,
    }).execute();
  }

  it('shows renewals due in the next 7 days (expiry within 14) and failed renewals, each partner its own', async () => {
    t.clock.set('2026-06-10T09:00:00Z');
    const acme = await customerIdOf(t.db, 'Acme Pte Ltd');
    const globex = await customerIdOf(t.db, 'Globex Sdn Bhd');
    await subscription(demo, acme, 'SGD', '2026-06-20T00:00:00Z'); // renews 13 June: due
    await subscription(demo, globex, 'MYR', '2026-06-12T00:00:00Z'); // renewal time passed, not run yet: due
    await subscription(demo, acme, 'SGD', '2026-06-30T00:00:00Z'); // renews 23 June: not this week
    await subscription(demo, acme, 'SGD', '2026-06-16T00:00:00Z', { renewalFailedAt: '2026-06-09T00:05:00Z', renewalFailureReason: 'Not enough points' });
    await subscription(demo, globex, 'MYR', '2026-06-08T00:00:00Z', {
      status: 'expired', expiredAt: '2026-06-08T00:00:00Z', renewalFailedAt: '2026-06-01T00:05:00Z', renewalFailureReason: 'Card declined',
    });
    await subscription(demo, acme, 'SGD', '2026-06-15T00:00:00Z', { status: 'terminated', terminatedAt: '2026-06-05T00:00:00Z', terminationKind: 'request' });
    await subscription(northwind, await customerIdOf(t.db, 'Wombat Pty Ltd'), 'AUD', '2026-06-14T00:00:00Z');

    const d = await dashboard(admin, '');
    expect(d.renewals?.dueThisWeek.count).toBe(2);
    expect(d.renewals?.dueThisWeek.items.map((i) => [i.customerName, i.productName, i.renewalAt])).toEqual([
      ['Globex Sdn Bhd', 'Cloud PBX', '2026-06-05T00:00:00.000Z'],
      ['Acme Pte Ltd', 'Cloud PBX', '2026-06-13T00:00:00.000Z'],
    ]);
    expect(d.renewals?.failed.count).toBe(2);
    expect(d.renewals?.failed.items.map((i) => [i.customerName, i.status, i.failureReason])).toEqual([
      ['Acme Pte Ltd', 'active', 'Not enough points'],
      ['Globex Sdn Bhd', 'expired', 'Card declined'],
    ]);
    expect((await dashboard(north, '')).renewals).toMatchObject({ dueThisWeek: { count: 1 }, failed: { count: 0 } });
    // the default period ends on the clock's day
    expect(d).toMatchObject({ from: '2026-05-12', to: '2026-06-10' });
  });
});

describe('getDashboard: access', () => {
  it('needs the Customer app', async () => {
    const key = (await api(t, admin, 'POST', '/api/v1/api-keys', { name: 'invoices only', apps: ['invoice'] })).json();
    const res = await api(t, { authorization: `Bearer ${key.token}` }, 'GET', '/api/v1/dashboard');
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('app_not_granted');
    expect((await api(t, await signIn(t, 'owner@acme.test'), 'GET', '/api/v1/dashboard')).statusCode).toBe(403);
    expect((await api(t, null, 'GET', '/api/v1/dashboard')).statusCode).toBe(401);
  });
});
