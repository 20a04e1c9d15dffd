import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../platform/clock.ts';
import fc from 'fast-check';
import { createTestDb, type TestDb } from '../test/harness.ts';
import { inScope, type Trx } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { checkLedger } from './check-ledger.ts';
import { chargeWallet, creditWallet } from '../wallet/charge-wallet.ts';
import { releaseReservation, reservePoints, settleReservation } from '../wallet/reservations.ts';
import { readWallet } from '../wallet/wallets.repo.ts';
import { ingestCalls } from '../usage/ingest-calls.ts';

/**
 * Random sequences of top-ups, charges, call batches (through ingestCalls and its group commit), holds settled or
 * released, and credit issued or taken back, run over
 * 8 parallel connections against a few customers. Afterwards: every entry balances, every currency sums to zero,
 * every account balance equals its postings, no usable balance is below zero, and each customer's points equal
 * what the successful operations say they should be.
 */
let db: TestDb;
let partnerId: string;
let customers: string[];

beforeAll(async () => {
  db = await createTestDb();
  partnerId = (await db.owner.db.selectFrom('partners').select('id').where('slug', '=', 'demo-telecom').executeTakeFirstOrThrow()).id;
  // Three customers in SGD, the currency this test follows (the seed has two; a wallet opens only in its customer's currency).
  await db.owner.db.insertInto('customers').values({ id: 'cus_property000000000000', partnerId, name: 'Property Pte Ltd', currency: 'SGD' }).execute();
  customers = (await db.owner.db.selectFrom('customers').select('id').where('partnerId', '=', partnerId).where('currency', '=', 'SGD').orderBy('id').execute()).map((c) => c.id);
  await db.owner.db.updateTable('ratePlans').set({ isDefault: false }).where('partnerId', '=', partnerId).where('currency', '=', 'SGD').execute();
  await db.owner.db.insertInto('ratePlans').values({ id: 'rpl_property000000000000', partnerId, name: 'Property SGD', currency: 'SGD', firstIncrementSeconds: 30, nextIncrementSeconds: 6, minimumChargeMicros: 0n, isDefault: true }).execute();
  await db.owner.db.insertInto('rates').values({ ratePlanId: 'rpl_property000000000000', partnerId, prefix: '65', description: 'Singapore', pricePerMinuteMicros: 600_000n, costPerMinuteMicros: 200_000n }).execute();
});
afterAll(async () => db.drop());

type Op =
  | { kind: 'top_up'; customer: number; micros: bigint }
  | { kind: 'charge'; customer: number; micros: bigint }
  | { kind: 'hold'; customer: number; micros: bigint; settleMicros: bigint | null }
  | { kind: 'issue'; customer: number; micros: bigint }
  | { kind: 'take_back'; customer: number; micros: bigint }
  | { kind: 'calls'; customer: number; seconds: number[] };

const micros = fc.bigInt({ min: 1n, max: 50_000_000n });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('top_up' as const), customer: fc.nat(2), micros }),
  fc.record({ kind: fc.constant('charge' as const), customer: fc.nat(2), micros }),
  fc.record({ kind: fc.constant('hold' as const), customer: fc.nat(2), micros, settleMicros: fc.option(fc.bigInt({ min: 0n, max: 60_000_000n }), { nil: null }) }),
  fc.record({ kind: fc.constant('issue' as const), customer: fc.nat(2), micros }),
  fc.record({ kind: fc.constant('take_back' as const), customer: fc.nat(2), micros }),
  fc.record({ kind: fc.constant('calls' as const), customer: fc.nat(2), seconds: fc.array(fc.integer({ min: 0, max: 3_600 }), { minLength: 1, maxLength: 20 }) }),
);

/** Call batches go through the real use case (group commit included), against an SGD plan: 0.60 per minute, 30/6 increments. */
const callCtx = (): Ctx => ({
  db: db.app.db, config: testConfig(), log: pino({ level: 'silent' }), requestId: 'req_property_calls', ip: null, userAgent: null, clock: systemClock,
  principal: { kind: 'api_key', keyId: 'key_property', partnerId, name: 'switch', apps: new Set(['customer']) },
});
let callSeq = 0;

const tx = <T>(fn: (trx: Trx) => Promise<T>) => inScope(db.app.db, { kind: 'partner', partnerId }, fn);
let seq = 0;
const entry = (kind: string) => ({ kind, causeType: 'property', causeId: `op_${seq++}`, description: kind, auditEventId: null });

