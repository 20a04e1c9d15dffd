import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError, notFound, type FieldError } from '../platform/errors.ts';
import { newId } from '../platform/ids.ts';
import { parseAmount } from '../money/money.ts';
import { portalCaller } from '../access/caller.ts';
import type { Gateway } from '../gateway/gateway.ts';
import { cardFailureError } from '../gateway/card-failure.ts';
import { utcDay } from './dates.ts';
import { applyPolicy, maxTopUpMicros, maxTopUpMessage, policyInForce } from './top-up-policy.ts';
import { usableSavedCard } from './saved-cards.ts';
import { currencyOf, selectTopUps, toTopUpView, type TopUpRow, type TopUpView } from './top-up-views.ts';
import { chargeAndComplete, type TopUpCard } from './charge-top-up.ts';
import { takenTopUpNumber } from './top-up-number.ts';
import { alertStaffNumberTaken, type HeldTopUp } from './number-taken-alert.ts';

export interface PortalTopUpInput {
  /** Decimal string in the organisation's currency, at most its minor unit (`"50.00"`). */
  amount: string;
  /** A card token from the browser (sandbox test token, Stripe PaymentMethod id). */
  cardToken?: string | undefined;
  /** One of the organisation's saved cards. */
  savedCardId?: string | undefined;
  /** Save the token's card for later top-ups and auto top-up. */
  saveCard?: boolean | undefined;
  /** The request's Idempotency-Key: a retry after a lost answer resumes the same top-up instead of paying twice. */
  requestKey?: string | null | undefined;
}

export interface PortalTopUpResult {
  /** 201 when the points were added, 202 while the card payment is pending (a webhook completes it). */
  httpStatus: 201 | 202;
  topUp: TopUpView;
}

/**
 * An owner or admin buys points by card in the portal.
 * 1. One transaction: the policy in force today (minimum: 422; fee below the threshold; the version is recorded), the saved card if one is
 *    named, and the top-up row, `pending`, committed before any money moves.
 * 2. The gateway charge, outside any transaction, with an idempotency key derived from the top-up id.
 * 3. One transaction (completeTopUp): paid invoice + ledger entry + audit + receipt; or the failure; or still pending.
 * A declined card answers 422 `card_declined` / `insufficient_funds`, with the failed top-up recorded and visible.
 */
