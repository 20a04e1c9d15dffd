import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, signIn, type TestApp } from '../test/harness.ts';
import { LONE_SURROGATE_MESSAGE, NUL_MESSAGE } from '../platform/nul-text.ts';
import { sha256Hex } from '../platform/crypto.ts';
import { inScope } from '../platform/database.ts';
import { creditWallet } from './charge-wallet.ts';
import { feedSchema } from './wallet.routes.ts';
import { ingestAnswerSchema } from '../usage/usage.routes.ts';
import { transactionIds, transactionIdsWith } from './transaction-ids.ts';

let t: TestApp;
let partnerId: string;
let acme: string;
const KEY = 'fk_test_switch_key_0000000000000000';
const KEY_NO_CUSTOMER = 'fk_test_audit_only_key_000000000000';

beforeAll(async () => {
  t = await createTestApp();
  const o = t.db.owner.db;
  partnerId = (await o.selectFrom('partners').select('id').where('slug', '=', 'demo-telecom').executeTakeFirstOrThrow()).id;
  acme = (await o.selectFrom('customers').select('id').where('name', '=', 'Acme Pte Ltd').executeTakeFirstOrThrow()).id;
  await o.insertInto('ratePlans').values({ id: 'rpl_test0000000000000000', partnerId, name: 'Standard', currency: 'SGD', firstIncrementSeconds: 60, nextIncrementSeconds: 60, minimumChargeMicros: 0n, isDefault: true }).execute();
  await o.insertInto('rates').values({ ratePlanId: 'rpl_test0000000000000000', partnerId, prefix: '65', description: 'Singapore', pricePerMinuteMicros: 100_000n, costPerMinuteMicros: 40_000n }).execute();
  await o.insertInto('apiKeys').values([
    { id: 'key_test00000000000000001', partnerId, name: 'Switch', tokenPrefix: KEY.slice(0, 10), tokenHash: sha256Hex(KEY), apps: ['customer'], createdBy: null, lastUsedAt: null, revokedAt: null },
    { id: 'key_test00000000000000002', partnerId, name: 'Auditor', tokenPrefix: KEY_NO_CUSTOMER.slice(0, 10), tokenHash: sha256Hex(KEY_NO_CUSTOMER), apps: ['audit'], createdBy: null, lastUsedAt: null, revokedAt: null },
  ]).execute();
  await inScope(t.db.app.db, { kind: 'partner', partnerId }, (trx) => creditWallet(trx, {
    wallet: { partnerId, customerId: acme, currency: 'SGD' }, amountMicros: 20_000_000n,
    entry: { kind: 'top_up', causeType: 'top_up', causeId: 'top_seed', description: 'Card top-up', auditEventId: null },
    counterPostings: [{ code: 'card_clearing', amountMicros: 20_000_000n }],
  }));
});
afterAll(async () => t.close());

const calls = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => ({
  callId: `${prefix}-${i}`, customerId: acme, from: '+6561234567', to: '+6562223333', startedAt: '2026-11-30T04:32:00Z', durationSeconds: 30 + i, direction: 'outbound',
}));
const ingest = (records: unknown[], token = KEY) =>
  t.app.inject({ method: 'POST', url: '/api/v1/usage/calls', headers: { authorization: `Bearer ${token}` }, payload: { records } });

