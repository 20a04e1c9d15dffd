import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { NOTIFICATION_COLUMNS, loadHistory, recipientContains, pageOf, toView, type NotificationView } from './notification-view.ts';

/** `partnerId=platform` selects mail without a partner (the operator's own sign-in codes). */
export const PLATFORM = 'platform';

export interface OperatorListMailboxInput {
  to?: string;
  partnerId?: string;
  limit: number;
  cursor?: string;
}

export type MailboxItem = NotificationView & { partnerId: string | null };

/**
 * The operator's mailbox: every notification of every partner, newest first, with delivery history. Sign-in codes and
 * link tokens are masked as they are for partner staff: support reads what was sent and whether it was delivered, but
 * a live code or reset link read here would let whoever reads it into the account, unseen in any trail.
 */
export async function operatorListMailbox(ctx: Ctx, input: OperatorListMailboxInput): Promise<{ data: MailboxItem[]; nextCursor: string | null }> {
  if (ctx.principal.kind !== 'operator') throw new DomainError('forbidden', 'Only the platform operator can read every mailbox');
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const rows = await trx
      .selectFrom('notifications')
      .select(NOTIFICATION_COLUMNS)
      .$if(!!input.to, (q) => q.where(recipientContains(input.to!)))
      .$if(input.partnerId === PLATFORM, (q) => q.where('partnerId', 'is', null))
      .$if(input.partnerId !== undefined && input.partnerId !== PLATFORM, (q) => q.where('partnerId', '=', input.partnerId!))
      .$if(input.cursor !== undefined, (q) => q.where('id', '<', input.cursor!))
      .orderBy('id', 'desc')
      .limit(input.limit + 1)
      .execute();
    const page = pageOf(rows, input.limit);
    const history = await loadHistory(trx, page.rows.map((r) => r.id), undefined);
    return {
      data: page.rows.map((r) => ({ ...toView(r, history.get(r.id) ?? [], { mask: true }), partnerId: r.partnerId })),
      nextCursor: page.nextCursor,
    };
  });
}
