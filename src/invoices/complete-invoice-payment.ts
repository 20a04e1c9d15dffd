import assert from 'node:assert/strict';
import type { Logger } from 'pino';
import { sql, type Selectable } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { inScope, type Db, type Trx } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { formatDecimal, moneyText } from '../money/money.ts';
import { checkChargeInput, toMinorUnits, type ChargeInput, type Gateway } from '../gateway/gateway.ts';
import { failureCodeOfGatewayError } from '../gateway/card-failure.ts';
import { recordAudit, recordAudits, takeRecordedAuditInsert, writeRecordedAudit } from '../audit/record-audit.ts';
import { creditRecipients } from '../notifications/credit-recipients.ts';
import { enqueueNotification } from '../notifications/enqueue-notification.ts';
import { entryWrites } from '../ledger/post-entry.ts';
import { lockWallet, type WalletState } from '../wallet/wallets.repo.ts';
import { releaseReservation } from '../wallet/reservations.ts';
import { newId } from '../platform/ids.ts';
import { currencyOf } from '../topup/top-up-views.ts';
import type { InvoicePayAttemptsTable } from './invoices.db-types.ts';
import { applyInvoicePayment, lockInvoice, type InvoicePaymentPart, type LockedInvoice } from './apply-invoice-payment.ts';

export type PayAttemptRow = Selectable<InvoicePayAttemptsTable>;
type Actor = Pick<Ctx, 'principal' | 'requestId' | 'ip' | 'userAgent' | 'clock'>;

/** What came of the card part of a payment (or `succeeded` with no charge when points paid it all). */
export type PayOutcome =
  | { status: 'succeeded'; chargeRef: string | null }
  | { status: 'pending'; chargeRef: string }
  | { status: 'failed'; code: string; reason: string; chargeRef: string | null };

/** An attempt not yet written: points alone pay, so it is recorded succeeded in the same transaction. */
export interface AttemptSeed {
  id: string; partnerId: string; customerId: string; invoiceId: string; userId: string; currency: string;
  amountMicros: bigint; pointsMicros: bigint; cardMicros: bigint; reservationId: null; gateway: null; savedCardId: null; requestKey: string | null;
}

export interface PayCompletion {
  /** False when the attempt had already been completed (a repeated webhook, a race with the charge's own answer). */
  applied: boolean;
  row: PayAttemptRow;
}


/**
 * Complete a payment attempt exactly once, inside the caller's transaction (partner scope). Locks: the wallet, the
 * attempt, the invoice — in that order, as every money change does (wallets first).
 * - succeeded: ONE ledger entry Dr points:{c} (points part, settling the reservation) · Dr card_clearing (card part)
 *   · Cr receivable:{c} (the amount) — ../shared/ledger-design.md "invoice paid with points + card"; the invoice's
 *   payments, amount paid/due and status (applyInvoicePayment; a paid Purchase invoice activates its pending
 *   subscription); audit `invoice.payment_recorded`; a receipt to the user who paid.
 *   Should the points hold have lapsed meanwhile and the points no longer cover their part, only the card part is
 *   applied (the card money is never lost; the invoice stays partly due) and the audit says so.
 * - failed: the points hold released, nothing posted, audit `invoice.payment_failed` (and, when learnt from a webhook,
 *   a notice to the user).
 * - pending: the charge reference kept; the gateway's webhook completes it later.
 */
