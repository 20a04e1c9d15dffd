import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { idOf, listQuery } from '../platform/schemas.ts';
import { partnerCaller } from '../access/caller.ts';
import { findDiscountView, type DiscountView } from './discount-views.ts';
import { todayOf } from './discount-audit.ts';

export async function getDiscount(ctx: Ctx, id: string): Promise<DiscountView> {
  const caller = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const view = await findDiscountView(trx, caller.partnerId, id, todayOf(ctx));
    if (!view) throw new DomainError('not_found', 'Discount not found');
    return view;
  });
}

export const discountHistoryQuery = z.strictObject({
  limit: listQuery.shape.limit,
  cursor: idOf('evt').optional().describe('The nextCursor of the page before: the last event it showed'),
});
export type DiscountHistoryQuery = z.infer<typeof discountHistoryQuery>;

export const discountHistorySchema = z.object({
  data: z.array(z.object({
    id: z.string(),
    action: z.enum(['discount.created', 'discount.changed', 'discount.ended']),
    at: z.string(),
    actor: z.string().nullable(),
    changes: z.record(z.string(), z.object({ before: z.unknown().optional(), after: z.unknown().optional() })),
  })),
  nextCursor: z.string().nullable(),
});
export type DiscountHistory = z.infer<typeof discountHistorySchema>;

const HISTORY_ACTIONS = ['discount.created', 'discount.changed', 'discount.ended'] as const;

/**
 * A discount's history, newest first, a page at a time, read from the partner's audit trail (created, changed, ended).
 * The cursor is the last event of the page before; one not of this history is a 400 naming it.
 */
export async function discountHistory(ctx: Ctx, id: string, page: DiscountHistoryQuery): Promise<DiscountHistory> {
  const caller = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const exists = await trx.selectFrom('discounts').select('id').where('partnerId', '=', caller.partnerId).where('id', '=', id).executeTakeFirst();
    if (!exists) throw new DomainError('not_found', 'Discount not found');
    const events = trx.selectFrom('auditEvents')
      .where('partnerId', '=', caller.partnerId).where('targetType', '=', 'discount').where('targetId', '=', id)
      .where('action', 'in', HISTORY_ACTIONS);
    let before: string | null = null;
    if (page.cursor) {
      const at = await events.select('seq').where('id', '=', page.cursor).executeTakeFirst();
      if (!at) throw new DomainError('validation_failed', 'Invalid querystring: cursor: not an event of this history', [{ path: 'cursor', message: 'not an event of this history' }]);
      before = at.seq;
    }
    const rows = await events.select(['id', 'action', 'occurredAt', 'actorLabel', 'changes'])
      .$if(before !== null, (q) => q.where('seq', '<', before!))
      .orderBy('seq', 'desc').limit(page.limit + 1).execute();
    const data = rows.slice(0, page.limit).map((r) => ({
      id: r.id, action: r.action as DiscountHistory['data'][number]['action'], at: r.occurredAt.toISOString(), actor: r.actorLabel, changes: r.changes,
    }));
    return { data, nextCursor: rows.length > page.limit ? data.at(-1)!.id : null };
  });
}
