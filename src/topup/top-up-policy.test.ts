import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { api, auditEventsOf, createTestAppWithGateway, partnerIdOf, signIn, type Session, type TestAppWithGateway } from '../test/harness.ts';
import { inScope } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { checkLedger } from '../ledger/check-ledger.ts';
import { addDays, isIsoDay, utcDay } from './dates.ts';
import { applyPolicy, defaultTopUpPolicy, feeFor, policyInForce } from './top-up-policy.ts';

let t: TestAppWithGateway;
let admin: Session;
let owner: Session;
let demo: string;
// The server's clock stands at this file's start: "today" is the same day for the tests and the server, even past midnight.
const fileStart = new Date();
const today = utcDay(fileStart);
const SGD = (cents: bigint) => cents * 10_000n;

beforeAll(async () => {
  t = await createTestAppWithGateway();
  t.clock.set(fileStart);
  admin = await signIn(t, 'admin@demo.test');
  owner = await signIn(t, 'owner@acme.test');
  demo = await partnerIdOf(t.db, 'demo-telecom');
});
afterAll(async () => t.close());

const addVersion = (payload: object, who: Session = admin) => api(t, who, 'PUT', '/api/v1/settings/top-up-policies', payload);
const inForce = (currency: 'SGD' | 'MYR' | 'VND' | 'HKD', day: string) =>
  inScope(t.db.app.db, { kind: 'partner', partnerId: demo }, (trx) => policyInForce(trx, demo, currency, day));

describe('the built-in default (domain.md)', () => {
  it('any amount; below 20 SGD/USD/AUD (60 MYR, 300,000 VND) an admin fee of 1 (3 MYR, 18,000 VND); no fee where the domain names none', () => {
    for (const c of ['SGD', 'USD', 'AUD'] as const) expect(defaultTopUpPolicy(c)).toMatchObject({ minimumMicros: 0n, feeThresholdMicros: SGD(20_00n), feeMicros: SGD(1_00n), source: 'default' });
    expect(defaultTopUpPolicy('MYR')).toMatchObject({ feeThresholdMicros: 60_000_000n, feeMicros: 3_000_000n });
    expect(defaultTopUpPolicy('VND')).toMatchObject({ feeThresholdMicros: 300_000_000_000n, feeMicros: 18_000_000_000n });
    expect(defaultTopUpPolicy('HKD')).toMatchObject({ minimumMicros: 0n, feeThresholdMicros: 0n, feeMicros: 0n });
  });

  it('the fee applies strictly below the threshold; below the minimum is a 422 naming amount and the minimum', () => {
    const p = defaultTopUpPolicy('SGD');
    expect(feeFor(p, SGD(19_99n))).toBe(SGD(1_00n));
    expect(feeFor(p, SGD(20_00n))).toBe(0n);
    expect(feeFor(p, SGD(1n))).toBe(SGD(1_00n));
    const strict = { ...p, minimumMicros: SGD(5_00n) };
    expect(applyPolicy(strict, SGD(5_00n))).toBe(SGD(1_00n));
    let err: unknown;
    try {
      applyPolicy(strict, SGD(4_99n));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code: 'rule_violation', message: 'The minimum top-up is 5.00 SGD', errors: [{ path: 'amount', message: 'at least 5.00 SGD' }] });
  });

  it('dates are UTC calendar days', () => {
    expect(utcDay(new Date('2026-11-30T23:59:59Z'))).toBe('2026-11-30');
    expect(addDays('2026-02-28', 1)).toBe('2026-03-01');
    expect(isIsoDay('2026-02-30')).toBe(false);
    expect(isIsoDay('2028-02-29')).toBe(true);
    // Years 1-99 are days of those years (Date.UTC would read them as 1901-1999); year 0 is none (PostgreSQL has no year 0).
    expect(isIsoDay('0001-01-01')).toBe(true);
    expect(isIsoDay('0099-12-31')).toBe(true);
    expect(isIsoDay('0000-01-01')).toBe(false);
    expect(isIsoDay('9999-12-31')).toBe(true);
    expect(isIsoDay('2026-1-01')).toBe(false);
  });
});

