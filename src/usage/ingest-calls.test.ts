import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../platform/clock.ts';
import pino from 'pino';
import { sql } from 'kysely';
import { createTestDb, testConfig, type TestDb } from '../test/harness.ts';
import { inScope, openDatabase } from '../platform/database.ts';
import type { Ctx } from '../platform/context.ts';
import { checkLedger } from '../ledger/check-ledger.ts';
import { creditWallet } from '../wallet/charge-wallet.ts';
import { ensureWallets, readWallet } from '../wallet/wallets.repo.ts';
import { postEntries } from '../ledger/post-entry.ts';
import { listTransactions } from '../wallet/list-transactions.ts';
import { earlyCharges, ingestCalls, MAX_REQUEST_IDS_PER_EVENT, PARTS_MIN_RECORDS } from './ingest-calls.ts';
import { newRequestId } from '../platform/ids.ts';
import { NUL_MESSAGE } from '../platform/nul-text.ts';
import { transactionIds } from '../wallet/transaction-ids.ts';

let db: TestDb;
let partnerId: string;
let acme: string;
let globex: string;
let wombat: string;
let ctx: Ctx;

beforeAll(async () => {
  db = await createTestDb();
  const o = db.owner.db;
  partnerId = (await o.selectFrom('partners').select('id').where('slug', '=', 'demo-telecom').executeTakeFirstOrThrow()).id;
  acme = (await o.selectFrom('customers').select('id').where('name', '=', 'Acme Pte Ltd').executeTakeFirstOrThrow()).id;
  globex = (await o.selectFrom('customers').select('id').where('name', '=', 'Globex Sdn Bhd').executeTakeFirstOrThrow()).id;
  wombat = (await o.selectFrom('customers').select('id').where('name', '=', 'Wombat Pty Ltd').executeTakeFirstOrThrow()).id;
  await o.insertInto('ratePlans').values({ id: 'rpl_test0000000000000000', partnerId, name: 'Standard SGD', currency: 'SGD', firstIncrementSeconds: 30, nextIncrementSeconds: 6, minimumChargeMicros: 0n, isDefault: true }).execute();
  await o.insertInto('rates').values([
    { ratePlanId: 'rpl_test0000000000000000', partnerId, prefix: '65', description: 'Singapore', pricePerMinuteMicros: 60_000n, costPerMinuteMicros: 20_000n },
    { ratePlanId: 'rpl_test0000000000000000', partnerId, prefix: '6591', description: 'Singapore mobile', pricePerMinuteMicros: 410_880n, costPerMinuteMicros: 240_000n },
  ]).execute();
  ctx = {
    db: db.app.db, config: testConfig(), log: pino({ level: 'silent' }), requestId: 'req_test', ip: '127.0.0.1', userAgent: 'test', clock: systemClock,
    principal: { kind: 'api_key', keyId: 'key_test', partnerId, name: 'switch', apps: new Set(['customer']) },
  };
  await inScope(db.app.db, { kind: 'partner', partnerId }, (trx) => creditWallet(trx, {
    wallet: { partnerId, customerId: acme, currency: 'SGD' }, amountMicros: 1_000_000n,
    entry: { kind: 'top_up', causeType: 'test', causeId: 'top_seed', description: 'Seed', auditEventId: null },
    counterPostings: [{ code: 'card_clearing', amountMicros: 1_000_000n }],
  }));
  // The charges below are about the mechanics, at prices without tax; tax on calls has its own tests at the end.
  await setTaxRate(0);
});
afterAll(async () => db.drop());

const setTaxRate = (bps: number) => sql`update partner_settings set tax_rate_bps = ${bps} where partner_id = ${partnerId}`.execute(db.owner.db);

/** The partner's side of the entries that charged these calls: revenue, tax and cost, summed by account code. */
async function partnerSideOf(callIds: readonly string[]): Promise<Record<string, bigint>> {
  const { rows } = await sql<{ code: string; total: string }>`
    select a.code, sum(p.amount_micros)::text as total
      from postings p join ledger_accounts a on a.id = p.account_id
     where p.customer_id is null and p.entry_id in (select entry_id from usage_calls where call_id = any(${[...callIds]}::text[]))
     group by a.code`.execute(db.owner.db);
  return Object.fromEntries(rows.map((r) => [r.code, BigInt(r.total)]));
}

const call = (callId: string, over: Record<string, unknown> = {}) => ({
  callId, customerId: acme, from: '+6561234567', to: '+6591234567', startedAt: '2026-11-30T04:32:00Z', durationSeconds: 25, direction: 'outbound', ...over,
});
const readWalletOf = (customerId: string) => inScope(db.app.db, { kind: 'partner', partnerId }, (trx) => readWallet(trx, { partnerId, customerId, currency: 'SGD' }));
const points = async (customerId: string) => (await readWalletOf(customerId))?.pointsMicros;

