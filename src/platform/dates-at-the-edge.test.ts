import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestApp, customerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';

/**
 * RFC 3339 allows the year 0000; PostgreSQL has no year 0 AD and fails a statement given one; an offset can carry an
 * instant past 9999 UTC, which no longer writes as RFC 3339. Every date or instant a caller sends is checked at the edge
 * (src/platform/schemas.ts: isoDay, isoInstant): a 400 naming the field. A call
 * record's start in the year 0000 used to fail its whole batch with a 500 (src/usage/ingest-calls.test.ts); the routes
 * below refused it later, by their own rules (422), and now refuse it as the bad date it is.
 */
describe('a date outside the years 0001-9999', () => {
  let t: TestApp;
  let admin: Session;
  let finance: Session;
  let acme: string;
  beforeAll(async () => {
    t = await createTestApp();
    admin = await signIn(t, 'admin@demo.test');
    finance = await signIn(t, 'finance@demo.test');
    acme = await customerIdOf(t.db, 'Acme Pte Ltd');
  });
  afterAll(async () => t.close());

  const refused = (res: { statusCode: number; json: () => { code: string; errors: Array<{ path: string }> } }, path: string) => {
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('validation_failed');
    expect(res.json().errors).toContainEqual({ path, message: 'a year from 0001 to 9999 (UTC)' });
  };

  it("is refused as a credit limit's expiry, a top-up policy's first day and a discount's days, naming the field", async () => {
    refused(await api(t, finance, 'PUT', `/api/v1/customers/${acme}/credit-limit`, { amount: '10.00', expiresAt: '0000-06-01T00:00:00Z' }), 'expiresAt');
    refused(await api(t, admin, 'PUT', '/api/v1/settings/top-up-policies', { currency: 'SGD', effectiveFrom: '0000-01-01', minimum: '50.00', feeThreshold: '0', fee: '0' }), 'effectiveFrom');
    refused(await api(t, admin, 'POST', '/api/v1/discounts', { name: 'Old', customerId: null, scope: 'product_type', productType: 'usage', percentOff: '5', endsOn: '0000-12-31' }), 'endsOn');
    refused(await api(t, admin, 'POST', '/api/v1/discounts/preview', { customerId: null, scope: 'product_type', productType: 'usage', percentOff: '5', startsOn: '0000-12-31' }), 'startsOn');
    // Nothing was written: no credit limit, no policy version, no discount.
    const o = t.db.owner.db;
    expect((await o.selectFrom('wallets').select('creditLimitMicros').where('customerId', '=', acme).executeTakeFirst())?.creditLimitMicros ?? 0n).toBe(0n);
    expect(await o.selectFrom('discounts').select('id').where('name', '=', 'Old').execute()).toEqual([]);
  });

  it('as an instant, 0001-01-01 to 9999-12-31 in UTC: an offset that carries it outside is refused too; inside, the rules judge', async () => {
    // 0001-01-01T00:00:00+05:00 is 0000-12-31 19:00 UTC; 9999-12-31T23:59:59-14:00 is in the year 10000 UTC, which no
    // longer writes as RFC 3339 (+010000-01-01T...).
    // 0000-12-31T23:00:00-05:00 is in 0001 UTC, but written with the year PostgreSQL refuses.
    for (const expiresAt of ['0001-01-01T00:00:00+05:00', '9999-12-31T23:59:59-14:00', '0000-12-31T23:00:00-05:00']) {
      refused(await api(t, finance, 'PUT', `/api/v1/customers/${acme}/credit-limit`, { amount: '10.00', expiresAt }), 'expiresAt');
    }
    const first = await api(t, finance, 'PUT', `/api/v1/customers/${acme}/credit-limit`, { amount: '10.00', expiresAt: '0001-01-01T00:00:00Z' });
    expect(first.json().errors).toEqual([{ path: 'expiresAt', message: 'must be in the future' }]);
    const last = await api(t, finance, 'PUT', `/api/v1/customers/${acme}/credit-limit`, { amount: '10.00', expiresAt: '9999-12-31T23:59:59Z' });
    expect(last.statusCode).toBe(200);
    expect(last.json().creditLimitExpiresAt).toBe('9999-12-31T23:59:59.000Z');
  });
});