describe('calls and the transactions feed over HTTP', () => {
  it('a switch charges calls with its API key; the feed shows them at once, newest first, with balance after', async () => {
    const res = await ingest(calls(3, 'http'));
    expect(res.statusCode).toBe(200);
    expect(res.json().summary).toEqual({ received: 3, charged: 3, duplicates: 0, rejected: 0 });

    const admin = await signIn(t, 'admin@demo.test');
    const feed = await t.app.inject({ method: 'GET', url: `/api/v1/customers/${acme}/transactions`, headers: admin.headers });
    expect(feed.statusCode).toBe(200);
    expect(feed.headers['content-type']).toBe('application/json; charset=utf-8');
    // Written without the route's zod encode: exactly the documented shape, nothing more.
    expect(feedSchema.safeParse(feed.json()).error).toBeUndefined();
    const body = feed.json<{ data: Array<{ type: string; amount: string; balanceAfter: string }>; totals: Array<{ type: string; count: number; total: string }> }>();
    // The demo partner charges 9% GST: a minute at 0.10 costs the points 0.109 (ADR 0032).
    expect(body.data.map((d) => [d.type, d.amount, d.balanceAfter])).toEqual([
      ['call', '-0.109', '19.673'], ['call', '-0.109', '19.782'], ['call', '-0.109', '19.891'], ['top_up', '20.00', '20.00'],
    ]);
    expect(body.totals).toEqual(expect.arrayContaining([{ type: 'call', count: 3, total: '-0.327' }, { type: 'top_up', count: 1, total: '20.00' }]));

    const onlyTopUps = await t.app.inject({ method: 'GET', url: `/api/v1/customers/${acme}/transactions?type=top_up`, headers: admin.headers });
    expect(onlyTopUps.json<{ data: unknown[] }>().data).toHaveLength(1);
    // Every type the totals can show can be filtered on, "other" included (none here); an unknown type is 400 naming it.
    const others = await t.app.inject({ method: 'GET', url: `/api/v1/customers/${acme}/transactions?type=other`, headers: admin.headers });
    expect(others.statusCode).toBe(200);
    expect(others.json<{ data: unknown[]; totals: unknown[] }>()).toMatchObject({ data: [], totals: [] });
    const unknown = await t.app.inject({ method: 'GET', url: `/api/v1/customers/${acme}/transactions?type=refund`, headers: admin.headers });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().errors[0].path).toBe('type');

    const page1 = await t.app.inject({ method: 'GET', url: `/api/v1/customers/${acme}/transactions?limit=2`, headers: admin.headers });
    const cursor = page1.json<{ nextCursor: string }>().nextCursor;
    const page2 = await t.app.inject({ method: 'GET', url: `/api/v1/customers/${acme}/transactions?limit=2&cursor=${cursor}`, headers: admin.headers });
    expect(page2.json<{ data: Array<{ balanceAfter: string }> }>().data.map((d) => d.balanceAfter)).toEqual(['19.891', '20.00']);

    const csv = await t.app.inject({ method: 'GET', url: `/api/v1/customers/${acme}/transactions`, headers: { ...admin.headers, accept: 'text/csv' } });
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toBe('id,occurredAt,type,description,amount,balanceAfter,currency');
    expect(lines).toHaveLength(5);
    expect(lines[1]).toMatch(/,call,.*,-0\.109,19\.673,SGD$/);
  });

  it('portal owners see their own feed and wallet; members may not see company credits', async () => {
    const owner = await signIn(t, 'owner@acme.test');
    const feed = await t.app.inject({ method: 'GET', url: '/api/v1/portal/transactions', headers: owner.headers });
    expect(feed.statusCode).toBe(200);
    expect(feed.json<{ data: unknown[] }>().data.length).toBeGreaterThan(0);
    expect(feedSchema.safeParse(feed.json()).error).toBeUndefined();
    const wallet = await t.app.inject({ method: 'GET', url: '/api/v1/portal/wallet', headers: owner.headers });
    expect(wallet.json()).toMatchObject({ currency: 'SGD', points: '19.673', usable: '19.673', reserved: '0.00' });
    const member = await signIn(t, 'member@acme.test');
    const denied = await t.app.inject({ method: 'GET', url: '/api/v1/portal/transactions', headers: member.headers });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().code).toBe('role_not_allowed');
  });

  it("another partner's staff get 404 for this customer; an API key without the Customer app gets 403", async () => {
    const north = await signIn(t, 'admin@northwind.test');
    const res = await t.app.inject({ method: 'GET', url: `/api/v1/customers/${acme}/transactions`, headers: north.headers });
    expect(res.statusCode).toBe(404);
    const wallet = await t.app.inject({ method: 'GET', url: `/api/v1/customers/${acme}/wallet`, headers: north.headers });
    expect(wallet.statusCode).toBe(404);
    const wrongKey = await ingest(calls(1, 'nope'), KEY_NO_CUSTOMER);
    expect(wrongKey.statusCode).toBe(403);
    expect(wrongKey.json().code).toBe('app_not_granted');
    const noKey = await t.app.inject({ method: 'POST', url: '/api/v1/usage/calls', payload: { records: calls(1, 'anon') } });
    expect(noKey.statusCode).toBe(401);
  });

  it('honours Idempotency-Key: a retried batch replays the first answer and charges nothing more', async () => {
    const send = (records: unknown[]) => t.app.inject({
      method: 'POST', url: '/api/v1/usage/calls', headers: { authorization: `Bearer ${KEY}`, 'idempotency-key': 'batch-2026-11-30-0001' }, payload: { records },
    });
    const first = await send(calls(2, 'idem'));
    expect(first.json().summary.charged).toBe(2);
    const again = await send(calls(2, 'idem'));
    expect(again.statusCode).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toBe(first.body);
    const changed = await send(calls(3, 'idem'));
    expect(changed.statusCode).toBe(422);
    expect(changed.json().code).toBe('idempotency_key_reused');
    const n = await t.db.owner.db.selectFrom('usageCalls').select((eb) => eb.fn.countAll<number>().as('n')).where('callId', 'like', 'idem-%').executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(2);
  });

  it('refuses empty and oversized batches and bad cursors, writing nothing', async () => {
    expect((await ingest([])).statusCode).toBe(400);
    const tooMany = await ingest(calls(10_001, 'big'));
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().errors[0].path).toBe('records');
    const admin = await signIn(t, 'admin@demo.test');
    const bad = await t.app.inject({ method: 'GET', url: `/api/v1/customers/${acme}/transactions?cursor=zzz`, headers: admin.headers });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].path).toBe('cursor');
    // Posting numbers are not cursors (ids are enciphered: src/wallet/transaction-ids.ts), nor is an id of another key,
    // nor one of the right shape whose last character carries bits 16 bytes do not have.
    const ids = await transactionIds(t.db.app.db);
    const [real] = ids.idsOf(['12']);
    for (const cursor of ['txn_9999999999999999999', 'txn_000000000012', transactionIdsWith(Buffer.alloc(16, 7)).idsOf(['12'])[0]!, `${real!.slice(0, -1)}${real!.at(-1) === 'B' ? 'C' : 'B'}`]) {
      const refused = await t.app.inject({ method: 'GET', url: `/api/v1/customers/${acme}/transactions?cursor=${cursor}`, headers: admin.headers });
      expect(refused.statusCode, cursor).toBe(400);
      expect(refused.json().errors[0].path).toBe('cursor');
    }
    const largest = await t.app.inject({ method: 'GET', url: `/api/v1/customers/${acme}/transactions?cursor=${ids.idsOf([String(2n ** 63n - 1n)])[0]}`, headers: admin.headers });
    expect(largest.statusCode).toBe(200);
    const badLimit = await t.app.inject({ method: 'GET', url: `/api/v1/customers/${acme}/transactions?limit=5000`, headers: admin.headers });
    expect(badLimit.statusCode).toBe(400);
    const count = await t.db.owner.db.selectFrom('usageCalls').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(5);
  });
  it('totals by type cover the whole history, whatever page is shown; a type filter narrows the totals too', async () => {
    const admin = await signIn(t, 'admin@demo.test');
    const before = (await t.app.inject({ method: 'GET', url: `/api/v1/customers/${acme}/transactions`, headers: admin.headers })).json<{ totals: Array<{ type: string; count: number; total: string }> }>().totals;
    const callsBefore = before.find((x) => x.type === 'call')!;
    expect((await ingest(calls(5, 'totals'))).json().summary.charged).toBe(5);
    const page = await t.app.inject({ method: 'GET', url: `/api/v1/customers/${acme}/transactions?limit=2`, headers: admin.headers });
    const body = page.json<{ data: unknown[]; nextCursor: string; totals: Array<{ type: string; count: number; total: string }> }>();
    expect(body.data).toHaveLength(2);
    const callTotal = body.totals.find((x) => x.type === 'call')!;
    expect(callTotal.count).toBe(callsBefore.count + 5);
    // five calls of 30..34 s, billed a minute each at 0.10 and 9% GST: 0.545
    expect(Math.round(Number(callTotal.total) * 1e6)).toBe(Math.round(Number(callsBefore.total) * 1e6) - 545_000);
    const older = await t.app.inject({ method: 'GET', url: `/api/v1/customers/${acme}/transactions?limit=2&cursor=${body.nextCursor}`, headers: admin.headers });
    expect(older.json<{ totals: unknown }>().totals).toEqual(body.totals);
    const onlyTopUps = await t.app.inject({ method: 'GET', url: `/api/v1/customers/${acme}/transactions?type=top_up`, headers: admin.headers });
    expect(onlyTopUps.json<{ totals: Array<{ type: string }> }>().totals.map((x) => x.type)).toEqual(['top_up']);
  });

  it("a batch's answer holds every kind of result, exactly as documented (written without the route's zod encode)", async () => {
    const [call] = calls(1, 'kinds');
    const records = [
      call,
      call, // the same call id again in the batch
      { ...call, callId: 'kinds-negative', durationSeconds: -1 },
      { ...call, callId: 'kinds-nobody', customerId: `cus_${'0'.repeat(26)}` },
      { ...call, callId: 'kinds-long', durationSeconds: 86_400 }, // 1,440 minutes at 0.10: more than Acme's points
      calls(1, 'http')[0], // charged by the first test
      { ...call, callId: 'kinds-extra', note: 'not a field' },
      { ...call, callId: 'kinds-inbound', direction: 'inbound' },
      { ...call, callId: 'kinds-nul\u0000' }, // text PostgreSQL cannot store: this record only is refused
    ];
    const res = await ingest(records);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const body = res.json();
    expect(ingestAnswerSchema.safeParse(body).error).toBeUndefined();
    expect(body.summary).toEqual({ received: 9, charged: 2, duplicates: 2, rejected: 5 });
    expect(body.results.map((r: { index: number; status: string; code?: string }) => [r.index, r.status, r.code ?? null])).toEqual([
      [0, 'charged', null], [1, 'duplicate', null], [2, 'rejected', 'validation_failed'], [3, 'rejected', 'customer_not_found'],
      [4, 'rejected', 'insufficient_points'], [5, 'duplicate', null], [6, 'rejected', 'validation_failed'], [7, 'charged', null],
      [8, 'rejected', 'validation_failed'],
    ]);
    expect(body.results[0]).toEqual({ index: 0, callId: 'kinds-0', status: 'charged', callRef: expect.stringMatching(/^cal_/), amount: '0.109000', tax: '0.009000', taxCategory: 'standard', currency: 'SGD', billedSeconds: 60 });
    expect(body.results[2].errors).toEqual([{ path: 'durationSeconds', message: expect.any(String) }]);
    expect(body.results[6].errors).toEqual([{ path: 'note', message: expect.any(String) }]);
    expect(body.results[7]).toMatchObject({ status: 'charged', amount: '0.000000', tax: '0.000000', billedSeconds: 0 });
    expect(body.results[8]).toMatchObject({ callId: 'kinds-nul\u0000', errors: [{ path: 'callId', message: NUL_MESSAGE }] });
  });
});