/** `count` new customers named by `tag`, each with a wallet holding `microsEach` points (none when 0n). */
async function customersWithPoints(tag: string, count: number, microsEach: bigint): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    insert into customers (id, partner_id, name, currency)
    select 'cus_' || ${tag} || lpad(g::text, 26 - length(${tag}), '0'), ${partnerId}, 'Test customer ' || g, 'SGD' from generate_series(1, ${count}::int) g
    returning id`.execute(db.owner.db);
  const ids = rows.map((r) => r.id).sort();
  if (microsEach > 0n) {
    await inScope(db.app.db, { kind: 'partner', partnerId }, async (trx) => {
      await ensureWallets(trx, partnerId, ids.map((customerId) => ({ customerId, currency: 'SGD' })));
      await postEntries(trx, [{
        partnerId, currency: 'SGD', customerId: null, kind: 'top_up', causeType: 'test', causeId: tag, description: 'Top-up', auditEventId: null,
        postings: [{ code: 'card_clearing', amountMicros: BigInt(count) * microsEach }, ...ids.map((customerId) => ({ code: 'points' as const, customerId, amountMicros: -microsEach }))],
      }]);
    });
  }
  return ids;
}

describe('call charging', () => {
  it('charges each call at once with price and cost, and answers per record', async () => {
    const res = await ingestCalls(ctx, { records: [call('c-1'), call('c-2', { to: '+6567778888', durationSeconds: 61 })] });
    expect(res.summary).toEqual({ received: 2, charged: 2, duplicates: 0, rejected: 0 });
    expect(res.results[0]).toMatchObject({ status: 'charged', amount: '0.205440', currency: 'SGD', billedSeconds: 30 });
    expect(res.results[1]).toMatchObject({ status: 'charged', amount: '0.066000', billedSeconds: 66 });
    expect(await points(acme)).toBe(1_000_000n - 205_440n - 66_000n);
    const row = await db.owner.db.selectFrom('usageCalls').select(['priceMicros', 'costMicros']).where('callId', '=', 'c-1').executeTakeFirstOrThrow();
    expect(row).toEqual({ priceMicros: '205440', costMicros: '120000' });
    expect(await checkLedger(db.owner.db)).toEqual([]);
  });

  it('a replayed call id changes nothing and says so', async () => {
    const before = await points(acme);
    const res = await ingestCalls(ctx, { records: [call('c-1'), call('c-3'), call('c-3')] });
    expect(res.results.map((r) => r.status)).toEqual(['duplicate', 'charged', 'duplicate']);
    expect(await points(acme)).toBe(before! - 205_440n);
  });

  it('rejects bad records one by one, naming what is wrong, and charges the rest', async () => {
    const before = await points(acme);
    const res = await ingestCalls(ctx, {
      records: [
        call('bad-1', { durationSeconds: -5 }),
        call('bad-2', { customerId: 'cus_00000000000000000000000000' }),
        call('bad-3', { customerId: wombat }),
        call('bad-4', { to: '+4420000000' }),
        call('bad-5', { surprise: true }),
        'not even an object',
        call('bad-6', { to: 'call me' }),
        call('bad-7', { customerId: globex }),
        call('bad-8', { from: '+6561234567\u0000' }), // text PostgreSQL cannot store
        call('bad-9\u0000'),
        call('bad-10', { startedAt: '0000-06-01T10:00:00Z' }), // RFC 3339 allows it, PostgreSQL has no year 0
        call('bad-11', { startedAt: new Date(Date.now() + 86_400_000 + 60_000).toISOString() }), // starts after tomorrow: a wrong clock or field
        call('bad-12', { startedAt: '0001-01-01T00:00:00Z' }), // a switch whose clock was reset
        call('bad-13', { startedAt: '1999-12-31T23:59:59Z' }),
        call('ok-3', { startedAt: '2000-01-01T00:00:00Z', durationSeconds: 0 }), // the earliest day taken
        call('ok-2', { startedAt: new Date(Date.now() + 3_600_000).toISOString(), durationSeconds: 0 }), // a switch clock an hour ahead: taken as it is
        call('ok-1', { durationSeconds: 0 }),
        call('x'.repeat(5_000)), // a call id longer than any: refused, and not echoed back
      ],
    });
    const byId = Object.fromEntries(res.results.map((r) => [r.callId ?? `#${r.index}`, r]));
    expect(byId['bad-1']).toMatchObject({ status: 'rejected', code: 'validation_failed', errors: [{ path: 'durationSeconds' }] });
    expect(byId['bad-2']).toMatchObject({ status: 'rejected', code: 'customer_not_found' });
    expect(byId['bad-3']).toMatchObject({ status: 'rejected', code: 'customer_not_found' }); // another partner's customer: never revealed
    expect(byId['bad-4']).toMatchObject({ status: 'rejected', code: 'rule_violation', errors: [{ path: 'to' }] });
    expect(byId['bad-5']).toMatchObject({ status: 'rejected', code: 'validation_failed', errors: [{ path: 'surprise' }] });
    expect(byId['#5']).toMatchObject({ status: 'rejected', code: 'validation_failed', detail: 'the record: expected an object, got a string', errors: [{ path: '' }] });
    expect(byId['#17']).toMatchObject({ status: 'rejected', code: 'validation_failed', callId: null, errors: [{ path: 'callId', message: 'at most 100 characters' }] });
    expect(byId['bad-6']).toMatchObject({ status: 'rejected', errors: [{ path: 'to' }] });
    expect(byId['bad-7']).toMatchObject({ status: 'rejected', code: 'rule_violation', errors: [{ path: 'customerId', message: "no rate plan in the customer's currency, MYR" }] }); // MYR customer, no MYR plan
    expect(byId['bad-8']).toMatchObject({ status: 'rejected', code: 'validation_failed', errors: [{ path: 'from', message: NUL_MESSAGE }] });
    // A well-formed start after tomorrow breaks a rule, as a live call's does (docs/adr/0040).
    expect(byId['bad-11']).toMatchObject({ status: 'rejected', code: 'rule_violation', errors: [{ path: 'startedAt', message: 'in the future (more than a day after now)' }] });
    expect(byId['ok-2']).toMatchObject({ status: 'charged' });
    for (const id of ['bad-12', 'bad-13']) {
      expect(byId[id]).toMatchObject({ status: 'rejected', code: 'rule_violation', errors: [{ path: 'startedAt', message: 'before 2000-01-01: a switch clock fault?' }] });
    }
    expect(byId['ok-3']).toMatchObject({ status: 'charged' });
    expect(byId['bad-10']).toMatchObject({ status: 'rejected', code: 'validation_failed', errors: [{ path: 'startedAt', message: 'a year from 0001 to 9999 (UTC)' }] });
    expect(byId['bad-9\u0000']).toMatchObject({ status: 'rejected', code: 'validation_failed', errors: [{ path: 'callId', message: NUL_MESSAGE }] });
    expect(byId['ok-1']).toMatchObject({ status: 'charged', amount: '0.000000' });
    expect(await points(acme)).toBe(before);
  });

  it('a request naming only unknown or other partners’ customers rejects each record and writes nothing', async () => {
    const calls = async () => (await db.owner.db.selectFrom('usageCalls').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()).n;
    const before = await calls();
    const res = await ingestCalls(ctx, { records: [call('only-1', { customerId: 'cus_00000000000000000000000000' }), call('only-2', { customerId: wombat })] });
    expect(res.results.map((r) => [r.callId, r.status, r.status === 'rejected' ? r.code : null])).toEqual([
      ['only-1', 'rejected', 'customer_not_found'], ['only-2', 'rejected', 'customer_not_found'],
    ]);
    expect(res.summary).toEqual({ received: 2, charged: 0, duplicates: 0, rejected: 2 });
    expect(await calls()).toBe(before);
  });

  it('rejects a call the points do not cover, and keeps charging the others', async () => {
    const before = (await points(acme))!;
    const res = await ingestCalls(ctx, { records: [call('long-1', { durationSeconds: 3600 }), call('short-1')] });
    expect(res.results[0]).toMatchObject({ status: 'rejected', code: 'insufficient_points' });
    expect(res.results[1]).toMatchObject({ status: 'charged' });
    expect(await points(acme)).toBe(before - 205_440n);
  });

  it('identical batches at the same moment charge each call once', async () => {
    await inScope(db.app.db, { kind: 'partner', partnerId }, (trx) => creditWallet(trx, {
      wallet: { partnerId, customerId: acme, currency: 'SGD' }, amountMicros: 10_000_000n,
      entry: { kind: 'top_up', causeType: 'test', causeId: 'top_more', description: 'More', auditEventId: null },
      counterPostings: [{ code: 'card_clearing', amountMicros: 10_000_000n }],
    }));
    const before = (await points(acme))!;
    const batch = Array.from({ length: 20 }, (_, i) => call(`par-${i}`, { to: '+6567778888', durationSeconds: 1 }));
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => ingestCalls(ctx, { records: batch })));
    const charged = outcomes.reduce((n, o) => n + o.summary.charged, 0);
    expect(charged).toBe(20);
    expect(await points(acme)).toBe(before - 20n * 30_000n);
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from usage_calls where call_id like 'par-%'`.execute(db.owner.db);
    expect(rows[0]!.n).toBe(20);
    expect(await checkLedger(db.owner.db)).toEqual([]);
  });

  it('a batch of 10,000 records over 3,000 customers is one request, charged in two parts with no customer in common, and every customer sees its own calls', async () => {
    const ids = await customersWithPoints('bulk', 3000, 5_000_000n);
    // Customer i gets calls i, i+3000, i+6000 ...: 3 or 4 calls each, 6 s to Singapore (0.03 each at 30/6).
    const records = Array.from({ length: 10_000 }, (_, i) => call(`bulk-${i}`, { customerId: ids[i % ids.length], to: '+6567778888', durationSeconds: 6 }));
    const res = await ingestCalls({ ...ctx, requestId: 'req_bulk' }, { records });
    expect(res.summary).toEqual({ received: 10_000, charged: 10_000, duplicates: 0, rejected: 0 });
    const first = ids[0]!;
    expect(await points(first)).toBe(5_000_000n - 4n * 30_000n);
    expect(await points(ids[2999]!)).toBe(5_000_000n - 3n * 30_000n);
    // Two transactions, each with its own entry and audit event naming the request and its part; together every call once.
    const { rows: parts } = await sql<{ description: string; calls: number; customers: string[]; tx: string; part: string; records: number; requestIds: string[] }>`
      select c.entry_id, e.description, count(*)::int as calls, array_agg(distinct c.customer_id) as customers, min(c.xmin::text) as tx,
             a.changes->'part'->>'after' as part, (a.changes->'records'->>'after')::int as records,
             array(select jsonb_array_elements_text(a.changes->'requestIds'->'after')) as request_ids
        from usage_calls c join journal_entries e on e.id = c.entry_id join audit_events a on a.id = e.audit_event_id
       where c.call_id like 'bulk-%' group by c.entry_id, e.description, a.changes order by part`.execute(db.owner.db);
    expect(parts.map((p) => [p.part, p.requestIds])).toEqual([['1 of 2', ['req_bulk']], ['2 of 2', ['req_bulk']]]);
    expect(parts[0]!.tx).not.toBe(parts[1]!.tx);
    expect(parts.map((p) => p.description)).toEqual(parts.map((p) => `${p.calls} calls`));
    expect(parts[0]!.calls + parts[1]!.calls).toBe(10_000);
    expect(parts.map((p) => p.records)).toEqual(parts.map((p) => p.calls));
    expect(Math.abs(parts[0]!.calls - parts[1]!.calls)).toBeLessThanOrEqual(4);
    expect(parts[0]!.customers.filter((c) => parts[1]!.customers.includes(c))).toEqual([]);
    expect(parts[0]!.customers.length + parts[1]!.customers.length).toBe(3000);
    const transactionIdsOfDb = await transactionIds(db.app.db);
    const feed = await inScope(db.app.db, { kind: 'customer', partnerId, customerId: first }, (trx) =>
      listTransactions(trx, { partnerId, customerId: first, currency: 'SGD', limit: 10, afterPostingId: null, ids: transactionIdsOfDb }));
    expect(feed.data.map((t) => [t.view.type, t.view.description, t.view.amount, t.view.balanceAfter])).toEqual([
      ['call', 'Call to +6567778888, 30 s', '-0.03', '4.88'],
      ['call', 'Call to +6567778888, 30 s', '-0.03', '4.91'],
      ['call', 'Call to +6567778888, 30 s', '-0.03', '4.94'],
      ['call', 'Call to +6567778888, 30 s', '-0.03', '4.97'],
      ['top_up', 'Top-up', '5.00', '5.00'],
    ]);
    expect(await checkLedger(db.owner.db)).toEqual([]);
  }, 60_000);

  it('charges a batch right on a kept plan: its wallet lock is prepared whatever the number of customers (ADR 0018, 2026-12-06)', async () => {
    const ids = await customersWithPoints('kept', 300, 1_000_000n);
    const [fresh1, fresh2] = await customersWithPoints('keptnew', 2, 0n);
    const one = openDatabase(db.url, { appRole: true, max: 1 });
    try {
      // Every plan kept (generic), as PostgreSQL may choose for a prepared statement after its first five runs.
      await sql`set plan_cache_mode = force_generic_plan`.execute(one.db);
      for (const round of [1, 2]) {
        const records = [
          ...ids.map((customerId, i) => call(`kept-${round}-${i}`, { customerId, to: '+6567778888', durationSeconds: 6 })),
          call(`kept-${round}-fresh1`, { customerId: fresh1 }), call(`kept-${round}-fresh2`, { customerId: fresh2 }),
          call(`kept-${round}-unknown`, { customerId: 'cus_00000000000000000000000009' }),
        ];
        const res = await ingestCalls({ ...ctx, db: one.db, requestId: `req_kept_${round}` }, { records });
        expect(res.summary).toEqual({ received: 303, charged: 300, duplicates: 0, rejected: 3 });
        // Customers without a wallet get one (with no points) and are refused for points; an unknown one is not found.
        expect(res.results.slice(300).map((r) => (r.status === 'rejected' ? r.code : r.status))).toEqual(['insufficient_points', 'insufficient_points', 'customer_not_found']);
      }
      const { rows } = await sql<{ generic: string }>`
        select generic_plans::text as generic from pg_prepared_statements where statement like '%one plan for any array size%'`.execute(one.db);
      expect(rows).toHaveLength(1);
      expect(Number(rows[0]!.generic)).toBeGreaterThanOrEqual(2);
    } finally {
      await one.close();
    }
    for (const id of [ids[0]!, ids[150]!, ids[299]!]) expect(await points(id)).toBe(1_000_000n - 2n * 30_000n);
    expect(await points(fresh1!)).toBe(0n);
    expect(await checkLedger(db.owner.db)).toEqual([]);
  }, 60_000);

  /** The audit events of a request's charging transactions: part label, records and calls charged in each. */
  const partsOf = async (requestId: string) => (await sql<{ part: string | null; records: number; charged: number }>`
    select a.changes->'part'->>'after' as part, (a.changes->'records'->>'after')::int as records,
           (select count(*)::int from journal_entries e join usage_calls c on c.entry_id = e.id where e.audit_event_id = a.id) as charged
      from audit_events a where a.action = 'usage.calls_ingested' and a.request_id = ${requestId} order by 1`.execute(db.owner.db)).rows;

  it("a large request's parts add up to what it received: bad records, unknown customers and customers never charged before included", async () => {
    const paid = await customersWithPoints('parta', 9, 10_000_000n);
    const fresh = await customersWithPoints('partb', 2, 0n);
    // A customer's records lie at odd and even places alike: parts split customers, not places.
    const customerAt = (i: number) => (i % 5 === 4 ? fresh[i % 2]! : paid[i % 9]!);
    const records: unknown[] = Array.from({ length: 2_400 }, (_, i) => call(`parts-${i}`, { customerId: customerAt(i), to: '+6567778888', durationSeconds: 6 }));
    records[7] = call('parts-bad', { durationSeconds: -1 });
    records[8] = 'not a record';
    records[9] = call('parts-unknown', { customerId: 'cus_00000000000000000000000000' });
    const res = await ingestCalls({ ...ctx, requestId: 'req_parts' }, { records });
    // Every fifth record is a customer without points (its wallet opened on the way): 480 rejected, one of them replaced
    // by the unknown customer, plus the two other bad ones.
    expect(res.summary).toEqual({ received: 2_400, charged: 2_400 - 482, duplicates: 0, rejected: 482 });
    expect(res.results[7]).toMatchObject({ status: 'rejected', code: 'validation_failed' });
    expect(res.results[9]).toMatchObject({ status: 'rejected', code: 'customer_not_found' });
    expect(res.results[4]).toMatchObject({ status: 'rejected', code: 'insufficient_points' });
    expect(res.results.every((r, i) => r.index === i)).toBe(true);
    const parts = await partsOf('req_parts');
    expect(parts.map((p) => p.part)).toEqual(['1 of 2', '2 of 2']);
    expect(parts[0]!.records + parts[1]!.records).toBe(2_400);
    expect(parts[0]!.charged + parts[1]!.charged).toBe(res.summary.charged);
    expect(await readWalletOf(fresh[0]!)).toMatchObject({ pointsMicros: 0n });
    for (const id of paid) {
      const calls = records.filter((_, i) => i !== 7 && i !== 8 && customerAt(i) === id).length;
      expect(await points(id)).toBe(10_000_000n - BigInt(calls) * 30_000n);
    }
    const { rows: shared } = await sql<{ customerId: string }>`
      select c.customer_id from usage_calls c join journal_entries e on e.id = c.entry_id join audit_events a on a.id = e.audit_event_id
       where a.request_id = 'req_parts' group by c.customer_id having count(distinct a.id) > 1`.execute(db.owner.db);
    expect(shared).toEqual([]);
    expect(await checkLedger(db.owner.db)).toEqual([]);
  }, 60_000);

  it('a large request of one customer is one transaction, and a small one is never split', async () => {
    const [only] = await customersWithPoints('partc', 1, 100_000_000n);
    const big = Array.from({ length: 2_500 }, (_, i) => call(`one-${i}`, { customerId: only, to: '+6567778888', durationSeconds: 6 }));
    await ingestCalls({ ...ctx, requestId: 'req_one_customer' }, { records: big });
    expect(await partsOf('req_one_customer')).toEqual([{ part: null, records: 2_500, charged: 2_500 }]);
    const many = await customersWithPoints('partd', 100, 1_000_000n);
    const small = Array.from({ length: PARTS_MIN_RECORDS - 1 }, (_, i) => call(`small-${i}`, { customerId: many[i % 100], to: '+6567778888', durationSeconds: 6 }));
    await ingestCalls({ ...ctx, requestId: 'req_small' }, { records: small });
    expect(await partsOf('req_small')).toEqual([{ part: null, records: PARTS_MIN_RECORDS - 1, charged: PARTS_MIN_RECORDS - 1 }]);
    const least = Array.from({ length: PARTS_MIN_RECORDS }, (_, i) => call(`least-${i}`, { customerId: many[i % 100], to: '+6567778888', durationSeconds: 6 }));
    await ingestCalls({ ...ctx, requestId: 'req_least' }, { records: least });
    expect((await partsOf('req_least')).map((p) => p.part)).toEqual(['1 of 2', '2 of 2']);
    expect(await points(only!)).toBe(100_000_000n - 2_500n * 30_000n);
  }, 60_000);

  it('when one part fails the request fails; the part that committed stays charged and a retry reports it as duplicates', async () => {
    const ids = await customersWithPoints('parte', 20, 10_000_000n);
    const records = Array.from({ length: 2_000 }, (_, i) => call(`fail-${i}`, { customerId: ids[i % 20], to: '+6567778888', durationSeconds: 6 }));
    // The part holding call fail-0 (customer ids[0]) breaks at its insert; the other part does not hold that customer.
    await sql`
      create function test_fail_one_call() returns trigger language plpgsql as $f$
        begin
          if exists (select 1 from new_calls where call_id = 'fail-0') then raise exception 'part broken on purpose'; end if;
          return null;
        end $f$;
      create trigger test_fail_one_call after insert on usage_calls referencing new table as new_calls for each statement execute function test_fail_one_call();
    `.execute(db.owner.db);
    try {
      await expect(ingestCalls({ ...ctx, requestId: 'req_fail' }, { records })).rejects.toThrow(/part broken on purpose/);
    } finally {
      await sql`drop trigger test_fail_one_call on usage_calls; drop function test_fail_one_call()`.execute(db.owner.db);
    }
    const committed = await partsOf('req_fail');
    expect(committed).toHaveLength(1);
    expect(committed[0]!.part).toMatch(/^[12] of 2$/);
    expect(committed[0]!.charged).toBe(1_000);
    expect(await points(ids[0]!)).toBe(10_000_000n);
    const retry = await ingestCalls({ ...ctx, requestId: 'req_fail_retry' }, { records });
    expect(retry.summary).toEqual({ received: 2_000, charged: 1_000, duplicates: 1_000, rejected: 0 });
    expect(retry.results[0]).toMatchObject({ status: 'charged' });
    for (const id of ids) expect(await points(id)).toBe(10_000_000n - 100n * 30_000n);
    expect(await checkLedger(db.owner.db)).toEqual([]);
  }, 60_000);

  it('single-call requests arriving together share a transaction and its audit event, which names every request', async () => {
    const outcomes = await Promise.all(Array.from({ length: 40 }, (_, i) => ingestCalls({ ...ctx, requestId: `req_gc${i}` }, { records: [call(`gc-${i}`, { to: '+6567778888', durationSeconds: 6 })] })));
    expect(outcomes.every((o) => o.summary.charged === 1)).toBe(true);
    const { rows } = await sql<{ calls: number; transactions: number; entries: number }>`
      select count(*)::int as calls, count(distinct c.xmin::text)::int as transactions, count(distinct c.entry_id)::int as entries
        from usage_calls c where c.call_id like 'gc-%'`.execute(db.owner.db);
    expect(rows[0]!.calls).toBe(40);
    expect(rows[0]!.transactions).toBeLessThan(40);
    expect(rows[0]!.entries).toBe(rows[0]!.transactions);
    const events = await db.owner.db.selectFrom('auditEvents').select(['id', 'changes']).where('action', '=', 'usage.calls_ingested').where('requestId', 'like', 'req_gc%').execute();
    expect(events).toHaveLength(rows[0]!.transactions);
    const named = events.flatMap((e) => (e.changes as { requestIds: { after: string[] } }).requestIds.after);
    expect(named.sort()).toEqual(Array.from({ length: 40 }, (_, i) => `req_gc${i}`).sort());
    // every entry of these calls points to the audit event of its transaction
    const linked = await sql<{ n: number }>`
      select count(*)::int as n from usage_calls c join journal_entries e on e.id = c.entry_id
        join audit_events a on a.id = e.audit_event_id and a.action = 'usage.calls_ingested'
       where c.call_id like 'gc-%'`.execute(db.owner.db);
    expect(linked.rows[0]!.n).toBe(40);
    expect(await checkLedger(db.owner.db)).toEqual([]);
  });
  it('names at most 40 requests in an event, so that a search for any request id of a large group finds its event', async () => {
    // Customers of its own, with points: the test does not lean on what earlier tests left.
    const customers = await customersWithPoints('reqids', 10, 10_000_000n);
    const requestIds = Array.from({ length: 130 }, () => newRequestId());
    const outcomes = await Promise.all(requestIds.map((requestId, i) =>
      ingestCalls({ ...ctx, requestId }, { records: [call(`big-${i}`, { customerId: customers[i % 10], to: '+6567778888', durationSeconds: 6 })] })));
    expect(outcomes.every((o) => o.summary.charged === 1)).toBe(true);
    const { rows: events } = await sql<{ id: string; named: string[]; requests: number; records: number; entries: number; tx: string }>`
      select a.id, array(select jsonb_array_elements_text(a.changes->'requestIds'->'after')) as named,
             (a.changes->'requests'->>'after')::int as requests, (a.changes->'records'->>'after')::int as records,
             (select count(*)::int from journal_entries e where e.audit_event_id = a.id) as entries,
             (select min(c.xmin::text) from usage_calls c join journal_entries e on e.id = c.entry_id where e.audit_event_id = a.id) as tx
        from audit_events a where a.action = 'usage.calls_ingested' and a.request_id = any(${requestIds})`.execute(db.owner.db);
    // Every request is named once, in an event of at most 40 names, which counts what it names, and has its own entry.
    expect(events.flatMap((e) => e.named).sort()).toEqual([...requestIds].sort());
    for (const e of events) {
      expect(e.named.length).toBeLessThanOrEqual(MAX_REQUEST_IDS_PER_EVENT);
      expect([e.requests, e.records, e.entries]).toEqual([e.named.length, e.named.length, 1]);
    }
    // The groups were large: some transaction carried more than one event.
    expect(new Set(events.map((e) => e.tx)).size).toBeLessThan(events.length);
    // The trail's search text (what a search for a request id reads) holds every one of them.
    const { rows: unfound } = await sql<{ id: string }>`
      select r.id from unnest(${requestIds}::text[]) r(id)
       where not exists (select 1 from audit_events a where a.action = 'usage.calls_ingested' and a.search_text like '%' || r.id || '%')`.execute(db.owner.db);
    expect(unfound).toEqual([]);
    expect(await checkLedger(db.owner.db)).toEqual([]);
  }, 60_000);
  it("follows the plan's minimum charge and charges into the credit limit when the plan says so", async () => {
    const o = db.owner.db;
    await o.insertInto('ratePlans').values({ id: 'rpl_test_myr_credit00000', partnerId, name: 'Credit MYR', currency: 'MYR', firstIncrementSeconds: 60, nextIncrementSeconds: 60, minimumChargeMicros: 150_000n, whenInsufficient: 'use_credit_limit', isDefault: true }).execute();
    await o.insertInto('rates').values({ ratePlanId: 'rpl_test_myr_credit00000', partnerId, prefix: '60', description: 'Malaysia', pricePerMinuteMicros: 100_000n, costPerMinuteMicros: 40_000n }).execute();
    await inScope(db.app.db, { kind: 'partner', partnerId }, (trx) => ensureWallets(trx, partnerId, [{ customerId: globex, currency: 'MYR' }]));
    await o.updateTable('wallets').set({ creditLimitMicros: '200000' }).where('customerId', '=', globex).where('currency', '=', 'MYR').execute();
    const myr = (callId: string) => call(callId, { customerId: globex, to: '+60312345678', durationSeconds: 5 });
    const res = await ingestCalls(ctx, { records: [myr('myr-1'), myr('myr-2')] });
    // 5 s bills one minute (0.10 MYR) but the minimum is 0.15; the wallet holds no points, the credit limit is 0.20.
    expect(res.results[0]).toMatchObject({ status: 'charged', amount: '0.150000', currency: 'MYR', billedSeconds: 60 });
    expect(res.results[1]).toMatchObject({ status: 'rejected', code: 'insufficient_points' });
    const wallet = await inScope(db.app.db, { kind: 'partner', partnerId }, (trx) => readWallet(trx, { partnerId, customerId: globex, currency: 'MYR' }));
    expect(wallet?.pointsMicros).toBe(-150_000n);
    expect(wallet?.usableMicros).toBe(50_000n);
    // A plan that rejects instead: the same call is refused with the credit limit untouched.
    await o.updateTable('ratePlans').set({ whenInsufficient: 'reject' }).where('id', '=', 'rpl_test_myr_credit00000').execute();
    const refused = await ingestCalls(ctx, { records: [myr('myr-3')] });
    expect(refused.results[0]).toMatchObject({ status: 'rejected', code: 'insufficient_points' });
    expect(await checkLedger(db.owner.db)).toEqual([]);
  });

  it('charges two currencies in one transaction, and a temporary credit limit only until it expires', async () => {
    const o = db.owner.db;
    await o.updateTable('ratePlans').set({ whenInsufficient: 'use_credit_limit' }).where('id', '=', 'rpl_test_myr_credit00000').execute();
    // Globex (MYR) owes 0.15 on a 0.20 permanent limit; a 1.00 limit that lapsed yesterday must not count.
    const yesterday = new Date(Date.now() - 86_400_000);
    await o.updateTable('wallets').set({ creditLimitMicros: '1000000', creditLimitExpiresAt: yesterday }).where('customerId', '=', globex).where('currency', '=', 'MYR').execute();
    const sgdBefore = (await points(acme))!;
    const myr = (callId: string) => call(callId, { customerId: globex, to: '+60312345678', durationSeconds: 5 });
    const lapsed = await ingestCalls(ctx, { records: [call('two-sgd-1', { to: '+6567778888', durationSeconds: 6 }), myr('two-myr-1')] });
    expect(lapsed.results[0]).toMatchObject({ status: 'charged', currency: 'SGD', amount: '0.030000' });
    expect(lapsed.results[1]).toMatchObject({ status: 'rejected', code: 'insufficient_points' });
    // The same limit running until tomorrow: both currencies charged in one transaction, one entry each.
    await o.updateTable('wallets').set({ creditLimitExpiresAt: new Date(Date.now() + 86_400_000) }).where('customerId', '=', globex).where('currency', '=', 'MYR').execute();
    const both = await ingestCalls(ctx, { records: [call('two-sgd-2', { to: '+6567778888', durationSeconds: 6 }), myr('two-myr-2')] });
    expect(both.summary).toEqual({ received: 2, charged: 2, duplicates: 0, rejected: 0 });
    expect(both.results[1]).toMatchObject({ status: 'charged', currency: 'MYR', amount: '0.150000' });
    expect(await points(acme)).toBe(sgdBefore - 60_000n);
    const myrWallet = await inScope(db.app.db, { kind: 'partner', partnerId }, (trx) => readWallet(trx, { partnerId, customerId: globex, currency: 'MYR' }));
    expect(myrWallet?.pointsMicros).toBe(-300_000n);
    const { rows } = await sql<{ currency: string; entries: number; audits: number }>`
      select e.currency, count(distinct e.id)::int as entries, count(distinct e.audit_event_id)::int as audits
        from usage_calls c join journal_entries e on e.id = c.entry_id where c.call_id in ('two-sgd-2', 'two-myr-2') group by e.currency order by e.currency`.execute(o);
    expect(rows).toEqual([{ currency: 'MYR', entries: 1, audits: 1 }, { currency: 'SGD', entries: 1, audits: 1 }]);
    expect(await checkLedger(o)).toEqual([]);
  });

  it('two servers charging replays of the same calls in opposite orders at once charge each call once', async () => {
    // Two API processes (one Db handle each, so two charging queues): their transactions really run at the same time.
    const other = openDatabase(db.url, { appRole: true, max: 2 });
    try {
      await Promise.all([sql`select 1`.execute(other.db), sql`select 1`.execute(other.db)]); // connected: both start together
      const before = (await points(acme))!;
      const batch = Array.from({ length: 30 }, (_, i) => call(`rev-${i}`, { to: '+6567778888', durationSeconds: 6 }));
      const outcomes = await Promise.all([
        ingestCalls({ ...ctx, requestId: 'req_rev1' }, { records: batch }),
        ingestCalls({ ...ctx, db: other.db, requestId: 'req_rev2' }, { records: [...batch].reverse() }),
        ingestCalls({ ...ctx, requestId: 'req_rev3' }, { records: batch }),
        ingestCalls({ ...ctx, db: other.db, requestId: 'req_rev4' }, { records: batch }),
      ]);
      expect(outcomes.reduce((n, o) => n + o.summary.charged, 0)).toBe(30);
      expect(outcomes.reduce((n, o) => n + o.summary.duplicates, 0)).toBe(90);
      expect(outcomes.every((o) => o.summary.rejected === 0)).toBe(true);
      expect(await points(acme)).toBe(before - 30n * 30_000n);
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from usage_calls where call_id like 'rev-%'`.execute(db.owner.db);
      expect(rows[0]!.n).toBe(30);
      expect(await checkLedger(db.owner.db)).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('two servers charging the same call ids for different customers in opposite orders at once charge each call once, without a deadlock', async () => {
    // Different customers: neither waits for the other's wallet, so both insert their calls at the same time. The
    // inserts must take the call ids in one order (else each waits for a call id the other inserted: a deadlock).
    const { rows: made } = await sql<{ id: string }>`
      insert into customers (id, partner_id, name, currency) values ('cus_initech00000000000000000', ${partnerId}, 'Initech Pte Ltd', 'SGD') returning id`.execute(db.owner.db);
    const initech = made[0]!.id;
    await inScope(db.app.db, { kind: 'partner', partnerId }, (trx) => creditWallet(trx, {
      wallet: { partnerId, customerId: initech, currency: 'SGD' }, amountMicros: 1_000_000_000n,
      entry: { kind: 'top_up', causeType: 'test', causeId: 'top_initech', description: 'Seed', auditEventId: null },
      counterPostings: [{ code: 'card_clearing', amountMicros: 1_000_000_000n }],
    }));
    await inScope(db.app.db, { kind: 'partner', partnerId }, (trx) => creditWallet(trx, {
      wallet: { partnerId, customerId: acme, currency: 'SGD' }, amountMicros: 1_000_000_000n,
      entry: { kind: 'top_up', causeType: 'test', causeId: 'top_acme_opposite', description: 'Seed', auditEventId: null },
      counterPostings: [{ code: 'card_clearing', amountMicros: 1_000_000_000n }],
    }));
    const other = openDatabase(db.url, { appRole: true, max: 2 });
    try {
      await Promise.all([sql`select 1`.execute(other.db), sql`select 1`.execute(other.db)]);
      for (let round = 0; round < 4; round++) {
        const before = (await points(acme))! + (await points(initech))!;
        const ids = Array.from({ length: 1500 }, (_, i) => `opp-${round}-${String(i).padStart(4, '0')}`);
        const forAcme = ids.map((id) => call(id, { to: '+6567778888', durationSeconds: 6 }));
        const forInitech = [...ids].reverse().map((id) => call(id, { customerId: initech, to: '+6567778888', durationSeconds: 6 }));
        const outcomes = await Promise.all([
          ingestCalls({ ...ctx, requestId: `req_opp${round}a` }, { records: forAcme }),
          ingestCalls({ ...ctx, db: other.db, requestId: `req_opp${round}b` }, { records: forInitech }),
        ]);
        expect(outcomes.reduce((n, o) => n + o.summary.charged, 0)).toBe(1500);
        expect(outcomes.reduce((n, o) => n + o.summary.duplicates, 0)).toBe(1500);
        expect((await points(acme))! + (await points(initech))!).toBe(before - 1500n * 30_000n);
      }
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from usage_calls where call_id like 'opp-%'`.execute(db.owner.db);
      expect(rows[0]!.n).toBe(6_000);
      expect(await checkLedger(db.owner.db)).toEqual([]);
    } finally {
      await other.close();
    }
  }, 60_000);

  it('a call charged by another server while this one waits for the wallet is a duplicate here, charged once', async () => {
    // Two API processes: each has its own queue of charging transactions (one Db handle each).
    const other = openDatabase(db.url, { appRole: true, max: 2 });
    const blocker = openDatabase(db.url, { appRole: false, max: 1 });
    try {
      const before = (await points(acme))!;
      const record = call('race-1', { to: '+6567778888', durationSeconds: 6 });
      let release!: () => void;
      const released = new Promise<void>((resolve) => { release = resolve; });
      let locked!: () => void;
      const isLocked = new Promise<void>((resolve) => { locked = resolve; });
      const holder = blocker.db.transaction().execute(async (trx) => {
        await sql`select 1 from wallets where customer_id = ${acme} and currency = 'SGD' for update`.execute(trx);
        locked();
        await released;
      });
      await isLocked;
      // Both read "not charged yet" in a snapshot taken before they wait for the wallet; one charges, the other starts over.
      const first = ingestCalls(ctx, { records: [record] });
      const second = ingestCalls({ ...ctx, db: other.db, requestId: 'req_other' }, { records: [record] });
      const waiting = async () => (await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and backend_type = 'client backend'`.execute(db.owner.db)).rows[0]!.n;
      for (let i = 0; i < 200 && (await waiting()) < 2; i++) await new Promise((r) => setTimeout(r, 10));
      expect(await waiting()).toBe(2);
      release();
      await holder;
      const outcomes = await Promise.all([first, second]);
      expect(outcomes.map((r) => r.results[0]!.status).sort()).toEqual(['charged', 'duplicate']);
      expect(await points(acme)).toBe(before - 30_000n);
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from usage_calls where call_id = 'race-1'`.execute(db.owner.db);
      expect(rows[0]!.n).toBe(1);
      expect(await checkLedger(db.owner.db)).toEqual([]);
    } finally {
      await other.close();
      await blocker.close();
    }
  });
});

describe("call charging with the partner's tax (ADR 0032)", () => {
  it('charges price and tax to the points, the price to revenue and the tax to tax payable, to the micro', async () => {
    await setTaxRate(900);
    try {
      const [customer] = await customersWithPoints('taxok', 1, 5_000_000n);
      const res = await ingestCalls(ctx, {
        records: [
          // 30 s of 0.41088/min = 0.20544; 9% = 0.0184896 -> 0.018490 (half away from zero, to the micro)
          call('tax-1', { customerId: customer }),
          // 66 s of 0.06/min = 0.066; 9% = 0.00594
          call('tax-2', { customerId: customer, to: '+6567778888', durationSeconds: 61 }),
          call('tax-3', { customerId: customer, durationSeconds: 0 }),
        ],
      });
      expect(res.results.map((r) => (r.status === 'charged' ? [r.amount, r.tax] : r.status))).toEqual([
        ['0.223930', '0.018490'], ['0.071940', '0.005940'], ['0.000000', '0.000000'],
      ]);
      expect(await points(customer!)).toBe(5_000_000n - 223_930n - 71_940n);
      const rows = await db.owner.db.selectFrom('usageCalls').select(['callId', 'priceMicros', 'taxMicros', 'taxRateBps']).where('callId', 'in', ['tax-1', 'tax-2', 'tax-3']).orderBy('callId').execute();
      expect(rows.map((r) => [r.callId, r.priceMicros, r.taxMicros, r.taxRateBps])).toEqual([['tax-1', '205440', '18490', 900], ['tax-2', '66000', '5940', 900], ['tax-3', '0', '0', 900]]);
      expect(await partnerSideOf(['tax-1', 'tax-2'])).toEqual({
        'revenue:usage': -271_440n, tax_payable: -24_430n, 'cost:usage': 120_000n + 22_000n, platform_payable: -142_000n,
      });
      // The feed shows what the points paid.
      const ids = await transactionIds(db.app.db);
      const feed = await inScope(db.app.db, { kind: 'partner', partnerId }, (trx) => listTransactions(trx, { partnerId, customerId: customer!, currency: 'SGD', type: 'call', limit: 10, afterPostingId: null, ids }));
      expect(feed.data.map((d) => d.amountMicros)).toEqual([-71_940n, -223_930n]);
      expect(await checkLedger(db.owner.db)).toEqual([]);
    } finally {
      await setTaxRate(0);
    }
  });

  it('rejects a call whose price the points cover but not its tax', async () => {
    await setTaxRate(900);
    try {
      const [short] = await customersWithPoints('taxshort', 1, 205_440n);
      const [enough] = await customersWithPoints('taxenough', 1, 223_930n);
      const res = await ingestCalls(ctx, { records: [call('tax-short', { customerId: short }), call('tax-enough', { customerId: enough })] });
      expect(res.results.map((r) => r.status === 'rejected' ? r.code : r.status)).toEqual(['insufficient_points', 'charged']);
      expect(await points(short!)).toBe(205_440n);
      expect(await points(enough!)).toBe(0n);
    } finally {
      await setTaxRate(0);
    }
  });

  it('a call to a zero-rated destination pays its price only: no tax posted, stored as zero-rated at rate 0, beside taxed calls', async () => {
    // 61 = Australia, zero-rated on the plan (bumping the table's version, as every replacement does, so rating sees it).
    await sql`insert into rates (rate_plan_id, partner_id, prefix, description, price_per_minute_micros, cost_per_minute_micros, tax_category)
              values ('rpl_test0000000000000000', ${partnerId}, '61', 'Australia', 120000, 50000, 'zero_rated')`.execute(db.owner.db);
    await sql`update rate_plans set rates_version = rates_version + 1 where id = 'rpl_test0000000000000000'`.execute(db.owner.db);
    await setTaxRate(900);
    try {
      const [customer] = await customersWithPoints('taxzero', 1, 1_000_000n);
      const res = await ingestCalls(ctx, {
        records: [
          // 30 s of 0.12/min = 0.06, no tax
          call('zero-1', { customerId: customer, to: '+61298765432' }),
          // 30 s of 0.41088/min = 0.20544 + 9% 0.018490
          call('zero-2', { customerId: customer }),
        ],
      });
      expect(res.results.map((r) => (r.status === 'charged' ? [r.amount, r.tax, r.taxCategory] : r.status))).toEqual([['0.060000', '0.000000', 'zero_rated'], ['0.223930', '0.018490', 'standard']]);
      expect(await points(customer!)).toBe(1_000_000n - 60_000n - 223_930n);
      const rows = await db.owner.db.selectFrom('usageCalls').select(['callId', 'priceMicros', 'taxMicros', 'taxRateBps', 'zeroRated']).where('callId', 'in', ['zero-1', 'zero-2']).orderBy('callId').execute();
      expect(rows.map((r) => [r.callId, r.priceMicros, r.taxMicros, r.taxRateBps, r.zeroRated])).toEqual([['zero-1', '60000', '0', 0, true], ['zero-2', '205440', '18490', 900, false]]);
      expect(await partnerSideOf(['zero-1', 'zero-2'])).toEqual({
        'revenue:usage': -265_440n, tax_payable: -18_490n, 'cost:usage': 25_000n + 120_000n, platform_payable: -145_000n,
      });
      // Points that cover a zero-rated call's price are enough: no tax to cover.
      const [exact] = await customersWithPoints('taxzeroexact', 1, 60_000n);
      expect((await ingestCalls(ctx, { records: [call('zero-3', { customerId: exact, to: '+61298765432' })] })).results[0]).toMatchObject({ status: 'charged', amount: '0.060000', tax: '0.000000' });
      expect(await points(exact!)).toBe(0n);
      // The database refuses a zero-rated call with a rate or a tax (migration 0057).
      await expect(sql`insert into usage_calls (id, partner_id, customer_id, call_id, from_number, to_number, direction, started_at, duration_seconds, billed_seconds,
                                                prefix, currency, price_micros, cost_micros, tax_micros, tax_rate_bps, zero_rated, entry_id)
                       select 'cal_zerotaxed000000000000000', partner_id, customer_id, 'zero-taxed', from_number, to_number, direction, started_at, duration_seconds,
                              billed_seconds, prefix, currency, price_micros, cost_micros, 5400, 900, true, entry_id
                         from usage_calls where call_id = 'zero-1'`.execute(db.owner.db)).rejects.toThrow(/usage_calls_zero_rated_untaxed/);
      expect(await checkLedger(db.owner.db)).toEqual([]);
    } finally {
      await setTaxRate(0);
    }
  });

  it('a large request charged in two parts posts each part\'s tax, and the tax adds up to its calls\'', async () => {
    await setTaxRate(700);
    try {
      const customers = await customersWithPoints('taxbig', 400, 10_000_000n);
      const records = Array.from({ length: PARTS_MIN_RECORDS + 200 }, (_, i) => call(`tax-big-${i}`, { customerId: customers[i % customers.length], durationSeconds: 1 + (i % 97) }));
      const res = await ingestCalls(ctx, { records });
      expect(res.summary.charged).toBe(records.length);
      const ids = records.map((r) => r.callId);
      const { rows: [sums] } = await sql<{ price: string; tax: string; entries: string }>`
        select sum(price_micros)::text as price, sum(tax_micros)::text as tax, count(distinct entry_id)::text as entries
          from usage_calls where call_id = any(${ids}::text[])`.execute(db.owner.db);
      expect(sums!.entries).toBe('2');
      const side = await partnerSideOf(ids);
      expect(side['revenue:usage']).toBe(-BigInt(sums!.price));
      expect(side.tax_payable).toBe(-BigInt(sums!.tax));
      // Each call's tax is its own price's 7%, to the micro.
      const { rows: off } = await sql<{ n: string }>`
        select count(*)::text as n from usage_calls
         where call_id = any(${ids}::text[]) and tax_micros <> round(price_micros * 700 / 10000.0)`.execute(db.owner.db);
      expect(off[0]!.n).toBe('0');
      expect(await checkLedger(db.owner.db)).toEqual([]);
    } finally {
      await setTaxRate(0);
    }
  });
});

describe('a charge built while its wallets are locked (ADR 0018, amendment of 2026-12-05, late)', () => {
  // The partner's first charge ever opens its usage accounts, which a charge built before its read cannot do: one call
  // first, so that each test here stands alone whatever ran before it.
  beforeAll(async () => {
    const [opener] = await customersWithPoints('earlyopen', 1, 1_000_000n);
    expect((await ingestCalls(ctx, { records: [call('early-open-1', { customerId: opener })] })).summary.charged).toBe(1);
  });
  /** Charge `records`; `built`: the charge was built while its wallets' lock ran, `sent`: and sent as built. */
  async function charge(records: unknown[], requestId = ctx.requestId) {
    const before = { ...earlyCharges };
    const res = await ingestCalls({ ...ctx, requestId }, { records });
    return { res, built: earlyCharges.built - before.built, sent: earlyCharges.sent - before.sent };
  }
  const outcomes = (res: Awaited<ReturnType<typeof ingestCalls>>) =>
    res.results.map((r) => (r.status === 'charged' ? r.amount : r.status === 'rejected' ? r.code : r.status));
  const pointsPostings = async (customerId: string) => (await sql<{ amount: string; after: string }>`
    select p.amount_micros::text as amount, p.balance_after_micros::text as after from postings p
      join wallets w on w.points_account_id = p.account_id where w.customer_id = ${customerId} order by p.id`.execute(db.owner.db)).rows;

  it('is sent as built when the read is what the last one left: the prices, the balances after each call, the ledger', async () => {
    const [a, b] = await customersWithPoints('early', 2, 1_000_000n);
    const first = await charge([call('early-1', { customerId: a }), call('early-2', { customerId: b, to: '+6567778888', durationSeconds: 61 })]);
    expect(first).toMatchObject({ built: 0, sent: 0 }); // customers never read before: built after the read
    const second = await charge([
      call('early-3', { customerId: b }), call('early-4', { customerId: a }), call('early-5', { customerId: a, to: '+6567778888', durationSeconds: 61 }),
    ]);
    expect(second).toMatchObject({ built: 1, sent: 1 });
    expect(outcomes(second.res)).toEqual(['0.205440', '0.205440', '0.066000']);
    expect(await points(a!)).toBe(1_000_000n - 205_440n - 205_440n - 66_000n);
    expect(await points(b!)).toBe(1_000_000n - 66_000n - 205_440n);
    // Each call's balance after follows the one before it (the points account is a liability: negative when in credit).
    expect(await pointsPostings(a!)).toEqual([
      { amount: '-1000000', after: '-1000000' }, { amount: '205440', after: '-794560' }, { amount: '205440', after: '-589120' }, { amount: '66000', after: '-523120' },
    ]);
    expect(await checkLedger(db.owner.db)).toEqual([]);
  });

  it('is built again from the read when the points no longer cover a call, which is rejected as before', async () => {
    const [a] = await customersWithPoints('earlyshort', 1, 300_000n);
    expect(outcomes((await charge([call('es-1', { customerId: a })])).res)).toEqual(['0.205440']);
    const requestId = newRequestId();
    const r = await charge([call('es-2', { customerId: a }), call('es-3', { customerId: a, to: '+6567778888', durationSeconds: 30 })], requestId);
    expect(r).toMatchObject({ built: 1, sent: 0 });
    expect(outcomes(r.res)).toEqual(['insufficient_points', '0.030000']);
    expect(await points(a!)).toBe(300_000n - 205_440n - 30_000n);
    // The charge built early is dropped whole, its audit event with it: the request is in the trail once, with its entry.
    const { rows } = await sql<{ events: number; entries: number }>`
      select count(*)::int as events, (select count(*)::int from journal_entries e where e.audit_event_id = any(array_agg(a.id))) as entries
        from audit_events a where a.action = 'usage.calls_ingested' and a.request_id = ${requestId}`.execute(db.owner.db);
    expect(rows[0]).toEqual({ events: 1, entries: 1 });
    expect(await checkLedger(db.owner.db)).toEqual([]);
  });

  it('is built again from the read when a call was charged before: a duplicate, the others charged', async () => {
    const [a] = await customersWithPoints('earlydup', 1, 1_000_000n);
    await charge([call('ed-1', { customerId: a })]);
    const r = await charge([call('ed-1', { customerId: a }), call('ed-2', { customerId: a })]);
    expect(r).toMatchObject({ built: 1, sent: 0 });
    expect(outcomes(r.res)).toEqual(['duplicate', '0.205440']);
    expect(await points(a!)).toBe(1_000_000n - 2n * 205_440n);
  });

  it('is built again from the read when the rates, the tax rate or the customer changed since the last charge', async () => {
    const [a] = await customersWithPoints('earlychg', 1, 5_000_000n);
    await charge([call('ec-1', { customerId: a, to: '+6567778888' })]); // 30 s at 0.06/min
    const setPrice = async (micros: bigint) => {
      await sql`update rates set price_per_minute_micros = ${micros} where rate_plan_id = 'rpl_test0000000000000000' and prefix = '65'`.execute(db.owner.db);
      await sql`update rate_plans set rates_version = rates_version + 1 where id = 'rpl_test0000000000000000'`.execute(db.owner.db);
    };
    await setPrice(120_000n);
    try {
      const rates = await charge([call('ec-2', { customerId: a, to: '+6567778888' })]);
      expect(rates).toMatchObject({ built: 1, sent: 0 });
      expect(outcomes(rates.res)).toEqual(['0.060000']);
    } finally {
      await setPrice(60_000n);
    }
    await charge([call('ec-3', { customerId: a, to: '+6567778888' })]); // the rates as they were, read again
    await setTaxRate(900);
    try {
      const tax = await charge([call('ec-4', { customerId: a })]);
      expect(tax).toMatchObject({ built: 1, sent: 0 });
      expect(tax.res.results[0]).toMatchObject({ status: 'charged', amount: '0.223930', tax: '0.018490' });
    } finally {
      await setTaxRate(0);
    }
    await charge([call('ec-5', { customerId: a })]);
    await sql`update customers set status = 'suspended' where id = ${a!}`.execute(db.owner.db);
    const suspended = await charge([call('ec-6', { customerId: a })]);
    expect(suspended).toMatchObject({ built: 1, sent: 0 });
    expect(outcomes(suspended.res)).toEqual(['state_conflict']);
    expect(await points(a!)).toBe(5_000_000n - 30_000n - 60_000n - 30_000n - 223_930n - 205_440n);
    expect(await checkLedger(db.owner.db)).toEqual([]);
  });

  it("is not built before the read for the parts of a large request (their two reads keep both cores busy)", async () => {
    const customers = await customersWithPoints('earlyparts', 20, 100_000_000n);
    const batch = (round: number) => Array.from({ length: PARTS_MIN_RECORDS }, (_, i) => call(`ep-${round}-${i}`, { customerId: customers[i % customers.length] }));
    await charge(batch(1));
    const again = await charge(batch(2));
    expect(again).toMatchObject({ built: 0, sent: 0 });
    expect(again.res.summary).toEqual({ received: PARTS_MIN_RECORDS, charged: PARTS_MIN_RECORDS, duplicates: 0, rejected: 0 });
    const small = await charge([call('ep-3-0', { customerId: customers[0] }), call('ep-3-1', { customerId: customers[1] })]);
    expect(small).toMatchObject({ built: 1, sent: 1 }); // the same customers, in a transaction of their own
    expect(await checkLedger(db.owner.db)).toEqual([]);
  });

  it('is not built before the read when it would charge no call, and a request of only refused records has one audit event', async () => {
    const [a] = await customersWithPoints('earlynone', 1, 1_000_000n);
    await charge([call('en-1', { customerId: a })]);
    await setTaxRate(900); // the read no longer as assumed: the charge is built after it
    try {
      const requestId = newRequestId();
      const r = await charge([call('en-2', { customerId: a, to: '+12125550100' }), call('en-3', { customerId: a, to: '+12125550101' })], requestId);
      expect(r).toMatchObject({ built: 0, sent: 0 });
      expect(outcomes(r.res)).toEqual(['rule_violation', 'rule_violation']);
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from audit_events
        where action = 'usage.calls_ingested' and changes->'requestIds'->>'after' like ${`%${requestId}%`}`.execute(db.owner.db);
      expect(rows[0]!.n).toBe(1);
    } finally {
      await setTaxRate(0);
    }
  });

  it('is not built before the read when a customer of the group was never read, and the group is charged as before', async () => {
    const [seen] = await customersWithPoints('earlyseen', 1, 1_000_000n);
    const [fresh] = await customersWithPoints('earlyfresh', 1, 1_000_000n);
    await charge([call('ef-1', { customerId: seen })]);
    const r = await charge([call('ef-2', { customerId: seen }), call('ef-3', { customerId: fresh })]);
    expect(r).toMatchObject({ built: 0, sent: 0 });
    expect(outcomes(r.res)).toEqual(['0.205440', '0.205440']);
    const again = await charge([call('ef-4', { customerId: fresh }), call('ef-5', { customerId: seen })]);
    expect(again).toMatchObject({ built: 1, sent: 1 });
    expect(await checkLedger(db.owner.db)).toEqual([]);
  });
});
