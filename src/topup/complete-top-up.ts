import type { Ctx } from '../platform/context.ts';
import type { Trx } from '../platform/database.ts';
import { formatDecimal, moneyText } from '../money/money.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { enqueueNotification, type NotificationKind } from '../notifications/enqueue-notification.ts';
import { creditRecipients } from '../notifications/credit-recipients.ts';
import { creditWallet } from '../wallet/charge-wallet.ts';
import { issuePaidInvoice } from '../invoices/issue-paid-invoice.ts';
import { newId } from '../platform/ids.ts';
import { DomainError } from '../platform/errors.ts';
import { recordSavedCard, type CardToRecord } from './saved-cards.ts';
import { ADMIN_FEE_DESCRIPTION } from './top-up-policy.ts';
import { currencyOf, lockTopUp, type TopUpRow } from './top-up-views.ts';
import { alertStaffNumberTaken, heldTopUp } from './number-taken-alert.ts';

/** Who the audit trail names: the portal user, or the system (`gateway_webhook`, `auto_top_up`). */
export type AuditActor = Pick<Ctx, 'principal' | 'requestId' | 'ip' | 'userAgent'>;

/** What came of a top-up's charge. */
export type TopUpOutcome =
  | { status: 'succeeded'; chargeRef: string; savedCard?: CardToRecord | undefined }
  /** `reason`: why a charge that succeeded is left pending (its invoice could not be numbered), on the trail. */
  | { status: 'pending'; chargeRef: string; savedCard?: CardToRecord | undefined; reason?: string }
  | { status: 'failed'; code: string; reason: string; chargeRef: string | null };

/** Where the outcome was learnt: the charge call itself (portal, auto top-up) or a webhook (a delayed charge settling). */
export type OutcomeSource = 'charge' | 'webhook';

export interface Completion {
  /** False when the top-up had already been completed (a repeated webhook, a race between the webhook and the charge). */
  applied: boolean;
  row: TopUpRow;
}


/**
 * Complete a pending top-up with the outcome of its charge, exactly once: the top-up row is locked, and anything but
 * `pending` is left as it is. Everything below commits together in the caller's transaction (partner scope: the
 * partner's own accounts are written).
 * - succeeded: a paid Top-up invoice (points line + admin fee line), the ledger entry Dr card_clearing amount+fee,
 *   Cr points:{c} amount, Cr revenue:fees fee (no tax: a top-up is a deposit, docs/adr/0008), audit
 *   `top_up.succeeded`, and a `top_up_receipt` to whoever paid (the owner for an automatic one);
 * - pending: the charge reference is kept (the webhook completes it), audit `top_up.pending`;
 * - failed: the reason is kept, audit `top_up.failed`; an automatic top-up's failure is notified to the owner
 *   (`auto_top_up_failed`), and a portal top-up that failed later, by webhook, to the user who started it (`top_up_failed`).
 */