describe('versions by date', () => {
  it('the version in force is the latest effective on or before the day; before the first one, the default', async () => {
    // Versions in the past cannot be added through the API; written here as the owner to test the lookup.
    await t.db.owner.db.insertInto('topUpPolicies').values([
      { partnerId: demo, currency: 'VND', effectiveFrom: '2026-01-01', minimumMicros: 0n, feeThresholdMicros: 200_000_000_000n, feeMicros: 10_000_000_000n, createdBy: null },
      { partnerId: demo, currency: 'VND', effectiveFrom: '2026-06-01', minimumMicros: 50_000_000_000n, feeThresholdMicros: 0n, feeMicros: 0n, createdBy: null },
    ]).execute();
    expect(await inForce('VND', '2025-12-31')).toMatchObject({ source: 'default', effectiveFrom: null, feeMicros: 18_000_000_000n });
    expect(await inForce('VND', '2026-01-01')).toMatchObject({ source: 'partner', effectiveFrom: '2026-01-01', feeMicros: 10_000_000_000n });
    expect(await inForce('VND', '2026-05-31')).toMatchObject({ effectiveFrom: '2026-01-01' });
    expect(await inForce('VND', '2026-06-01')).toMatchObject({ effectiveFrom: '2026-06-01', minimumMicros: 50_000_000_000n, feeMicros: 0n });
    expect(await inForce('MYR', '2026-06-01')).toMatchObject({ source: 'default' });
    // Another partner's versions never apply.
    const north = await partnerIdOf(t.db, 'northwind');
    const theirs = await inScope(t.db.app.db, { kind: 'partner', partnerId: north }, (trx) => policyInForce(trx, north, 'VND', '2026-06-01'));
    expect(theirs.source).toBe('default');
  });

  it('versions are never edited: the table refuses updates and deletes from the app role', async () => {
    await expect(inScope(t.db.app.db, { kind: 'partner', partnerId: demo }, (trx) =>
      trx.deleteFrom('topUpPolicies').where('partnerId', '=', demo).execute())).rejects.toThrow(/permission denied/);
  });
});