export async function portalTopUp(ctx: Ctx & { gateway: Gateway }, input: PortalTopUpInput): Promise<PortalTopUpResult> {
  const caller = portalCaller(ctx.principal);
  const { gateway } = ctx;
  checkCardChoice(input);
  const scope = { kind: 'customer' as const, partnerId: caller.partnerId, customerId: caller.customerId };
  const key = { partnerId: caller.partnerId, customerId: caller.customerId };

  // Set when the next top-up number is taken: the refusal writes nothing, and staff are told in a transaction of its own.
  const refused: { held: HeldTopUp | null } = { held: null };
  const prepared = await inScope(ctx.db, scope, async (trx) => {
    const customer = await trx.selectFrom('customers').select(['currency', 'status']).where('partnerId', '=', key.partnerId).where('id', '=', key.customerId).executeTakeFirst();
    if (!customer) throw notFound('Customer');
    // A closed account takes no new money (Finance cannot issue it points either); what it owes can still be paid.
    if (customer.status === 'closed') throw new DomainError('state_conflict', 'This account is closed: points can no longer be bought. Invoices still due can be paid.');
    const currency = currencyOf(customer.currency);
    const amount = parseAmount(input.amount, currency, 'amount');
    if (amount <= 0n) throw new DomainError('rule_violation', 'amount must be more than zero', [{ path: 'amount', message: 'more than zero' }]);
    if (amount > maxTopUpMicros(currency)) throw new DomainError('rule_violation', `amount must be ${maxTopUpMessage(currency)}`, [{ path: 'amount', message: maxTopUpMessage(currency) }]);
    const policy = await policyInForce(trx, key.partnerId, currency, utcDay(ctx.clock.now()));
    const fee = applyPolicy(policy, amount);
    const saved = input.savedCardId ? await usableSavedCard(trx, key, gateway.name, input.savedCardId) : null;

    if (input.requestKey) {
      const earlier = await selectTopUps(trx, key.partnerId)
        .where('t.customerId', '=', key.customerId).where('t.userId', '=', caller.userId).where('t.requestKey', '=', input.requestKey)
        .executeTakeFirst();
      if (earlier) {
        if (BigInt(earlier.amountMicros) !== amount || (saved !== null && earlier.savedCardId !== saved.id)) {
          throw new DomainError('idempotency_key_reused', 'This Idempotency-Key was already used for a different top-up', [{ path: 'Idempotency-Key', message: 'already used for a different top-up' }]);
        }
        if (earlier.status === 'pending' && earlier.chargeRef === null) {
          // Sent again below: the stale top-up settler waits again before it reads a miss at the gateway as "never charged".
          await trx.updateTable('topUps').set({ resumedAt: sql`now()`, updatedAt: new Date() })
            .where('partnerId', '=', key.partnerId).where('id', '=', earlier.id).where('status', '=', 'pending').where('chargeRef', 'is', null)
            .execute();
        }
        return { row: earlier, saved, resumed: true };
      }
    }

    // No charge whose paid invoice could not be numbered (docs/adr/0041): refused before anything is written or charged.
    const taken = await takenTopUpNumber(trx, key.partnerId, ctx.clock.now());
    if (taken) {
      refused.held = { partnerId: key.partnerId, customerId: key.customerId, auto: false, currency, amountMicros: amount, topUpId: null, card: 'refused' };
      throw new DomainError('document_number_taken', `Card top-ups are not available just now: the next top-up invoice number, ${taken.number}, `
        + `was already issued on ${taken.issuedOn}, so the top-up could not be invoiced. Nothing was charged. Please contact your provider.`);
    }

    const id = newId('top');
    await trx
      .insertInto('topUps')
      .values({
        id, partnerId: key.partnerId, customerId: key.customerId, userId: caller.userId, currency, amountMicros: amount, feeMicros: fee,
        status: 'pending', auto: false, autoForDate: null, policyEffectiveFrom: policy.effectiveFrom, policyVersionId: policy.versionId, gateway: gateway.name,
        savedCardId: saved?.id ?? null, requestKey: input.requestKey ?? null, chargeRef: null, invoiceId: null, entryId: null,
        failureCode: null, failureReason: null, updatedAt: new Date(), completedAt: null,
      })
      .execute();
    const row = await selectTopUps(trx, key.partnerId).where('t.id', '=', id).executeTakeFirstOrThrow();
    return { row, saved, resumed: false };
  }).catch(async (err: unknown) => {
    const held = refused.held;
    if (held) {
      await inScope(ctx.db, { kind: 'partner', partnerId: held.partnerId }, (trx) => alertStaffNumberTaken(trx, held))
        .catch((alertErr: unknown) => ctx.log.warn({ err: alertErr }, 'could not alert staff of a top-up refused for a taken number'));
    }
    throw err;
  });

  let row: TopUpRow = prepared.row;
  let error: DomainError | null = null;
  // A resumed attempt that already reached the gateway is answered as it stands; otherwise (re)charge under the same key.
  if (row.status === 'pending' && row.chargeRef === null) {
    const card: TopUpCard = prepared.saved
      ? { kind: 'saved', customerRef: prepared.saved.gatewayCustomerRef, methodRef: prepared.saved.methodRef }
      : { kind: 'token', cardToken: input.cardToken!, save: input.saveCard === true };
    const charged = await chargeAndComplete({ db: ctx.db, gateway, log: ctx.log }, ctx, row, card);
    row = charged.row;
    error = charged.error;
  }
  if (row.status === 'failed') throw error ?? failureError(row, input.savedCardId ? 'savedCardId' : 'cardToken');
  return { httpStatus: row.status === 'succeeded' ? 201 : 202, topUp: toTopUpView(row) };
}

function checkCardChoice(input: PortalTopUpInput): void {
  const errors: FieldError[] = [];
  const token = input.cardToken !== undefined;
  const saved = input.savedCardId !== undefined;
  if (token === saved) errors.push({ path: 'cardToken', message: 'send exactly one of cardToken or savedCardId' });
  if (input.saveCard && !token) errors.push({ path: 'saveCard', message: 'only with a cardToken (a saved card is saved already)' });
  if (errors.length > 0) throw new DomainError('validation_failed', 'Choose the card: a cardToken or a savedCardId', errors);
}

/** The answer for a failed top-up: the card's refusal as a 422 naming the card field, the top-up id in the detail. */
export function failureError(row: TopUpRow, field: string): DomainError {
  return cardFailureError(row.failureCode, row.failureReason, field, 'Nothing was charged and no points were added.');
}
