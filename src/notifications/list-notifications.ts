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
 * The mail of a staff member's own account (sign-in codes, password resets, email verification, staff invitations,
 * access request decisions): not the partner's communication with its customers, and not for colleagues to read.
 */
export const STAFF_ACCOUNT_MAIL = ['two_factor_code', 'password_reset', 'email_verification', 'invitation', 'access_request_decided'] as const;

/**
 * Everything the partner's system sent (Customer app): its customers' mail and its own (a contact-sales test email,
 * alerts), newest first (ids are time-sortable), secrets masked. A staff member's account mail (`STAFF_ACCOUNT_MAIL`
 * without a customer) is not listed. A customer id of another partner simply matches nothing.
 */
export async function listNotifications(ctx: Ctx, input: ListNotificationsInput): Promise<{ data: NotificationView[]; nextCursor: string | null }> {
  const partnerId = partnerIdOf(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const rows = await trx
      .selectFrom('notifications')
      .select(NOTIFICATION_COLUMNS)
      .where('partnerId', '=', partnerId)
      .where((eb) => eb.or([eb('customerId', 'is not', null), eb('kind', 'not in', STAFF_ACCOUNT_MAIL)]))
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
