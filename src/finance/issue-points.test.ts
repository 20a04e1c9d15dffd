import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, customerIdOf, createTestApp, signIn, type Session, type TestApp } from '../test/harness.ts';
import { sha256Hex } from '../platform/crypto.ts';
import { checkLedger } from '../ledger/check-ledger.ts';

let t: TestApp;
let finance: Session;
let acme: string;
let globex: string;
let wombat: string;
const FINANCE_KEY = 'fk_test_finance_key_00000000000000000';

beforeAll(async () => {
  t = await createTestApp();
  finance = await signIn(t, 'finance@demo.test');
  acme = await customerIdOf(t.db, 'Acme Pte Ltd');
  globex = await customerIdOf(t.db, 'Globex Sdn Bhd');
  wombat = await customerIdOf(t.db, 'Wombat Pty Ltd');
  const partnerId = (await t.db.owner.db.selectFrom('customers').select('partnerId').where('id', '=', acme).executeTakeFirstOrThrow()).partnerId;
  await t.db.owner.db.insertInto('apiKeys').values({
    id: 'key_test00000000000000009', partnerId, name: 'Finance robot', tokenPrefix: FINANCE_KEY.slice(0, 10), tokenHash: sha256Hex(FINANCE_KEY),
    apps: ['finance'], createdBy: null, lastUsedAt: null, revokedAt: null,
  }).execute();
});
afterAll(async () => t.close());

const issue = (who: Session | Record<string, string> | null, customerId: string, payload: unknown) =>
  api(t, who, 'POST', `/api/v1/customers/${customerId}/points/issue`, payload);
