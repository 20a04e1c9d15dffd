import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sql } from 'kysely';
import { api, createTestApp, signIn, type Session, type TestApp } from '../test/harness.ts';
import { checkLedger } from '../ledger/check-ledger.ts';
import { inScope } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { newCustomer, newInvoice, record } from '../payments/payments.test-kit.ts';
import { assertReversalKeepsCreditNotes } from './reversal-guard.ts';

/**
 * Section 6 of issue 6: random sequences of payments (record + allocate), reversals and credit notes, through the API.
 * After every sequence: each invoice's amount due = total - active allocations - credits that reduced its due, within
 * [0, total]; each payment's active allocations never exceed it; issued credit notes stay within invariant 7; checkLedger
 * (invariants 1-5, 7) is clean. Refusals (4xx) are expected outcomes of random input and must write nothing harmful.
 * Reversals that would leave points/refund credit notes above what is paid are refused by reversal-guard.ts (called by
 * reverse-payment.ts): the sequence attempts them and expects the refusal.
 */
let t: TestApp;
let finance: Session;

beforeAll(async () => {
  t = await createTestApp();
  finance = await signIn(t, 'finance@demo.test');
});
afterAll(async () => t.close());

type Cmd =
  | { kind: 'pay'; invoice: number; cents: number; leftover: 'keep' | 'points' }
  | { kind: 'reverse'; payment: number }
  | { kind: 'credit'; invoice: number; cents: number | null; outcome: 'reduce_due' | 'points' | 'refund' };

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({ kind: fc.constant('pay' as const), invoice: fc.nat(2), cents: fc.integer({ min: 1, max: 9000 }), leftover: fc.constantFrom('keep' as const, 'points' as const) }),
  fc.record({ kind: fc.constant('reverse' as const), payment: fc.nat(5) }),
  fc.record({ kind: fc.constant('credit' as const), invoice: fc.nat(2), cents: fc.option(fc.integer({ min: 1, max: 9000 }), { nil: null }), outcome: fc.constantFrom('reduce_due' as const, 'points' as const, 'refund' as const) }),
);

const money = (cents: number) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;

async function invariantsHold(): Promise<void> {
  const db = t.db.owner.db;
  expect(await checkLedger(db)).toEqual([]);
  const invoices = await sql<{ id: string }>`
    select i.id from invoices i
    where i.status <> 'void' and (
      i.amount_due_micros <> i.total_micros - i.amount_paid_micros - i.amount_credited_micros
      or i.amount_due_micros < 0 or i.amount_due_micros > i.total_micros
      or i.amount_credited_micros <> coalesce((select sum(n.total_micros) from credit_notes n where n.invoice_id = i.id and n.status = 'issued' and n.outcome = 'reduce_due'), 0)
      or (i.type = 'purchase' and i.amount_paid_micros <> coalesce((select sum(p.amount_micros) from invoice_payments p where p.invoice_id = i.id), 0)
        - coalesce((select sum(a.amount_micros) from payment_allocations a where a.invoice_id = i.id and a.reversed_by is not null), 0)))`.execute(db);
  expect(invoices.rows).toEqual([]);
  const payments = await sql<{ id: string }>`
    select p.id from payments p left join payment_allocations a on a.payment_id = p.id
    group by p.id
    having coalesce(sum(a.amount_micros) filter (where a.reversed_by is null), 0) > p.amount_micros
      or (p.status <> 'reversed' and coalesce(sum(a.amount_micros) filter (where a.reversed_by is null), 0) + p.unallocated_micros <> p.amount_micros)`.execute(db);
  expect(payments.rows).toEqual([]);
}

async function wouldBreakCredits(paymentId: string): Promise<boolean> {
  const allocations = await t.db.owner.db.selectFrom('paymentAllocations').select(['invoiceId', 'amountMicros'])
    .where('paymentId', '=', paymentId).where('reversedBy', 'is', null).where('kind', '=', 'invoice').execute();
  const reopened = new Map<string, bigint>();
  for (const a of allocations) reopened.set(a.invoiceId!, (reopened.get(a.invoiceId!) ?? 0n) + BigInt(a.amountMicros));
  const partnerId = (await t.db.owner.db.selectFrom('payments').select('partnerId').where('id', '=', paymentId).executeTakeFirstOrThrow()).partnerId;
  try {
    await inScope(t.db.owner.db, { kind: 'system' }, (trx) => assertReversalKeepsCreditNotes(trx, partnerId, reopened));
    return false;
  } catch (err) {
    if (err instanceof DomainError) return true;
    throw err;
  }
}

