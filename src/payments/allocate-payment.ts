import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope, type Trx } from '../platform/database.ts';
import { DomainError, notFound, unknownId } from '../platform/errors.ts';
import { newId } from '../platform/ids.ts';
import { idOf } from '../platform/schemas.ts';
import { formatDecimal, moneyText, type Currency } from '../money/money.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from '../access/caller.ts';
import { postEntry } from '../ledger/post-entry.ts';
import { creditWallet } from '../wallet/charge-wallet.ts';
import { lockWallet } from '../wallet/wallets.repo.ts';
import { applyInvoicePayment } from '../invoices/apply-invoice-payment.ts';
import { financeAmount } from '../finance/finance-views.ts';
import { loadPaymentDetail, lockPayment, paymentCurrency, statusOf, type PaymentDetail } from './payment-views.ts';
import { notifyReceipt } from './receipts/receipt-notice.ts';

/** At most this many invoices in one allocation (explicit or automatic). */
export const MAX_ALLOCATIONS = 100;

export const allocatePaymentBody = z.strictObject({
  allocations: z.array(z.strictObject({
    invoiceId: idOf('inv'),
    amount: z.string().max(40).describe('Decimal string, whole minor units, more than 0, at most what the invoice owes'),
  })).min(1).max(MAX_ALLOCATIONS).optional(),
  auto: z.literal(true).optional().describe('Allocate to the oldest open invoices first (by due date, then issue date)'),
  leftover: z.enum(['keep', 'points']).optional().describe('What remains unallocated afterwards: keep it on the payment (default), or turn it into points'),
}).superRefine((body, ctx) => {
  if ((body.allocations === undefined) === (body.auto === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['allocations'], message: 'give either allocations or auto: true' });
  }
  const ids = body.allocations?.map((a) => a.invoiceId) ?? [];
  if (new Set(ids).size !== ids.length) ctx.addIssue({ code: 'custom', path: ['allocations'], message: 'each invoice at most once' });
});
export type AllocatePaymentInput = z.infer<typeof allocatePaymentBody>;

interface OpenInvoice {
  id: string;
  number: string | null;
  type: 'purchase' | 'monthly' | 'top_up';
  status: string;
  currency: string;
  customerId: string;
  informational: boolean;
  amountDueMicros: bigint;
}

/** Lock the invoices (in id order: the lock order of payments) and read them as they are now. */
async function lockInvoices(trx: Trx, partnerId: string, ids: readonly string[]): Promise<Map<string, OpenInvoice>> {
  if (ids.length === 0) return new Map();
  const rows = await trx.selectFrom('invoices')
    .select(['id', 'number', 'type', 'status', 'currency', 'customerId', 'informational', 'amountDueMicros'])
    .where('partnerId', '=', partnerId).where(sql<boolean>`id = any(${[...ids]}::text[])`)
    .orderBy('id').forUpdate().execute();
  return new Map(rows.map((r) => [r.id, { ...r, amountDueMicros: BigInt(r.amountDueMicros) }]));
}

async function pendingAttempts(trx: Trx, partnerId: string, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await trx.selectFrom('invoicePayAttempts').select('invoiceId')
    .where('partnerId', '=', partnerId).where('status', '=', 'pending').where(sql<boolean>`invoice_id = any(${[...ids]}::text[])`).execute();
  return new Set(rows.map((r) => r.invoiceId));
}

/**
 * What is still unpaid of each Top-up invoice's admin fee: its `admin_fee` lines (added at issue by the policy) less the
 * fee parts of its allocations not reversed. Invoices without a fee are left out (nothing unpaid).
 */
async function unpaidAdminFees(trx: Trx, partnerId: string, ids: readonly string[]): Promise<Map<string, bigint>> {
  if (ids.length === 0) return new Map();
  const rows = await sql<{ invoiceId: string; unpaid: string }>`
    select l.invoice_id as "invoiceId",
      (sum(l.amount_micros) - coalesce((select sum(a.fee_micros) from payment_allocations a
        where a.partner_id = ${partnerId} and a.invoice_id = l.invoice_id and a.reversed_by is null), 0))::text as unpaid
    from invoice_lines l
    where l.partner_id = ${partnerId} and l.invoice_id = any(${[...ids]}::text[]) and l.kind = 'admin_fee'
    group by l.invoice_id`.execute(trx);
  return new Map(rows.rows.map((r) => [r.invoiceId, BigInt(r.unpaid)]));
}

