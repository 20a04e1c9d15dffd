import type { Ctx } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { addEvent, assertStatus, auditSubscription, findCustomer, lockWalletAndSubscription, subscriptionCaller } from './subscriptions.repo.ts';
import { subscriptionViews, type SubscriptionView } from './subscription-views.ts';

export interface UpdateSubscriptionInput {
  subscriptionId: string;
  autoRenew?: boolean | undefined;
  renewByCard?: boolean | undefined;
  /** The `If-Match` header: when given and stale, nothing is written (412). */
  ifMatch?: string | undefined;
}

/**
 * Turn auto-renew and renewal-by-card on or off (not on a terminated subscription: 409). Renewal by card needs a saved,
 * unexpired card of the customer on the partner's gateway (422 `saved_card_required`); the renewal job uses the newest.
 * Auto-renew stays off for a closed customer (409). Audit `subscription.updated` with before/after, and a history line. No notice: the person changed it themselves.
 */
export async function updateSubscription(ctx: Ctx, input: UpdateSubscriptionInput, options: { gatewayName: string }): Promise<SubscriptionView> {
  const caller = subscriptionCaller(ctx.principal);
  return inScope(ctx.db, { kind: 'partner', partnerId: caller.partnerId }, async (trx) => {
    const { sub } = await lockWalletAndSubscription(trx, caller, input.subscriptionId, input.ifMatch);
    assertStatus(sub, ['pending_payment', 'active', 'expired'], 'changed');
    const now = ctx.clock.now();
    const after = { autoRenew: input.autoRenew ?? sub.autoRenew, renewByCard: input.renewByCard ?? sub.renewByCard };
    if (after.autoRenew && !sub.autoRenew && (await findCustomer(trx, caller.partnerId, sub.customerId)).status === 'closed') {
      // Closing turned it off (stopRenewalsOfClosedCustomer): a closed customer is sold nothing, renewals included.
      throw new DomainError('state_conflict', 'The customer is closed: its subscriptions do not renew. Reopen the customer first', [{ path: 'autoRenew', message: 'the customer is closed' }]);
    }
    if (after.renewByCard && !sub.renewByCard) {
      const monthIndex = now.getUTCFullYear() * 12 + now.getUTCMonth() + 1;
      const card = await trx.selectFrom('savedCards').select('id')
        .where('partnerId', '=', caller.partnerId).where('customerId', '=', sub.customerId).where('gateway', '=', options.gatewayName as 'sandbox' | 'stripe')
        .where('removedAt', 'is', null)
        .where((eb) => eb(eb('expYear', '*', 12).$castTo<number>(), '+', eb.ref('expMonth')), '>=', monthIndex)
        .executeTakeFirst();
      if (!card) {
        throw new DomainError('saved_card_required', 'Renewal by card needs a saved card: save one with a portal top-up first',
          [{ path: 'renewByCard', message: 'no saved card' }]);
      }
    }
    const changes: Record<string, { before: boolean; after: boolean }> = {};
    if (after.autoRenew !== sub.autoRenew) changes.autoRenew = { before: sub.autoRenew, after: after.autoRenew };
    if (after.renewByCard !== sub.renewByCard) changes.renewByCard = { before: sub.renewByCard, after: after.renewByCard };
    const auditEventId = await auditSubscription(trx, ctx, caller, { customerId: sub.customerId, subscriptionId: sub.id, action: 'subscription.updated', changes });
    if (Object.keys(changes).length > 0) {
      await trx.updateTable('subscriptions').set({ ...after, updatedAt: now }).where('partnerId', '=', caller.partnerId).where('id', '=', sub.id).execute();
      await addEvent(trx, {
        sub, kind: 'settings_changed', actor: caller.actorId, auditEventId, at: now,
        detail: Object.entries(changes).map(([k, v]) => `${k === 'autoRenew' ? 'auto-renew' : 'renewal by card'} ${v.after ? 'on' : 'off'}`).join(', '),
      });
    }
    const row = await trx.selectFrom('subscriptions').selectAll().where('partnerId', '=', caller.partnerId).where('id', '=', sub.id).executeTakeFirstOrThrow();
    return (await subscriptionViews(trx, caller.partnerId, [row]))[0]!;
  });
}
