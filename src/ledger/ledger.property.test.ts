import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createTestDb, type TestDb } from '../test/harness.ts';
import { inScope, type Trx } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { checkLedger } from './check-ledger.ts';
import { chargeWallet, creditWallet } from '../wallet/charge-wallet.ts';
import { releaseReservation, reservePoints, settleReservation } from '../wallet/reservations.ts';
import { readWallet } from '../wallet/wallets.repo.ts';

/**
 * Random sequences of top-ups, charges, holds settled or released, and credit issued or taken back, run over
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
  customers = (await db.owner.db.selectFrom('customers').select('id').where('partnerId', '=', partnerId).orderBy('id').execute()).map((c) => c.id);
});
afterAll(async () => db.drop());

type Op =
  | { kind: 'top_up'; customer: number; micros: bigint }
  | { kind: 'charge'; customer: number; micros: bigint }
  | { kind: 'hold'; customer: number; micros: bigint; settleMicros: bigint | null }
  | { kind: 'issue'; customer: number; micros: bigint }
  | { kind: 'take_back'; customer: number; micros: bigint };

const micros = fc.bigInt({ min: 1n, max: 50_000_000n });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('top_up' as const), customer: fc.nat(2), micros }),
  fc.record({ kind: fc.constant('charge' as const), customer: fc.nat(2), micros }),
  fc.record({ kind: fc.constant('hold' as const), customer: fc.nat(2), micros, settleMicros: fc.option(fc.bigInt({ min: 0n, max: 60_000_000n }), { nil: null }) }),
  fc.record({ kind: fc.constant('issue' as const), customer: fc.nat(2), micros }),
  fc.record({ kind: fc.constant('take_back' as const), customer: fc.nat(2), micros }),
);

const tx = <T>(fn: (trx: Trx) => Promise<T>) => inScope(db.app.db, { kind: 'partner', partnerId }, fn);
let seq = 0;
const entry = (kind: string) => ({ kind, causeType: 'property', causeId: `op_${seq++}`, description: kind, auditEventId: null });

/** Runs one operation; returns the change of points it made (0 when refused for lack of points). */
async function run(o: Op): Promise<bigint> {
  const wallet = { partnerId, customerId: customers[o.customer]!, currency: customers[o.customer] ? 'SGD' : 'SGD' };
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
