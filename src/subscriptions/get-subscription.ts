import type { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { notFound } from '../platform/errors.ts';
import { partnerCaller, portalCaller, seesCompanyCredits } from '../access/caller.ts';
import {
  subscriptionHistory, subscriptionViews, toPortalView, withoutCompanyCredits,
  type portalSubscriptionDetailSchema, type subscriptionDetailSchema,
} from './subscription-views.ts';

export type SubscriptionDetail = z.infer<typeof subscriptionDetailSchema>;
export type PortalSubscriptionDetail = z.infer<typeof portalSubscriptionDetailSchema>;

/** One subscription with its history (staff: with renewal cost and margin). Another partner's is a 404. */
export async function getSubscription(ctx: Ctx, input: { subscriptionId: string }): Promise<SubscriptionDetail> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, { kind: 'partner', partnerId }, async (trx) => {
    const row = await trx.selectFrom('subscriptions').selectAll().where('partnerId', '=', partnerId).where('id', '=', input.subscriptionId).executeTakeFirst();
    if (!row) throw notFound('Subscription');
    const [view] = await subscriptionViews(trx, partnerId, [row]);
    return { ...view!, history: await subscriptionHistory(trx, row) };
  });
}

/** One of the organisation's subscriptions, without cost or margin. Another organisation's is a 404. */
export async function portalGetSubscription(ctx: Ctx, input: { subscriptionId: string }): Promise<PortalSubscriptionDetail> {
  const caller = portalCaller(ctx.principal);
  return inScope(ctx.db, { kind: 'customer', partnerId: caller.partnerId, customerId: caller.customerId }, async (trx) => {
    const row = await trx.selectFrom('subscriptions').selectAll()
      .where('partnerId', '=', caller.partnerId).where('customerId', '=', caller.customerId).where('id', '=', input.subscriptionId).executeTakeFirst();
    if (!row) throw notFound('Subscription');
    const [view] = await subscriptionViews(trx, caller.partnerId, [row]);
    const detail = { ...toPortalView(view!), history: await subscriptionHistory(trx, row) };
    return seesCompanyCredits(caller.role) ? detail : withoutCompanyCredits(detail);
  });
}
