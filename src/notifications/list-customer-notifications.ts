import type { Ctx } from '../platform/context.ts';
import { partnerIdOf, scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { notFound } from '../platform/errors.ts';
import { NOTIFICATION_COLUMNS, loadHistory, pageOf, toView, type NotificationView } from './notification-view.ts';

export interface ListCustomerNotificationsInput {
  customerId: string;
  limit: number;
  cursor?: string;
}

/** What was sent to one customer's people (Customer app > customer > Notifications), newest first, secrets masked. 404 for another partner's customer. */
export async function listCustomerNotifications(
  ctx: Ctx,
  input: ListCustomerNotificationsInput,
): Promise<{ data: NotificationView[]; nextCursor: string | null }> {
  const partnerId = partnerIdOf(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const customer = await trx
      .selectFrom('customers')
      .select('id')
      .where('partnerId', '=', partnerId)
      .where('id', '=', input.customerId)
      .executeTakeFirst();
    if (!customer) throw notFound('Customer');
    const rows = await trx
      .selectFrom('notifications')
      .select(NOTIFICATION_COLUMNS)
      .where('partnerId', '=', partnerId)
      .where('customerId', '=', customer.id)
      .$if(input.cursor !== undefined, (q) => q.where('id', '<', input.cursor!))
      .orderBy('id', 'desc')
      .limit(input.limit + 1)
      .execute();
    const page = pageOf(rows, input.limit);
    const history = await loadHistory(trx, page.rows.map((r) => r.id), partnerId);
    return { data: page.rows.map((r) => toView(r, history.get(r.id) ?? [], { mask: true })), nextCursor: page.nextCursor };
  });
}