const entries = async () => Number((await t.db.owner.db.selectFrom('journalEntries').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);

describe('issuePoints', () => {
  it('gives the customer points: Dr sales returns, Cr points, audited with amount and reason in the same transaction', async () => {
    const res = await issue(finance, acme, { amount: '10.00', reason: 'Goodwill: outage on 12 Nov' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toEqual({
      entryId: expect.stringMatching(/^je_/), customerId: acme, type: 'issue', refundMethod: null, refundReference: null, amount: '10.00', currency: 'SGD', reason: 'Goodwill: outage on 12 Nov',
      auditEventId: expect.stringMatching(/^evt_/), occurredAt: expect.any(String),
      wallet: { currency: 'SGD', points: '10.00', reserved: '0.00', creditLimit: '0.00', creditLimitExpiresAt: null, usable: '10.00' },
    });

    const entry = await t.db.owner.db.selectFrom('journalEntries').selectAll().where('id', '=', body.entryId).executeTakeFirstOrThrow();
    expect(entry).toMatchObject({ kind: 'points_issued', customerId: acme, auditEventId: body.auditEventId, currency: 'SGD' });
    const postings = await t.db.owner.db.selectFrom('postings as p').innerJoin('ledgerAccounts as a', 'a.id', 'p.accountId')
      .select(['a.code', 'p.amountMicros']).where('p.entryId', '=', body.entryId).orderBy('p.id').execute();
    expect(postings).toEqual([{ code: 'sales_returns', amountMicros: '10000000' }, { code: 'points', amountMicros: '-10000000' }]);

    const [event] = await auditEventsOf(t.db, 'points.issued');
    expect(event).toMatchObject({
      id: body.auditEventId, app: 'finance', customerId: acme, targetType: 'customer', targetId: acme, actorLabel: 'finance@demo.test',
      changes: { amount: { after: '10.00' }, currency: { after: 'SGD' }, reason: { after: 'Goodwill: outage on 12 Nov' }, points: { before: '0.00', after: '10.00' } },
    });

    // The customer sees a credit in its feed, without Finance's internal note.
    const feed = await api(t, finance, 'GET', `/api/v1/customers/${acme}/transactions`);
    expect(feed.json().data[0]).toMatchObject({ type: 'credit', kind: 'points_issued', amount: '10.00', balanceAfter: '10.00', description: 'Points issued by your provider' });
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('issues in the customer\'s own currency (MYR) and works with a Finance API key', async () => {
    const res = await issue({ authorization: `Bearer ${FINANCE_KEY}` }, globex, { amount: '3.50', reason: 'Compensation' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ currency: 'MYR', amount: '3.50', wallet: { points: '3.50' } });
  });

  it('refuses malformed amounts and reasons with a 400 naming the field, amounts against the rules with a 422, writing nothing', async () => {
    const before = await entries();
    // Well-formed numbers that break a rule (zero, negative, too many decimals, over the most): 422 (docs/adr/0040).
    const rules: Array<[unknown, string]> = [
      [{ amount: '0', reason: 'x' }, 'amount'],
      [{ amount: '0.00', reason: 'x' }, 'amount'],
      [{ amount: '-5.00', reason: 'x' }, 'amount'],
      [{ amount: '1.001', reason: 'x' }, 'amount'],
      [{ amount: '100000000.01', reason: 'x' }, 'amount'],
      [{ amount: '999999999999999', reason: 'x' }, 'amount'],
      [{ amount: '9999999999999999', reason: 'x' }, 'amount'],
    ];
    for (const [payload, field] of rules) {
      const res = await issue(finance, acme, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(422);
      expect(res.json().code).toBe('rule_violation');
      expect(res.json().errors.map((e: { path: string }) => e.path), JSON.stringify(payload)).toEqual([field]);
    }
    const cases: Array<[unknown, string]> = [
      [{ amount: '1.5e3', reason: 'x' }, 'amount'],
      [{ amount: 'ten', reason: 'x' }, 'amount'],
      [{ amount: '', reason: 'x' }, 'amount'],
      [{ amount: 10, reason: 'x' }, 'amount'],
      [{ amount: null, reason: 'x' }, 'amount'],
      [{ amount: '1.00' }, 'reason'],
      [{ amount: '1.00', reason: '' }, 'reason'],
      [{ amount: '1.00', reason: '   ' }, 'reason'],
      [{ amount: '1.00', reason: 'x'.repeat(501) }, 'reason'],
      [{ amount: '1.00', reason: 'x', currency: 'SGD' }, 'currency'],
    ];
    for (const [payload, field] of cases) {
      const res = await issue(finance, acme, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().code).toBe('validation_failed');
      expect(res.json().errors.map((e: { path: string }) => e.path), JSON.stringify(payload)).toContain(field);
    }
    expect(await entries()).toBe(before);
  });

  it("answers 404 for unknown and other partners' customers, never saying which", async () => {
    const before = await entries();
    for (const id of ['cus_00000000000000000000000000', wombat, 'xyz_00000000000000000000000000']) {
      const res = await issue(finance, id, { amount: '1.00', reason: 'x' });
      expect(res.statusCode, id).toBe(404);
      expect(res.json().code).toBe('not_found');
    }
    expect((await issue(finance, 'not-an-id', { amount: '1.00', reason: 'x' })).statusCode).toBe(400);
    expect(await entries()).toBe(before);
  });

  it('needs the Finance app: staff without it get 403, portal users 403, anonymous 401', async () => {
    const before = await entries();
    const admin = await signIn(t, 'admin@demo.test');
    const noFinance = await issue(admin, acme, { amount: '1.00', reason: 'x' });
    expect(noFinance.statusCode).toBe(403);
    expect(noFinance.json().code).toBe('app_not_granted');
    for (const email of ['owner@acme.test', 'member@acme.test']) {
      const res = await issue(await signIn(t, email), acme, { amount: '1.00', reason: 'x' });
      expect(res.statusCode, email).toBe(403);
    }
    expect((await issue(null, acme, { amount: '1.00', reason: 'x' })).statusCode).toBe(401);
    // A session without the CSRF token cannot write.
    const noCsrf = await t.app.inject({ method: 'POST', url: `/api/v1/customers/${acme}/points/issue`, headers: { cookie: finance.cookie }, payload: { amount: '1.00', reason: 'x' } });
    expect(noCsrf.statusCode).toBe(403);
    expect(await entries()).toBe(before);
  });

  it('honours Idempotency-Key: a replay answers the same and issues nothing more; another body with the key is 422', async () => {
    const send = (payload: unknown) => t.app.inject({
      method: 'POST', url: `/api/v1/customers/${acme}/points/issue`, headers: { ...finance.headers, 'idempotency-key': 'issue-2026-11-30-001' }, payload: payload as object,
    });
    const first = await send({ amount: '2.00', reason: 'Retry me' });
    expect(first.statusCode).toBe(200);
    const before = await entries();
    const again = await send({ amount: '2.00', reason: 'Retry me' });
    expect(again.statusCode).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toBe(first.body);
    const other = await send({ amount: '3.00', reason: 'Retry me' });
    expect(other.statusCode).toBe(422);
    expect(other.json().code).toBe('idempotency_key_reused');
    expect(await entries()).toBe(before);
    expect((await auditEventsOf(t.db, 'points.issued')).filter((e) => e.changes.reason?.after === 'Retry me')).toHaveLength(1);
  });

  it('refuses to issue points to a closed customer (409)', async () => {
    const initech = await customerIdOf(t.db, 'Initech Pte Ltd');
    await t.db.owner.db.updateTable('customers').set({ status: 'closed' }).where('id', '=', initech).execute();
    const res = await issue(finance, initech, { amount: '1.00', reason: 'x' });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('state_conflict');
  });
});
