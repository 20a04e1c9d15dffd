import { sql } from 'kysely';
import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { formatDecimal, microsPerMinorUnit, spendableMinorUnits, type Currency } from '../money/money.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from '../access/caller.ts';
import { reverseEntry } from '../ledger/post-entry.ts';
import { lockWallet, type WalletState } from '../wallet/wallets.repo.ts';
import { assertReversalKeepsCreditNotes } from '../credit-notes/reversal-guard.ts';
import type { InvoiceStatus } from '../platform/db-types.ts';
import { addEvent } from '../subscriptions/subscriptions.repo.ts';
import { loadPaymentDetail, lockPayment, paymentCurrency, paymentDetailSchema, type PaymentDetail } from './payment-views.ts';
import { issueReversalDebitNote } from './reversal-debit-note.ts';
import { notifyReceipt } from './receipts/receipt-notice.ts';

export const reversePaymentBody = z.strictObject({
  reason: z.string().trim().min(1).max(500).describe('Why: bounced cheque, recorded by mistake ...'),
});

/**
 * What taking back the points the payment created did (none when it created none):
 * - covered: the points were still there (taken from the balance);
 * - credit_limit: already spent, taken back into the credit limit (points go negative, usable stays >= 0);
 * - receivable: spent beyond what the points and the credit limit can take back: the rest is billed on a debit note
 *   (a Purchase invoice) and moved to the customer's receivable (reversal-debit-note.ts).
 */
export const POINTS_OUTCOMES = ['none', 'covered', 'credit_limit', 'receivable'] as const;
export type PointsOutcome = (typeof POINTS_OUTCOMES)[number];

export const reversalSchema = z.object({
  payment: paymentDetailSchema,
  reopenedInvoices: z.array(z.object({ id: z.string(), number: z.string().nullable(), status: z.string(), amountDue: z.string() })),
  pointsCreated: z.string().describe('Points the payment had created (leftover to points and top-up invoices it paid)'),
  pointsTakenBack: z.string().describe('Of those, taken back from the customer\'s points (balance, then credit limit)'),
  intoCreditLimit: z.string().describe('Of pointsTakenBack, the part that took the points below zero, into the credit limit'),
  toReceivable: z.string().describe('Points already spent beyond the credit limit, rounded UP to whole minor units: billed on the debit note, now owed on the receivable'),
  roundingToPoints: z.string().describe('toReceivable less the points actually spent beyond the credit limit (less than one minor unit): credited back to the customer\'s points with the debit note'),
  pointsOutcome: z.enum(POINTS_OUTCOMES),
  pointsAfter: z.string().nullable(),
  debitNote: z.object({ id: z.string(), number: z.string(), amount: z.string() }).nullable()
    .describe('The Purchase invoice billing toReceivable, when there is a shortfall'),
  subscriptionsFlagged: z.array(z.object({ id: z.string(), status: z.string(), invoiceId: z.string() }))
    .describe('Subscriptions a reopened invoice had activated: they stay as they are, flagged (history event payment_reversed)'),
});
export type Reversal = z.infer<typeof reversalSchema>;

export interface PointsTakeBack {
  takenMicros: bigint;
  intoCreditLimitMicros: bigint;
  /** Spent beyond what the points and the credit limit take back, to the micro (call charges have six decimals). */
  shortfallMicros: bigint;
  /** What the debit note bills and the receivable gets: the shortfall rounded UP to whole minor units of the currency. */
  toReceivableMicros: bigint;
  /** toReceivable - shortfall, 0 <= it < one minor unit: credited back to the customer's points in the debit note's entry. */
  roundingToPointsMicros: bigint;
  outcome: PointsOutcome;
}