describe('finance property: payments, allocations, reversals and credit notes', () => {
  it('keep every invoice, payment and the ledger consistent', async () => {
    await fc.assert(fc.asyncProperty(fc.array(cmd, { minLength: 3, maxLength: 8 }), fc.array(fc.integer({ min: 100, max: 9000 }), { minLength: 3, maxLength: 3 }), async (cmds, prices) => {
      const customer = await newCustomer(t, finance);
      const invoices = [];
      for (const cents of prices) invoices.push(await newInvoice(t, finance, customer, money(cents)));
      const payments: string[] = [];
      for (const c of cmds) {
        if (c.kind === 'pay') {
          const inv = invoices[c.invoice]!;
          const rec = await record(t, finance, { amount: money(c.cents), customerId: customer });
          expect(rec.statusCode, rec.body).toBe(201);
          payments.push(rec.json().id);
          const due = BigInt((await t.db.owner.db.selectFrom('invoices').select('amountDueMicros').where('id', '=', inv.id).executeTakeFirstOrThrow()).amountDueMicros);
          const amount = BigInt(c.cents) * 10_000n < due ? BigInt(c.cents) * 10_000n : due;
          const body = amount > 0n
            ? { allocations: [{ invoiceId: inv.id, amount: money(Number(amount / 10_000n)) }], leftover: c.leftover }
            : { auto: true as const, leftover: c.leftover };
          const res = await api(t, finance, 'POST', `/api/v1/payments/${rec.json().id}/allocate`, body);
          expect([200, 409, 422], res.body).toContain(res.statusCode);
        } else if (c.kind === 'reverse') {
          const id = payments[c.payment % Math.max(payments.length, 1)];
          if (!id) continue;
          const breaksCredits = await wouldBreakCredits(id);
          const res = await api(t, finance, 'POST', `/api/v1/payments/${id}/reverse`, { reason: 'property test' });
          // A reversal that would leave points/refund credit notes above what stays paid is refused (reversal-guard.ts).
          if (breaksCredits) expect(res.statusCode, res.body).toBe(409);
          else expect([200, 409], res.body).toContain(res.statusCode);
        } else {
          const inv = invoices[c.invoice]!;
          const body = {
            invoiceId: inv.id, reason: 'other', issue: true, outcome: c.outcome,
            ...(c.cents === null ? { mode: 'whole' } : { mode: 'amount', amount: money(c.cents) }),
            ...(c.outcome === 'refund' ? { refundMethod: 'bank_transfer' } : {}),
          };
          const res = await api(t, finance, 'POST', '/api/v1/credit-notes', body);
          expect([201, 409, 422], res.body).toContain(res.statusCode);
        }
      }
      await invariantsHold();
    }), { numRuns: 25 });
  }, 360_000); // ~40 s alone; the whole suite on 2 busy cores can be several times slower

  it('the reversal guard refuses a reversal that would leave points or refund credit notes above what is paid', async () => {
    const customer = await newCustomer(t, finance);
    const inv = await newInvoice(t, finance, customer, '40.00');
    const rec = await record(t, finance, { amount: '40.00', customerId: customer });
    expect((await api(t, finance, 'POST', `/api/v1/payments/${rec.json().id}/allocate`, { allocations: [{ invoiceId: inv.id, amount: '40.00' }] })).statusCode).toBe(200);
    const cn = await api(t, finance, 'POST', '/api/v1/credit-notes', { invoiceId: inv.id, mode: 'amount', amount: '10.00', reason: 'other', outcome: 'points', issue: true });
    expect(cn.statusCode, cn.body).toBe(201);
    expect(await wouldBreakCredits(rec.json().id)).toBe(true);
    const refused = await api(t, finance, 'POST', `/api/v1/payments/${rec.json().id}/reverse`, { reason: 'bounced' });
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json().detail).toMatch(/credit notes already gave back 10\.00/);
    const payment = await t.db.owner.db.selectFrom('payments').select('status').where('id', '=', rec.json().id).executeTakeFirstOrThrow();
    expect(payment.status).not.toBe('reversed');
  });
});
