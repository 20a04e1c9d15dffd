import type { Ctx } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { notFound } from '../platform/errors.ts';
import { partnerCaller, portalCaller, seesCompanyCredits } from '../access/caller.ts';
import { pageOf, type Page } from '../access/paging.ts';
import type { SubscriptionStatus } from './subscriptions.db-types.ts';
import { RENEWAL_LEAD_DAYS, addDays } from './periods.ts';
import { subscriptionViews, toPortalView, withoutCompanyCredits, type PortalSubscriptionView, type SubscriptionView } from './subscription-views.ts';

export interface ListSubscriptionsInput {
  limit: number;
  cursor?: string | undefined;
  customerId?: string | undefined;
  status?: SubscriptionStatus | undefined;
  /** `YYYY-MM-DD`: active, auto-renewing subscriptions whose renewal day (7 days before expiry) is on or before this day. */
  renewalDueBefore?: string | undefined;
  /** Only those whose last renewal failed (still active, or expired since). */
  renewalFailed?: boolean | undefined;
}

/**
 * Subscriptions, newest first (page by id). Staff: partner-wide, filtered by customer, status, renewal due, failed renewal.
 * Portal: the user's own organisation only.
 */
export async function listSubscriptions(ctx: Ctx, input: ListSubscriptionsInput): Promise<Page<SubscriptionView>> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, { kind: 'partner', partnerId }, async (trx) => {
    if (input.customerId) {
      const customer = await trx.selectFrom('customers').select('id').where('partnerId', '=', partnerId).where('id', '=', input.customerId).executeTakeFirst();
      if (!customer) throw notFound('Customer');
    }
    const dueBy = input.renewalDueBefore ? addDays(new Date(`${input.renewalDueBefore}T00:00:00Z`), RENEWAL_LEAD_DAYS) : null;
    const rows = await trx.selectFrom('subscriptions').selectAll()
      .where('partnerId', '=', partnerId)
      .$if(input.customerId !== undefined, (q) => q.where('customerId', '=', input.customerId!))
      .$if(input.status !== undefined, (q) => q.where('status', '=', input.status!))
      .$if(dueBy !== null, (q) => q.where('status', '=', 'active').where('autoRenew', '=', true).where('currentPeriodEnd', '<=', dueBy!))
      .$if(input.renewalFailed === true, (q) => q.where('renewalFailedAt', 'is not', null).where('status', 'in', ['active', 'expired']))
      .$if(input.renewalFailed === false, (q) => q.where('renewalFailedAt', 'is', null))
      .$if(input.cursor !== undefined, (q) => q.where('id', '<', input.cursor!))
      .orderBy('id', 'desc')
      .limit(input.limit + 1)
      .execute();
    const views = await subscriptionViews(trx, partnerId, rows);
    return pageOf(views, input.limit);
  });
}

export async function portalListSubscriptions(
  ctx: Ctx, input: { limit: number; cursor?: string | undefined; status?: SubscriptionStatus | undefined },
): Promise<Page<PortalSubscriptionView>> {
  const caller = portalCaller(ctx.principal);
  return inScope(ctx.db, { kind: 'customer', partnerId: caller.partnerId, customerId: caller.customerId }, async (trx) => {
    const rows = await trx.selectFrom('subscriptions').selectAll()
      .where('partnerId', '=', caller.partnerId).where('customerId', '=', caller.customerId)
      .$if(input.status !== undefined, (q) => q.where('status', '=', input.status!))
      .$if(input.cursor !== undefined, (q) => q.where('id', '<', input.cursor!))
      .orderBy('id', 'desc')
      .limit(input.limit + 1)
      .execute();
    const views = await subscriptionViews(trx, caller.partnerId, rows);
    const shown = views.map(toPortalView);
    return pageOf(seesCompanyCredits(caller.role) ? shown : shown.map(withoutCompanyCredits), input.limit);
  });
}