export async function completeInvoicePayment(
  trx: Trx,
  actor: Actor,
  input: {
    partnerId: string; attempt: AttemptSeed | { id: string }; outcome: PayOutcome; source?: 'charge' | 'webhook';
    /** With a seed: the wallet as the caller locked and read it in this transaction (saves reading it again). */
    lockedWallet?: WalletState;
    /** With a seed: the invoice row as the caller locked and read it in this transaction (saves locking it again). */
    lockedInvoice?: LockedInvoice;
  },
): Promise<PayCompletion> {
  const seed = 'invoiceId' in input.attempt ? input.attempt : null;
  let lockedWallet = seed ? input.lockedWallet ?? null : null;
  let row: PayAttemptRow | AttemptSeedRow;
  if (seed) {
    // Points alone: the caller holds the wallet and invoice locks already.
    row = { ...seed, amountMicros: seed.amountMicros.toString(), pointsMicros: seed.pointsMicros.toString(), cardMicros: seed.cardMicros.toString(), status: 'pending', chargeRef: null };
  } else {
    const head = await trx.selectFrom('invoicePayAttempts').select(['partnerId', 'customerId', 'currency'])
      .where('partnerId', '=', input.partnerId).where('id', '=', input.attempt.id).executeTakeFirst();
    if (!head) throw new Error(`payment attempt ${input.attempt.id} not found`);
    lockedWallet = await lockWallet(trx, head);
    const locked = await trx.selectFrom('invoicePayAttempts').selectAll().where('partnerId', '=', input.partnerId).where('id', '=', input.attempt.id).forUpdate().executeTakeFirstOrThrow();
    if (locked.status !== 'pending') return { applied: false, row: locked };
    if (input.outcome.chargeRef !== null && locked.chargeRef !== null && locked.chargeRef !== input.outcome.chargeRef) return { applied: false, row: locked };
    row = locked;
  }
  const currency = currencyOf(row.currency);
  const now = actor.clock.now();
  const invoice = (seed && input.lockedInvoice?.id === seed.invoiceId ? input.lockedInvoice : null)
    ?? (await lockInvoice(trx, { partnerId: row.partnerId, customerId: row.customerId, invoiceId: row.invoiceId }))!;
  const amount = BigInt(row.amountMicros);
  const points = BigInt(row.pointsMicros);
  const card = BigInt(row.cardMicros);
  const audit = { partnerId: row.partnerId, customerId: row.customerId, app: actor.principal.kind === 'customer' ? 'portal' : 'invoice', targetType: 'invoice', targetId: invoice.id };
  const what = {
    invoiceNumber: { after: invoice.number }, attempt: { after: row.id }, amount: { after: formatDecimal(amount, currency) },
    points: { after: formatDecimal(points, currency) }, card: { after: formatDecimal(card, currency) }, currency: { after: currency },
  };
  const { outcome } = input;

  if (outcome.status === 'pending') {
    assert(!seed, 'a points-only payment is never pending');
    await trx.updateTable('invoicePayAttempts').set({ chargeRef: outcome.chargeRef }).where('partnerId', '=', row.partnerId).where('id', '=', row.id).execute();
    await recordAudit(trx, actor, { ...audit, action: 'invoice.payment_pending', changes: { ...what, chargeRef: { after: outcome.chargeRef } } });
    return { applied: true, row: await attemptRow(trx, row.partnerId, row.id) };
  }

  if (outcome.status === 'failed') {
    assert(!seed, 'a points-only payment never fails at the card');
    if (row.reservationId) await releaseReservation(trx, { partnerId: row.partnerId, reservationId: row.reservationId });
    await trx.updateTable('invoicePayAttempts')
      .set({ status: 'failed', chargeRef: outcome.chargeRef ?? row.chargeRef, failureCode: outcome.code, failureReason: outcome.reason.slice(0, 500), completedAt: now })
      .where('partnerId', '=', row.partnerId).where('id', '=', row.id).execute();
    await recordAudit(trx, actor, {
      ...audit, action: 'invoice.payment_failed',
      changes: { ...what, failureCode: { after: outcome.code }, failureReason: { after: outcome.reason } },
    });
    if (input.source === 'webhook') {
      await notifyUser(trx, row, `Payment of ${invoice.number} failed`, [
        `Your card payment of ${moneyText(card, currency)} for invoice ${invoice.number} could not be completed (${outcome.reason}).`,
        'Nothing was charged and your points were not used. The invoice is still open.',
      ]);
    }
    return { applied: true, row: await attemptRow(trx, row.partnerId, row.id) };
  }

  // Succeeded: what can still be applied (the invoice is open and owes at least this much: one attempt in flight).
  assert(invoice.status === 'awaiting_payment' || invoice.status === 'partially_paid', 'a paid attempt meets an open invoice');
  assert(amount <= BigInt(invoice.amountDueMicros), 'a paid attempt never exceeds what is due');
  const wallet = { partnerId: row.partnerId, customerId: row.customerId, currency };
  const state = lockedWallet ?? await lockWallet(trx, wallet); // held already: read when locked, nothing changed it since
  // The points part: the hold taken for it (released now), or — the hold lapsed meanwhile — what the points still cover.
  let held = 0n;
  if (points > 0n && row.reservationId) {
    const hold = await trx.selectFrom('walletReservations').select(['status', 'amountMicros'])
      .where('partnerId', '=', row.partnerId).where('id', '=', row.reservationId).executeTakeFirstOrThrow();
    if (hold.status === 'active') held = BigInt(hold.amountMicros);
  }
  const spendable = state.pointsMicros - (state.reservedMicros - held);
  assert(held === 0n || spendable >= points, 'a live hold covers its points');
  const pointsPaid = points > 0n && spendable >= points ? points : 0n;
  const lapsed = points > 0n && pointsPaid === 0n;
  const paidNow = pointsPaid + card;
  const dueAfter = BigInt(invoice.amountDueMicros) - paidNow;

  // Customer-level rows only are locked here; the partner-wide rows (its card_clearing account, then the audit chain head)
  // are locked while the transaction commits (migration 0041; docs/adr/0013, ADR 0018). Ids are made up front so the rows
  // can name the entry and the event.
  const entryId = newId('je');
  const auditEventId = newId('evt');
  const parts: InvoicePaymentPart[] = [
    ...(pointsPaid > 0n ? [{ source: 'points' as const, amountMicros: pointsPaid, attemptId: row.id }] : []),
    ...(card > 0n ? [{ source: 'card' as const, amountMicros: card, chargeRef: outcome.chargeRef, attemptId: row.id }] : []),
  ];
  // The attempt as it is answered (nothing below changes it).
  const completed = seed
    ? await trx.insertInto('invoicePayAttempts').values({
      id: seed.id, partnerId: seed.partnerId, customerId: seed.customerId, invoiceId: seed.invoiceId, userId: seed.userId, currency,
      amountMicros: amount, pointsMicros: points, cardMicros: 0n, reservationId: null, gateway: null, savedCardId: null, requestKey: seed.requestKey,
      status: 'succeeded', chargeRef: null, entryId, failureCode: null, failureReason: null, completedAt: now, createdAt: now,
    }).returningAll().executeTakeFirstOrThrow()
    : await trx.updateTable('invoicePayAttempts').set({ status: 'succeeded', chargeRef: outcome.chargeRef ?? row.chargeRef, entryId, completedAt: now })
      .where('partnerId', '=', row.partnerId).where('id', '=', row.id).returningAll().executeTakeFirstOrThrow();
  const applied = await applyInvoicePayment(trx, actor, { partnerId: row.partnerId, invoiceId: invoice.id, entryId, parts, paidBy: row.userId, at: now, locked: invoice });
  assert(applied.amountDueMicros === dueAfter, 'the invoice owes what it owed less this payment');
  await notifyUser(trx, row, `Receipt: ${invoice.number} ${applied.status === 'paid' ? 'paid' : 'partly paid'} (${moneyText(paidNow, currency)})`, [
    `Thank you: we received ${moneyText(paidNow, currency)} for invoice ${invoice.number}.`,
    '',
    ...(pointsPaid > 0n ? [`Paid with points:     ${moneyText(pointsPaid, currency)}`] : []),
    ...(card > 0n ? [`Charged to the card:  ${moneyText(card, currency)}${outcome.chargeRef ? ` (ref ${outcome.chargeRef})` : ''}`] : []),
    `Invoice total:        ${moneyText(BigInt(invoice.totalMicros), currency)}`,
    `Still due:            ${moneyText(applied.amountDueMicros, currency)}`,
    `Status:               ${applied.status === 'paid' ? 'Paid' : 'Partially paid'}`,
  ]);

  await recordAudits(trx, [{
    ctx: actor, id: auditEventId,
    input: {
      ...audit, action: 'invoice.payment_recorded',
      changes: {
        ...what, ...(outcome.chargeRef ? { chargeRef: { after: outcome.chargeRef } } : {}),
        ...(lapsed ? { pointsNotTaken: { after: 'the points hold lapsed and the points no longer covered their part' } } : {}),
        status: { before: invoice.status, after: applied.status },
        amountDue: { before: formatDecimal(BigInt(invoice.amountDueMicros), currency), after: formatDecimal(dueAfter, currency) },
      },
    },
  }]);
  // Customer-level work first; the entry, with the points hold settled and the events queued (they join the chain at
  // commit) in the same statement, is the last statement before commit. Its partner account (card_clearing) and the
  // chain head are locked only while the transaction commits (migration 0041).
  const auditInsert = takeRecordedAuditInsert(trx);
  if (!auditInsert) await writeRecordedAudit(trx);
  const audited = auditInsert ? sql`, audit_queued as (${auditInsert})` : sql``;
  const written = await entryWrites(trx, [{
    entryId, partnerId: row.partnerId, currency, customerId: row.customerId, kind: 'invoice_payment', causeType: 'invoice', causeId: invoice.id, auditEventId,
    description: `Invoice ${invoice.number} paid${card > 0n && pointsPaid > 0n ? ' (points and card)' : card > 0n ? ' by card' : ' with points'}${lapsed ? '; points no longer covered their part' : ''}`,
    postings: [
      ...(pointsPaid > 0n ? [{ code: 'points' as const, customerId: row.customerId, amountMicros: pointsPaid }] : []),
      ...(card > 0n ? [{ code: 'card_clearing' as const, amountMicros: card }] : []),
      { code: 'receivable', customerId: row.customerId, amountMicros: -paidNow },
    ],
  }]);
  const posted = written.posted[0]!;
  assert(posted.entryId === entryId, 'the entry the rows name');
  if (held > 0n) {
    // The hold names its entry (checked at the end of the statement, once the entry is written) and leaves the wallet's
    // reserved points in the same statement.
    await sql`with entries as (${written.entries}), written_postings as (${written.postings})${audited},
        released as (update wallets set reserved_micros = reserved_micros - ${held.toString()}::bigint, updated_at = now()
                      where partner_id = ${row.partnerId} and customer_id = ${row.customerId} and currency = ${currency})
      update wallet_reservations set status = 'settled', closed_at = ${now}, settled_entry_id = ${entryId}
       where partner_id = ${row.partnerId} and id = ${row.reservationId!}`.execute(trx);
  } else {
    await sql`with entries as (${written.entries})${audited} ${written.postings}`.execute(trx);
  }
  if (pointsPaid > 0n) {
    assert(-posted.customerBalances.get(`points|${row.customerId}`)! === state.pointsMicros - pointsPaid, 'points moved by exactly their part');
  }
  return { applied: true, row: completed };
}

