import type { Ctx } from '../../platform/context.ts';
import { inScope } from '../../platform/database.ts';
import { DomainError, notFound } from '../../platform/errors.ts';
import { partnerIdOf } from '../../platform/context.ts';
import type { Gateway } from '../../gateway/gateway.ts';
import { formatDecimal, isCurrency } from '../../money/money.ts';
import { recordAuditBulk, type Actor } from './bulk-writes.ts';
import { renewGroups, type GroupKey, type GroupOutcome } from './renew-groups.ts';
import { settleRenewalTopUp, type RenewalActor } from './renewal-by-card.ts';

export interface RecoveredRenewal {
  outcome: 'renewed' | 'pending';
  /** Every subscription of the organisation's renewal group (same customer, same expiry): they renew together. */
  subscriptionIds: string[];
  /** The group's renewal total, tax included. */
  total: string;
  currency: string;
  invoiceNumber: string | null;
  /** Renewal by card: the top-up charged for the fee. */
  topUpId: string | null;
}

/** The trail's actor for a staff member or an API key. */
export function actorOf(ctx: Pick<Ctx, 'principal' | 'requestId' | 'ip' | 'userAgent'>): Actor {
  const p = ctx.principal;
  const base = { requestId: ctx.requestId, ip: ctx.ip, userAgent: ctx.userAgent };
  if (p.kind === 'staff' || p.kind === 'customer' || p.kind === 'operator') return { actorType: 'user', actorId: p.userId, actorLabel: p.email, ...base };
  if (p.kind === 'api_key') return { actorType: 'api_key', actorId: p.keyId, actorLabel: p.name, ...base };
  return { actorType: 'system', actorId: null, actorLabel: p.job, ...base };
}

/**
 * Staff "recover a failed renewal" (`POST /api/v1/subscriptions/:id/recover-renewal`, Customer app): retry now the renewal
 * of the subscription's whole group (the organisation's auto-renewing active subscriptions with the same expiry), as the
 * job would, with the staff member named in the trail (`subscription.renewal_recovered` on each, then `subscription.renewed`).
 * - 404 when the subscription is not the partner's; 409 state_conflict when it is not active with a failed renewal, or
 *   its customer is closed (nothing of a closed customer renews: docs/adr/0038).
 * - Points cover the group: renewed, invoice issued (200 `renewed`).
 * - Points short, renew-by-card on and a saved card: the card is charged for the fee (outside the transaction), then the
 *   group renews (200 `renewed`), or waits on a card that settles later (200 `pending`), or the card is declined
 *   (422 card_declined / insufficient_funds: the renewal stays failed, with the card's reason).
 * - Otherwise 422 insufficient_points, and nothing changes.
 */
export async function recoverRenewal(ctx: Ctx & { gateway: Gateway }, input: { subscriptionId: string }): Promise<RecoveredRenewal> {
  const partnerId = partnerIdOf(ctx.principal);
  const asOf = ctx.clock.now();
  const actor = actorOf(ctx);
  const who: RenewalActor = { actor, audit: ctx };
  const scope = { kind: 'partner' as const, partnerId };

  const first = await inScope(ctx.db, scope, async (trx) => {
    const sub = await trx
      .selectFrom('subscriptions')
      .select(['id', 'customerId', 'currency', 'status', 'currentPeriodEnd', 'renewalFailedAt', 'renewalFailureReason'])
      .where('partnerId', '=', partnerId).where('id', '=', input.subscriptionId)
      .executeTakeFirst();
    if (!sub) throw notFound('Subscription');
    if (sub.status !== 'active' || sub.renewalFailedAt === null || sub.currentPeriodEnd === null) {
      throw new DomainError('state_conflict', sub.status === 'active'
        ? 'This subscription has no failed renewal to recover'
        : `This subscription is ${sub.status}: a failed renewal can be recovered only while it is active (reactivate an expired one instead)`);
    }
    // Nothing of a closed customer renews (docs/adr/0038); renewGroups would find nothing to renew, this says why.
    const customer = await trx.selectFrom('customers').select('status').where('partnerId', '=', partnerId).where('id', '=', sub.customerId).executeTakeFirstOrThrow();
    if (customer.status === 'closed') throw new DomainError('state_conflict', 'The customer is closed: nothing of it renews');
    const key: GroupKey = { partnerId, customerId: sub.customerId, currency: sub.currency, periodEnd: sub.currentPeriodEnd };
    const [outcome] = await renewGroups(trx, [key], { asOf, actor, retryFailed: true, onShort: 'throw', cardGateway: ctx.gateway.name });
    if (!outcome) throw new DomainError('state_conflict', 'This subscription is not due for renewal');
    await recordAuditBulk(trx, actor, outcome.subscriptionIds.map((id) => ({
      partnerId, customerId: sub.customerId, app: 'customer', action: 'subscription.renewal_recovered', targetType: 'subscription', targetId: id,
      changes: {
        renewalFailureReason: { before: sub.renewalFailureReason },
        outcome: { after: outcome.status === 'renewed' ? 'renewed' : 'card_charge_started' },
        ...(outcome.invoiceNumber ? { invoiceNumber: { after: outcome.invoiceNumber } } : {}),
      },
    })));
    return outcome;
  });

  const view = (o: GroupOutcome, outcome: RecoveredRenewal['outcome'], invoiceNumber: string | null): RecoveredRenewal => {
    const currency = o.key.currency;
    return {
      outcome, subscriptionIds: o.subscriptionIds, total: isCurrency(currency) ? formatDecimal(o.totalMicros, currency) : o.totalMicros.toString(), currency,
      invoiceNumber, topUpId: o.card?.topUpId ?? null,
    };
  };
  if (first.status === 'renewed') return view(first, 'renewed', first.invoiceNumber);
  if (first.status !== 'card' || !first.card) throw new Error('unexpected recovery outcome');

  const settled = await settleRenewalTopUp({ db: ctx.db, gateway: ctx.gateway, log: ctx.log }, who, first.card, { asOf, retryFailed: true });
  if (settled.outcome === 'renewed') return view(first, 'renewed', settled.group?.invoiceNumber ?? null);
  if (settled.outcome === 'pending') return view(first, 'pending', null);
  throw new DomainError(settled.reason?.includes('insufficient funds') ? 'insufficient_funds' : 'card_declined', `The renewal failed again: ${settled.reason ?? 'the card was declined'}`);
}