function payable(inv: OpenInvoice): boolean {
  return (inv.status === 'awaiting_payment' || inv.status === 'partially_paid') && inv.type !== 'monthly' && !inv.informational;
}

/**
 * Allocate a payment of a customer to its open invoices, and/or turn what is left into points:
 * - to a Purchase invoice: Dr `unapplied:{c}` · Cr `receivable:{c}`;
 * - to a Top-up invoice (no receivable: ADR 0013): Dr `unapplied:{c}` · Cr `points:{c}` (the points it bought); when it
 *   carries an admin fee (issued below the top-up policy's threshold), the fee is paid first: the part of the allocation
 *   that pays what is still unpaid of it goes to Cr `revenue:fees` (no tax, docs/adr/0043), only the rest to points, and
 *   the allocation records that part (`fee_micros`, migration 0072) for its reversal;
 *   both record the payment on the invoice with applyInvoicePayment (which activates a subscription a Purchase waited for);
 * - leftover `points`: Dr `unapplied:{c}` · Cr `points:{c}`; `keep` (default): stays unallocated on the payment.
 * Lock order: the customer's wallet, the payment row, the invoices in id order — concurrent allocations of one payment
 * queue, and never allocate more than it holds. Refusals write nothing.
 * The allocation that leaves nothing unallocated sends the customer the updated receipt (`applied`, receipt-notice.ts),
 * in the same transaction; partial allocations send nothing (one notice per payment, however many allocation calls).
 */
export async function allocatePayment(ctx: Ctx, paymentId: string, input: AllocatePaymentInput): Promise<PaymentDetail> {
  return inScope(ctx.db, scopeOf(ctx.principal), (trx) => allocatePaymentIn(trx, ctx, paymentId, input));
}