export async function completeTopUp(
  trx: Trx,
  actor: AuditActor,
  input: { partnerId: string; topUpId: string; outcome: TopUpOutcome; source: OutcomeSource },
): Promise<Completion> {
  const row = await lockTopUp(trx, input.partnerId, input.topUpId);
  if (!row) throw new Error(`top-up ${input.topUpId} not found`);
  if (row.status !== 'pending') return { applied: false, row };
  const { outcome } = input;
  if (outcome.chargeRef !== null && row.chargeRef !== null && row.chargeRef !== outcome.chargeRef) {
    // Another charge than the one this top-up made: never apply it to this top-up.
    return { applied: false, row };
  }
  const currency = currencyOf(row.currency);
  const amount = BigInt(row.amountMicros);
  const fee = BigInt(row.feeMicros);
  const now = new Date();
  const audit = { partnerId: row.partnerId, customerId: row.customerId, app: actor.principal.kind === 'customer' ? 'portal' : 'finance', targetType: 'top_up', targetId: row.id };
  const what = { amount: { after: formatDecimal(amount, currency) }, fee: { after: formatDecimal(fee, currency) }, currency: { after: currency }, auto: { after: row.auto } };

  let savedCardId = row.savedCardId;
  if (outcome.status !== 'failed' && outcome.savedCard && !savedCardId) {
    savedCardId = await recordSavedCard(trx, { partnerId: row.partnerId, customerId: row.customerId, gateway: row.gateway, card: outcome.savedCard, createdBy: row.userId });
  }

  if (outcome.status === 'pending') {
    await trx.updateTable('topUps').set({ chargeRef: outcome.chargeRef, savedCardId, updatedAt: now }).where('id', '=', row.id).where('partnerId', '=', row.partnerId).execute();
    await recordAudit(trx, actor, {
      ...audit, action: 'top_up.pending',
      changes: { ...what, status: { after: 'pending' }, ...(outcome.reason ? { reason: { after: outcome.reason } } : {}) },
    });
    if (outcome.reason) await alertStaffNumberTaken(trx, heldTopUp(row, 'charged'));
    return { applied: true, row: (await lockTopUp(trx, row.partnerId, row.id))! };
  }

  if (outcome.status === 'failed') {
    await trx
      .updateTable('topUps')
      .set({ status: 'failed', chargeRef: outcome.chargeRef ?? row.chargeRef, failureCode: outcome.code, failureReason: outcome.reason.slice(0, 500), completedAt: now, updatedAt: now })
      .where('id', '=', row.id).where('partnerId', '=', row.partnerId)
      .execute();
    await recordAudit(trx, actor, {
      ...audit, action: 'top_up.failed',
      changes: { ...what, status: { before: 'pending', after: 'failed' }, failureCode: { after: outcome.code }, failureReason: { after: outcome.reason } },
    });
    if (outcome.code === 'document_number_taken') await alertStaffNumberTaken(trx, heldTopUp(row, 'not_charged'));
    const total = moneyText(amount + fee, currency);
    if (row.auto) {
      await notify(trx, row, 'auto_top_up_failed', `Automatic top-up of ${moneyText(amount, currency)} failed`, [
        `Your automatic top-up of ${moneyText(amount, currency)} (card charge ${total}) could not be made: ${describeFailure(outcome.code, outcome.reason)}.`,
        'No points were added and nothing was charged. It will be tried again tomorrow if your points are still at or below your threshold.',
        'Check your saved card in the portal (Points > Auto top-up), or top up by hand.',
      ]);
    } else if (input.source === 'webhook') {
      await notify(trx, row, 'top_up_failed', `Top-up of ${moneyText(amount, currency)} failed`, [
        `Your top-up of ${moneyText(amount, currency)} (card charge ${total}) could not be completed: ${describeFailure(outcome.code, outcome.reason)}.`,
        'No points were added and nothing was charged.',
      ]);
    }
    return { applied: true, row: (await lockTopUp(trx, row.partnerId, row.id))! };
  }

  // Succeeded. The invoice records the card payment (its charge reference, the entry below, who paid: the user who made the
  // top-up, none for an automatic one). Its lines are a deposit and a fee with no tax (docs/adr/0008): quantity 1, no
  // product, rate 0 — the tax category left at its default (`standard` at 0%), as the Invoice app's Top-up invoices have it.
  const entryId = newId('je');
  const invoice = await issuePaidInvoice(trx, {
    partnerId: row.partnerId, customerId: row.customerId, type: 'top_up', currency, paidAt: now,
    lines: [
      { kind: 'points', description: `Points top-up (${moneyText(amount, currency)})`, amountMicros: amount },
      ...(fee > 0n ? [{ kind: 'admin_fee', description: ADMIN_FEE_DESCRIPTION, amountMicros: fee }] : []),
    ],
    paidWith: { source: 'card', entryId, chargeRef: outcome.chargeRef, paidBy: row.userId },
  });
  const auditEventId = await recordAudit(trx, actor, {
    ...audit, action: 'top_up.succeeded',
    changes: { ...what, status: { before: 'pending', after: 'succeeded' }, invoiceNumber: { after: invoice.number }, chargeRef: { after: outcome.chargeRef } },
  });
  const credited = await creditWallet(trx, {
    wallet: { partnerId: row.partnerId, customerId: row.customerId, currency },
    amountMicros: amount,
    entry: {
      entryId, kind: row.auto ? 'auto_top_up' : 'top_up', causeType: 'top_up', causeId: row.id, auditEventId,
      description: `${row.auto ? 'Automatic card top-up' : 'Card top-up'}, invoice ${invoice.number}${fee > 0n ? ` (admin fee ${moneyText(fee, currency)})` : ''}`,
    },
    counterPostings: [
      { code: 'card_clearing', amountMicros: amount + fee },
      ...(fee > 0n ? [{ code: 'revenue:fees' as const, amountMicros: -fee }] : []),
    ],
  });
  await trx
    .updateTable('topUps')
    .set({ status: 'succeeded', chargeRef: outcome.chargeRef, invoiceId: invoice.id, entryId: credited.posted.entryId, savedCardId, completedAt: now, updatedAt: now })
    .where('id', '=', row.id).where('partnerId', '=', row.partnerId)
    .execute();
  await notify(trx, row, 'top_up_receipt', `Receipt: ${moneyText(amount, currency)} added to your points (${invoice.number})`, [
    `${row.auto ? 'Your automatic top-up' : 'Your top-up'} by card is complete.`,
    '',
    `Points added:        ${moneyText(amount, currency)}`,
    ...(fee > 0n ? [`Admin fee:           ${moneyText(fee, currency)}`] : []),
    `Charged to the card: ${moneyText(amount + fee, currency)}`,
    `Invoice:             ${invoice.number} (paid)`,
    `Points balance now:  ${moneyText(credited.pointsAfterMicros, currency)}`,
  ]);
  return { applied: true, row: (await lockTopUp(trx, row.partnerId, row.id))! };
}