/** Runs one operation; returns the change of points it made (0 when refused for lack of points). */
async function run(o: Op): Promise<bigint> {
  const wallet = { partnerId, customerId: customers[o.customer]!, currency: 'SGD' };
  try {
    switch (o.kind) {
      case 'top_up':
        await tx((trx) => creditWallet(trx, { wallet, amountMicros: o.micros, entry: entry('top_up'), counterPostings: [{ code: 'card_clearing', amountMicros: o.micros }] }));
        return o.micros;
      case 'issue':
        await tx((trx) => creditWallet(trx, { wallet, amountMicros: o.micros, entry: entry('points_issued'), counterPostings: [{ code: 'sales_returns', amountMicros: o.micros }] }));
        return o.micros;
      case 'charge':
      case 'take_back':
        await tx((trx) => chargeWallet(trx, {
          wallet, amountMicros: o.micros, useCreditLimit: false, entry: entry(o.kind === 'charge' ? 'call_charge' : 'points_taken_back'),
          counterPostings: o.kind === 'charge'
            ? [{ code: 'revenue:usage', amountMicros: -o.micros }]
            : [{ code: 'sales_returns', amountMicros: -o.micros }],
        }));
        return -o.micros;
      case 'calls': {
        const customerId = customers[o.customer]!;
        const res = await ingestCalls(callCtx(), {
          records: o.seconds.map((durationSeconds) => ({
            callId: `prop-${callSeq++}`, customerId, from: '+6561234567', to: '+6567778888', startedAt: '2026-11-30T04:32:00Z', durationSeconds, direction: 'outbound',
          })),
        });
        // Points only move in the SGD wallets this test follows.
        return res.results.reduce((sum, r) => (r.status === 'charged' && r.currency === 'SGD' ? sum - parseDecimal(r.amount, 'SGD', 6)! : sum), 0n);
      }
      case 'hold': {
        const causeId = `hold_${seq++}`;
        const hold = await tx((trx) => reservePoints(trx, { wallet, amountMicros: o.micros, useCreditLimit: false, causeType: 'call', causeId, ttlSeconds: 600 }));
        if (o.settleMicros === null) {
          await tx((trx) => releaseReservation(trx, { partnerId, reservationId: hold.id }));
          return 0n;
        }
        const charge = o.settleMicros;
        try {
          await tx((trx) => settleReservation(trx, {
            partnerId, reservationId: hold.id,
            charge: charge === 0n ? null : { amountMicros: charge, useCreditLimit: false, entry: entry('call_charge'), counterPostings: [{ code: 'revenue:usage', amountMicros: -charge }] },
          }));
          return -charge;
        } catch (err) {
          // The actual charge was above what the hold plus usable points cover: the call is cut off, the hold released.
          if (err instanceof DomainError && err.code === 'insufficient_points') {
            await tx((trx) => releaseReservation(trx, { partnerId, reservationId: hold.id }));
            return 0n;
          }
          throw err;
        }
      }
    }
  } catch (err) {
    if (err instanceof DomainError && err.code === 'insufficient_points') return 0n;
    throw err;
  }
}

describe('ledger properties under concurrency', () => {
  it('random operations on 8 connections keep every invariant', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 16, maxLength: 64 }), async (ops) => {
        const start = await Promise.all(customers.slice(0, 3).map(async (c) => (await tx((trx) => readWallet(trx, { partnerId, customerId: c, currency: 'SGD' })))?.pointsMicros ?? 0n));
        const expected = [...start];
        const queue = [...ops];
        await Promise.all(Array.from({ length: 8 }, async () => {
          for (let o = queue.shift(); o; o = queue.shift()) {
            const change = await run(o);
            expected[o.customer]! += change;
          }
        }));
        for (let i = 0; i < 3; i++) {
          const w = await tx((trx) => readWallet(trx, { partnerId, customerId: customers[i]!, currency: 'SGD' }));
          expect(w?.pointsMicros ?? 0n).toBe(expected[i]);
          expect(w?.reservedMicros ?? 0n).toBe(0n);
          expect((w?.usableMicros ?? 0n) >= 0n).toBe(true);
        }
        expect(await checkLedger(db.owner.db)).toEqual([]);
      }),
      { numRuns: 15 },
    );
  }, 120_000);
});

// --- Finance's points, through its use cases (src/finance), racing spends and holds on the same wallets ---
// (Imports placed with the test that needs them; ES module imports are hoisted.)
import pino from 'pino';
import { testConfig } from '../test/harness.ts';
import type { Ctx } from '../platform/context.ts';
import { formatDecimal, parseDecimal } from '../money/money.ts';
import { issuePoints } from '../finance/issue-points.ts';
import { takeBackPoints } from '../finance/take-back-points.ts';

type FinanceOp =
  | { kind: 'issue' | 'take_back' | 'spend'; customer: number; cents: number }
  | { kind: 'hold'; customer: number; cents: number; settleCents: number | null };

const financeOp: fc.Arbitrary<FinanceOp> = fc.oneof(
  fc.record({ kind: fc.constantFrom('issue' as const, 'take_back' as const, 'spend' as const), customer: fc.nat(1), cents: fc.integer({ min: 1, max: 5_000 }) }),
  fc.record({ kind: fc.constant('hold' as const), customer: fc.nat(1), cents: fc.integer({ min: 1, max: 3_000 }), settleCents: fc.option(fc.integer({ min: 0, max: 3_000 }), { nil: null }) }),
);

