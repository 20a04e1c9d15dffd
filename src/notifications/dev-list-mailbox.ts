import type { Ctx } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { NOTIFICATION_COLUMNS, loadHistory, recipientContains, toView, type NotificationView } from './notification-view.ts';

export const DEV_MAILBOX_SIZE = 50;

export type DevMailboxItem = Pick<NotificationView, 'id' | 'toEmail' | 'replyTo' | 'kind' | 'subject' | 'bodyText' | 'status' | 'createdAt' | 'history'>;

/**
 * The local demo's mailbox (no SMTP server): the newest mail, unmasked, so sign-in codes and links can be read.
 * Public, so it exists only when `config.devMailbox` is on; otherwise it answers 404 as if there were no such route.
 */
export async function devListMailbox(ctx: Ctx, input: { to?: string }): Promise<{ data: DevMailboxItem[] }> {
  if (!ctx.config.devMailbox) throw new DomainError('not_found', 'No route GET /api/v1/dev/mailbox');
  // Every partner's mail, whoever asks (signed in or not): the system scope, not the caller's.
  return inScope(ctx.db, { kind: 'system' }, async (trx) => {
    const rows = await trx
      .selectFrom('notifications')
      .select(NOTIFICATION_COLUMNS)
      .$if(!!input.to, (q) => q.where(recipientContains(input.to!)))
      .orderBy('id', 'desc')
      .limit(DEV_MAILBOX_SIZE)
      .execute();
    const history = await loadHistory(trx, rows.map((r) => r.id), undefined);
    return {
      data: rows.map((r) => {
        const v = toView(r, history.get(r.id) ?? [], { mask: false });
        return { id: v.id, toEmail: v.toEmail, replyTo: v.replyTo, kind: v.kind, subject: v.subject, bodyText: v.bodyText, status: v.status, createdAt: v.createdAt, history: v.history };
      }),
    };
  });
}
