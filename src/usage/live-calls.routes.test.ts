import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEventsOf, createTestApp, customerIdOf, expectUnknownId, partnerIdOf, signIn, type TestApp } from '../test/harness.ts';
import { sha256Hex } from '../platform/crypto.ts';
import { inScope } from '../platform/database.ts';
import { checkLedger } from '../ledger/check-ledger.ts';
import { creditWallet } from '../wallet/charge-wallet.ts';

let t: TestApp;
let acme: string;
const KEY = 'fk_test_live_switch_key_000000000000';
const KEY_AUDIT = 'fk_test_live_audit_key_0000000000000';
const auth = (token = KEY) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  t = await createTestApp();
  const partnerId = await partnerIdOf(t.db, 'demo-telecom');
  acme = await customerIdOf(t.db, 'Acme Pte Ltd');
  await t.db.owner.db.insertInto('apiKeys').values([
    { id: 'key_test00000000000000041', partnerId, name: 'Switch', tokenPrefix: KEY.slice(0, 10), tokenHash: sha256Hex(KEY), apps: ['customer'], createdBy: null, lastUsedAt: null, revokedAt: null },
    { id: 'key_test00000000000000042', partnerId, name: 'Auditor', tokenPrefix: KEY_AUDIT.slice(0, 10), tokenHash: sha256Hex(KEY_AUDIT), apps: ['audit'], createdBy: null, lastUsedAt: null, revokedAt: null },
  ]).execute();
  // The rate plan through the Product app, as a partner would set it up.
  const admin = await signIn(t, 'admin@demo.test');
  const plan = await t.app.inject({ method: 'POST', url: '/api/v1/rate-plans', headers: admin.headers, payload: { name: 'Standard SGD', currency: 'SGD', increment: '60/60', isDefault: true } });
  await t.app.inject({ method: 'PUT', url: `/api/v1/rate-plans/${plan.json().id}/rates`, headers: admin.headers, payload: { rates: [{ prefix: '65', pricePerMinute: '0.03', costPerMinute: '0.01' }] } });
  await inScope(t.db.app.db, { kind: 'partner', partnerId }, (trx) => creditWallet(trx, {
    wallet: { partnerId, customerId: acme, currency: 'SGD' }, amountMicros: 5_000_000n,
    entry: { kind: 'top_up', causeType: 'test', causeId: 'top_live_http', description: 'Top-up', auditEventId: null }, counterPostings: [{ code: 'card_clearing', amountMicros: 5_000_000n }],
  }));
});
afterAll(async () => t.close());

const body = (callId: string, over: Record<string, unknown> = {}) => ({
  callId, customerId: acme, from: '+6561234567', to: '+6562223333', startedAt: '2026-11-30T04:32:00Z', direction: 'outbound', ...over,
});
const start = (payload: unknown, headers: Record<string, string> = auth()) => t.app.inject({ method: 'POST', url: '/api/v1/usage/live-calls', headers, payload: payload as object });
const end = (callId: string, payload: unknown, headers: Record<string, string> = auth()) =>
  t.app.inject({ method: 'POST', url: `/api/v1/usage/live-calls/${encodeURIComponent(callId)}/end`, headers, payload: payload as object });