describe('points issued and taken back by Finance, under concurrency', () => {
  it('random issues, take-backs, spends and holds on 8 connections: take-backs never overdraw, every entry names its audit event', async () => {
    const sgd = (await db.owner.db.selectFrom('customers').select('id').where('partnerId', '=', partnerId).where('currency', '=', 'SGD').orderBy('id').execute()).map((c) => c.id);
    const financeUser = await db.owner.db.selectFrom('users').select('id').where('email', '=', 'finance@demo.test').executeTakeFirstOrThrow();
    const ctx: Ctx = {
      db: db.app.db, config: testConfig(), log: pino({ level: 'silent' }), requestId: 'req_property', ip: null, userAgent: null, clock: systemClock,
      principal: { kind: 'staff', userId: financeUser.id, partnerId, email: 'finance@demo.test', name: 'Fiona Finance', apps: new Set(['finance']), sessionId: 'ses_property' },
    };
    const micros = (cents: number) => BigInt(cents) * 10_000n;

    /** The change of points one operation made, and whether it was a Finance adjustment that succeeded. */
    async function runFinance(o: FinanceOp): Promise<{ change: bigint; adjusted: boolean }> {
      const customerId = sgd[o.customer]!;
      const wallet = { partnerId, customerId, currency: 'SGD' };
      const amount = formatDecimal(micros(o.cents), 'SGD');
      try {
        switch (o.kind) {
          case 'issue':
            await issuePoints(ctx, { customerId, amount, reason: 'property: issue' });
            return { change: micros(o.cents), adjusted: true };
          case 'take_back':
            await takeBackPoints(ctx, { customerId, amount, reason: 'property: take back' });
            return { change: -micros(o.cents), adjusted: true };
          case 'spend':
            await tx((trx) => chargeWallet(trx, { wallet, amountMicros: micros(o.cents), useCreditLimit: false, entry: entry('call_charge'), counterPostings: [{ code: 'revenue:usage', amountMicros: -micros(o.cents) }] }));
            return { change: -micros(o.cents), adjusted: false };
          case 'hold': {
            const hold = await tx((trx) => reservePoints(trx, { wallet, amountMicros: micros(o.cents), useCreditLimit: false, causeType: 'property', causeId: `fhold_${seq++}`, ttlSeconds: 600 }));
            const settle = o.settleCents === null ? null : Math.min(o.settleCents, o.cents);
            if (settle === null) {
              await tx((trx) => releaseReservation(trx, { partnerId, reservationId: hold.id }));
              return { change: 0n, adjusted: false };
            }
            await tx((trx) => settleReservation(trx, {
              partnerId, reservationId: hold.id,
              charge: settle === 0 ? null : { amountMicros: micros(settle), useCreditLimit: false, entry: entry('call_charge'), counterPostings: [{ code: 'revenue:usage', amountMicros: -micros(settle) }] },
            }));
            return { change: -micros(settle), adjusted: false };
          }
        }
      } catch (err) {
        if (err instanceof DomainError && err.code === 'insufficient_points') return { change: 0n, adjusted: false };
        throw err;
      }
    }

    await fc.assert(
      fc.asyncProperty(fc.array(financeOp, { minLength: 16, maxLength: 48 }), async (ops) => {
        const points = async () => Promise.all(sgd.map(async (c) => (await tx((trx) => readWallet(trx, { partnerId, customerId: c, currency: 'SGD' })))?.pointsMicros ?? 0n));
        const expected = await points();
        const eventsBefore = Number((await db.owner.db.selectFrom('auditEvents').select((eb) => eb.fn.countAll<string>().as('n')).where('action', 'in', ['points.issued', 'points.taken_back']).executeTakeFirstOrThrow()).n);
        let adjustments = 0;
        const queue = [...ops];
        await Promise.all(Array.from({ length: 8 }, async () => {
          for (let o = queue.shift(); o; o = queue.shift()) {
            const { change, adjusted } = await runFinance(o);
            expected[o.customer]! += change;
            if (adjusted) adjustments++;
          }
        }));
        expect(await points()).toEqual(expected);
        for (const c of sgd) {
          const w = await tx((trx) => readWallet(trx, { partnerId, customerId: c, currency: 'SGD' }));
          expect(w?.reservedMicros ?? 0n).toBe(0n);
          expect((w?.pointsMicros ?? 0n) >= 0n).toBe(true);
        }
        const eventsAfter = Number((await db.owner.db.selectFrom('auditEvents').select((eb) => eb.fn.countAll<string>().as('n')).where('action', 'in', ['points.issued', 'points.taken_back']).executeTakeFirstOrThrow()).n);
        expect(eventsAfter - eventsBefore).toBe(adjustments);
        const orphans = await db.owner.db
          .selectFrom('journalEntries as e').leftJoin('auditEvents as a', 'a.id', 'e.auditEventId')
          .select('e.id').where('e.kind', 'in', ['points_issued', 'points_taken_back']).where('e.causeType', '=', 'finance_adjustment')
          .where((eb) => eb.or([eb('a.id', 'is', null), eb('a.customerId', '!=', eb.ref('e.customerId'))]))
          .execute();
        expect(orphans).toEqual([]);
        expect(await checkLedger(db.owner.db)).toEqual([]);
      }),
      { numRuns: 12 },
    );
  }, 180_000);
});