type AttemptSeedRow = Omit<AttemptSeed, 'amountMicros' | 'pointsMicros' | 'cardMicros'> & {
  amountMicros: string; pointsMicros: string; cardMicros: string; status: 'pending'; chargeRef: string | null;
};

async function attemptRow(trx: Trx, partnerId: string, id: string): Promise<PayAttemptRow> {
  return trx.selectFrom('invoicePayAttempts').selectAll().where('partnerId', '=', partnerId).where('id', '=', id).executeTakeFirstOrThrow();
}

async function notifyUser(trx: Trx, row: { partnerId: string; customerId: string; userId: string; id: string }, subject: string, lines: string[]): Promise<void> {
  // The receipt names the points used: the payer while still an owner or admin, else the owner (`creditRecipients`).
  const recipients = await creditRecipients(trx, { partnerId: row.partnerId, customerId: row.customerId, startedBy: row.userId });
  for (const user of recipients) {
    await enqueueNotification(trx, {
      partnerId: row.partnerId, customerId: row.customerId, userId: user.id, toEmail: user.email, kind: 'payment_receipt', subject,
      bodyText: [...lines, '', `Payment reference: ${row.id}`].join('\n'),
    });
  }
}

// ---- the card part ----

export type PayCard = { kind: 'token'; cardToken: string } | { kind: 'saved'; customerRef: string; methodRef: string };

