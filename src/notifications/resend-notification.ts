import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from '../access/caller.ts';
import { enqueueNotification, SALES_NOTIFICATION_KINDS, type NotificationKind } from './enqueue-notification.ts';
import { NOTIFICATION_COLUMNS, loadHistory, toView, type NotificationView } from './notification-view.ts';
import { STAFF_ACCOUNT_MAIL } from './list-notifications.ts';

/**
 * Kinds that are never sent again: a sign-in code or a password-reset link is good for one short-lived use, and a copy
 * would hand a still-valid secret to a mailbox the person may no longer control. They ask for a new one instead.
 */
export const NOT_RESENDABLE: ReadonlySet<string> = new Set(['two_factor_code', 'password_reset']);

/**
 * Customer app > Notifications > Resend: a copy of one of the partner's notifications (same recipient, kind, subject and body)
 * goes back to the outbox and is delivered like any other; the original stays as it was. Audited as `notification.resent`,
 * naming the original and the copy. Another partner's notification, or a staff member's account mail, is "not found"; sign-in codes and password-reset links
 * are a 409 `notification_not_resendable`.
 */
export async function resendNotification(ctx: Ctx, input: { notificationId: string }): Promise<NotificationView> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const original = await trx
      .selectFrom('notifications')
      .select(['id', 'partnerId', 'customerId', 'userId', 'toEmail', 'kind', 'subject', 'bodyText', 'replyToEmail', 'replyToName'])
      .where('partnerId', '=', partnerId)
      .where((eb) => eb.or([eb('customerId', 'is not', null), eb('kind', 'not in', STAFF_ACCOUNT_MAIL)]))
      .where('id', '=', input.notificationId)
      .executeTakeFirst();
    if (!original) throw notFound('Notification');
    if (NOT_RESENDABLE.has(original.kind)) {
      throw new DomainError(
        'notification_not_resendable',
        original.kind === 'two_factor_code'
          ? 'Sign-in codes are never sent again: the person signs in again to get a new code'
          : 'Password-reset links are never sent again: the person asks for a new link from the sign-in page',
      );
    }
    const copyId = await enqueueNotification(trx, {
      partnerId, customerId: original.customerId, userId: original.userId, toEmail: original.toEmail,
      kind: original.kind as NotificationKind, subject: original.subject, bodyText: original.bodyText,
      // A message's own Reply-To (a contact-sales message: its writer) goes with it; a sales notice takes today's contact-sales address.
      ...(SALES_NOTIFICATION_KINDS.has(original.kind as NotificationKind) ? {} : { replyToEmail: original.replyToEmail, replyToName: original.replyToName }),
    });
    await recordAudit(trx, ctx, {
      partnerId, customerId: original.customerId, app: 'customer', action: 'notification.resent', targetType: 'notification', targetId: copyId,
      changes: diff(null, { resentFrom: original.id, kind: original.kind, toEmail: original.toEmail, subject: original.subject }),
    });
    const copy = await trx.selectFrom('notifications').select(NOTIFICATION_COLUMNS).where('partnerId', '=', partnerId).where('id', '=', copyId).executeTakeFirstOrThrow();
    const history = await loadHistory(trx, [copyId], partnerId);
    return toView(copy, history.get(copyId) ?? [], { mask: true });
  });
}
