import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, customerIdOf, createTestApp, partnerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';
import { sha256Hex } from '../platform/crypto.ts';
import { inScope } from '../platform/database.ts';
import { creditWallet } from '../wallet/charge-wallet.ts';

let t: TestApp;
let admin: Session;
let partnerId: string;

beforeAll(async () => {
  t = await createTestApp();
  admin = await signIn(t, 'admin@demo.test');
  partnerId = await partnerIdOf(t.db, 'demo-telecom');
});
afterAll(async () => t.close());

type Plan = { id: string; isDefault: boolean; ratesVersion: number; rateCount: number };
const create = (payload: unknown, who: Session = admin) => api(t, who, 'POST', '/api/v1/rate-plans', payload);
const replace = (id: string, rates: unknown[], headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'PUT', url: `/api/v1/rate-plans/${id}/rates`, headers: { ...admin.headers, ...headers }, payload: { rates } });
const rate = (prefix: string, price: string, cost = '0.01', description?: string) => ({ prefix, pricePerMinute: price, costPerMinute: cost, ...(description ? { description } : {}) });

describe('rate plans', () => {
  it('creates a plan, lists it, and audits it', async () => {
    const res = await create({ name: 'Standard SGD', currency: 'SGD', increment: '60/60', minimumCharge: '0.01', isDefault: true });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({
      id: expect.stringMatching(/^rpl_[0-9a-z]{26}$/), name: 'Standard SGD', currency: 'SGD', increment: '60/60', firstIncrementSeconds: 60, nextIncrementSeconds: 60,
      minimumCharge: '0.010000', whenInsufficient: 'reject', isDefault: true, rateCount: 0, ratesVersion: 1, ratesUpdatedAt: expect.any(String), createdAt: expect.any(String),
    });
    const list = await api(t, admin, 'GET', '/api/v1/rate-plans');
    expect(list.statusCode).toBe(200);
    expect(list.json().data.map((p: Plan) => p.id)).toEqual([res.json().id]);
    const [event] = await auditEventsOf(t.db, 'rate_plan.created');
    expect(event).toMatchObject({ app: 'product', targetType: 'rate_plan', targetId: res.json().id, changes: { name: { after: 'Standard SGD' }, increment: { after: '60/60' }, isDefault: { after: true } } });
  });

  it('a new default plan takes over from the previous default of its currency, in one step', async () => {
    const first = (await api(t, admin, 'GET', '/api/v1/rate-plans?currency=SGD')).json().data[0] as Plan;
    const second = await create({ name: 'Cheaper SGD', currency: 'SGD', increment: '30/6', whenInsufficient: 'use_credit_limit', isDefault: true });
    expect(second.statusCode).toBe(201);
    const plans = (await api(t, admin, 'GET', '/api/v1/rate-plans?currency=SGD')).json().data as Plan[];
    expect(plans.map((p) => [p.id, p.isDefault])).toEqual([[second.json().id, true], [first.id, false]]);
    const [event] = await auditEventsOf(t.db, 'rate_plan.created');
    expect(event?.changes).toMatchObject({ previousDefault: { before: first.id } });

    // Racing default plans in one currency: exactly one default at the end, no error.
    const raced = await Promise.all(Array.from({ length: 6 }, (_, i) => create({ name: `Race ${i}`, currency: 'HKD', increment: '1/1', isDefault: true })));
    expect(raced.map((r) => r.statusCode)).toEqual(Array(6).fill(201));
    const hkd = (await api(t, admin, 'GET', '/api/v1/rate-plans?currency=HKD')).json().data as Plan[];
    expect(hkd.filter((p) => p.isDefault)).toHaveLength(1);
  });

  it('refuses bad plans with a 400 naming the field (a minimum charge against the rules: 422)', async () => {
    for (const minimumCharge of ['-0.01', '0.0000001', '10000.000001']) {
      const res = await create({ name: 'X', currency: 'SGD', increment: '60/60', minimumCharge });
      expect(res.statusCode, minimumCharge).toBe(422);
      expect(res.json(), minimumCharge).toMatchObject({ code: 'rule_violation', errors: [{ path: 'minimumCharge' }] });
    }
    expect((await create({ name: 'X', currency: 'SGD', increment: '60/60', minimumCharge: 'free' })).json()).toMatchObject({ status: 400, errors: [{ path: 'minimumCharge' }] });
    const cases: Array<[unknown, string]> = [
      [{ name: '', currency: 'SGD', increment: '60/60' }, 'name'],
      [{ name: 'X', currency: 'XXX', increment: '60/60' }, 'currency'],
      [{ name: 'X', currency: 'SGD', increment: '60' }, 'increment'],
      [{ name: 'X', currency: 'SGD', increment: '0/60' }, 'increment'],
      [{ name: 'X', currency: 'SGD', increment: '60/3601' }, 'increment'],
      [{ name: 'X', currency: 'SGD', increment: '60/60', minimumCharge: 0.01 }, 'minimumCharge'],
      [{ name: 'X', currency: 'SGD', increment: '60/60', whenInsufficient: 'overdraw' }, 'whenInsufficient'],
      [{ name: 'X', currency: 'SGD', increment: '60/60', rates: [] }, 'rates'],
    ];
    for (const [payload, field] of cases) {
      const res = await create(payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().errors.map((e: { path: string }) => e.path), JSON.stringify(payload)).toContain(field);
    }
  });

  it('refuses a list cursor that is not a plan\'s id (400 naming cursor)', async () => {
    for (const cursor of ['garbage', 'prd_00000000000000000000000000']) {
      const res = await api(t, admin, 'GET', `/api/v1/rate-plans?cursor=${cursor}`);
      expect(res.statusCode, cursor).toBe(400);
      expect(res.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'cursor', message: 'a rpl_ id' }] });
    }
    expect((await api(t, admin, 'GET', '/api/v1/rate-plans?cursor=rpl_00000000000000000000000000')).json()).toEqual({ data: [], nextCursor: null });
  });

  it('replaces the whole rate table atomically, bumping the version and ETag; lists it in prefix order a page at a time', async () => {
    const plan = (await create({ name: 'Rates', currency: 'SGD', increment: '60/60' })).json<Plan>();
    const res = await replace(plan.id, [rate('65', '0.03', '0.01', 'Singapore fixed'), rate('659', '0.06', '0.025'), rate('1', '0.0123', '0.004567'), rate('44', '0.05', '0.02')]);
    expect(res.statusCode).toBe(200);
    expect(res.json().ratePlan).toMatchObject({ id: plan.id, rateCount: 4, ratesVersion: 2 });
    expect(res.headers.etag).toBe(`"${plan.id}.v2"`);

    const page1 = await api(t, admin, 'GET', `/api/v1/rate-plans/${plan.id}/rates?limit=2`);
    expect(page1.headers.etag).toBe(`"${plan.id}.v2"`);
    expect(page1.json()).toEqual({
      data: [
        { prefix: '1', description: null, pricePerMinute: '0.012300', costPerMinute: '0.004567', currency: 'SGD', taxCategory: 'standard' },
        { prefix: '44', description: null, pricePerMinute: '0.050000', costPerMinute: '0.020000', currency: 'SGD', taxCategory: 'standard' },
      ],
      nextCursor: '44', ratesVersion: 2,
    });
    const page2 = await api(t, admin, 'GET', `/api/v1/rate-plans/${plan.id}/rates?limit=2&cursor=44`);
    expect(page2.json().data.map((r: { prefix: string }) => r.prefix)).toEqual(['65', '659']);
    expect(page2.json().nextCursor).toBeNull();
    const sixes = await api(t, admin, 'GET', `/api/v1/rate-plans/${plan.id}/rates?prefix=65`);
    expect(sixes.json().data.map((r: { prefix: string }) => r.prefix)).toEqual(['65', '659']);

    // The whole table goes: a replacement with fewer rates leaves only those.
    const again = await replace(plan.id, [rate('65', '0.04')], { 'if-match': `"${plan.id}.v2"` });
    expect(again.statusCode).toBe(200);
    expect((await api(t, admin, 'GET', `/api/v1/rate-plans/${plan.id}/rates`)).json().data).toEqual([{ prefix: '65', description: null, pricePerMinute: '0.040000', costPerMinute: '0.010000', currency: 'SGD', taxCategory: 'standard' }]);
    const [event] = await auditEventsOf(t.db, 'rate_plan.rates_replaced');
    expect(event).toMatchObject({ app: 'product', targetId: plan.id, changes: { rateCount: { before: 4, after: 1 }, ratesVersion: { before: 2, after: 3 }, ratesDigest: { after: expect.stringMatching(/^[0-9a-f]{64}$/) } } });

    // A stale If-Match is 412 and changes nothing.
    const stale = await replace(plan.id, [rate('1', '0.01')], { 'if-match': `"${plan.id}.v2"` });
    expect(stale.statusCode).toBe(412);
    expect(stale.json().code).toBe('precondition_failed');
    expect((await api(t, admin, 'GET', `/api/v1/rate-plans/${plan.id}/rates`)).json()).toMatchObject({ ratesVersion: 3, data: [{ prefix: '65' }] });
  });

  it('names the plan\'s currency on every rate, as money is named everywhere', async () => {
    const plan = (await create({ name: 'Ringgit rates', currency: 'MYR', increment: '60/60' })).json<Plan>();
    expect((await replace(plan.id, [rate('60', '0.05', '0.02'), rate('65', '0.12', '0.04')])).statusCode).toBe(200);
    const res = await api(t, admin, 'GET', `/api/v1/rate-plans/${plan.id}/rates`);
    expect(res.json().data).toEqual([
      { prefix: '60', description: null, pricePerMinute: '0.050000', costPerMinute: '0.020000', currency: 'MYR', taxCategory: 'standard' },
      { prefix: '65', description: null, pricePerMinute: '0.120000', costPerMinute: '0.040000', currency: 'MYR', taxCategory: 'standard' },
    ]);
  });

  it('keeps a tax category per rate: zero-rated destinations are listed as such and change the table\'s digest; an unknown category is refused', async () => {
    const plan = (await create({ name: 'Tax categories', currency: 'SGD', increment: '60/60' })).json<Plan>();
    expect((await replace(plan.id, [rate('65', '0.03'), rate('1', '0.02')])).statusCode).toBe(200);
    const standardDigest = (await auditEventsOf(t.db, 'rate_plan.rates_replaced'))[0]!.changes as { ratesDigest: { after: string } };
    const res = await replace(plan.id, [rate('65', '0.03'), { ...rate('1', '0.02'), taxCategory: 'zero_rated' }], { 'if-match': `"${plan.id}.v2"` });
    expect(res.statusCode).toBe(200);
    expect((await api(t, admin, 'GET', `/api/v1/rate-plans/${plan.id}/rates`)).json().data.map((r: { prefix: string; taxCategory: string }) => [r.prefix, r.taxCategory]))
      .toEqual([['1', 'zero_rated'], ['65', 'standard']]);
    const zeroEvent = (await auditEventsOf(t.db, 'rate_plan.rates_replaced'))[0]!.changes as { ratesDigest: { after: string }; zeroRatedCount: unknown };
    expect(zeroEvent.ratesDigest.after).not.toBe(standardDigest.ratesDigest.after);
    expect(zeroEvent.zeroRatedCount).toEqual({ before: 0, after: 1 });
    // A table sent again without categories makes every rate standard, and the trail says how many were zero-rated.
    expect((await replace(plan.id, [rate('65', '0.03'), rate('1', '0.02')])).statusCode).toBe(200);
    expect(((await auditEventsOf(t.db, 'rate_plan.rates_replaced'))[0]!.changes as { zeroRatedCount: unknown }).zeroRatedCount).toEqual({ before: 1, after: 0 });

    const bad = await replace(plan.id, [rate('65', '0.03'), { ...rate('1', '0.02'), taxCategory: 'exempt' }]);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { path: string }) => e.path)).toEqual(['rates.1.taxCategory']);
    expect((await api(t, admin, 'GET', `/api/v1/rate-plans/${plan.id}/rates`)).json()).toMatchObject({ ratesVersion: 4 });
  });

  it('names every bad rate and writes nothing: bad prefixes, duplicates, too many decimals, negative, not strings', async () => {
    const plan = (await create({ name: 'Bad rates', currency: 'SGD', increment: '1/1' })).json<Plan>();
    await replace(plan.id, [rate('65', '0.03')]);
    const bad = await replace(plan.id, [
      rate('65', '0.03'), rate('65', '0.04'), rate('66', '0.0000001'), rate('67', '-0.01'), rate('68', '0.01', 'free'), rate('69', '10000.000001'),
    ]);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { path: string }) => e.path)).toEqual(['rates.1.prefix', 'rates.2.pricePerMinute', 'rates.3.pricePerMinute', 'rates.4.costPerMinute', 'rates.5.pricePerMinute']);
    // Every rate well-formed, some against the rules (too many decimals, negative, over the most): 422 naming each (docs/adr/0040).
    const rules = await replace(plan.id, [rate('65', '0.03'), rate('66', '0.0000001'), rate('67', '-0.01'), rate('69', '10000.000001')]);
    expect(rules.statusCode).toBe(422);
    expect(rules.json().code).toBe('rule_violation');
    expect(rules.json().errors.map((e: { path: string }) => e.path)).toEqual(['rates.1.pricePerMinute', 'rates.2.pricePerMinute', 'rates.3.pricePerMinute']);
    const shapes = await replace(plan.id, [{ prefix: '+65', pricePerMinute: '0.01', costPerMinute: '0.01' }, { prefix: '65', pricePerMinute: 0.01, costPerMinute: '0.01' }, { prefix: '1234567890123456', pricePerMinute: '0.01', costPerMinute: '0.01' }]);
    expect(shapes.statusCode).toBe(400);
    expect(shapes.json().errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['rates.0.prefix', 'rates.1.pricePerMinute', 'rates.2.prefix']));
    expect((await replace(plan.id, [])).statusCode).toBe(400);
    expect((await api(t, admin, 'GET', `/api/v1/rate-plans/${plan.id}/rates`)).json()).toMatchObject({ ratesVersion: 2, data: [{ prefix: '65', pricePerMinute: '0.030000' }] });
  });

  it('takes 50,000 prefixes in one replacement, and no more', async () => {
    const plan = (await create({ name: 'Big', currency: 'SGD', increment: '60/60' })).json<Plan>();
    const big = Array.from({ length: 50_000 }, (_, i) => rate(String(100_000 + i), `0.${String(i % 1000).padStart(4, '0')}`, '0.0001', `Destination ${i}`));
    const res = await replace(plan.id, big);
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    expect(res.json().ratePlan.rateCount).toBe(50_000);
    const last = await api(t, admin, 'GET', `/api/v1/rate-plans/${plan.id}/rates?cursor=149998`);
    expect(last.json().data).toEqual([{ prefix: '149999', description: 'Destination 49999', pricePerMinute: '0.099900', costPerMinute: '0.000100', currency: 'SGD', taxCategory: 'standard' }]);
    const tooMany = await replace(plan.id, [...big, rate('9', '0.01')]);
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().errors[0].path).toBe('rates');
  }, 60_000);

  it('rates calls: the batch charges on the default plan with its rates', async () => {
    const plan = (await create({ name: 'For calls', currency: 'SGD', increment: '60/60', isDefault: true })).json<Plan>();
    await replace(plan.id, [rate('65', '0.03'), rate('659', '0.06', '0.025')]);
    const acme = await customerIdOf(t.db, 'Acme Pte Ltd');
    await inScope(t.db.app.db, { kind: 'partner', partnerId }, (trx) => creditWallet(trx, {
      wallet: { partnerId, customerId: acme, currency: 'SGD' }, amountMicros: 1_000_000n,
      entry: { kind: 'top_up', causeType: 'test', causeId: 'top_rates', description: 'Top-up', auditEventId: null }, counterPostings: [{ code: 'card_clearing', amountMicros: 1_000_000n }],
    }));
    const token = 'fk_test_rates_switch_key_000000000000';
    await t.db.owner.db.insertInto('apiKeys').values({ id: 'key_test00000000000000031', partnerId, name: 'Switch', tokenPrefix: token.slice(0, 10), tokenHash: sha256Hex(token), apps: ['customer'], createdBy: null, lastUsedAt: null, revokedAt: null }).execute();
    const res = await t.app.inject({
      method: 'POST', url: '/api/v1/usage/calls', headers: { authorization: `Bearer ${token}` },
      payload: { records: [{ callId: 'rp-1', customerId: acme, from: '+6561234567', to: '+6591234567', startedAt: '2026-11-30T04:32:00Z', durationSeconds: 61, direction: 'outbound' }] },
    });
    // 0.12 and the demo partner's 9% GST (ADR 0032).
    expect(res.json().results[0]).toMatchObject({ status: 'charged', amount: '0.130800', tax: '0.010800', billedSeconds: 120 });
  });

  it('needs the Product app; another partner\'s plan is 404', async () => {
    const finance = await signIn(t, 'finance@demo.test');
    const denied = await create({ name: 'X', currency: 'SGD', increment: '60/60' }, finance);
    expect(denied.statusCode).toBe(403);
    expect(denied.json().code).toBe('app_not_granted');
    expect((await api(t, finance, 'GET', '/api/v1/rate-plans')).statusCode).toBe(403);
    expect((await api(t, await signIn(t, 'owner@acme.test'), 'GET', '/api/v1/rate-plans')).statusCode).toBe(403);

    const mine = (await create({ name: 'Mine', currency: 'SGD', increment: '60/60' })).json<Plan>();
    const north = await signIn(t, 'admin@northwind.test');
    expect((await api(t, north, 'GET', '/api/v1/rate-plans')).json().data).toEqual([]);
    expect((await api(t, north, 'GET', `/api/v1/rate-plans/${mine.id}/rates`)).statusCode).toBe(404);
    const theirs = await api(t, north, 'PUT', `/api/v1/rate-plans/${mine.id}/rates`, { rates: [rate('1', '0.01')] });
    expect(theirs.statusCode).toBe(404);
    expect((await api(t, admin, 'GET', '/api/v1/rate-plans/rpl_00000000000000000000000000/rates')).statusCode).toBe(404);
  });
});
