import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import pino from 'pino';
import { api, createTestApp, partnerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';
import type { Ctx } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { checkLedger } from '../ledger/check-ledger.ts';
import { chargeWallet } from '../wallet/charge-wallet.ts';
import { isWholeMinorUnits, microsPerMinorUnit, parseDecimal, type Currency } from '../money/money.ts';
import { ingestCalls } from '../usage/ingest-calls.ts';
import { givePoints } from '../subscriptions/renewals/renewals.fixtures.ts';
import { splitPointsTakeBack } from './reverse-payment.ts';
import { balanceOf, expectSound, invoiceState, newCustomer, pointsOf, record } from './payments.test-kit.ts';

/**
 * Fix for the acceptance review's debit note of 8.84112: points spent by call charges (six decimals) beyond what the
 * reversal can take back are billed in whole minor units, rounded UP; the difference (< one minor unit) stays on the
 * customer's points in the same entry (splitPointsTakeBack; docs/adr/0015-credit-notes.md, amendment 2026-12-05).
 */
let t: TestApp;
let finance: Session;
let demo: string;
let switchCtx: Ctx;

beforeAll(async () => {
  t = await createTestApp();
  finance = await signIn(t, 'finance@demo.test');
  demo = await partnerIdOf(t.db, 'demo-telecom');
  // The test template has no rate plan (seedDemo activity: false): one whose Singapore mobile minute costs 0.41088.
  await t.db.owner.db.insertInto('ratePlans').values({
    id: 'rpl_rounding000000000000', partnerId: demo, name: 'Rounding SGD', currency: 'SGD', firstIncrementSeconds: 30, nextIncrementSeconds: 6,
    minimumChargeMicros: 0n, isDefault: true,
  }).execute();
  await t.db.owner.db.insertInto('rates').values({
    ratePlanId: 'rpl_rounding000000000000', partnerId: demo, prefix: '6591', description: 'Singapore mobile', pricePerMinuteMicros: 410_880n, costPerMinuteMicros: 240_000n,
  }).execute();
  // The review's figures are of calls charged without tax (ADR 0032 adds the partner's tax to each call).
  await sql`update partner_settings set tax_rate_bps = 0 where partner_id = ${demo}`.execute(t.db.owner.db);
  switchCtx = {
    db: t.db.app.db, config: t.config, log: pino({ level: 'silent' }), requestId: 'req_rounding', ip: '127.0.0.1', userAgent: 'test', clock: t.clock,
    principal: { kind: 'api_key', keyId: 'key_rounding', partnerId: demo, name: 'switch', apps: new Set(['customer']) },
  };
});
afterAll(async () => t.close());

const allocate = (id: string, body: unknown) => api(t, finance, 'POST', `/api/v1/payments/${id}/allocate`, body);
const reverse = (id: string) => api(t, finance, 'POST', `/api/v1/payments/${id}/reverse`, { reason: 'Cheque bounced' });
let calls = 0;

/** A 10.00 cheque (or `amount`), allocated with auto + leftover to points. */
async function paidToPoints(customerId: string, amount = '10.00'): Promise<{ id: string; receiptNumber: string }> {
  const res = await record(t, finance, { amount, method: 'cheque', customerId });
  expect(res.statusCode, res.body).toBe(201);
  const pay = res.json<{ id: string; receiptNumber: string }>();
  const alloc = await allocate(pay.id, { auto: true, leftover: 'points' });
  expect(alloc.statusCode, alloc.body).toBe(200);
  return pay;
}

/** Spend exactly `micros` of the customer's points (a usage charge: Dr points · Cr revenue:usage). */
async function spend(customerId: string, micros: bigint): Promise<void> {
  await inScope(t.db.app.db, { kind: 'partner', partnerId: demo }, (trx) => chargeWallet(trx, {
    wallet: { partnerId: demo, customerId, currency: 'SGD' }, amountMicros: micros, useCreditLimit: true,
    entry: { kind: 'call_charge', causeType: 'test', causeId: `spend_${++calls}`, description: 'Usage', auditEventId: null },
    counterPostings: [{ code: 'revenue:usage', amountMicros: -micros }],
  }));
}

describe('payment reversal: points spent in micros are billed on a whole-cent debit note', () => {
  it('the review\'s scenario: 10.00 to points, a call of 9.039360, reversed: debit note 8.85 (not 8.84112), 0.00888 back to points, one balanced entry', async () => {
    const c = await newCustomer(t, finance);
    // What the customer already had (so that the figures are the review's: 8.84112 spent beyond what is taken back).
    await givePoints(t.db.app.db, { partnerId: demo, customerId: c, micros: 198_240n });
    const pay = await paidToPoints(c);
    const call = await ingestCalls(switchCtx, { records: [{
      callId: 'rounding-1', customerId: c, from: '+6561234567', to: '+6591234567', startedAt: '2026-11-30T04:32:00Z', durationSeconds: 22 * 60, direction: 'outbound',
    }] });
    expect(call.results[0]).toMatchObject({ status: 'charged', amount: '9.039360' });
    expect(await pointsOf(t, c)).toBe(1_158_880n);
    const receivableBefore = await balanceOf(t, 'receivable', c);

    const res = await reverse(pay.id);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      pointsCreated: '10.00', pointsTakenBack: '1.15888', intoCreditLimit: '0.00', toReceivable: '8.85', roundingToPoints: '0.00888',
      pointsOutcome: 'receivable', pointsAfter: '0.00888', debitNote: { amount: '8.85', number: expect.stringMatching(/^INV-/) },
    });
    expect(await pointsOf(t, c)).toBe(8_880n);
    expect(await balanceOf(t, 'receivable', c)).toBe(receivableBefore + 8_850_000n);

    const note = await t.db.owner.db.selectFrom('invoices').select(['subtotalMicros', 'totalMicros', 'amountDueMicros', 'taxMicros', 'notes'])
      .where('id', '=', body.debitNote.id).executeTakeFirstOrThrow();
    expect(note).toMatchObject({ subtotalMicros: '8850000', totalMicros: '8850000', amountDueMicros: '8850000', taxMicros: '0' });
    expect(note.notes).toContain('Points spent: 8.84112 SGD');
    const lines = await t.db.owner.db.selectFrom('invoiceLines').select(['unitAmountMicros', 'grossMicros', 'amountMicros']).where('invoiceId', '=', body.debitNote.id).execute();
    expect(lines).toEqual([{ unitAmountMicros: '8850000', grossMicros: '8850000', amountMicros: '8850000' }]);
    // One entry: Dr receivable 8.85 · Cr points 8.85 (8.84112 restoring what was spent, 0.00888 left on the points); it balances.
    const postings = await t.db.owner.db.selectFrom('postings as p').innerJoin('journalEntries as e', 'e.id', 'p.entryId').innerJoin('ledgerAccounts as a', 'a.id', 'p.accountId')
      .select(['e.id as entryId', 'a.code', 'p.amountMicros']).where('e.causeId', '=', body.debitNote.id).orderBy('a.code').execute();
    expect(postings.map((p) => [p.code, p.amountMicros])).toEqual([['points', '-8850000'], ['receivable', '8850000']]);
    expect(new Set(postings.map((p) => p.entryId)).size).toBe(1);
    expect(postings.reduce((s, p) => s + BigInt(p.amountMicros), 0n)).toBe(0n);
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
    await expectSound(t);

    // Whole cents: the customer settles it like any invoice, with a payment of 8.85; the receivable clears.
    const settle = (await record(t, finance, { amount: '8.85', customerId: c })).json<{ id: string }>();
    const paid = await allocate(settle.id, { allocations: [{ invoiceId: body.debitNote.id, amount: '8.85' }] });
    expect(paid.statusCode, paid.body).toBe(200);
    expect(await invoiceState(t, body.debitNote.id)).toMatchObject({ status: 'paid', amountDueMicros: '0' });
    expect(await balanceOf(t, 'receivable', c)).toBe(receivableBefore);
    await expectSound(t);
  });

  it('a shortfall already in whole cents is billed as it is, with nothing back to points', async () => {
    const c = await newCustomer(t, finance);
    const pay = await paidToPoints(c, '8.00');
    await spend(c, 7_500_000n);
    const res = await reverse(pay.id);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ pointsTakenBack: '0.50', toReceivable: '7.50', roundingToPoints: '0.00', pointsAfter: '0.00', debitNote: { amount: '7.50' } });
    expect(await pointsOf(t, c)).toBe(0n);
    await expectSound(t);
  });

  it('property (API, several spent amounts and credit limits): the debit note is whole cents, within a cent above the shortfall; points never below zero; the books stay sound', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.bigInt({ min: 1n, max: 10_000_000n }), // spent of the 10.00 (and of any points the customer had)
        fc.bigInt({ min: 0n, max: 999_999n }), // points the customer already had, sub-cent included
        fc.constantFrom('0.00', '0.00', '1.50'), // credit limit
        async (spent, had, limit) => {
          const c = await newCustomer(t, finance);
          if (had > 0n) await givePoints(t.db.app.db, { partnerId: demo, customerId: c, micros: had });
          if (limit !== '0.00') expect((await api(t, finance, 'PUT', `/api/v1/customers/${c}/credit-limit`, { amount: limit })).statusCode).toBe(200);
          const pay = await paidToPoints(c);
          await spend(c, spent + had);
          const res = await reverse(pay.id);
          expect(res.statusCode, res.body).toBe(200);
          const body = res.json();
          const wallet = await t.db.owner.db.selectFrom('wallets').select(['creditLimitMicros', 'reservedMicros']).where('customerId', '=', c).executeTakeFirstOrThrow();
          const usable = (await pointsOf(t, c)) - BigInt(wallet.reservedMicros) + BigInt(wallet.creditLimitMicros);
          expect(usable).toBeGreaterThanOrEqual(0n);
          if (body.debitNote) {
            const note = await t.db.owner.db.selectFrom('invoices').select(['totalMicros', 'amountDueMicros']).where('id', '=', body.debitNote.id).executeTakeFirstOrThrow();
            expect(isWholeMinorUnits(BigInt(note.totalMicros), 'SGD')).toBe(true);
            expect(note.amountDueMicros).toBe(note.totalMicros);
            // Everything usable was taken back; what is left is the rounding, less than a cent.
            expect(usable).toBe(parseDecimal(body.roundingToPoints, 'SGD', 6));
            expect(usable).toBeLessThan(10_000n);
          } else {
            expect(body.toReceivable).toBe('0.00');
          }
        },
      ),
      { numRuns: 12 },
    );
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
    await expectSound(t);
  });
});

