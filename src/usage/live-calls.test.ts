import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { systemClock } from '../platform/clock.ts';
import pino from 'pino';
import { auditEventsOf, createTestDb, customerIdOf, partnerIdOf, testConfig, type TestDb } from '../test/harness.ts';
import { inScope } from '../platform/database.ts';
import type { Ctx } from '../platform/context.ts';
import { DomainError } from '../platform/errors.ts';
import { checkLedger } from '../ledger/check-ledger.ts';
import { chargeWallet, creditWallet } from '../wallet/charge-wallet.ts';
import { expireReservations } from '../wallet/reservations.ts';
import { readWallet } from '../wallet/wallets.repo.ts';
import { ingestCalls } from './ingest-calls.ts';
import { startLiveCall, type StartLiveCallInput } from './live-calls-start.ts';
import { endLiveCall } from './live-calls-end.ts';
import { failLiveCall } from './live-calls-fail.ts';
import { coverage } from './live-calls.repo.ts';
import { setCreditLimit } from '../finance/set-credit-limit.ts';
import { parseDecimal } from '../money/money.ts';

let db: TestDb;
let partnerId: string;
let acme: string;
let initech: string;
let globex: string;
let wombat: string;
let ctx: Ctx;

const PLAN = 'rpl_live0000000000000000000001';
const MYR_PLAN = 'rpl_live0000000000000000000002';

beforeAll(async () => {
  db = await createTestDb();
  const o = db.owner.db;
  partnerId = await partnerIdOf(db, 'demo-telecom');
  acme = await customerIdOf(db, 'Acme Pte Ltd');
  initech = await customerIdOf(db, 'Initech Pte Ltd');
  globex = await customerIdOf(db, 'Globex Sdn Bhd');
  wombat = await customerIdOf(db, 'Wombat Pty Ltd');
  await o.insertInto('ratePlans').values([
    { id: PLAN, partnerId, name: 'Standard SGD', currency: 'SGD', firstIncrementSeconds: 60, nextIncrementSeconds: 60, minimumChargeMicros: 0n, isDefault: true },
    { id: MYR_PLAN, partnerId, name: 'Credit MYR', currency: 'MYR', firstIncrementSeconds: 30, nextIncrementSeconds: 6, minimumChargeMicros: 0n, whenInsufficient: 'use_credit_limit', isDefault: true },
  ]).execute();
  await o.insertInto('rates').values([
    { ratePlanId: PLAN, partnerId, prefix: '65', description: 'Singapore', pricePerMinuteMicros: 60_000n, costPerMinuteMicros: 20_000n },
    { ratePlanId: PLAN, partnerId, prefix: '44', description: 'United Kingdom', pricePerMinuteMicros: 500_000n, costPerMinuteMicros: 200_000n },
    { ratePlanId: MYR_PLAN, partnerId, prefix: '60', description: 'Malaysia', pricePerMinuteMicros: 120_000n, costPerMinuteMicros: 50_000n },
  ]).execute();
  ctx = {
    db: db.app.db, config: testConfig(), log: pino({ level: 'silent' }), requestId: 'req_live', ip: '127.0.0.1', userAgent: 'test', clock: systemClock,
    principal: { kind: 'api_key', keyId: 'key_live', partnerId, name: 'switch', apps: new Set(['customer']) },
  };
  // The holds and charges below are about the mechanics, at prices without tax; tax on calls has its own tests at the end.
  await setTaxRate(0);
  await topUp(acme, 1_000_000n);
});
afterAll(async () => db.drop());

const setTaxRate = (bps: number) => sql`update partner_settings set tax_rate_bps = ${bps} where partner_id = ${partnerId}`.execute(db.owner.db);

