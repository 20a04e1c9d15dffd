import { sql } from 'kysely';
import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { formatDecimal } from '../money/money.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from '../access/caller.ts';
import { reverseEntry } from '../ledger/post-entry.ts';
import { lockWallet, type WalletState } from '../wallet/wallets.repo.ts';
import type { InvoiceStatus } from '../platform/db-types.ts';
import { loadPaymentDetail, lockPayment, paymentCurrency, paymentDetailSchema, type PaymentDetail } from './payment-views.ts';

export const reversePaymentBody = z.strictObject({
  reason: z.string().trim().min(1).max(500).describe('Why: bounced cheque, recorded by mistake ...'),
});

/**
 * What taking back the points the payment created did to the customer's points:
 * none (it created none) · covered (the points were still there) · credit_limit (already spent: points went negative,
 * within the credit limit) · negative (already spent beyond any credit limit: points stay negative, usable below zero,
 * until the customer tops up — Finance follows it up).
 */
export const POINTS_OUTCOMES = ['none', 'covered', 'credit_limit', 'negative'] as const;
export type PointsOutcome = (typeof POINTS_OUTCOMES)[number];

export const reversalSchema = z.object({
  payment: paymentDetailSchema,
  reopenedInvoices: z.array(z.object({ id: z.string(), number: z.string().nullable(), status: z.string(), amountDue: z.string() })),
  pointsTakenBack: z.string(),
  pointsOutcome: z.enum(POINTS_OUTCOMES),
  pointsAfter: z.string().nullable(),
});
export type Reversal = z.infer<typeof reversalSchema>;

function outcomeOf(before: WalletState | null, takenMicros: bigint): PointsOutcome {
  if (!before || takenMicros === 0n) return 'none';
  const pointsAfter = before.pointsMicros - takenMicros;
  if (pointsAfter - before.reservedMicros >= 0n) return 'covered';
  if (pointsAfter - before.reservedMicros + before.creditLimitMicros >= 0n) return 'credit_limit';
  return 'negative';
}

/**
 * Reverse a payment (bounced cheque, recorded by mistake): each entry it caused is mirrored by a new entry pointing to
 * it, newest first (allocations, leftover to points, assignment, receipt); each invoice it paid reopens (amount paid
 * and due restored, awaiting_payment or partially_paid) through the `folio.payment_reversal` exception of
 * `invoices_guard` (migration 0031); the points it created are taken back even if spent (`pointsOutcome`); the payment
 * becomes `reversed`, never deleted. Reversing twice: 409 `payment_reversed`. Audited `payment.reversed`.
 * A subscription a Purchase invoice activated stays active (Finance decides: suspend it in the Subscriptions app).
 */
