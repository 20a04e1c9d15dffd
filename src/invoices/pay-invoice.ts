import type { Selectable } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { inScope, type Trx } from '../platform/database.ts';
import { DomainError, notFound, type FieldError } from '../platform/errors.ts';
import { newId } from '../platform/ids.ts';
import { formatDecimal, parseAmount, spendableMinorUnits } from '../money/money.ts';
import { portalCaller, type PortalCaller } from '../access/caller.ts';
import type { Gateway } from '../gateway/gateway.ts';
import { cardFailureError } from '../gateway/card-failure.ts';
import { lockWallet } from '../wallet/wallets.repo.ts';
import { reservePoints } from '../wallet/reservations.ts';
import { usableSavedCard, type SavedCardRow } from '../topup/saved-cards.ts';
import { currencyOf } from '../topup/top-up-views.ts';
import type { InvoicesTable } from '../platform/db-types.ts';
import type { InvoicePayAttemptsTable } from './invoices.db-types.ts';
import { lockInvoice } from './apply-invoice-payment.ts';
import { completeInvoicePayment, chargeInvoicePayment, type PayCard } from './complete-invoice-payment.ts';

export type InvoiceRow = Selectable<InvoicesTable>;
export type PayAttemptRow = Selectable<InvoicePayAttemptsTable>;

export interface PortalPayInvoiceInput {
  invoiceId: string;
  /** Decimal string, at most the amount due (default: all of it). */
  amount?: string | undefined;
  /** Use the organisation's points first (default true). */
  usePoints?: boolean | undefined;
  cardToken?: string | undefined;
  savedCardId?: string | undefined;
  /** The request's Idempotency-Key: a retry resumes the same attempt instead of paying twice. */
  requestKey?: string | null | undefined;
}

export interface PortalPayInvoiceResult {
  /** 200 when paid (in full or in part), 202 while the card payment is pending (the gateway's webhook completes it). */
  httpStatus: 200 | 202;
  attempt: PayAttemptRow;
}

/** Why an invoice cannot be paid from the portal, or null when it can (role aside). */
export function notPayableReason(invoice: Pick<InvoiceRow, 'type' | 'status' | 'informational' | 'amountDueMicros'>): string | null {
  if (invoice.type === 'monthly') return 'A Monthly statement is informational: its charges were already paid from your points.';
  if (invoice.type === 'top_up') return 'A Top-up invoice is paid by bank transfer or card top-up, not here.';
  if (invoice.informational) return 'This invoice is informational.';
  switch (invoice.status) {
    case 'draft': return 'This invoice is not issued yet.';
    case 'void': return 'This invoice is void.';
    case 'paid': return 'This invoice is paid.';
    default: return BigInt(invoice.amountDueMicros) > 0n ? null : 'Nothing is due on this invoice.';
  }
}

/**
 * How long a pending attempt whose charge request got no answer (no charge reference: the gateway was unreachable, timed
 * out, or its answer was lost) blocks its invoice. Within it, another pay is 409 `payment_in_progress` (the request may
 * still be under way: the Stripe adapter waits up to 30 s, three tries). After it, the next pay of the invoice by an
 * owner or admin RESUMES that attempt instead: its card part is sent again under the attempt's own gateway idempotency
 * key (chargeInvoicePayment), which asks the gateway what became of the first request:
 * - it never arrived: the gateway charges now, and the attempt completes (paid, failed or pending) as a first try would;
 * - it arrived with the same card (a saved card): the gateway answers the first result again, nothing is charged twice;
 * - it arrived with another card: the gateway refuses the key (`idempotency_key_reused`), so the first charge exists
 *   and its webhook completes the attempt; it stays pending (409) meanwhile.
 * The resumed attempt keeps its own amount, points part and hold (a lapsed hold: completeInvoicePayment applies the card
 * part only). Pending attempts WITH a charge reference (the gateway said `pending`: a delayed card) are the gateway's to
 * settle and its webhook completes them: they are not resumed. Stripe keeps idempotency keys for 24 hours and retries a
 * webhook for 3 days, so a charge that reached it is reported long before its key could be forgotten.
 */
export const STALE_PAY_ATTEMPT_MINUTES = 10;
/**
 * ... and no longer than this after it began: a gateway keeps idempotency keys for a limited time (Stripe: 24 hours), after
 * which a resume could charge as new what was charged before. Older, the attempt waits for its webhook (Stripe retries
 * for 3 days) and the invoice answers 409 meanwhile.
 */
