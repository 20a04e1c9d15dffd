import type { Ctx } from '../platform/context.ts';
import type { Trx } from '../platform/database.ts';
import { recordAudit } from '../audit/record-audit.ts';
import type { SubscriptionRow } from './pricing.ts';
import { addEvent } from './subscriptions.repo.ts';

/**
 * The subscriptions of a customer about to be closed that would renew (active or awaiting their first payment, with
 * auto-renew on), locked. Taken BEFORE the customer's own row: the renewal job and terminations hold a subscription
 * and then insert its history (a foreign key share-locks the customer), so the closing transaction must not hold the
 * customer and then wait for one of those subscriptions.
 */
export async function lockRenewingSubscriptions(trx: Trx, partnerId: string, customerId: string): Promise<SubscriptionRow[]> {
  return trx.selectFrom('subscriptions').selectAll()
    .where('partnerId', '=', partnerId).where('customerId', '=', customerId)
    .where('status', 'in', ['active', 'pending_payment']).where('autoRenew', '=', true)
    .orderBy('id').forUpdate().execute();
}

/**
 * A customer that is closed buys nothing more (purchases, top-ups and invoices are refused), so nothing of it renews
 * either: the subscriptions `lockRenewingSubscriptions` found have auto-renew turned off, in the closing transaction.
 * Each runs to the end of the period already paid and then expires, as with auto-renew turned off by hand; nothing is
 * refunded or terminated here (staff terminate, with its refund rule, if they mean to). Each change is audited
 * (`subscription.updated`, autoRenew before and after) and written in the subscription's history. Reopening the
 * customer does not turn auto-renew back on: whoever reopens it chooses what renews again.
 */
export async function stopRenewalsOfClosedCustomer(
  trx: Trx, ctx: Ctx, input: { partnerId: string; customerId: string; actorId: string; subscriptions: readonly SubscriptionRow[] },
): Promise<void> {
  const now = ctx.clock.now();
  for (const sub of input.subscriptions) {
    await trx.updateTable('subscriptions').set({ autoRenew: false, updatedAt: now })
      .where('partnerId', '=', input.partnerId).where('id', '=', sub.id).execute();
    const auditEventId = await recordAudit(trx, ctx, {
      partnerId: input.partnerId, customerId: input.customerId, app: 'customer', action: 'subscription.updated',
      targetType: 'subscription', targetId: sub.id, changes: { autoRenew: { before: true, after: false } },
    });
    await addEvent(trx, { sub, kind: 'settings_changed', actor: input.actorId, auditEventId, at: now, detail: 'auto-renew off: the customer was closed' });
  }
}