export interface PayDeps {
  db: Db;
  gateway: Gateway;
  log: Logger;
}

/** Gateway idempotency keys derive from the attempt id: a retry of the same attempt never charges twice. */
export const invoiceChargeKey = (attemptId: string) => `folio-invoice-payment-${attemptId}`;

/**
 * Charge the card part of a pending attempt (already committed, points reserved) outside any transaction, then complete
 * it in one transaction. What an error means depends on whether the charge request can have reached the gateway:
 * - BEFORE the request (building it, or the checks every adapter makes before sending: its fields, a positive amount in
 *   whole minor units; `chargeRequestOf`): nothing can have been charged, so the attempt FAILS, its points hold is
 *   released and the invoice stays payable. A DomainError goes back to the caller as the answer; anything else (a broken
 *   invariant, e.g. an amount in fractions of a cent) is logged and rethrown (500) after the attempt is failed.
 * - From the gateway: declines are values; a DomainError is the gateway refusing the request (nothing charged): the
 *   attempt fails and the error goes back to the caller. Except `idempotency_key_reused`: an earlier request under this
 *   attempt's key (a resume, pay-invoice.ts) reached the gateway with another card, so its charge is the gateway's to
 *   report: the attempt stays pending (409 `payment_in_progress`), its webhook completes it.
 * - Anything else (the gateway unreachable, a timeout, a broken answer) propagates and leaves the attempt pending with its
 *   hold: the charge may have happened. Its webhook completes it, a retry with the same Idempotency-Key resumes it, and
 *   after STALE_PAY_ATTEMPT_MINUTES any new pay of the invoice resumes it (pay-invoice.ts): all ask the gateway under the
 *   attempt's own idempotency key, so nothing is charged twice and the invoice is never locked for ever.
 */