/** The same, inside the caller's transaction (a bank statement line accepted: the line and its allocations commit together). */
export async function allocatePaymentIn(trx: Trx, ctx: Ctx, paymentId: string, input: AllocatePaymentInput): Promise<PaymentDetail> {
  const { partnerId, actorId } = partnerCaller(ctx.principal);
  const leftover = input.leftover ?? 'keep';
  const peek = await trx.selectFrom('payments').select(['customerId', 'currency', 'status'])
    .where('partnerId', '=', partnerId).where('id', '=', paymentId).executeTakeFirst();
  if (!peek) throw notFound('Payment');
  if (peek.status === 'reversed') throw new DomainError('payment_reversed', 'The payment was reversed');
  if (!peek.customerId) throw new DomainError('payment_unassigned', 'Assign the payment to a customer before allocating it');
  const customerId = peek.customerId; // set once, never changed (payments_guard)
  const currency: Currency = paymentCurrency(peek.currency);
  const fmt = (m: bigint) => formatDecimal(m, currency);
  const wallet = { partnerId, customerId, currency };

  await lockWallet(trx, wallet);
  const payment = await lockPayment(trx, partnerId, paymentId);
  if (payment.status === 'reversed') throw new DomainError('payment_reversed', 'The payment was reversed');
  const amountMicros = BigInt(payment.amountMicros);
  const unallocatedBefore = BigInt(payment.unallocatedMicros);

  // What goes where: [invoice, amount] in the order they are applied.
  const plan: Array<{ invoice: OpenInvoice; micros: bigint }> = [];
  if (input.allocations) {
    const asked = input.allocations.map((a, i) => ({ invoiceId: a.invoiceId, micros: financeAmount(a.amount, currency, `allocations.${i}.amount`, { allowZero: false }) }));
    const invoices = await lockInvoices(trx, partnerId, asked.map((a) => a.invoiceId).sort());
    const pending = await pendingAttempts(trx, partnerId, [...invoices.keys()]);
    for (const a of asked) {
      const invoice = invoices.get(a.invoiceId);
      if (!invoice || invoice.customerId !== customerId) throw unknownId('invoice_not_found', `allocations.${asked.indexOf(a)}.invoiceId`, 'Invoice');
      if (invoice.currency !== currency) throw new DomainError('currency_mismatch', `Invoice ${invoice.number ?? invoice.id} is in ${invoice.currency}, the payment in ${currency}`);
      if (!payable(invoice)) {
        throw new DomainError('invoice_not_payable', `Invoice ${invoice.number ?? invoice.id} is ${invoice.type === 'monthly' ? 'a monthly statement' : invoice.status}: nothing to allocate to`);
      }
      if (pending.has(invoice.id)) throw new DomainError('payment_in_progress', `A portal payment of invoice ${invoice.number ?? invoice.id} is in progress; if it got no answer from the card gateway, it is settled automatically (usually within 15 minutes)`);
      if (a.micros > invoice.amountDueMicros) {
        throw new DomainError('amount_exceeds_due', `Invoice ${invoice.number ?? invoice.id} owes ${fmt(invoice.amountDueMicros)}`, [{ path: `allocations.${asked.indexOf(a)}.amount`, message: `at most ${fmt(invoice.amountDueMicros)}` }]);
      }
      plan.push({ invoice, micros: a.micros });
    }
    const total = plan.reduce((s, p) => s + p.micros, 0n);
    if (total > unallocatedBefore) {
      throw new DomainError('amount_exceeds_unallocated', `Only ${fmt(unallocatedBefore)} ${currency} of the payment is unallocated, ${fmt(total)} asked`, [
        { path: 'allocations', message: `${fmt(total)} in all, at most ${fmt(unallocatedBefore)}` },
      ]);
    }
  } else {
    if (unallocatedBefore === 0n) throw new DomainError('amount_exceeds_unallocated', 'Nothing of the payment is left to allocate');
    const candidates = await trx.selectFrom('invoices as i')
      .select(['i.id'])
      .where('i.partnerId', '=', partnerId).where('i.customerId', '=', customerId).where('i.currency', '=', currency)
      .where('i.status', 'in', ['awaiting_payment', 'partially_paid']).where('i.type', 'in', ['purchase', 'top_up']).where('i.informational', '=', false)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('invoicePayAttempts as a').select('a.id').whereRef('a.invoiceId', '=', 'i.id').where('a.status', '=', 'pending'))))
      .orderBy(sql`i.due_at asc nulls last`).orderBy('i.issuedAt').orderBy('i.id')
      .limit(MAX_ALLOCATIONS).execute();
    const order = candidates.map((c) => c.id);
    const invoices = await lockInvoices(trx, partnerId, [...order].sort());
    const pending = await pendingAttempts(trx, partnerId, order);
    let remaining = unallocatedBefore;
    for (const id of order) {
      const invoice = invoices.get(id)!;
      if (remaining === 0n) break;
      if (!payable(invoice) || pending.has(id) || invoice.amountDueMicros === 0n) continue; // changed before we locked it
      const micros = invoice.amountDueMicros < remaining ? invoice.amountDueMicros : remaining;
      plan.push({ invoice, micros });
      remaining -= micros;
    }
  }
  // A Top-up invoice's admin fee is paid first (docs/adr/0043): each allocation to one pays what is still unpaid of its
  // fee (Cr revenue:fees) and buys points with the rest. Invoices are locked, so what earlier allocations paid is settled.
  const feesUnpaid = await unpaidAdminFees(trx, partnerId, plan.filter((p) => p.invoice.type === 'top_up').map((p) => p.invoice.id));
  const feePartOf = (p: { invoice: OpenInvoice; micros: bigint }): bigint => {
    const unpaid = feesUnpaid.get(p.invoice.id) ?? 0n;
    return p.micros < unpaid ? p.micros : unpaid;
  };
  const allocatedMicros = plan.reduce((s, p) => s + p.micros, 0n);
  const toPointsMicros = leftover === 'points' ? unallocatedBefore - allocatedMicros : 0n;
  if (allocatedMicros === 0n && toPointsMicros === 0n) {
    throw new DomainError('nothing_to_allocate', 'Nothing to allocate: no open invoice of the customer, and the leftover is kept');
  }
  const unallocatedAfter = unallocatedBefore - allocatedMicros - toPointsMicros;
  assert(unallocatedAfter >= 0n && unallocatedAfter <= amountMicros, 'never allocate more than the payment holds');
  const statusAfter = statusOf(amountMicros, unallocatedAfter);

  const now = ctx.clock.now();
  const auditEventId = await recordAudit(trx, ctx, {
    partnerId, customerId, app: 'finance', action: 'payment.allocated', targetType: 'payment', targetId: payment.id,
    changes: {
      allocations: {
        after: plan.map((p) => {
          const fee = feePartOf(p);
          return { invoiceId: p.invoice.id, number: p.invoice.number, type: p.invoice.type, amount: fmt(p.micros), ...(fee > 0n ? { adminFee: fmt(fee) } : {}) };
        }),
      },
      toPoints: { after: fmt(toPointsMicros) },
      unallocated: { before: fmt(unallocatedBefore), after: fmt(unallocatedAfter) },
      status: { before: payment.status, after: statusAfter },
      ...(input.auto ? { auto: { after: true } } : {}),
    },
  });
  const allocationRows = [];
  for (const p of plan) {
    const entryId = newId('je');
    const number = p.invoice.number ?? '';
    const feeMicros = feePartOf(p);
    feesUnpaid.set(p.invoice.id, (feesUnpaid.get(p.invoice.id) ?? 0n) - feeMicros);
    const pointsMicros = p.micros - feeMicros;
    // Points bought by a Top-up invoice are a top-up in the customer's transactions (the kind's prefix gives the feed type).
    const entry = {
      entryId, kind: p.invoice.type === 'top_up' ? 'top_up_invoice_paid' : 'payment_allocated', causeType: 'payment', causeId: payment.id, auditEventId,
      description: p.invoice.type !== 'top_up' ? `Payment applied to invoice ${number}`.trim()
        : pointsMicros === 0n ? `Admin fee of top-up invoice ${number}`.trim()
          : `Points bought by invoice ${number}${feeMicros > 0n ? ` (admin fee ${moneyText(feeMicros, currency)})` : ''}`.replace(/ +/g, ' '),
    };
    const feePosting = feeMicros > 0n ? [{ code: 'revenue:fees' as const, amountMicros: -feeMicros }] : [];
    if (p.invoice.type === 'top_up' && pointsMicros > 0n) {
      await creditWallet(trx, { wallet, amountMicros: pointsMicros, entry, counterPostings: [{ code: 'unapplied', customerId, amountMicros: p.micros }, ...feePosting] });
    } else if (p.invoice.type === 'top_up') {
      // All of it pays the fee: no points, so nothing in the customer's transactions (the feed is the points account's).
      await postEntry(trx, { ...entry, partnerId, currency, customerId, postings: [{ code: 'unapplied', customerId, amountMicros: p.micros }, ...feePosting] });
    } else {
      await postEntry(trx, {
        ...entry, partnerId, currency, customerId,
        postings: [{ code: 'unapplied', customerId, amountMicros: p.micros }, { code: 'receivable', customerId, amountMicros: -p.micros }],
      });
    }
    await applyInvoicePayment(trx, ctx, {
      partnerId, invoiceId: p.invoice.id, entryId, paidBy: actorId, at: now,
      parts: [{ source: 'allocation', amountMicros: p.micros, paymentId: payment.id, receiptNumber: payment.receiptNumber }],
    });
    allocationRows.push({ id: newId('alc'), partnerId, customerId, paymentId: payment.id, kind: 'invoice' as const, invoiceId: p.invoice.id, currency, amountMicros: p.micros, feeMicros, entryId, createdBy: actorId, createdAt: now });
  }
  if (toPointsMicros > 0n) {
    const entryId = newId('je');
    await creditWallet(trx, {
      wallet, amountMicros: toPointsMicros,
      entry: { entryId, kind: 'payment_to_points', causeType: 'payment', causeId: payment.id, description: 'Payment credited as points', auditEventId },
      counterPostings: [{ code: 'unapplied', customerId, amountMicros: toPointsMicros }],
    });
    allocationRows.push({ id: newId('alc'), partnerId, customerId, paymentId: payment.id, kind: 'points' as const, invoiceId: null, currency, amountMicros: toPointsMicros, entryId, createdBy: actorId, createdAt: now });
  }
  await trx.insertInto('paymentAllocations').values(allocationRows).execute();
  await trx.updateTable('payments')
    .set({ unallocatedMicros: unallocatedAfter, pointsMicros: BigInt(payment.pointsMicros) + toPointsMicros, status: statusAfter, updatedAt: now })
    .where('partnerId', '=', partnerId).where('id', '=', payment.id)
    .execute();
  if (unallocatedAfter === 0n) await notifyReceipt(trx, { partnerId, paymentId: payment.id, event: 'applied' });
  return loadPaymentDetail(trx, partnerId, payment.id);
}
