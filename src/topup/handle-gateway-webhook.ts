import { sql } from 'kysely';
import type { GatewayEvent } from '../gateway/gateway.ts';
import { inScope } from '../platform/database.ts';
import type { TopUpDeps } from './charge-top-up.ts';
import { systemClock } from '../platform/clock.ts';
import { completeInvoicePaymentFromWebhook } from '../invoices/invoice-payment-webhook.ts';
import { completeTopUp, type AuditActor, type TopUpOutcome } from './complete-top-up.ts';

export interface WebhookResult {
  received: true;
  eventType: string;
  /** True when this event completed a top-up; false for a repeat, an event about something else, or an ignored type. */
  applied: boolean;
  topUpId: string | null;
}

/**
 * A card gateway webhook (the route `POST /api/v1/gateway/webhooks`, and the worker delivering the sandbox's events):
 * the signature is checked by the gateway, then a `charge.succeeded` / `charge.failed` completes the pending top-up it
 * is about, found by the charge reference, or by the `topUpId` the charge carries in its metadata (the answer to the
 * charge call may have been lost before the reference was kept). Completion locks the top-up row and applies only to a
 * pending one, so an event delivered twice, or racing the charge's own answer, applies once.
 */
export async function handleGatewayWebhook(deps: TopUpDeps, actor: AuditActor, rawBody: string | Uint8Array, signatureHeader: string | undefined): Promise<WebhookResult> {
  const event = await deps.gateway.parseWebhook(rawBody, signatureHeader);
  const ignored = (topUpId: string | null = null): WebhookResult => ({ received: true, eventType: event.type === 'ignored' ? event.gatewayType : event.type, applied: false, topUpId });
  if (event.type !== 'charge.succeeded' && event.type !== 'charge.failed') return ignored();

  const metadataTopUpId = /^top_[0-9a-z]{10,40}$/.test(event.metadata.topUpId ?? '') ? event.metadata.topUpId! : null;
  const found = await inScope(deps.db, { kind: 'system' }, (trx) =>
    trx
      .selectFrom('topUps')
      .select(['id', 'partnerId', 'currency', 'amountMicros', 'feeMicros', 'chargeRef', 'status'])
      .where('gateway', '=', deps.gateway.name)
      .where((eb) => eb.or([eb('chargeRef', '=', event.chargeRef), ...(metadataTopUpId ? [eb('id', '=', metadataTopUpId)] : [])]))
      .orderBy(sql`charge_ref is not distinct from ${event.chargeRef}`, 'desc')
      .limit(1)
      .executeTakeFirst(),
  );
  if (!found) {
    // Not a top-up's: an invoice payment's (src/invoices), or not Folio's.
    const paid = await completeInvoicePaymentFromWebhook(deps, { ...actor, clock: systemClock }, event);
    return paid ? { received: true, eventType: event.type, applied: paid.applied, topUpId: null } : ignored();
  }
  if (found.status !== 'pending') return ignored(found.id);
  const expected = BigInt(found.amountMicros) + BigInt(found.feeMicros);
  if (event.currency !== found.currency || event.amountMicros !== expected) {
    deps.log.error({ topUpId: found.id, eventRef: event.eventRef, chargeRef: event.chargeRef }, 'webhook amount does not match the top-up; not applied');
    return ignored(found.id);
  }
  const outcome = outcomeOf(event);
  const completion = await inScope(deps.db, { kind: 'partner', partnerId: found.partnerId }, (trx) =>
    completeTopUp(trx, actor, { partnerId: found.partnerId, topUpId: found.id, outcome, source: 'webhook' }),
  );
  deps.log.info({ topUpId: found.id, eventRef: event.eventRef, applied: completion.applied, status: completion.row.status }, 'gateway webhook for a top-up');
  return { received: true, eventType: event.type, applied: completion.applied, topUpId: found.id };
}

function outcomeOf(event: Extract<GatewayEvent, { type: 'charge.succeeded' | 'charge.failed' }>): TopUpOutcome {
  return event.type === 'charge.succeeded'
    ? { status: 'succeeded', chargeRef: event.chargeRef }
    : { status: 'failed', code: event.status, reason: event.failureReason, chargeRef: event.chargeRef };
}
