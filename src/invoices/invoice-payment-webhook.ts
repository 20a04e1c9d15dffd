import { sql } from 'kysely';
import type { GatewayEvent } from '../gateway/gateway.ts';
import type { Ctx } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { completeInvoicePayment, type PayCompletion, type PayDeps } from './complete-invoice-payment.ts';

const ATTEMPT_ID = /^ipa_[0-9a-z]{10,40}$/;

/**
 * A gateway webhook about an invoice payment's card charge (a delayed card settling): the pending attempt is found by
 * the charge reference, or by the attempt id the charge carries in its metadata, and completed exactly once
 * (completeInvoicePayment locks it; a repeat or a race with the charge's own answer applies nothing).
 * Returns null when the event is not about an invoice payment.
 */
export async function completeInvoicePaymentFromWebhook(
  deps: PayDeps,
  actor: Pick<Ctx, 'principal' | 'requestId' | 'ip' | 'userAgent' | 'clock'>,
  event: Extract<GatewayEvent, { type: 'charge.succeeded' | 'charge.failed' }>,
): Promise<PayCompletion | null> {
  const metadataId = ATTEMPT_ID.test(event.metadata.invoicePaymentAttemptId ?? '') ? event.metadata.invoicePaymentAttemptId! : null;
  const found = await inScope(deps.db, { kind: 'system' }, (trx) =>
    trx.selectFrom('invoicePayAttempts').select(['id', 'partnerId', 'currency', 'cardMicros', 'status'])
      .where('gateway', '=', deps.gateway.name)
      .where((eb) => eb.or([eb('chargeRef', '=', event.chargeRef), ...(metadataId ? [eb('id', '=', metadataId)] : [])]))
      .orderBy(sql`charge_ref is not distinct from ${event.chargeRef}`, 'desc')
      .limit(1)
      .executeTakeFirst());
  if (!found) return null;
  if (event.currency !== found.currency || event.amountMicros !== BigInt(found.cardMicros)) {
    deps.log.error({ attemptId: found.id, eventRef: event.eventRef, chargeRef: event.chargeRef }, 'webhook amount does not match the invoice payment; not applied');
    return { applied: false, row: await inScope(deps.db, { kind: 'partner', partnerId: found.partnerId }, (trx) =>
      trx.selectFrom('invoicePayAttempts').selectAll().where('partnerId', '=', found.partnerId).where('id', '=', found.id).executeTakeFirstOrThrow()) };
  }
  const outcome = event.type === 'charge.succeeded'
    ? { status: 'succeeded' as const, chargeRef: event.chargeRef }
    : { status: 'failed' as const, code: event.status, reason: event.failureReason, chargeRef: event.chargeRef };
  const completion = await inScope(deps.db, { kind: 'partner', partnerId: found.partnerId }, (trx) =>
    completeInvoicePayment(trx, actor, { partnerId: found.partnerId, attempt: { id: found.id }, outcome, source: 'webhook' }));
  deps.log.info({ attemptId: found.id, eventRef: event.eventRef, applied: completion.applied, status: completion.row.status }, 'gateway webhook for an invoice payment');
  if (event.type === 'charge.succeeded' && completion.row.status === 'failed') {
    // The card was charged for an attempt already recorded as failed: that money is at the gateway and in no book. Not
    // applied here (the invoice may have been paid since); someone must refund it or apply it, so it is said loudly.
    deps.log.error({ attemptId: found.id, eventRef: event.eventRef, chargeRef: event.chargeRef, amountMicros: String(event.amountMicros) },
      'a card charge succeeded for an invoice payment recorded as failed: refund it at the gateway or record it as a payment');
  }
  return completion;
}
