import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, customerIdOf, createTestApp, partnerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';
import { inScope } from '../platform/database.ts';
import { checkLedger } from '../ledger/check-ledger.ts';
import { chargeWallet } from '../wallet/charge-wallet.ts';
import { reservePoints } from '../wallet/reservations.ts';

let t: TestApp;
let finance: Session;
let admin: Session;
let partnerId: string;
let acme: string;
let initech: string;

beforeAll(async () => {
  t = await createTestApp();
  finance = await signIn(t, 'finance@demo.test');
  admin = await signIn(t, 'admin@demo.test');
  partnerId = await partnerIdOf(t.db, 'demo-telecom');
  acme = await customerIdOf(t.db, 'Acme Pte Ltd');
  initech = await customerIdOf(t.db, 'Initech Pte Ltd');
});
afterAll(async () => t.close());

const setLimit = (customerId: string, payload: unknown, who: Session = finance) => api(t, who, 'PUT', `/api/v1/customers/${customerId}/credit-limit`, payload);
const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();
const spend = (customerId: string, micros: bigint) => inScope(t.db.app.db, { kind: 'partner', partnerId }, (trx) => chargeWallet(trx, {
  wallet: { partnerId, customerId, currency: 'SGD' }, amountMicros: micros, useCreditLimit: true,
  entry: { kind: 'call_charge', causeType: 'test', causeId: `spend-${micros}`, description: 'Spend', auditEventId: null },
  counterPostings: [{ code: 'revenue:usage', amountMicros: -micros }],
}));

describe('setCreditLimit', () => {
  it('sets a permanent limit, shown in the wallet and audited with before and after', async () => {
    const res = await setLimit(acme, { amount: '100.00' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ currency: 'SGD', points: '0.00', reserved: '0.00', creditLimit: '100.00', creditLimitExpiresAt: null, usable: '100.00' });
    const shown = await api(t, admin, 'GET', `/api/v1/customers/${acme}/wallet`);
    expect(shown.json()).toMatchObject({ creditLimit: '100.00', usable: '100.00', creditLimitExpiresAt: null });
    const [event] = await auditEventsOf(t.db, 'credit_limit.set');
    expect(event).toMatchObject({ app: 'finance', customerId: acme, targetId: acme, actorLabel: 'finance@demo.test', changes: { creditLimit: { before: '0.00', after: '100.00' }, currency: { after: 'SGD' } } });

    // The same limit again changes nothing and writes no event.
    expect((await setLimit(acme, { amount: '100', expiresAt: null })).statusCode).toBe(200);
    expect(await auditEventsOf(t.db, 'credit_limit.set')).toHaveLength(1);
  });

  it('sets a temporary limit that stops counting once it expires', async () => {
    const expiresAt = inAnHour();
    const res = await setLimit(initech, { amount: '50.00', expiresAt });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ creditLimit: '50.00', usable: '50.00', creditLimitExpiresAt: new Date(expiresAt).toISOString() });
    const [event] = await auditEventsOf(t.db, 'credit_limit.set');
    expect(event?.changes).toMatchObject({ creditLimit: { before: '0.00', after: '50.00' }, expiresAt: { before: null, after: new Date(expiresAt).toISOString() } });

    await t.db.owner.db.updateTable('wallets').set({ creditLimitExpiresAt: new Date(Date.now() - 1000) }).where('customerId', '=', initech).execute();
    const shown = await api(t, admin, 'GET', `/api/v1/customers/${initech}/wallet`);
    expect(shown.json()).toMatchObject({ creditLimit: '0.00', usable: '0.00' });
  });

  it('never goes below what is in use (422 credit_limit_in_use); at or above it is fine', async () => {
    await setLimit(acme, { amount: '100.00' });
    await spend(acme, 30_000_000n); // 30.00 borrowed on the limit
    await inScope(t.db.app.db, { kind: 'partner', partnerId }, (trx) => reservePoints(trx, {
      wallet: { partnerId, customerId: acme, currency: 'SGD' }, amountMicros: 5_000_000n, useCreditLimit: true, causeType: 'test', causeId: 'limit-hold', ttlSeconds: 60,
    }));
    const below = await setLimit(acme, { amount: '34.99' });
    expect(below.statusCode).toBe(422);
    expect(below.json()).toMatchObject({ code: 'credit_limit_in_use', errors: [{ path: 'amount' }], detail: expect.stringContaining('35.00 SGD') });
    expect((await setLimit(acme, { amount: '0' })).statusCode).toBe(422);
    expect((await setLimit(acme, { amount: '20.00', expiresAt: inAnHour() })).statusCode).toBe(422);
    const exact = await setLimit(acme, { amount: '35.00' });
    expect(exact.statusCode).toBe(200);
    expect(exact.json()).toMatchObject({ points: '-30.00', reserved: '5.00', creditLimit: '35.00', usable: '0.00' });
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('refuses malformed amounts and expiries with a 400 naming the field, and ones against the rules with a 422', async () => {
    const cases: Array<[unknown, string, number]> = [
      [{ amount: 100 }, 'amount', 400],
      [{ amount: 'lots' }, 'amount', 400],
      [{}, 'amount', 400],
      [{ amount: '10.00', expiresAt: 'tomorrow' }, 'expiresAt', 400],
      [{ amount: '10.00', expiresAt: '2030-01-01' }, 'expiresAt', 400],
      [{ amount: '10.00', currency: 'SGD' }, 'currency', 400],
      // Well-formed, against a rule (docs/adr/0040): 422 rule_violation naming the field.
      [{ amount: '-1.00' }, 'amount', 422],
      [{ amount: '1.001' }, 'amount', 422],
      [{ amount: '100000000.01' }, 'amount', 422],
      [{ amount: '10.00', expiresAt: '2020-01-01T00:00:00Z' }, 'expiresAt', 422],
      [{ amount: '0', expiresAt: inAnHour() }, 'expiresAt', 422],
    ];
    const events = (await auditEventsOf(t.db, 'credit_limit.set')).length;
    for (const [payload, field, status] of cases) {
      const res = await setLimit(initech, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(status);
      expect(res.json().code, JSON.stringify(payload)).toBe(status === 400 ? 'validation_failed' : 'rule_violation');
      expect(res.json().errors.map((e: { path: string }) => e.path), JSON.stringify(payload)).toContain(field);
    }
    expect(await auditEventsOf(t.db, 'credit_limit.set')).toHaveLength(events);
  });

  it('needs the Finance app, and answers 404 for another partner\'s customer', async () => {
    const res = await setLimit(acme, { amount: '1000.00' }, admin);
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('app_not_granted');
    expect((await setLimit(acme, { amount: '1000.00' }, await signIn(t, 'owner@acme.test'))).statusCode).toBe(403);
    const wombat = await customerIdOf(t.db, 'Wombat Pty Ltd');
    expect((await setLimit(wombat, { amount: '1.00' })).statusCode).toBe(404);
  });
});