/**
 * Split the points a reversal must take back (`pointsMicros`) by what the wallet allows: from the balance (less what is
 * reserved), then the credit limit (in force now), and the rest (the shortfall) to the receivable. So usable never ends
 * below zero.
 *
 * The shortfall is in micros (points are spent by call charges of six decimals: 10.00 paid, 9.03936 of calls), but an
 * invoice, and the receivable it posts, is whole minor units (ADR 0001; allocations and payments take whole cents only),
 * so a debit note of 8.84112 could never be settled. Rule (docs/adr/0015-credit-notes.md, amendment 2026-12-05): the
 * receivable gets the shortfall rounded UP to the next minor unit (8.85), and the difference, less than one minor unit
 * (0.00888), is credited back to the customer's points in the same journal entry (Dr receivable 8.85 · Cr points 8.85,
 * of which 8.84112 restores the points spent and 0.00888 is left on them). The customer owes whole cents and loses
 * nothing; the partner is never owed less than was spent; usable ends at that difference, never below zero. Not a rounding
 * of a price (roundToMinorUnit's half away from zero would bill 8.84 and leave 0.00112 of spent points unrecovered, usable
 * below zero): the least whole minor units that cover the shortfall, on money.ts's whole-minor-unit truncation.
 */
export function splitPointsTakeBack(
  before: Pick<WalletState, 'pointsMicros' | 'reservedMicros' | 'creditLimitMicros'> | null, pointsMicros: bigint, currency: Currency,
): PointsTakeBack {
  if (!before || pointsMicros === 0n) {
    return { takenMicros: 0n, intoCreditLimitMicros: 0n, shortfallMicros: 0n, toReceivableMicros: 0n, roundingToPointsMicros: 0n, outcome: 'none' };
  }
  const free = before.pointsMicros - before.reservedMicros;
  const room = free + before.creditLimitMicros;
  const taken = room <= 0n ? 0n : room < pointsMicros ? room : pointsMicros;
  const fromBalance = free <= 0n ? 0n : free < taken ? free : taken;
  const intoCreditLimitMicros = taken - fromBalance;
  const shortfallMicros = pointsMicros - taken;
  const toReceivableMicros = coveringMinorUnits(shortfallMicros, currency);
  const outcome: PointsOutcome = shortfallMicros > 0n ? 'receivable' : intoCreditLimitMicros > 0n ? 'credit_limit' : 'covered';
  return { takenMicros: taken, intoCreditLimitMicros, shortfallMicros, toReceivableMicros, roundingToPointsMicros: toReceivableMicros - shortfallMicros, outcome };
}

/** The least whole minor units covering `micros` (0 for nothing): 8.84112 SGD -> 8.85, 8.84 -> 8.84 (see splitPointsTakeBack). */
function coveringMinorUnits(micros: bigint, currency: Currency): bigint {
  return micros <= 0n ? 0n : spendableMinorUnits(micros + microsPerMinorUnit(currency) - 1n, currency);
}