export const RESUMABLE_PAY_ATTEMPT_HOURS = 20;

/** When a pending attempt becomes resumable (see STALE_PAY_ATTEMPT_MINUTES), or null when it never does. */
export function staleFrom(attempt: Pick<PayAttemptRow, 'status' | 'chargeRef' | 'cardMicros' | 'createdAt'>): Date | null {
  if (attempt.status !== 'pending' || attempt.chargeRef !== null || BigInt(attempt.cardMicros) <= 0n) return null;
  return new Date(new Date(attempt.createdAt).getTime() + STALE_PAY_ATTEMPT_MINUTES * 60_000);
}

/** Whether a pending attempt may be resumed now: stale (staleFrom) and still within RESUMABLE_PAY_ATTEMPT_HOURS. */
export function resumableNow(attempt: Pick<PayAttemptRow, 'status' | 'chargeRef' | 'cardMicros' | 'createdAt'>, now: Date): boolean {
  const from = staleFrom(attempt);
  if (!from) return false;
  const began = new Date(attempt.createdAt).getTime();
  return from.getTime() <= now.getTime() && now.getTime() < began + RESUMABLE_PAY_ATTEMPT_HOURS * 3_600_000;
}

/**
 * A pay about to send a pending attempt's charge again (the same Idempotency-Key, or a stale attempt resumed) says so on
 * the attempt first, in its locked transaction (`resumed_at`, migration 0056): the worker that settles stale attempts
 * then knows a request may be on its way, and does not take the gateway's "no such charge" for "never charged"
 * (settle-stale-pay-attempts.ts). Attempts that will not be charged again (settled, delayed, points only) are unchanged.
 */
async function markResent(trx: Trx, attempt: PayAttemptRow, now: Date): Promise<PayAttemptRow> {
  if (attempt.status !== 'pending' || attempt.chargeRef !== null || BigInt(attempt.cardMicros) <= 0n) return attempt;
  return trx.updateTable('invoicePayAttempts').set({ resumedAt: now })
    .where('partnerId', '=', attempt.partnerId).where('id', '=', attempt.id)
    .returningAll().executeTakeFirstOrThrow();
}

/** Owners and admins pay; members and guests see and download (domain.md). */
export function rolePayReason(role: PortalCaller['role']): string | null {
  return role === 'owner' || role === 'admin' ? null : 'Only owners and admins of your organisation can pay invoices.';
}

/**
 * An owner or admin pays a Purchase invoice from the portal: points first, the rest by card (docs/adr/0013).
 * 1. One transaction (partner scope; every query names the customer): the customer's wallet, then the invoice, locked
 *    in that order; the rules (payable, amount <= due, one attempt in flight); what points can pay (whole minor units,
 *    not the credit limit). Points alone cover it -> the ledger entry (Dr points · Cr receivable), the invoice paid,
 *    audit, receipt: done in this one transaction. Otherwise the points are RESERVED and a pending attempt committed.
 * 2. The card is charged outside any transaction, under an idempotency key derived from the attempt.
 * 3. One transaction completes the attempt exactly once: paid (one entry Dr points · Dr card_clearing · Cr receivable,
 *    the reservation settled), or failed (reservation released, nothing charged), or pending (the webhook completes it).
 * Two tabs or a double click: the wallet and invoice locks serialise them; the second sees the first's attempt
 * (409 payment_in_progress) or the paid invoice (409 invoice_not_payable); the same Idempotency-Key resumes the first.
 * An error before the card request was sent fails the attempt and releases its hold (chargeInvoicePayment); an attempt
 * whose request got no answer blocks the invoice for STALE_PAY_ATTEMPT_MINUTES, then the next pay resumes it.
 */