describe('splitPointsTakeBack (pure): the rounding rule', () => {
  const wallet = fc.record({
    pointsMicros: fc.bigInt({ min: -5_000_000n, max: 20_000_000n }),
    reservedMicros: fc.bigInt({ min: 0n, max: 3_000_000n }),
    creditLimitMicros: fc.bigInt({ min: 0n, max: 50n }).map((c) => c * 100_000n),
  });
  it.each(['SGD', 'VND', 'JPY', 'USD'] as const)('%s: receivable whole minor units, covering the shortfall by less than one; usable never made negative by it', (currency: Currency) => {
    const unit = microsPerMinorUnit(currency);
    fc.assert(fc.property(wallet, fc.bigInt({ min: 0n, max: 30_000_000n }), (before, taking) => {
      const s = splitPointsTakeBack(before, taking, currency);
      expect(isWholeMinorUnits(s.toReceivableMicros, currency)).toBe(true);
      expect(s.roundingToPointsMicros).toBe(s.toReceivableMicros - s.shortfallMicros);
      expect(s.roundingToPointsMicros >= 0n && s.roundingToPointsMicros < unit).toBe(true);
      expect(s.takenMicros + s.shortfallMicros).toBe(taking);
      expect(s.takenMicros >= 0n && s.intoCreditLimitMicros >= 0n && s.intoCreditLimitMicros <= s.takenMicros).toBe(true);
      // The wallet after the reversal and its debit note: points less what is taken, plus the rounding back.
      const usableBefore = before.pointsMicros - before.reservedMicros + before.creditLimitMicros;
      const usableAfter = usableBefore - s.takenMicros + s.roundingToPointsMicros;
      if (usableBefore >= 0n) expect(usableAfter).toBeGreaterThanOrEqual(0n);
      if (s.shortfallMicros > 0n) expect(s.outcome).toBe('receivable');
      else expect(s.toReceivableMicros).toBe(0n);
    }), { numRuns: 2_000 });
  });

  it('8.84112 SGD spent beyond the credit limit bills 8.85 and gives 0.00888 back; 8.84 bills 8.84', () => {
    const before = { pointsMicros: 1_158_880n, reservedMicros: 0n, creditLimitMicros: 0n };
    expect(splitPointsTakeBack(before, 10_000_000n, 'SGD')).toEqual({
      takenMicros: 1_158_880n, intoCreditLimitMicros: 0n, shortfallMicros: 8_841_120n, toReceivableMicros: 8_850_000n, roundingToPointsMicros: 8_880n, outcome: 'receivable',
    });
    expect(splitPointsTakeBack({ ...before, pointsMicros: 1_160_000n }, 10_000_000n, 'SGD')).toMatchObject({ toReceivableMicros: 8_840_000n, roundingToPointsMicros: 0n });
    expect(splitPointsTakeBack(null, 10_000_000n, 'SGD').outcome).toBe('none');
  });
});