export async function chargeInvoicePayment(
  deps: PayDeps, actor: Actor, attempt: PayAttemptRow, card: PayCard, options: { resumed?: boolean } = {},
): Promise<PayCompletion & { error: DomainError | null }> {
  const complete = (outcome: PayOutcome) => inScope(deps.db, { kind: 'partner', partnerId: attempt.partnerId }, (trx) =>
    completeInvoicePayment(trx, actor, { partnerId: attempt.partnerId, attempt: { id: attempt.id }, outcome, source: 'charge' }));

  let request: ChargeInput;
  try {
    request = chargeRequestOf(attempt, card);
  } catch (err) {
    // A resumed attempt's earlier request may have reached the gateway and charged the card: this request was not sent,
    // but that proves nothing about the first one. The attempt stays pending (its webhook, or a resume with a card that
    // passes, settles it); the caller is told what was wrong with this request.
    if (options.resumed) {
      if (err instanceof DomainError) throw err;
      deps.log.error({ err, attemptId: attempt.id }, 'the resumed card charge could not be built; the invoice payment stays pending');
      throw err;
    }
    // A first request: nothing was sent. Fail the attempt (its points hold released), so the invoice can be paid again.
    const domain = err instanceof DomainError ? err : null;
    const completion = await complete({
      status: 'failed', chargeRef: null, code: domain ? failureCodeOfGatewayError(domain.code) : 'not_sent',
      reason: domain ? domain.message : 'the card payment could not be sent to the gateway; nothing was charged',
    });
    if (domain) return { ...completion, error: domain };
    deps.log.error({ err, attemptId: attempt.id }, 'the card charge could not be built (nothing sent to the gateway); the invoice payment attempt failed, its points hold released');
    throw err;
  }

  let outcome: PayOutcome;
  let error: DomainError | null = null;
  try {
    const result = await deps.gateway.charge(request);
    outcome = result.status === 'declined' || result.status === 'insufficient_funds'
      ? { status: 'failed', code: result.status, reason: result.failureReason, chargeRef: result.chargeRef }
      : { status: result.status, chargeRef: result.chargeRef as string };
  } catch (err) {
    if (!(err instanceof DomainError)) {
      deps.log.error({ err, attemptId: attempt.id }, 'card gateway call failed; the invoice payment stays pending');
      throw err;
    }
    if (err.code === 'idempotency_key_reused') {
      deps.log.warn({ attemptId: attempt.id }, 'an earlier charge request of this invoice payment reached the gateway with another card; it stays pending');
      throw new DomainError('payment_in_progress',
        `Payment ${attempt.id} of this invoice was already sent to the card gateway with another card; it completes when the gateway reports it. Nothing more was charged.`);
    }
    error = err;
    outcome = { status: 'failed', code: failureCodeOfGatewayError(err.code), reason: err.message, chargeRef: null };
  }
  return { ...await complete(outcome), error };
}

/**
 * The gateway request of an attempt's card part, checked as every adapter checks it before sending (its fields; a
 * positive amount in whole minor units: `toMinorUnits` asserts it), so that an error here means nothing was sent.
 */
export function chargeRequestOf(attempt: PayAttemptRow, card: PayCard): ChargeInput {
  const currency = currencyOf(attempt.currency);
  const base = {
    amountMicros: BigInt(attempt.cardMicros), currency, idempotencyKey: invoiceChargeKey(attempt.id),
    description: `Invoice payment ${attempt.id}`,
    metadata: { invoicePaymentAttemptId: attempt.id, invoiceId: attempt.invoiceId, partnerId: attempt.partnerId, customerId: attempt.customerId },
  };
  const request: ChargeInput = card.kind === 'saved'
    ? { ...base, customerRef: card.customerRef, methodRef: card.methodRef }
    : { ...base, cardToken: card.cardToken };
  checkChargeInput(request);
  toMinorUnits(request.amountMicros, currency);
  return request;
}