export async function reversePayment(ctx: Ctx, paymentId: string, input: { reason: string }): Promise<Reversal> {
  const { partnerId, actorId } = partnerCaller(ctx.principal);
  const reason = input.reason.trim();
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const peek = await trx.selectFrom('payments').select(['customerId', 'currency', 'status'])
      .where('partnerId', '=', partnerId).where('id', '=', paymentId).executeTakeFirst();
    if (!peek) throw notFound('Payment');
    if (peek.status === 'reversed') throw new DomainError('payment_reversed', 'The payment was already reversed');
    const currency = paymentCurrency(peek.currency);
    const fmt = (m: bigint) => formatDecimal(m, currency);
    // Lock order: wallet, payment, invoices (id order). A payment's customer is set once, so the peek names the wallet.
    const walletBefore = peek.customerId ? await lockWallet(trx, { partnerId, customerId: peek.customerId, currency }) : null;
    const payment = await lockPayment(trx, partnerId, paymentId);
    if (payment.status === 'reversed') throw new DomainError('payment_reversed', 'The payment was already reversed');
    if (payment.customerId !== peek.customerId) throw new DomainError('conflict', 'The payment was assigned meanwhile: try again');

    const allocations = await trx.selectFrom('paymentAllocations as a')
      .innerJoin('invoices as i', (j) => j.onRef('i.id', '=', 'a.invoiceId'))
      .select(['a.id', 'a.kind', 'a.invoiceId', 'a.amountMicros', 'a.entryId', 'i.type as invoiceType'])
      .where('a.partnerId', '=', partnerId).where('a.paymentId', '=', payment.id).where('a.reversedBy', 'is', null)
      .execute();
    const toPoints = await trx.selectFrom('paymentAllocations')
      .select(['id', 'kind', 'invoiceId', 'amountMicros', 'entryId'])
      .where('partnerId', '=', partnerId).where('paymentId', '=', payment.id).where('reversedBy', 'is', null).where('kind', '=', 'points')
      .execute();
    const all = [...allocations, ...toPoints.map((p) => ({ ...p, invoiceType: null }))].sort((a, b) => (a.id < b.id ? 1 : -1));
    const invoiceIds = [...new Set(allocations.map((a) => a.invoiceId!))].sort();
    if (invoiceIds.length > 0) {
      await trx.selectFrom('invoices').select('id').where('partnerId', '=', partnerId)
        .where(sql<boolean>`id = any(${invoiceIds}::text[])`).orderBy('id').forUpdate().execute();
    }
    const pointsMicros = all.filter((a) => a.kind === 'points' || a.invoiceType === 'top_up').reduce((s, a) => s + BigInt(a.amountMicros), 0n);
    const pointsOutcome = outcomeOf(walletBefore, pointsMicros);
    const pointsAfter = walletBefore ? walletBefore.pointsMicros - pointsMicros : null;

    const now = ctx.clock.now();
    const auditEventId = await recordAudit(trx, ctx, {
      partnerId, customerId: payment.customerId, app: 'finance', action: 'payment.reversed', targetType: 'payment', targetId: payment.id,
      changes: {
        status: { before: payment.status, after: 'reversed' }, reason: { after: reason }, amount: { after: fmt(BigInt(payment.amountMicros)) },
        reversedAllocations: { after: all.map((a) => ({ id: a.id, kind: a.kind, invoiceId: a.invoiceId, amount: fmt(BigInt(a.amountMicros)) })) },
        pointsTakenBack: { after: fmt(pointsMicros) }, pointsOutcome: { after: pointsOutcome },
        ...(pointsAfter !== null && pointsMicros > 0n ? { points: { before: fmt(walletBefore!.pointsMicros), after: fmt(pointsAfter) } } : {}),
      },
    });

    const meta = (kind: string, description: string) => ({ kind, description, auditEventId });
    const reopened = new Map<string, bigint>();
    for (const a of all) {
      const reversal = await reverseEntry(trx, a.entryId, meta('payment_allocation_reversed', 'Payment reversed'));
      await trx.updateTable('paymentAllocations').set({ reversedBy: reversal.entryId, reversedAt: now })
        .where('partnerId', '=', partnerId).where('id', '=', a.id).execute();
      if (a.invoiceId) reopened.set(a.invoiceId, (reopened.get(a.invoiceId) ?? 0n) + BigInt(a.amountMicros));
    }
    if (payment.assignEntryId) await reverseEntry(trx, payment.assignEntryId, meta('payment_assignment_reversed', 'Payment reversed'));
    await reverseEntry(trx, payment.entryId, meta('payment_reversed', 'Payment reversed'));

    // Reopen the invoices it paid: the one narrow exception of invoices_guard, on for these updates only.
    const reopenedInvoices: Reversal['reopenedInvoices'] = [];
    if (reopened.size > 0) {
      await sql`select set_config('folio.payment_reversal', 'on', true)`.execute(trx);
      for (const invoiceId of invoiceIds) {
        const micros = reopened.get(invoiceId)!;
        const inv = await trx.selectFrom('invoices').select(['id', 'number', 'amountPaidMicros', 'amountDueMicros'])
          .where('partnerId', '=', partnerId).where('id', '=', invoiceId).executeTakeFirstOrThrow();
        const paid = BigInt(inv.amountPaidMicros) - micros;
        const due = BigInt(inv.amountDueMicros) + micros;
        const status: InvoiceStatus = paid === 0n ? 'awaiting_payment' : 'partially_paid';
        await trx.updateTable('invoices').set({ amountPaidMicros: paid, amountDueMicros: due, status, paidAt: null, updatedAt: now })
          .where('partnerId', '=', partnerId).where('id', '=', invoiceId).execute();
        reopenedInvoices.push({ id: inv.id, number: inv.number, status, amountDue: fmt(due) });
      }
      await sql`select set_config('folio.payment_reversal', 'off', true)`.execute(trx);
    }

    await trx.updateTable('payments')
      .set({ status: 'reversed', reversedAt: now, reversedBy: actorId, reversalReason: reason, updatedAt: now })
      .where('partnerId', '=', partnerId).where('id', '=', payment.id).execute();
    const detail: PaymentDetail = await loadPaymentDetail(trx, partnerId, payment.id);
    return { payment: detail, reopenedInvoices, pointsTakenBack: fmt(pointsMicros), pointsOutcome, pointsAfter: pointsAfter === null ? null : fmt(pointsAfter) };
  });
}
