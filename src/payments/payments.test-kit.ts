import { sql } from 'kysely';
import { expect } from 'vitest';
import { api, type Session, type TestApp } from '../test/harness.ts';
import { checkLedger } from '../ledger/check-ledger.ts';

/** Helpers shared by the payments tests (not a test file). */
let seq = 0;

export async function newCustomer(t: TestApp, who: Session, currency = 'SGD'): Promise<string> {
  seq += 1;
  const tag = `${Date.now().toString(36)}${seq}`;
  const res = await api(t, who, 'POST', '/api/v1/customers', { name: `Payer ${tag}`, currency, ownerEmail: `owner-${tag}@payer.test`, ownerName: 'Payer Owner' });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string }>().id;
}

/** An invoice with one zero-rated line (total = price), issued unless `issue: false`. */
export async function newInvoice(t: TestApp, who: Session, customerId: string, price: string, opts: { type?: 'purchase' | 'top_up'; issue?: boolean; dueDays?: number } = {}) {
  const res = await api(t, who, 'POST', '/api/v1/invoices', {
    customerId, type: opts.type ?? 'purchase', issue: opts.issue ?? true, ...(opts.dueDays !== undefined ? { dueDays: opts.dueDays } : {}),
    lines: [{ description: 'Services', quantity: '1', unitPrice: price, ...(opts.type === 'top_up' ? {} : { taxCategory: 'zero_rated' }) }],
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string; number: string | null; total: string }>();
}

export async function record(t: TestApp, who: Session, body: Record<string, unknown>) {
  return api(t, who, 'POST', '/api/v1/payments', { method: 'bank_transfer', currency: 'SGD', receivedOn: '2026-01-10', ...body });
}

export async function invoiceState(t: TestApp, id: string) {
  return t.db.owner.db.selectFrom('invoices').select(['status', 'amountPaidMicros', 'amountDueMicros', 'paidAt']).where('id', '=', id).executeTakeFirstOrThrow();
}

export async function pointsOf(t: TestApp, customerId: string): Promise<bigint> {
  const row = await t.db.owner.db.selectFrom('ledgerAccounts').select('balanceMicros').where('code', '=', 'points').where('customerId', '=', customerId).executeTakeFirst();
  return -BigInt(row?.balanceMicros ?? '0');
}

export async function balanceOf(t: TestApp, code: 'unapplied' | 'receivable' | 'unassigned' | 'bank' | 'card_clearing', customerId?: string): Promise<bigint> {
  let q = t.db.owner.db.selectFrom('ledgerAccounts').select('balanceMicros').where('code', '=', code).where('currency', '=', 'SGD');
  q = customerId ? q.where('customerId', '=', customerId) : q.where('customerId', 'is', null);
  const rows = await q.execute();
  return rows.reduce((s, r) => s + BigInt(r.balanceMicros), 0n);
}

/** Admin fees the partners have earned in SGD (revenue:fees is a credit account: its balance is negative). */
export async function feeRevenue(t: TestApp): Promise<bigint> {
  const rows = await t.db.owner.db.selectFrom('ledgerAccounts').select('balanceMicros').where('code', '=', 'revenue:fees').where('currency', '=', 'SGD').execute();
  return -rows.reduce((s, r) => s + BigInt(r.balanceMicros), 0n);
}

/** Each allocation to an invoice with the part of it that paid the invoice's admin fee, oldest first. */
export async function allocationsTo(t: TestApp, invoiceId: string) {
  return t.db.owner.db.selectFrom('paymentAllocations').select(['paymentId', 'amountMicros', 'feeMicros', 'reversedBy'])
    .where('invoiceId', '=', invoiceId).orderBy('id').execute();
}

/**
 * The books are sound (checkLedger), every invoice's amount due is total - paid - credited, and no payment is allocated
 * beyond its amount: active allocations (to invoices and to points) + unallocated = amount; a reversed one has none active.
 */
export async function expectSound(t: TestApp): Promise<void> {
  expect(await checkLedger(t.db.owner.db)).toEqual([]);
  const badInvoices = await sql<{ id: string }>`
    select id from invoices
    where amount_due_micros <> case when status = 'void' then 0 else total_micros - amount_paid_micros - amount_credited_micros end`.execute(t.db.owner.db);
  expect(badInvoices.rows).toEqual([]);
  const badPayments = await sql<{ id: string; amount: string; active: string; unallocated: string; status: string }>`
    select p.id, p.amount_micros::text as amount, coalesce(sum(a.amount_micros) filter (where a.reversed_by is null), 0)::text as active,
      p.unallocated_micros::text as unallocated, p.status
    from payments p left join payment_allocations a on a.payment_id = p.id
    group by p.id
    having coalesce(sum(a.amount_micros) filter (where a.reversed_by is null), 0) > p.amount_micros
      or (p.status <> 'reversed' and coalesce(sum(a.amount_micros) filter (where a.reversed_by is null), 0) + p.unallocated_micros <> p.amount_micros)
      or (p.status = 'reversed' and coalesce(sum(a.amount_micros) filter (where a.reversed_by is null), 0) <> 0)
      or p.points_micros <> coalesce(sum(a.amount_micros) filter (where a.kind = 'points'), 0)`.execute(t.db.owner.db);
  expect(badPayments.rows).toEqual([]);
}