let topUps = 0;
async function topUp(customerId: string, micros: bigint, currency = 'SGD') {
  await inScope(db.app.db, { kind: 'partner', partnerId }, (trx) => creditWallet(trx, {
    wallet: { partnerId, customerId, currency }, amountMicros: micros,
    entry: { kind: 'top_up', causeType: 'test', causeId: `top_${topUps++}`, description: 'Top-up', auditEventId: null },
    counterPostings: [{ code: 'card_clearing', amountMicros: micros }],
  }));
}
const wallet = async (customerId: string, currency = 'SGD') => (await inScope(db.app.db, { kind: 'partner', partnerId }, (trx) => readWallet(trx, { partnerId, customerId, currency })))!;
const call = (callId: string, over: Partial<StartLiveCallInput> = {}): StartLiveCallInput => ({
  callId, customerId: acme, from: '+6561234567', to: '+6562223333', startedAt: '2026-11-30T04:32:00Z', direction: 'outbound', ...over,
});
const codeOf = async (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (e instanceof DomainError ? e.code : `unexpected ${String(e)}`));

describe('live calls: hold at start, charge at end', () => {
  it('holds the price of maxSeconds, charges the actual call at the end, and settles the hold in the same step', async () => {
    const started = await startLiveCall(ctx, call('live-1'));
    expect(started).toMatchObject({
      callId: 'live-1', status: 'active', customerId: acme, prefix: '65', pricePerMinute: '0.060000', maxSeconds: 600, coveredSeconds: 600,
      hold: '0.600000', holdStatus: 'active', currency: 'SGD', amount: null,
    });
    expect(await wallet(acme)).toMatchObject({ pointsMicros: 1_000_000n, reservedMicros: 600_000n, usableMicros: 400_000n });
    const [startEvent] = await auditEventsOf(db, 'usage.live_call_started');
    expect(startEvent).toMatchObject({ app: 'usage', customerId: acme, targetId: started.id, changes: { callId: { after: 'live-1' }, hold: { after: '0.600000' }, coveredSeconds: { after: 600 } } });

    const ended = await endLiveCall(ctx, { callId: 'live-1', durationSeconds: 61 });
    expect(ended).toMatchObject({ outcome: 'charged', call: { status: 'ended', durationSeconds: 61, billedSeconds: 120, amount: '0.120000', holdStatus: 'settled' } });
    expect(await wallet(acme)).toMatchObject({ pointsMicros: 880_000n, reservedMicros: 0n, usableMicros: 880_000n });

    const row = await db.owner.db.selectFrom('usageCalls').selectAll().where('callId', '=', 'live-1').executeTakeFirstOrThrow();
    expect(row).toMatchObject({ id: started.id, customerId: acme, durationSeconds: 61, billedSeconds: 120, prefix: '65', priceMicros: '120000', costMicros: '40000' });
    const [endEvent] = await auditEventsOf(db, 'usage.live_call_ended');
    const entry = await db.owner.db.selectFrom('journalEntries').selectAll().where('id', '=', row.entryId!).executeTakeFirstOrThrow();
    expect(entry).toMatchObject({ kind: 'call_charge', causeType: 'call', causeId: started.id, auditEventId: endEvent!.id });
    const postings = await db.owner.db.selectFrom('postings as p').innerJoin('ledgerAccounts as a', 'a.id', 'p.accountId')
      .select(['a.code', 'p.amountMicros']).where('p.entryId', '=', entry.id).orderBy('p.id').execute();
    expect(postings).toEqual([
      { code: 'points', amountMicros: '120000' }, { code: 'revenue:usage', amountMicros: '-120000' },
      { code: 'cost:usage', amountMicros: '40000' }, { code: 'platform_payable', amountMicros: '-40000' },
    ]);
    expect(await checkLedger(db.owner.db)).toEqual([]);
  });

  it('ending again, or charging the same call id by batch, is a duplicate: nothing changes', async () => {
    const before = await wallet(acme);
    const again = await endLiveCall(ctx, { callId: 'live-1', durationSeconds: 300 });
    expect(again).toMatchObject({ outcome: 'duplicate', call: { amount: '0.120000', durationSeconds: 61 } });
    const batch = await ingestCalls(ctx, { records: [{ ...call('live-1'), durationSeconds: 61 }] });
    expect(batch.results[0]).toMatchObject({ status: 'duplicate' });
    expect(await codeOf(startLiveCall(ctx, call('live-1')))).toBe('state_conflict');
    expect(await wallet(acme)).toEqual(before);
  });

  it('when points cover less than maxSeconds, holds the whole billing blocks they cover and charges no more than those', async () => {
    // 0.88 usable; UK at 0.50/min on 60/60: one minute (0.50) is covered, two (1.00) are not.
    const started = await startLiveCall(ctx, call('live-uk', { to: '+442071234567' }));
    expect(started).toMatchObject({ prefix: '44', coveredSeconds: 60, hold: '0.500000', maxSeconds: 600 });
    const ended = await endLiveCall(ctx, { callId: 'live-uk', durationSeconds: 300 });
    expect(ended).toMatchObject({ outcome: 'charged', detail: expect.stringContaining('charged up to the 60 s covered'), call: { durationSeconds: 300, billedSeconds: 60, amount: '0.500000' } });
    expect((await wallet(acme)).pointsMicros).toBe(380_000n);
  });

  it('refuses a call whose first billing block is not covered (422), writing nothing', async () => {
    const events = (await auditEventsOf(db, 'usage.live_call_started')).length;
    expect(await codeOf(startLiveCall(ctx, call('live-poor', { to: '+442071234567' })))).toBe('insufficient_points');
    expect(await db.owner.db.selectFrom('liveCalls').select('id').where('callId', '=', 'live-poor').executeTakeFirst()).toBeUndefined();
    expect(await auditEventsOf(db, 'usage.live_call_started')).toHaveLength(events);
    expect((await wallet(acme)).reservedMicros).toBe(0n);
  });

  it('a failed call releases its hold and charges nothing; failing again is harmless; it can neither end nor start again', async () => {
    const started = await startLiveCall(ctx, call('live-fail'));
    expect(started).toMatchObject({ coveredSeconds: 360, hold: '0.360000' }); // 0.38 usable at 0.06/min
    expect((await wallet(acme)).reservedMicros).toBe(360_000n);
    const failed = await failLiveCall(ctx, { callId: 'live-fail' });
    expect(failed).toMatchObject({ status: 'failed', holdStatus: 'released', amount: null });
    expect(await wallet(acme)).toMatchObject({ pointsMicros: 380_000n, reservedMicros: 0n });
    expect(await failLiveCall(ctx, { callId: 'live-fail' })).toMatchObject({ status: 'failed' });
    expect(await auditEventsOf(db, 'usage.live_call_failed')).toHaveLength(1);
    expect(await codeOf(endLiveCall(ctx, { callId: 'live-fail', durationSeconds: 10 }))).toBe('state_conflict');
    expect(await codeOf(startLiveCall(ctx, call('live-fail')))).toBe('state_conflict');
    expect(await codeOf(failLiveCall(ctx, { callId: 'live-1' }))).toBe('state_conflict');
    expect(await db.owner.db.selectFrom('usageCalls').select('id').where('callId', '=', 'live-fail').executeTakeFirst()).toBeUndefined();
  });

  it('starting an active call again answers it unchanged (a retry)', async () => {
    const first = await startLiveCall(ctx, call('live-retry', { maxSeconds: 120 }));
    const second = await startLiveCall(ctx, call('live-retry', { maxSeconds: 120 }));
    expect(second).toEqual(first);
    expect((await wallet(acme)).reservedMicros).toBe(120_000n);
    expect(await codeOf(startLiveCall(ctx, call('live-retry', { customerId: initech })))).toBe('state_conflict');
    await failLiveCall(ctx, { callId: 'live-retry' });
  });

  it('keeps the rate it started with when the plan\'s rates are replaced during the call', async () => {
    await startLiveCall(ctx, call('live-reprice', { maxSeconds: 60 }));
    await db.owner.db.updateTable('rates').set({ pricePerMinuteMicros: 900_000n }).where('ratePlanId', '=', PLAN).where('prefix', '=', '65').execute();
    const ended = await endLiveCall(ctx, { callId: 'live-reprice', durationSeconds: 30 });
    expect(ended.call).toMatchObject({ amount: '0.060000', pricePerMinute: '0.060000' });
    await db.owner.db.updateTable('rates').set({ pricePerMinuteMicros: 60_000n }).where('ratePlanId', '=', PLAN).where('prefix', '=', '65').execute();
  });

  it('after its hold expired, a call is still charged if points cover it; if not, 422 and it stays open', async () => {
    await topUp(acme, 1_000_000n);
    await startLiveCall(ctx, call('live-late', { maxSeconds: 120 }));
    await startLiveCall(ctx, call('live-late-2', { maxSeconds: 120 }));
    await db.owner.db.updateTable('walletReservations').set({ expiresAt: new Date(Date.now() - 1000) }).where('causeType', '=', 'live_call').where('status', '=', 'active').execute();
    expect(await inScope(db.app.db, { kind: 'system' }, (trx) => expireReservations(trx, 100))).toBe(2);
    const points = (await wallet(acme)).pointsMicros;
    expect(await endLiveCall(ctx, { callId: 'live-late', durationSeconds: 100 })).toMatchObject({ outcome: 'charged', call: { amount: '0.120000', holdStatus: 'expired' } });
    expect((await wallet(acme)).pointsMicros).toBe(points - 120_000n);

    // Spend everything, then end the second one: not covered any more.
    const left = (await wallet(acme)).usableMicros;
    await inScope(db.app.db, { kind: 'partner', partnerId }, (trx) => chargeWallet(trx, {
      wallet: { partnerId, customerId: acme, currency: 'SGD' }, amountMicros: left, useCreditLimit: false,
      entry: { kind: 'call_charge', causeType: 'test', causeId: 'drain', description: 'Drain', auditEventId: null }, counterPostings: [{ code: 'revenue:usage', amountMicros: -left }],
    }));
    expect(await codeOf(endLiveCall(ctx, { callId: 'live-late-2', durationSeconds: 100 }))).toBe('insufficient_points');
    const open = await db.owner.db.selectFrom('liveCalls').select('status').where('callId', '=', 'live-late-2').executeTakeFirstOrThrow();
    expect(open.status).toBe('active');
    expect(await db.owner.db.selectFrom('usageCalls').select('id').where('callId', '=', 'live-late-2').executeTakeFirst()).toBeUndefined();
    expect(await checkLedger(db.owner.db)).toEqual([]);
  });

  it('a call the batch charged while it was live ends as a duplicate, and its hold is released', async () => {
    await topUp(initech, 1_000_000n);
    await startLiveCall(ctx, call('live-both', { customerId: initech, maxSeconds: 60 }));
    const batch = await ingestCalls(ctx, { records: [{ ...call('live-both', { customerId: initech }), durationSeconds: 30 }] });
    expect(batch.results[0]).toMatchObject({ status: 'charged' });
    const ended = await endLiveCall(ctx, { callId: 'live-both', durationSeconds: 30 });
    expect(ended).toMatchObject({ outcome: 'duplicate', call: { status: 'ended', chargedElsewhere: true, holdStatus: 'released', amount: null } });
    expect(await wallet(initech)).toMatchObject({ pointsMicros: 940_000n, reservedMicros: 0n });
    // Charged by batch only, never live: ending it is a duplicate too, failing it a conflict.
    await ingestCalls(ctx, { records: [{ ...call('batch-only', { customerId: initech }), durationSeconds: 30 }] });
    expect(await endLiveCall(ctx, { callId: 'batch-only', durationSeconds: 30 })).toMatchObject({ outcome: 'duplicate', call: null });
    expect(await codeOf(failLiveCall(ctx, { callId: 'batch-only' }))).toBe('state_conflict');
    expect(await codeOf(startLiveCall(ctx, call('batch-only', { customerId: initech })))).toBe('state_conflict');
  });

  it('a call id charged elsewhere while the end is under way: the end starts over and ends it as a duplicate, charging nothing', async () => {
    await topUp(initech, 1_000_000n);
    await startLiveCall(ctx, call('live-race', { customerId: initech, maxSeconds: 60 }));
    const before = await wallet(initech);
    expect(before.reservedMicros).toBe(60_000n);
    // Another transaction (a batch, here written by hand) inserts the call id first and commits only once the end waits for it.
    let commit!: () => void;
    const committing = new Promise<void>((resolve) => (commit = resolve));
    let written!: () => void;
    const rowWritten = new Promise<void>((resolve) => (written = resolve));
    const other = db.owner.db.transaction().execute(async (trx) => {
      await sql`insert into usage_calls (id, partner_id, customer_id, call_id, from_number, to_number, direction, started_at, duration_seconds,
          billed_seconds, currency, price_micros, cost_micros) values ('cal_race_elsewhere', ${partnerId}, ${initech}, 'live-race', '6561234567',
          '6562223333', 'outbound', now(), 30, 0, 'SGD', 0, 0)`.execute(trx);
      written();
      await committing;
    });
    await rowWritten;
    const ending = endLiveCall(ctx, { callId: 'live-race', durationSeconds: 30 });
    // The end has posted its charge and now waits on the other transaction's call id (the calls' unique key).
    for (let waited = 0; ; waited += 10) {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(db.owner.db);
      if (rows[0]!.n > 0) break;
      if (waited > 10_000) throw new Error('the end never waited for the other transaction');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    commit();
    await other;
    expect(await ending).toMatchObject({ outcome: 'duplicate', call: { status: 'ended', chargedElsewhere: true, holdStatus: 'released', amount: null } });
    // Its first attempt's charge was rolled back with it: only the hold is gone.
    expect(await wallet(initech)).toMatchObject({ pointsMicros: before.pointsMicros, reservedMicros: 0n });
    const rows = await db.owner.db.selectFrom('usageCalls').select('id').where('callId', '=', 'live-race').execute();
    expect(rows).toEqual([{ id: 'cal_race_elsewhere' }]);
    expect(await checkLedger(db.owner.db)).toEqual([]);
  });

  it('lets the credit limit cover the hold when the plan says so (MYR plan, 30/6)', async () => {
    await setCreditLimit(ctx, { customerId: globex, amount: '0.30' });
    // 0.30 MYR of credit at 0.12/min: 30 s = 0.06, then 6 s blocks of 0.012: 150 s = 0.30.
    const started = await startLiveCall(ctx, call('live-myr', { customerId: globex, to: '+60312345678', from: '+60398765432', maxSeconds: 600 }));
    expect(started).toMatchObject({ currency: 'MYR', coveredSeconds: 150, hold: '0.300000' });
    const ended = await endLiveCall(ctx, { callId: 'live-myr', durationSeconds: 31 });
    expect(ended.call).toMatchObject({ billedSeconds: 36, amount: '0.072000' });
    expect(await wallet(globex, 'MYR')).toMatchObject({ pointsMicros: -72_000n, reservedMicros: 0n, usableMicros: 228_000n });
    expect(await checkLedger(db.owner.db)).toEqual([]);
  });

  it('inbound calls are free: no hold, a zero charge, a usage row', async () => {
    const started = await startLiveCall(ctx, call('live-in', { direction: 'inbound', from: '+442071234567', to: '+6561234567' }));
    expect(started).toMatchObject({ prefix: null, hold: '0.000000', holdStatus: null, coveredSeconds: 600 });
    const ended = await endLiveCall(ctx, { callId: 'live-in', durationSeconds: 500 });
    expect(ended).toMatchObject({ outcome: 'charged', call: { amount: '0.000000', billedSeconds: 0 } });
    expect(await db.owner.db.selectFrom('usageCalls').select(['priceMicros', 'entryId']).where('callId', '=', 'live-in').executeTakeFirstOrThrow()).toEqual({ priceMicros: '0', entryId: null });
  });

  it('names what is wrong: unknown or other partner\'s customer 422 customer_not_found, no rate 422, no plan 422, bad numbers 400, unknown call 404', async () => {
    expect(await codeOf(startLiveCall(ctx, call('x-1', { customerId: 'cus_00000000000000000000000000' })))).toBe('customer_not_found');
    expect(await codeOf(startLiveCall(ctx, call('x-2', { customerId: wombat })))).toBe('customer_not_found');
    expect(await codeOf(startLiveCall(ctx, call('x-3', { to: '+8612345678' })))).toBe('rule_violation');
    await db.owner.db.updateTable('ratePlans').set({ isDefault: false }).where('id', '=', MYR_PLAN).execute();
    expect(await codeOf(startLiveCall(ctx, call('x-4', { customerId: globex, to: '+60312345678' })))).toBe('rule_violation');
    await db.owner.db.updateTable('ratePlans').set({ isDefault: true }).where('id', '=', MYR_PLAN).execute();
    expect(await codeOf(startLiveCall(ctx, call('x-5', { to: 'call me' })))).toBe('validation_failed');
    expect(await codeOf(endLiveCall(ctx, { callId: 'never-started', durationSeconds: 1 }))).toBe('not_found');
    expect(await codeOf(failLiveCall(ctx, { callId: 'never-started' }))).toBe('not_found');
    expect(await db.owner.db.selectFrom('liveCalls').select('id').where('callId', 'like', 'x-%').execute()).toEqual([]);
  });
});

describe('live calls under concurrency', () => {
  it('racing starts never hold more than usable; racing ends of one call charge it once', async () => {
    await topUp(initech, 2_000_000n);
    const usable = (await wallet(initech)).usableMicros;
    const starts = await Promise.all(Array.from({ length: 16 }, (_, i) => startLiveCall(ctx, call(`race-${i}`, { customerId: initech, maxSeconds: 300 })).then(
      (c) => c, (e: unknown) => {
        if (e instanceof DomainError) return e.code;
        throw e;
      },
    )));
    const held = starts.filter((s) => typeof s !== 'string');
    const total = held.reduce((sum, c) => sum + parseDecimal(c.hold, 'SGD', 6)!, 0n);
    expect(total).toBeLessThanOrEqual(usable);
    expect(held.length).toBeGreaterThan(0);
    expect(starts.filter((s) => typeof s === 'string').every((s) => s === 'insufficient_points')).toBe(true);
    const w = await wallet(initech);
    expect(w.reservedMicros).toBe(total);
    expect(w.usableMicros >= 0n).toBe(true);

    const first = held[0]!;
    const ends = await Promise.all(Array.from({ length: 6 }, () => endLiveCall(ctx, { callId: first.callId, durationSeconds: 45 })));
    expect(ends.filter((e) => e.outcome === 'charged')).toHaveLength(1);
    expect(ends.filter((e) => e.outcome === 'duplicate')).toHaveLength(5);
    await Promise.all(held.slice(1).map((c, i) => (i % 2 === 0 ? failLiveCall(ctx, { callId: c.callId }) : endLiveCall(ctx, { callId: c.callId, durationSeconds: 200 }))));
    expect((await wallet(initech)).reservedMicros).toBe(0n);
    expect(await checkLedger(db.owner.db)).toEqual([]);
  });
});

describe('live calls with the partner\'s tax (ADR 0032)', () => {
  it('holds price and tax at the rate in force at start, and charges both at that rate when the call ends', async () => {
    await setTaxRate(900);
    try {
      await topUp(initech, 1_000_000n);
      const before = await wallet(initech);
      // 10 minutes at 0.06 and 9%: 0.60 + 0.054 held.
      const started = await startLiveCall(ctx, call('live-tax-1', { customerId: initech }));
      expect(started).toMatchObject({ coveredSeconds: 600, hold: '0.654000', taxCategory: 'standard' });
      expect((await wallet(initech)).reservedMicros - before.reservedMicros).toBe(654_000n);
      // The rate changes during the call: the call keeps the one it started with.
      await setTaxRate(800);
      const ended = await endLiveCall(ctx, { callId: 'live-tax-1', durationSeconds: 61 });
      // 2 minutes: 0.12 + 9% = 0.1308, of which 0.0108 tax.
      expect(ended.call).toMatchObject({ billedSeconds: 120, amount: '0.130800', tax: '0.010800' });
      const after = await wallet(initech);
      expect(before.pointsMicros - after.pointsMicros).toBe(130_800n);
      expect(after.reservedMicros).toBe(before.reservedMicros);
      const row = await db.owner.db.selectFrom('usageCalls').select(['priceMicros', 'taxMicros', 'taxRateBps', 'entryId']).where('callId', '=', 'live-tax-1').executeTakeFirstOrThrow();
      expect([row.priceMicros, row.taxMicros, row.taxRateBps]).toEqual(['120000', '10800', 900]);
      const postings = await db.owner.db.selectFrom('postings as p').innerJoin('ledgerAccounts as a', 'a.id', 'p.accountId')
        .select(['a.code', 'p.amountMicros']).where('p.entryId', '=', row.entryId!).orderBy('a.code').execute();
      expect(postings.map((p) => [p.code, p.amountMicros])).toEqual([
        ['cost:usage', '40000'], ['platform_payable', '-40000'], ['points', '130800'], ['revenue:usage', '-120000'], ['tax_payable', '-10800'],
      ]);
      expect(await checkLedger(db.owner.db)).toEqual([]);
    } finally {
      await setTaxRate(0);
    }
  });

  it('a call to a zero-rated destination holds and charges its price only, and is stored as zero-rated', async () => {
    await sql`insert into rates (rate_plan_id, partner_id, prefix, description, price_per_minute_micros, cost_per_minute_micros, tax_category)
              values (${PLAN}, ${partnerId}, '61', 'Australia', 120000, 50000, 'zero_rated')`.execute(db.owner.db);
    await setTaxRate(900);
    try {
      await topUp(initech, 1_000_000n);
      const before = await wallet(initech);
      // 5 minutes at 0.12, no tax: 0.60 held.
      const started = await startLiveCall(ctx, call('live-zero-1', { customerId: initech, to: '+61298765432', maxSeconds: 300 }));
      expect(started).toMatchObject({ coveredSeconds: 300, hold: '0.600000', taxCategory: 'zero_rated' });
      const ended = await endLiveCall(ctx, { callId: 'live-zero-1', durationSeconds: 90 });
      expect(ended.call).toMatchObject({ billedSeconds: 120, amount: '0.240000', tax: '0.000000' });
      const after = await wallet(initech);
      expect(before.pointsMicros - after.pointsMicros).toBe(240_000n);
      expect(after.reservedMicros).toBe(before.reservedMicros);
      const row = await db.owner.db.selectFrom('usageCalls').select(['priceMicros', 'taxMicros', 'taxRateBps', 'zeroRated', 'entryId']).where('callId', '=', 'live-zero-1').executeTakeFirstOrThrow();
      expect([row.priceMicros, row.taxMicros, row.taxRateBps, row.zeroRated]).toEqual(['240000', '0', 0, true]);
      const postings = await db.owner.db.selectFrom('postings as p').innerJoin('ledgerAccounts as a', 'a.id', 'p.accountId')
        .select(['a.code', 'p.amountMicros']).where('p.entryId', '=', row.entryId!).orderBy('a.code').execute();
      expect(postings.map((p) => [p.code, p.amountMicros])).toEqual([
        ['cost:usage', '100000'], ['platform_payable', '-100000'], ['points', '240000'], ['revenue:usage', '-240000'],
      ]);
      expect(await checkLedger(db.owner.db)).toEqual([]);
    } finally {
      await setTaxRate(0);
    }
  });

  it('refuses a call whose first block the points pay without its tax, but not with it (422)', async () => {
    await setTaxRate(900);
    try {
      // Acme, last: the tests before are done with its points.
      const empty = acme;
      const held = (await wallet(empty)).usableMicros;
      // Leave exactly one minute's price (0.06) usable, not its tax.
      const spare = held - 60_000n;
      if (spare > 0n) {
        await inScope(db.app.db, { kind: 'partner', partnerId }, (trx) => chargeWallet(trx, {
          wallet: { partnerId, customerId: empty, currency: 'SGD' }, amountMicros: spare, useCreditLimit: false,
          entry: { kind: 'adjustment', causeType: 'test', causeId: 'spend_to_0.06', description: 'Spend', auditEventId: null },
          counterPostings: [{ code: 'card_clearing', amountMicros: -spare }],
        }));
      } else {
        await topUp(empty, 60_000n - held);
      }
      expect((await wallet(empty)).usableMicros).toBe(60_000n);
      expect(await codeOf(startLiveCall(ctx, call('live-tax-short', { customerId: empty })))).toBe('insufficient_points');
      await topUp(empty, 5_400n);
      expect(await startLiveCall(ctx, call('live-tax-enough', { customerId: empty }))).toMatchObject({ coveredSeconds: 60, hold: '0.065400' });
      await failLiveCall(ctx, { callId: 'live-tax-enough' });
    } finally {
      await setTaxRate(0);
    }
  });
});

describe('coverage', () => {
  const rate = (price: bigint, first: number, next: number, minimum = 0n, taxRateBps = 0) => ({
    prefix: '65', plan: { firstIncrementSeconds: first, nextIncrementSeconds: next, minimumChargeMicros: minimum, rates: [{ prefix: '65', pricePerMinuteMicros: price, costPerMinuteMicros: 0n }] },
    taxRateBps,
  });
  it('holds the whole call when covered, else the longest covered run of blocks, else nothing', () => {
    expect(coverage(rate(60_000n, 60, 60), 600, 10_000_000n)).toEqual({ coveredSeconds: 600, holdMicros: 600_000n });
    expect(coverage(rate(60_000n, 60, 60), 90, 10_000_000n)).toEqual({ coveredSeconds: 90, holdMicros: 120_000n });
    expect(coverage(rate(60_000n, 60, 60), 600, 599_999n)).toEqual({ coveredSeconds: 540, holdMicros: 540_000n });
    expect(coverage(rate(60_000n, 60, 60), 600, 59_999n)).toBeNull();
    expect(coverage(rate(60_000n, 30, 6, 50_000n), 600, 55_000n)).toEqual({ coveredSeconds: 54, holdMicros: 54_000n });
    expect(coverage(rate(0n, 1, 1), 600, 0n)).toEqual({ coveredSeconds: 600, holdMicros: 0n });
    expect(coverage(null, 100, -5n)).toEqual({ coveredSeconds: 100, holdMicros: 0n });
  });
  it('holds price and tax: the points cover fewer blocks when the partner charges tax (ADR 0032)', () => {
    // 0.06 a minute + 9% = 0.0654 a minute: 6.54 covers 100 minutes exactly, one micro less covers 99.
    expect(coverage(rate(60_000n, 60, 60, 0n, 900), 6000, 6_540_000n)).toEqual({ coveredSeconds: 6000, holdMicros: 6_540_000n });
    expect(coverage(rate(60_000n, 60, 60, 0n, 900), 6000, 6_539_999n)).toEqual({ coveredSeconds: 5940, holdMicros: 6_474_600n });
    // The first block's price fits, its tax does not: nothing is covered.
    expect(coverage(rate(60_000n, 60, 60, 0n, 900), 600, 60_000n)).toBeNull();
    // Tax to the micro, half away from zero: 30 s of 0.20544/min = 0.10272, tax 0.0092448 -> 0.009245.
    expect(coverage(rate(205_440n, 30, 30, 0n, 900), 30, 1_000_000n)).toEqual({ coveredSeconds: 30, holdMicros: 102_720n + 9_245n });
  });
});