describe('live calls over HTTP', () => {
  it('a switch starts, reads and ends a call with its API key; the wallet and feed follow at once', async () => {
    const started = await start(body('http-1', { maxSeconds: 300 }));
    expect(started.statusCode).toBe(201);
    // 5 minutes at 0.03 and the demo partner's 9% GST: 0.15 + 0.0135 held (ADR 0032).
    expect(started.json()).toMatchObject({ callId: 'http-1', status: 'active', coveredSeconds: 300, hold: '0.163500', holdStatus: 'active', holdExpiresAt: expect.any(String) });
    const admin = await signIn(t, 'admin@demo.test');
    expect((await t.app.inject({ method: 'GET', url: `/api/v1/customers/${acme}/wallet`, headers: admin.headers })).json()).toMatchObject({ points: '5.00', reserved: '0.1635', usable: '4.8365' });
    const read = await t.app.inject({ method: 'GET', url: '/api/v1/usage/live-calls/http-1', headers: auth() });
    expect(read.json()).toEqual(started.json());

    const ended = await end('http-1', { durationSeconds: 125 });
    expect(ended.statusCode).toBe(200);
    expect(ended.json()).toMatchObject({ outcome: 'charged', callId: 'http-1', call: { status: 'ended', billedSeconds: 180, amount: '0.098100', tax: '0.008100' } });
    const feed = await t.app.inject({ method: 'GET', url: `/api/v1/customers/${acme}/transactions?type=call`, headers: admin.headers });
    expect(feed.json().data[0]).toMatchObject({ type: 'call', kind: 'call_charge', amount: '-0.0981', balanceAfter: '4.9019' });
    expect((await t.app.inject({ method: 'GET', url: `/api/v1/customers/${acme}/wallet`, headers: admin.headers })).json()).toMatchObject({ points: '4.9019', reserved: '0.00' });
  });

  it('call ids with odd characters work in the path', async () => {
    const id = 'sip:call/42@switch-1.example';
    expect((await start(body(id))).statusCode).toBe(201);
    expect((await end(id, { durationSeconds: 1 })).json()).toMatchObject({ outcome: 'charged', callId: id });
  });

  it('honours Idempotency-Key on start and end: replays answer the same and hold or charge nothing more', async () => {
    const keyed = (key: string) => ({ ...auth(), 'idempotency-key': key });
    const first = await start(body('http-idem'), keyed('start-http-idem'));
    const again = await start(body('http-idem'), keyed('start-http-idem'));
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toBe(first.body);
    expect((await start(body('http-idem', { maxSeconds: 60 }), keyed('start-http-idem'))).statusCode).toBe(422);
    const e1 = await end('http-idem', { durationSeconds: 10 }, keyed('end-http-idem'));
    const e2 = await end('http-idem', { durationSeconds: 10 }, keyed('end-http-idem'));
    expect(e2.body).toBe(e1.body);
    // Without the key, a second end is still a duplicate.
    expect((await end('http-idem', { durationSeconds: 10 })).json().outcome).toBe('duplicate');
    const rows = await t.db.owner.db.selectFrom('usageCalls').select('id').where('callId', '=', 'http-idem').execute();
    expect(rows).toHaveLength(1);
    expect((await auditEventsOf(t.db, 'usage.live_call_ended')).filter((e) => e.changes.callId?.after === 'http-idem')).toHaveLength(1);
  });

  it('fails a call over HTTP, releasing its hold', async () => {
    await start(body('http-fail'));
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/usage/live-calls/http-fail/fail', headers: auth() });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'failed', holdStatus: 'released' });
    expect((await end('http-fail', { durationSeconds: 5 })).statusCode).toBe(409);
  });

  it('refuses bad bodies with a 400 naming the field (a start after tomorrow: 422), writing nothing', async () => {
    const cases: Array<[unknown, string]> = [
      [body('bad', { maxSeconds: 0 }), 'maxSeconds'],
      [body('bad', { maxSeconds: 14_401 }), 'maxSeconds'],
      [body('bad', { maxSeconds: '60' }), 'maxSeconds'],
      [body('bad', { durationSeconds: 10 }), 'durationSeconds'],
      [body('bad', { customerId: 'acme' }), 'customerId'],
      [body('bad', { direction: 'sideways' }), 'direction'],
      [body('bad', { startedAt: 'yesterday' }), 'startedAt'],
      [body(''), 'callId'],
      [body('x'.repeat(101)), 'callId'],
      [body('bad', { to: 'call me' }), 'to'],
    ];
    for (const [payload, field] of cases) {
      const res = await start(payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().errors.map((e: { path: string }) => e.path), JSON.stringify(payload)).toContain(field);
    }
    // In the future, as a batch record: well-formed, against a rule (docs/adr/0040).
    const future = await start(body('bad', { startedAt: new Date(Date.now() + 2 * 86_400_000).toISOString() }));
    expect(future.statusCode).toBe(422);
    expect(future.json()).toMatchObject({ code: 'rule_violation', errors: [{ path: 'startedAt' }] });
    // Before 2000, as a batch record: a switch clock reset, not a call.
    const ancient = await start(body('bad', { startedAt: '1900-01-01T00:00:00Z' }));
    expect(ancient.statusCode).toBe(422);
    expect(ancient.json()).toMatchObject({ code: 'rule_violation', errors: [{ path: 'startedAt', message: 'before 2000-01-01: a switch clock fault?' }] });
    await start(body('http-end-bad'));
    for (const payload of [{ durationSeconds: -1 }, { durationSeconds: 1.5 }, { durationSeconds: '10' }, { durationSeconds: 86_401 }, {}]) {
      const res = await end('http-end-bad', payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().errors[0].path).toBe('durationSeconds');
    }
    expect(await t.db.owner.db.selectFrom('liveCalls').select('id').where('callId', '=', 'bad').executeTakeFirst()).toBeUndefined();
  });

  it('needs the Customer app (403 for a key without it, 401 without a key); unknown calls are 404; not enough points 422', async () => {
    const wrongKey = await start(body('http-nope'), auth(KEY_AUDIT));
    expect(wrongKey.statusCode).toBe(403);
    expect(wrongKey.json().code).toBe('app_not_granted');
    expect((await start(body('http-nope'), {})).statusCode).toBe(401);
    expect((await end('http-unknown', { durationSeconds: 1 })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/usage/live-calls/http-unknown/fail', headers: auth() })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/usage/live-calls/http-unknown', headers: auth() })).statusCode).toBe(404);
    const north = await signIn(t, 'admin@northwind.test');
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/usage/live-calls/http-1', headers: north.headers })).statusCode).toBe(404);
    // The customer is the body's: another partner's and an unknown one are the same 422 naming customerId, and start nothing.
    expectUnknownId([
      await t.app.inject({ method: 'POST', url: '/api/v1/usage/live-calls', headers: north.headers, payload: body('north-1') }),
      await start(body('http-unknown-customer', { customerId: 'cus_00000000000000000000000000' })),
    ], 'customer_not_found', 'customerId');
    expect(await t.db.owner.db.selectFrom('liveCalls').select('id').where('callId', 'in', ['north-1', 'http-unknown-customer']).execute()).toEqual([]);

    const initech = await customerIdOf(t.db, 'Initech Pte Ltd');
    const poor = await start(body('http-poor', { customerId: initech }));
    expect(poor.statusCode).toBe(422);
    expect(poor.json().code).toBe('insufficient_points');
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });
});