describe('staff add and list versions (Portal Settings app)', () => {
  it('a version from today applies at once: the portal shows it, a top-up below its minimum is refused, above it the new fee applies', async () => {
    const res = await addVersion({ currency: 'SGD', effectiveFrom: today, minimum: '5.00', feeThreshold: '30.00', fee: '2.00' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ currency: 'SGD', effectiveFrom: today, minimum: '5.00', feeThreshold: '30.00', fee: '2.00', inForce: true });
    const [event] = await auditEventsOf(t.db, 'top_up_policy.version_added');
    expect(event).toMatchObject({ app: 'settings', targetId: res.json().id, actorLabel: 'admin@demo.test', changes: { currency: { after: 'SGD' }, effectiveFrom: { after: today } } });

    expect((await api(t, owner, 'GET', '/api/v1/portal/top-up-policy')).json()).toEqual({
      versionId: res.json().id, currency: 'SGD', effectiveFrom: today, source: 'partner', minimum: '5.00', feeThreshold: '30.00', fee: '2.00', upcoming: null,
    });
    const refused = await api(t, owner, 'POST', '/api/v1/portal/top-ups', { amount: '4.99', cardToken: 'tok_sandbox_success' });
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({ code: 'rule_violation', detail: 'The minimum top-up is 5.00 SGD', errors: [{ path: 'amount', message: 'at least 5.00 SGD' }] });
    const ok = await api(t, owner, 'POST', '/api/v1/portal/top-ups', { amount: '25.00', cardToken: 'tok_sandbox_success' });
    expect(ok.json()).toMatchObject({ status: 'succeeded', amount: '25.00', fee: '2.00', total: '27.00' });
    const row = await t.db.owner.db.selectFrom('topUps').select(sql<string>`policy_effective_from::text`.as('day')).where('id', '=', ok.json().id).executeTakeFirstOrThrow();
    expect(row.day).toBe(today);
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('a future version waits for its date: listed, shown to the portal as upcoming, not in force', async () => {
    const tomorrow = addDays(today, 1);
    const res = await addVersion({ currency: 'SGD', effectiveFrom: tomorrow, minimum: '0.00', feeThreshold: '0.00', fee: '0.00' });
    expect(res.statusCode).toBe(201);
    expect(res.json().inForce).toBe(false);
    const policy = (await api(t, owner, 'GET', '/api/v1/portal/top-up-policy')).json();
    expect(policy).toMatchObject({ effectiveFrom: today, fee: '2.00', upcoming: { effectiveFrom: tomorrow, fee: '0.00', minimum: '0.00' } });
    expect(await inForce('SGD', tomorrow)).toMatchObject({ effectiveFrom: tomorrow, feeMicros: 0n });

    const list = (await api(t, admin, 'GET', '/api/v1/settings/top-up-policies?currency=SGD')).json();
    expect(list.data.map((v: { effectiveFrom: string; inForce: boolean }) => [v.effectiveFrom, v.inForce])).toEqual([[tomorrow, false], [today, true]]);
  });

  it('a past date is refused (422); the same version again is a no-op (200); another version on a taken date is a conflict (409)', async () => {
    const past = await addVersion({ currency: 'SGD', effectiveFrom: addDays(today, -1), minimum: '0.00', feeThreshold: '20.00', fee: '1.00' });
    expect(past.statusCode).toBe(422);
    expect(past.json()).toMatchObject({ code: 'rule_violation', errors: [{ path: 'effectiveFrom' }] });
    const events = (await auditEventsOf(t.db, 'top_up_policy.version_added')).length;
    const same = await addVersion({ currency: 'SGD', effectiveFrom: today, minimum: '5.00', feeThreshold: '30.00', fee: '2.00' });
    expect(same.statusCode).toBe(200);
    expect(await auditEventsOf(t.db, 'top_up_policy.version_added')).toHaveLength(events);
    const changed = await addVersion({ currency: 'SGD', effectiveFrom: today, minimum: '1.00', feeThreshold: '30.00', fee: '2.00' });
    expect(changed.statusCode).toBe(409);
    expect(changed.json().code).toBe('already_exists');
  });

  it('validates amounts per currency (400 naming each field when one is malformed, else 422), a fee needs a threshold (422), dates and currencies are checked', async () => {
    const bad = await addVersion({ currency: 'VND', effectiveFrom: addDays(today, 3), minimum: '-1', feeThreshold: '10.5', fee: 'x' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { path: string }) => e.path)).toEqual(['minimum', 'feeThreshold', 'fee']);
    // Above what one card payment carries (VND has no minor unit: 99,999,999 VND).
    const tooLarge = await addVersion({ currency: 'VND', effectiveFrom: addDays(today, 3), minimum: '100000000', feeThreshold: '0', fee: '999999999999999' });
    expect(tooLarge.statusCode).toBe(422);
    expect(tooLarge.json().errors).toEqual([{ path: 'minimum', message: 'at most 99999999' }, { path: 'fee', message: 'at most 99999999' }]);
    const rules = await addVersion({ currency: 'VND', effectiveFrom: addDays(today, 3), minimum: '-1', feeThreshold: '10.5', fee: '0' });
    expect(rules.json()).toMatchObject({ status: 422, code: 'rule_violation' });
    expect(rules.json().errors.map((e: { path: string }) => e.path)).toEqual(['minimum', 'feeThreshold']);
    const noThreshold = await addVersion({ currency: 'SGD', effectiveFrom: addDays(today, 3), minimum: '0', feeThreshold: '0', fee: '1.00' });
    expect(noThreshold.statusCode).toBe(422);
    expect(noThreshold.json().errors[0].path).toBe('feeThreshold');
    // A fee as large as its threshold costs more than the points it comes with; a minimum at the threshold makes it never apply.
    const feeTooLarge = await addVersion({ currency: 'SGD', effectiveFrom: addDays(today, 3), minimum: '5.00', feeThreshold: '20.00', fee: '50.00' });
    expect(feeTooLarge.statusCode).toBe(422);
    expect(feeTooLarge.json().errors).toEqual([{ path: 'fee', message: 'less than the fee threshold (20.00)' }]);
    const feeNeverApplies = await addVersion({ currency: 'SGD', effectiveFrom: addDays(today, 3), minimum: '30.00', feeThreshold: '20.00', fee: '1.00' });
    expect(feeNeverApplies.statusCode).toBe(422);
    expect(feeNeverApplies.json()).toMatchObject({ errors: [{ path: 'minimum', message: 'below the fee threshold (20.00) when there is a fee' }], detail: expect.stringContaining('the fee would never apply') });
    expect((await addVersion({ currency: 'SGD', effectiveFrom: addDays(today, 3), minimum: '19.99', feeThreshold: '20.00', fee: '19.99' })).statusCode).toBe(201);
    const badDate = await addVersion({ currency: 'SGD', effectiveFrom: '2026-02-30', minimum: '0', feeThreshold: '0', fee: '0' });
    expect(badDate.statusCode).toBe(400);
    expect(badDate.json().errors[0].path).toBe('effectiveFrom');
    expect((await addVersion({ currency: 'EUR', effectiveFrom: today, minimum: '0', feeThreshold: '0', fee: '0' })).json().errors[0].path).toBe('currency');
  });

  it('pages by currency then date', async () => {
    await addVersion({ currency: 'MYR', effectiveFrom: addDays(today, 5), minimum: '10.00', feeThreshold: '60.00', fee: '3.00' });
    const all = (await api(t, admin, 'GET', '/api/v1/settings/top-up-policies')).json().data.map((v: { currency: string; effectiveFrom: string }) => `${v.currency}:${v.effectiveFrom}`);
    expect(all[0]).toMatch(/^MYR:/);
    const p1 = (await api(t, admin, 'GET', '/api/v1/settings/top-up-policies?limit=2')).json();
    const p2 = (await api(t, admin, 'GET', `/api/v1/settings/top-up-policies?limit=2&cursor=${p1.nextCursor}`)).json();
    expect([...p1.data, ...p2.data].map((v: { currency: string; effectiveFrom: string }) => `${v.currency}:${v.effectiveFrom}`)).toEqual(all.slice(0, 4));
    expect((await api(t, admin, 'GET', '/api/v1/settings/top-up-policies?cursor=bad')).statusCode).toBe(400);
  });

  it('needs the Portal Settings app; customers and other partners never see these versions', async () => {
    const finance = await signIn(t, 'finance@demo.test');
    expect((await api(t, finance, 'GET', '/api/v1/settings/top-up-policies')).json().code).toBe('app_not_granted');
    expect((await addVersion({ currency: 'SGD', effectiveFrom: addDays(today, 9), minimum: '0', feeThreshold: '0', fee: '0' }, finance)).statusCode).toBe(403);
    expect((await addVersion({ currency: 'SGD', effectiveFrom: addDays(today, 9), minimum: '0', feeThreshold: '0', fee: '0' }, owner)).statusCode).toBe(403);
    const north = await signIn(t, 'admin@northwind.test');
    expect((await api(t, north, 'GET', '/api/v1/settings/top-up-policies')).json().data).toEqual([]);
    const wombat = await signIn(t, 'owner@wombat.test');
    expect((await api(t, wombat, 'GET', '/api/v1/portal/top-up-policy')).json()).toMatchObject({ currency: 'AUD', source: 'default', fee: '1.00', feeThreshold: '20.00' });
  });
});