/**
 * The outcome that keeps a charge whose completion was refused because its paid invoice's number had been issued
 * meanwhile (docs/adr/0041, third amendment): pending with its charge and the reason, for the gateway's webhook to
 * complete once the format is changed. Null for any other refusal, or an outcome that charged nothing.
 */
export function keptPendingOutcome(err: unknown, outcome: TopUpOutcome): TopUpOutcome | null {
  if (!(err instanceof DomainError) || err.code !== 'document_number_taken' || outcome.status !== 'succeeded') return null;
  return { status: 'pending', chargeRef: outcome.chargeRef, savedCard: outcome.savedCard, reason: `charged, not yet invoiced: ${err.message}` };
}

function describeFailure(code: string, reason: string): string {
  switch (code) {
    case 'insufficient_funds':
      return 'the card has insufficient funds';
    case 'declined':
      return `the card was declined (${reason})`;
    case 'below_minimum':
    case 'no_saved_card':
      return reason;
    default:
      return `${code.replaceAll('_', ' ')} (${reason})`;
  }
}

/**
 * A notification to whoever should hear of this top-up: the user who made it while still an owner or admin, or the owner
 * (the admins when the organisation has no active owner): `creditRecipients`.
 */
async function notify(trx: Trx, row: TopUpRow, kind: NotificationKind, subject: string, lines: string[]): Promise<void> {
  const recipients = await creditRecipients(trx, { partnerId: row.partnerId, customerId: row.customerId, startedBy: row.userId });
  const body = [...lines, '', `Top-up reference: ${row.id}`].join('\n');
  for (const r of recipients) {
    await enqueueNotification(trx, { partnerId: row.partnerId, customerId: row.customerId, userId: r.id, toEmail: r.email, kind, subject, bodyText: body });
  }
}