/**
 * Reverse a payment (bounced cheque, recorded by mistake): each entry it caused is mirrored by a new entry pointing to
 * it, newest first (allocations, leftover to points, assignment, receipt); each invoice it paid reopens (amount paid
 * and due restored, awaiting_payment or partially_paid) through the `folio.payment_reversal` exception of
 * `invoices_guard` (migration 0031); the payment becomes `reversed`, never deleted. Reversing twice: 409
 * `payment_reversed`. Audited `payment.reversed`; the customer gets the `reversed` receipt notice in the same transaction.
 *
 * Admin fees it paid on Top-up invoices (allocations' `fee_micros`) are taken back with their allocations' entries, whose
 * mirrors debit `revenue:fees` (docs/adr/0043): the invoice owes its fee again, paid first by the next allocation.
 * Points it created (leftover to points, Top-up invoices it paid, less their fee parts) are taken back, even if spent, as far as the
 * customer's points and credit limit allow (`pointsTakenBack`, of which `intoCreditLimit` went below zero). What they
 * cannot take back (spent beyond the credit limit) is not left as negative usable points: it is billed on a debit note,
 * an issued Purchase invoice "Reversed payment <receipt>" (reversal-debit-note.ts), in whole minor units rounded UP
 * (`toReceivable`; the part above what was spent, `roundingToPoints`, less than one minor unit, stays on the points:
 * splitPointsTakeBack), and moved from points to the receivable (Dr receivable · Cr points), so usable ends >= 0 and the
 * receivable matches open invoices (checkLedger stays clean). The payment names its debit note (`reversal_invoice_id`);
 * the result and the audit say each figure.
 *
 * Subscriptions: a Purchase invoice this payment paid in full may have activated a subscription. The domain
 * (../shared/domain.md) has no suspended state: a subscription is active, expired or terminated, and services run until
 * the end of the period, when renewal charges points. So the subscription stays as it is; the reopened invoice is the
 * debt, followed up like any overdue invoice (AR aging, portal), and the subscription is flagged: a `payment_reversed`
 * history event naming the reopened invoice, shown in its history, and listed in the result and the audit. Whether to
 * terminate it is Finance's decision (the Subscriptions app), not an automatic side effect of a bounced cheque.
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
      .select(['a.id', 'a.kind', 'a.invoiceId', 'a.amountMicros', 'a.feeMicros', 'a.entryId', 'i.type as invoiceType'])
      .where('a.partnerId', '=', partnerId).where('a.paymentId', '=', payment.id).where('a.reversedBy', 'is', null)
      .execute();
    const toPoints = await trx.selectFrom('paymentAllocations')
      .select(['id', 'kind', 'invoiceId', 'amountMicros', 'feeMicros', 'entryId'])
      .where('partnerId', '=', partnerId).where('paymentId', '=', payment.id).where('reversedBy', 'is', null).where('kind', '=', 'points')
      .execute();
    const all = [...allocations, ...toPoints.map((p) => ({ ...p, invoiceType: null }))].sort((a, b) => (a.id < b.id ? 1 : -1));
    const invoiceIds = [...new Set(allocations.map((a) => a.invoiceId!))].sort();
    if (invoiceIds.length > 0) {
      await trx.selectFrom('invoices').select('id').where('partnerId', '=', partnerId)
        .where(sql<boolean>`id = any(${invoiceIds}::text[])`).orderBy('id').forUpdate().execute();
      // Invariant 7: credit notes that gave points or money back on these invoices must stay within what remains paid.
      const takenOff = new Map<string, bigint>();
      for (const a of allocations) takenOff.set(a.invoiceId!, (takenOff.get(a.invoiceId!) ?? 0n) + BigInt(a.amountMicros));
      await assertReversalKeepsCreditNotes(trx, partnerId, takenOff);
    }
    // Of an allocation to a Top-up invoice, the part that paid its admin fee bought no points (fee_micros, migration 0072):
    // its reversing entry takes the fee revenue back, and only the rest is points to take back.
    const pointsMicros = all.filter((a) => a.kind === 'points' || a.invoiceType === 'top_up').reduce((s, a) => s + BigInt(a.amountMicros) - BigInt(a.feeMicros), 0n);
    const feesMicros = all.reduce((s, a) => s + BigInt(a.feeMicros), 0n);
    const split = splitPointsTakeBack(walletBefore, pointsMicros, currency);
    const pointsOutcome = split.outcome;
    // After the debit note (if any), which puts the shortfall back on the points plus its rounding to whole minor units.
    const pointsAfter = walletBefore ? walletBefore.pointsMicros - split.takenMicros + split.roundingToPointsMicros : null;
    // Subscriptions a reopened invoice activated (a subscription keeps the id of the Purchase invoice it waited on).
    const subscriptions = invoiceIds.length === 0 ? [] : await trx.selectFrom('subscriptions')
      .select(['id', 'partnerId', 'customerId', 'currency', 'status', 'pendingInvoiceId'])
      .where('partnerId', '=', partnerId).where('pendingInvoiceId', 'in', invoiceIds).where('status', 'in', ['active', 'expired'])
      .orderBy('id').execute();

    const now = ctx.clock.now();
    const auditEventId = await recordAudit(trx, ctx, {
      partnerId, customerId: payment.customerId, app: 'finance', action: 'payment.reversed', targetType: 'payment', targetId: payment.id,
      changes: {
        status: { before: payment.status, after: 'reversed' }, reason: { after: reason }, amount: { after: fmt(BigInt(payment.amountMicros)) },
        reversedAllocations: {
          after: all.map((a) => ({ id: a.id, kind: a.kind, invoiceId: a.invoiceId, amount: fmt(BigInt(a.amountMicros)), ...(BigInt(a.feeMicros) > 0n ? { adminFee: fmt(BigInt(a.feeMicros)) } : {}) })),
        },
        pointsCreated: { after: fmt(pointsMicros) }, ...(feesMicros > 0n ? { adminFeesTakenBack: { after: fmt(feesMicros) } } : {}), pointsTakenBack: { after: fmt(split.takenMicros) },
        intoCreditLimit: { after: fmt(split.intoCreditLimitMicros) }, toReceivable: { after: fmt(split.toReceivableMicros) },
        ...(split.roundingToPointsMicros > 0n ? { pointsSpentBeyondCreditLimit: { after: fmt(split.shortfallMicros) }, roundingToPoints: { after: fmt(split.roundingToPointsMicros) } } : {}),
        pointsOutcome: { after: pointsOutcome },
        ...(pointsAfter !== null && pointsMicros > 0n ? { points: { before: fmt(walletBefore!.pointsMicros), after: fmt(pointsAfter) } } : {}),
        ...(subscriptions.length > 0 ? { subscriptionsFlagged: { after: subscriptions.map((s) => s.id) } } : {}),
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

    // Points spent beyond the credit limit: billed on a debit note in whole minor units (rounded up), moved from points to
    // the receivable; the rounding's difference stays on the points (splitPointsTakeBack).
    const debitNote = split.toReceivableMicros > 0n
      ? await issueReversalDebitNote(trx, ctx, {
        partnerId, actorId, customerId: payment.customerId!, currency, amountMicros: split.toReceivableMicros, spentMicros: split.shortfallMicros,
        payment: { id: payment.id, receiptNumber: payment.receiptNumber, reference: payment.reference },
      })
      : null;

    // Subscriptions stay as they are, flagged in their history (see above).
    const subscriptionsFlagged: Reversal['subscriptionsFlagged'] = [];
    for (const sub of subscriptions) {
      const invoice = reopenedInvoices.find((i) => i.id === sub.pendingInvoiceId)!;
      await addEvent(trx, {
        sub, kind: 'payment_reversed', invoiceId: invoice.id, actor: actorId ?? 'finance', auditEventId, at: now,
        detail: `Payment ${payment.receiptNumber} reversed (${reason}): invoice ${invoice.number ?? invoice.id} is open again, ${invoice.amountDue} ${currency} due`,
        data: { paymentId: payment.id, invoiceId: invoice.id },
      });
      subscriptionsFlagged.push({ id: sub.id, status: sub.status, invoiceId: invoice.id });
    }

    await trx.updateTable('payments')
      .set({ status: 'reversed', reversedAt: now, reversedBy: actorId, reversalReason: reason, reversalInvoiceId: debitNote?.id ?? null, updatedAt: now })
      .where('partnerId', '=', partnerId).where('id', '=', payment.id).execute();
    if (payment.customerId) await notifyReceipt(trx, { partnerId, paymentId: payment.id, event: 'reversed' });
    const detail: PaymentDetail = await loadPaymentDetail(trx, partnerId, payment.id);
    return {
      payment: detail, reopenedInvoices, pointsCreated: fmt(pointsMicros), pointsTakenBack: fmt(split.takenMicros),
      intoCreditLimit: fmt(split.intoCreditLimitMicros), toReceivable: fmt(split.toReceivableMicros), roundingToPoints: fmt(split.roundingToPointsMicros), pointsOutcome,
      pointsAfter: pointsAfter === null ? null : fmt(pointsAfter),
      debitNote: debitNote ? { ...debitNote, amount: fmt(split.toReceivableMicros) } : null,
      subscriptionsFlagged,
    };
  });
}
