import { sql } from 'kysely';
import type { Trx } from '../platform/database.ts';
import { newId } from '../platform/ids.ts';
import type {} from '../topup/top-up-policy.db-types.ts';

export type NotificationKind =
  | 'two_factor_code'
  | 'email_verification'
  | 'invitation'
  | 'password_reset'
  | 'access_request_decided'
  | 'invoice_issued'
  | 'invoice_resent'
  | 'payment_receipt'
  | 'payment_reversed'
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
  | 'monthly_statement'
  | 'credit_note_issued'
  | 'top_up_policy_notice'
  | 'top_up_policy_withdrawn'
  | 'contact_sales_message'
  | 'contact_sales_test'
  | 'audit_chain_broken'
  | 'ledger_check_failed'
  | 'top_up_number_taken';

export interface NotificationInput {
  partnerId: string | null;
  customerId: string | null;
  userId: string | null;
  toEmail: string;
  kind: NotificationKind;
  subject: string;
  bodyText: string;
  /** Reply-To for this message (a contact-sales message: its writer). Unset on a sales notification: the partner's contact-sales address. */
  replyToEmail?: string | null | undefined;
  replyToName?: string | null | undefined;
}

/**
 * Sales-related notifications: without a Reply-To of their own, they are sent with the partner's contact-sales address
 * (and reply-to name) as Reply-To, so that a customer's reply reaches sales (resolved at delivery: deliver-notification.ts).
 */
export const SALES_NOTIFICATION_KINDS: ReadonlySet<NotificationKind> = new Set<NotificationKind>([
  'subscription_renewal_upcoming', 'subscription_renewal_failed', 'subscription_expired', 'subscription_purchased', 'subscription_activated',
  'subscription_changed', 'subscription_terminated', 'subscription_reactivated', 'low_balance', 'top_up_policy_notice', 'top_up_policy_withdrawn',
  'contact_sales_test',
]);

/** Max delivery attempts; graphile-worker backs off exponentially between them. */
export const NOTIFICATION_MAX_ATTEMPTS = 8;

/**
 * Write a notification to the outbox inside the business transaction and enqueue its delivery job in the same
 * transaction: if the change rolls back, nothing is sent.
 */
export async function enqueueNotification(trx: Trx, input: NotificationInput): Promise<string> {
  const id = newId('ntf');
  // One round trip: the message, its first status and its delivery job (data-modifying CTEs run to completion).
  await sql`
    with message as (
      insert into notifications (id, partner_id, customer_id, user_id, to_email, kind, subject, body_text, reply_to_email, reply_to_name)
      values (${id}, ${input.partnerId}, ${input.customerId}, ${input.userId}, ${input.toEmail}, ${input.kind}, ${input.subject}, ${input.bodyText},
              ${input.replyToEmail ?? null}, ${input.replyToName ?? null})),
    history as (
      insert into notification_status_history (notification_id, partner_id, customer_id, status, detail)
      values (${id}, ${input.partnerId}, ${input.customerId}, 'queued', null))
    select folio_enqueue_job('deliver_notification', json_build_object('notificationId', ${id}::text), ${id}::text, ${NOTIFICATION_MAX_ATTEMPTS}::int)`.execute(trx);
  return id;
}