describe('a lone UTF-16 surrogate in a record', () => {
  it('is refused by the record\'s own check, naming the field (not the whole batch at the edge); the good record is charged, nothing else written', async () => {
    const [good, badFrom, badTo, badId] = calls(4, 'surrogate');
    const records = [
      { ...badFrom, from: '+6561234567\ud800' },
      good,
      { ...badTo, to: '\udfff+6562223333' },
      { ...badId, callId: 'surrogate-\ud83d' }, // the first half of an emoji, without its second
    ];
    const admin = await signIn(t, 'admin@demo.test');
    const usage = async () => (await t.db.owner.db.selectFrom('usageCalls').select('callId').where('callId', 'like', 'surrogate-%').execute()).map((r) => r.callId);
    const pointsBefore = (await t.app.inject({ method: 'GET', url: `/api/v1/customers/${acme}/wallet`, headers: admin.headers })).json<{ points: string }>().points;
    const res = await ingest(records);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(ingestAnswerSchema.safeParse(body).error).toBeUndefined();
    expect(body.summary).toEqual({ received: 4, charged: 1, duplicates: 0, rejected: 3 });
    expect(body.results[0]).toMatchObject({ index: 0, status: 'rejected', code: 'validation_failed', errors: [{ path: 'from', message: LONE_SURROGATE_MESSAGE }] });
    expect(body.results[1]).toMatchObject({ index: 1, callId: good!.callId, status: 'charged', amount: '0.109000' });
    expect(body.results[2]).toMatchObject({ index: 2, status: 'rejected', code: 'validation_failed', errors: [{ path: 'to', message: LONE_SURROGATE_MESSAGE }] });
    expect(body.results[3]).toMatchObject({ index: 3, status: 'rejected', code: 'validation_failed', errors: [{ path: 'callId', message: LONE_SURROGATE_MESSAGE }] });
    // Only the good record was written (never a U+FFFD in place of the caller's text), and only it was charged.
    expect(await usage()).toEqual([good!.callId]);
    const pointsAfter = (await t.app.inject({ method: 'GET', url: `/api/v1/customers/${acme}/wallet`, headers: admin.headers })).json<{ points: string }>().points;
    expect(Math.round((Number(pointsBefore) - Number(pointsAfter)) * 1e6)).toBe(109_000);
  });
});