export async function portalPayInvoice(ctx: Ctx & { gateway: Gateway }, input: PortalPayInvoiceInput): Promise<PortalPayInvoiceResult> {
  const caller = portalCaller(ctx.principal);
  const reason = rolePayReason(caller.role);
  if (reason) throw new DomainError('forbidden', reason);
  checkCardChoice(input);
  const { gateway } = ctx;
  const key = { partnerId: caller.partnerId, customerId: caller.customerId };

  const prepared = await inScope(ctx.db, { kind: 'partner', partnerId: caller.partnerId }, async (trx) => {
    const head = await trx.selectFrom('invoices').select(['currency']).where('partnerId', '=', key.partnerId)
      .where('customerId', '=', key.customerId).where('id', '=', input.invoiceId).where('status', '<>', 'draft').executeTakeFirst();
    if (!head) throw notFound('Invoice');
    const currency = currencyOf(head.currency);
    const wallet = { ...key, currency };
    const state = await lockWallet(trx, wallet);
    const invoice = (await lockInvoice(trx, { ...key, invoiceId: input.invoiceId }))!;

    // One read: this user's attempt under the same Idempotency-Key, and any attempt of this invoice still in flight.
    const requestKey = input.requestKey ?? null;
    const attempts = await trx.selectFrom('invoicePayAttempts').selectAll()
      .where('partnerId', '=', key.partnerId)
      .where((eb) => eb.or([
        eb.and([eb('invoiceId', '=', invoice.id), eb('status', '=', 'pending')]),
        ...(requestKey ? [eb.and([eb('customerId', '=', key.customerId), eb('userId', '=', caller.userId), eb('requestKey', '=', requestKey)])] : []),
      ]))
      .execute();
    if (requestKey) {
      const earlier = attempts.find((a) => a.customerId === key.customerId && a.userId === caller.userId && a.requestKey === requestKey);
      if (earlier) {
        if (earlier.invoiceId !== invoice.id || (input.amount !== undefined && BigInt(earlier.amountMicros) !== parseAmount(input.amount, currency, 'amount'))) {
          throw new DomainError('idempotency_key_reused', 'This Idempotency-Key was already used for a different payment', [{ path: 'Idempotency-Key', message: 'already used for a different payment' }]);
        }
        return { kind: 'resumed' as const, attempt: await markResent(trx, earlier, ctx.clock.now()), saved: null };
      }
    }

    const notPayable = notPayableReason(invoice);
    if (notPayable) throw new DomainError('invoice_not_payable', `${invoice.number}: ${notPayable}`);
    const inFlight = attempts.find((a) => a.invoiceId === invoice.id && a.status === 'pending');
    if (inFlight) {
      const staleAt = staleFrom(inFlight);
      // An attempt whose charge request never got an answer, long enough ago: resumed (see STALE_PAY_ATTEMPT_MINUTES), as
      // it was asked (its amount and points part): a request for another amount is refused until it is settled.
      if (resumableNow(inFlight, ctx.clock.now())) {
        const asked = input.amount === undefined ? null : parseAmount(input.amount, currency, 'amount');
        if (asked !== null && asked !== BigInt(inFlight.amountMicros)) {
          throw new DomainError('payment_in_progress', `A payment of ${formatDecimal(BigInt(inFlight.amountMicros), currency)} ${currency} for ${invoice.number} (${inFlight.id}) got no answer from the card gateway; pay again without an amount, or with that amount, to finish it first.`, [
            { path: 'amount', message: `${formatDecimal(BigInt(inFlight.amountMicros), currency)} (the unfinished payment's amount) or none` },
          ]);
        }
        return { kind: 'stale' as const, attempt: await markResent(trx, inFlight, ctx.clock.now()), saved: null };
      }
      throw new DomainError('payment_in_progress', `A payment of ${invoice.number} is already being processed (${inFlight.id}); wait for it to finish.${
        staleAt && staleAt.getTime() > ctx.clock.now().getTime()
          ? ` If it has not finished by ${staleAt.toISOString()}, pay again: we will ask the card gateway what became of it.`
          : staleAt ? ' The card gateway has not reported it yet; your provider can see it.' : ''}`);
    }

    const due = BigInt(invoice.amountDueMicros);
    const amount = input.amount === undefined ? due : parseAmount(input.amount, currency, 'amount');
    if (amount <= 0n) throw new DomainError('rule_violation', 'amount must be more than zero', [{ path: 'amount', message: 'more than zero' }]);
    if (amount > due) {
      throw new DomainError('amount_exceeds_due', `${formatDecimal(amount, currency)} ${currency} is more than the ${formatDecimal(due, currency)} ${currency} due on ${invoice.number}`,
        [{ path: 'amount', message: `at most ${formatDecimal(due, currency)}` }]);
    }
    const pointsAvailable = input.usePoints === false ? 0n : spendableMinorUnits(state.pointsMicros - state.reservedMicros, currency);
    const points = amount < pointsAvailable ? amount : pointsAvailable;
    const card = amount - points;
    if (card > 0n && input.cardToken === undefined && input.savedCardId === undefined) {
      throw new DomainError('card_required',
        `Your points cover ${formatDecimal(points, currency)} ${currency}; ${formatDecimal(card, currency)} ${currency} is left to pay by card (or top up your points first).`,
        [{ path: 'cardToken', message: `a card is needed for ${formatDecimal(card, currency)} ${currency}` }]);
    }
    const saved = card > 0n && input.savedCardId ? await usableSavedCard(trx, key, gateway.name, input.savedCardId) : null;

    const attemptId = newId('ipa');
    if (card === 0n) {
      const attempt = await completeInvoicePayment(trx, ctx, {
        partnerId: key.partnerId, attempt: {
          id: attemptId, partnerId: key.partnerId, customerId: key.customerId, invoiceId: invoice.id, userId: caller.userId, currency,
          amountMicros: amount, pointsMicros: points, cardMicros: 0n, reservationId: null, gateway: null, savedCardId: null, requestKey: input.requestKey ?? null,
        }, outcome: { status: 'succeeded', chargeRef: null }, lockedWallet: state, lockedInvoice: invoice,
      });
      return { kind: 'done' as const, attempt: attempt.row, saved: null };
    }
    const reservation = points > 0n
      ? await reservePoints(trx, { wallet, amountMicros: points, useCreditLimit: false, causeType: 'invoice_payment', causeId: attemptId, ttlSeconds: 86_400 })
      : null;
    await trx.insertInto('invoicePayAttempts').values({
      id: attemptId, partnerId: key.partnerId, customerId: key.customerId, invoiceId: invoice.id, userId: caller.userId, currency,
      amountMicros: amount, pointsMicros: points, cardMicros: card, reservationId: reservation?.id ?? null, gateway: gateway.name,
      savedCardId: saved?.id ?? null, requestKey: input.requestKey ?? null, chargeRef: null, entryId: null, failureCode: null, failureReason: null, completedAt: null,
      createdAt: ctx.clock.now(), // the stale rule reads it (staleFrom)
    }).execute();
    const attempt = await trx.selectFrom('invoicePayAttempts').selectAll().where('partnerId', '=', key.partnerId).where('id', '=', attemptId).executeTakeFirstOrThrow();
    return { kind: 'charge' as const, attempt, saved };
  });

  let attempt = prepared.attempt;
  let error: DomainError | null = null;
  const resume = (prepared.kind === 'resumed' || prepared.kind === 'stale') && attempt.status === 'pending' && attempt.chargeRef === null && BigInt(attempt.cardMicros) > 0n;
  if (prepared.kind === 'charge' || resume) {
    // A resumed attempt is charged again under its own gateway idempotency key: with the card it was sent with (its saved
    // card), else the card given now (a stale attempt's token was never kept). If the first request reached the gateway,
    // the gateway answers its result again (same card) or refuses the other card (the attempt stays pending: 409).
    const savedCardId = attempt.savedCardId ?? (prepared.kind === 'stale' ? input.savedCardId ?? null : null);
    const saved: SavedCardRow | null = prepared.saved ?? (savedCardId
      ? await inScope(ctx.db, { kind: 'partner', partnerId: caller.partnerId }, (trx) => usableSavedCard(trx, key, gateway.name, savedCardId))
      : null);
    if (!saved && input.cardToken === undefined) {
      throw new DomainError('card_required', 'Send the card again to finish this payment', [{ path: 'cardToken', message: 'required to resume' }]);
    }
    const card: PayCard = saved ? { kind: 'saved', customerRef: saved.gatewayCustomerRef, methodRef: saved.methodRef } : { kind: 'token', cardToken: input.cardToken! };
    const charged = await chargeInvoicePayment({ db: ctx.db, gateway, log: ctx.log }, ctx, attempt, card, { resumed: prepared.kind !== 'charge' });
    attempt = charged.row;
    error = charged.error;
  }
  if (attempt.status === 'failed') throw error ?? attemptFailure(attempt, input.savedCardId ? 'savedCardId' : 'cardToken');
  return { httpStatus: attempt.status === 'pending' ? 202 : 200, attempt };
}

function checkCardChoice(input: PortalPayInvoiceInput): void {
  const errors: FieldError[] = [];
  if (input.cardToken !== undefined && input.savedCardId !== undefined) errors.push({ path: 'cardToken', message: 'send at most one of cardToken or savedCardId' });
  if (errors.length > 0) throw new DomainError('validation_failed', 'Choose one card', errors);
}

/** The answer for a failed attempt: the card's refusal as a 422 naming the card field; nothing was charged. */
export function attemptFailure(row: PayAttemptRow, field: string): DomainError {
  return cardFailureError(row.failureCode, row.failureReason, field, 'Nothing was charged and your points were not used.');
}

export type { Trx };
