import { sql } from 'kysely';
import type { Trx } from '../platform/database.ts';
import { newId } from '../platform/ids.ts';

export type NotificationKind =
  | 'two_factor_code'
  | 'email_verification'
  | 'invitation'
  | 'password_reset'
  | 'access_request_decided'
  | 'invoice_issued'
  | 'invoice_resent'
  | 'payment_receipt'
  | 'subscription_renewal_upcoming'
  | 'subscription_renewal_failed'
  | 'subscription_expired'
  | 'subscription_purchased'
  | 'subscription_activated'
  | 'subscription_changed'
  | 'subscription_terminated'
  | 'subscription_reactivated'
  | 'top_up_receipt'
  | 'top_up_failed'
  | 'auto_top_up_failed'
  | 'low_balance'
  | 'monthly_statement';

export interface NotificationInput {
  partnerId: string | null;
  customerId: string | null;
  userId: string | null;
  toEmail: string;
  kind: NotificationKind;
  subject: string;
  bodyText: string;
}

/** Max delivery attempts; graphile-worker backs off exponentially between them. */
export const NOTIFICATION_MAX_ATTEMPTS = 8;

/**
 * Write a notification to the outbox inside the business transaction and enqueue its delivery job in the same
 * transaction: if the change rolls back, nothing is sent.
 */
export async function enqueueNotification(trx: Trx, input: NotificationInput): Promise<string> {
  const id = newId('ntf');
  await trx
    .insertInto('notifications')
    .values({ id, ...input, transport: null, lastError: null, sentAt: null })
    .execute();
  await trx
    .insertInto('notificationStatusHistory')
    .values({ notificationId: id, partnerId: input.partnerId, customerId: input.customerId, status: 'queued', detail: null })
    .execute();
  await sql`select folio_enqueue_job('deliver_notification', json_build_object('notificationId', ${id}::text), ${id}::text, ${NOTIFICATION_MAX_ATTEMPTS}::int)`.execute(trx);
  return id;
}
