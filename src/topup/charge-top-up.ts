import type { Logger } from 'pino';
import type { Gateway } from '../gateway/gateway.ts';
import { failureCodeOfGatewayError } from '../gateway/card-failure.ts';
import { inScope, type Db } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { currencyOf, type TopUpRow } from './top-up-views.ts';
import { completeTopUp, keptPendingOutcome, type AuditActor, type Completion, type TopUpOutcome } from './complete-top-up.ts';
import type { CardToRecord } from './saved-cards.ts';

export interface TopUpDeps {
  db: Db;
  gateway: Gateway;
  log: Logger;
}

/** The card a top-up is charged to: a one-off token from the browser (possibly to be saved), or a saved card. */
export type TopUpCard =
  | { kind: 'token'; cardToken: string; save: boolean }
  | { kind: 'saved'; customerRef: string; methodRef: string };

/** Gateway idempotency keys derive from the top-up id: a retry of the same top-up never charges twice. */
export const chargeKey = (topUpId: string) => `folio-top-up-${topUpId}`;
const saveCardKey = (topUpId: string) => `folio-top-up-card-${topUpId}`;

export interface ChargedTopUp extends Completion {
  /** A gateway error the caller answers with (the top-up is recorded as failed with it). */
  error: DomainError | null;
}

/**
 * Charge a pending top-up (already committed) at the gateway, outside any database transaction, then complete it in
 * one transaction (completeTopUp). A card to save is saved first, on the customer's gateway customer, and charged with
 * the customer present. Declines are values (the top-up fails with the gateway's reason); a gateway DomainError
 * (an unknown token, a card the gateway does not know) fails the top-up too and is handed back to the caller.
 * Anything else (the gateway unreachable) propagates and leaves the top-up pending: the charge may have happened, and
 * its webhook, or a retry with the same key, completes it.
 */
export async function chargeAndComplete(deps: TopUpDeps, actor: AuditActor, topUp: TopUpRow, card: TopUpCard): Promise<ChargedTopUp> {
  const { gateway } = deps;
  const currency = currencyOf(topUp.currency);
  const total = BigInt(topUp.amountMicros) + BigInt(topUp.feeMicros);
  const base = {
    amountMicros: total, currency, idempotencyKey: chargeKey(topUp.id),
    description: `${topUp.auto ? 'Automatic top-up' : 'Top-up'} ${topUp.id}`,
    metadata: { topUpId: topUp.id, partnerId: topUp.partnerId, customerId: topUp.customerId },
  };
  const key = { partnerId: topUp.partnerId, customerId: topUp.customerId };

  let outcome: TopUpOutcome;
  let error: DomainError | null = null;
  try {
    let savedCard: CardToRecord | undefined;
    let customerRef: string | undefined;
    if (card.kind === 'token' && card.save) {
      customerRef = await knownCustomerRef(deps, key) ??
        (await gateway.createCustomer({ reference: topUp.customerId, idempotencyKey: `folio-gateway-customer-${topUp.customerId}` })).customerRef;
      const saved = await gateway.saveCard({ customerRef, cardToken: card.cardToken, idempotencyKey: saveCardKey(topUp.id) });
      if (saved.status === 'declined') {
        outcome = { status: 'failed', code: 'declined', reason: saved.failureReason, chargeRef: null };
        return { ...(await complete(deps, actor, topUp, outcome)), error: null };
      }
      savedCard = { customerRef, methodRef: saved.methodRef, brand: saved.brand, last4: saved.last4, expMonth: saved.expMonth, expYear: saved.expYear };
    }
    const result = card.kind === 'saved'
      ? await gateway.charge({ ...base, customerRef: card.customerRef, methodRef: card.methodRef })
      : await gateway.charge({ ...base, cardToken: card.cardToken, ...(customerRef ? { customerRef } : {}) });
    if (result.status === 'declined' || result.status === 'insufficient_funds') {
      outcome = { status: 'failed', code: result.status, reason: result.failureReason, chargeRef: result.chargeRef };
    } else {
      outcome = { status: result.status, chargeRef: result.chargeRef as string, savedCard };
    }
  } catch (err) {
    if (!(err instanceof DomainError)) {
      deps.log.error({ err, topUpId: topUp.id }, 'card gateway call failed; the top-up stays pending');
      throw err;
    }
    error = err;
    outcome = { status: 'failed', code: failureCodeOfGatewayError(err.code), reason: err.message, chargeRef: null };
  }
  return { ...(await complete(deps, actor, topUp, outcome)), error };
}

/**
 * Complete the top-up with its charge's outcome. A charge that succeeded but whose paid invoice cannot be numbered (its
 * number was issued meanwhile under an earlier format: the check before the charge saw it free, docs/adr/0041) is not
 * refused: the money is taken. The top-up stays pending with its charge, the reason on the trail (`top_up.pending`),
 * and the gateway's `charge.succeeded` webhook, delivered again until it is handled, completes it once staff have
 * changed the format: the points and the invoice then, exactly once.
 */
async function complete(deps: TopUpDeps, actor: AuditActor, topUp: TopUpRow, outcome: TopUpOutcome): Promise<Completion> {
  const scope = { kind: 'partner' as const, partnerId: topUp.partnerId };
  try {
    return await inScope(deps.db, scope, (trx) => completeTopUp(trx, actor, { partnerId: topUp.partnerId, topUpId: topUp.id, outcome, source: 'charge' }));
  } catch (err) {
    const pending = keptPendingOutcome(err, outcome);
    if (!pending) throw err;
    deps.log.warn({ err, topUpId: topUp.id, partnerId: topUp.partnerId }, 'card top-up charged but not invoiced: left pending');
    return inScope(deps.db, scope, (trx) => completeTopUp(trx, actor, { partnerId: topUp.partnerId, topUpId: topUp.id, outcome: pending, source: 'charge' }));
  }
}

async function knownCustomerRef(deps: TopUpDeps, key: { partnerId: string; customerId: string }): Promise<string | undefined> {
  const row = await inScope(deps.db, { kind: 'partner', partnerId: key.partnerId }, (trx) =>
    trx.selectFrom('savedCards').select('gatewayCustomerRef')
      .where('partnerId', '=', key.partnerId).where('customerId', '=', key.customerId).where('gateway', '=', deps.gateway.name)
      .orderBy('id', 'asc').limit(1)
      .executeTakeFirst(),
  );
  return row?.gatewayCustomerRef;
}