describe('a large batch answer', () => {
  it("refuses each record of another partner's customer, writes nothing, and replays byte for byte under its Idempotency-Key", async () => {
    const other = await t.db.owner.db.selectFrom('customers').select('id').where('partnerId', '<>', partnerId).executeTakeFirstOrThrow();
    const records = calls(700, 'large-answer').map((r) => ({ ...r, customerId: other.id }));
    const send = () => t.app.inject({
      method: 'POST', url: '/api/v1/usage/calls', headers: { authorization: `Bearer ${KEY}`, 'idempotency-key': 'large-answer-0001' }, payload: { records },
    });
    const first = await send();
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(Number(first.headers['content-length'])).toBe(Buffer.byteLength(first.body));
    const body = ingestAnswerSchema.parse(first.json());
    expect(body.summary).toMatchObject({ received: 700, charged: 0 });
    expect(body.results).toHaveLength(700);
    for (const [i, result] of body.results.entries()) {
      expect(result).toMatchObject({ index: i, callId: `large-answer-${i}`, status: 'rejected', code: 'customer_not_found', errors: [{ path: 'customerId', message: 'no such customer' }] });
    }
    const again = await send();
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toBe(first.body);
    const written = await t.db.owner.db.selectFrom('usageCalls').select((eb) => eb.fn.countAll<number>().as('n')).where('callId', 'like', 'large-answer-%').executeTakeFirstOrThrow();
    expect(Number(written.n)).toBe(0);
  });
});
