import type { Ctx } from '../platform/context.ts';
import { partnerIdOf, scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import type { NotificationStatus } from '../platform/db-types.ts';
import { NOTIFICATION_COLUMNS, loadHistory, pageOf, toView, type NotificationView } from './notification-view.ts';

export interface ListNotificationsInput {
  customerId?: string;
  status?: NotificationStatus;
  kind?: string;
  limit: number;
  /** The id of the last notification of the previous page. */
  cursor?: string;
}

/**
 * Everything the partner's system sent its customers (Customer app), newest first (ids are time-sortable), secrets
 * masked. Mail to the partner's own staff (sign-in codes, staff invitations, alerts) is not customer communication and
 * is not listed. A customer id of another partner simply matches nothing.
 */
export async function listNotifications(ctx: Ctx, input: ListNotificationsInput): Promise<{ data: NotificationView[]; nextCursor: string | null }> {
  const partnerId = partnerIdOf(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const rows = await trx
      .selectFrom('notifications')
      .select(NOTIFICATION_COLUMNS)
      .where('partnerId', '=', partnerId)
      .where('customerId', 'is not', null)
      .$if(input.customerId !== undefined, (q) => q.where('customerId', '=', input.customerId!))
      .$if(input.status !== undefined, (q) => q.where('status', '=', input.status!))
      .$if(input.kind !== undefined, (q) => q.where('kind', '=', input.kind!))
      .$if(input.cursor !== undefined, (q) => q.where('id', '<', input.cursor!))
      .orderBy('id', 'desc')
      .limit(input.limit + 1)
      .execute();
    const page = pageOf(rows, input.limit);
    const history = await loadHistory(trx, page.rows.map((r) => r.id), partnerId);
    return { data: page.rows.map((r) => toView(r, history.get(r.id) ?? [], { mask: true })), nextCursor: page.nextCursor };
  });
}
