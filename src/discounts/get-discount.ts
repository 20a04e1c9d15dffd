import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
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

export const discountHistorySchema = z.object({
  data: z.array(z.object({
    id: z.string(),
    action: z.enum(['discount.created', 'discount.changed', 'discount.ended']),
    at: z.string(),
    actor: z.string().nullable(),
    changes: z.record(z.string(), z.object({ before: z.unknown().optional(), after: z.unknown().optional() })),
  })),
});
export type DiscountHistory = z.infer<typeof discountHistorySchema>;

/** A discount's history, oldest first, read from the partner's audit trail (created, changed, ended). */
export async function discountHistory(ctx: Ctx, id: string): Promise<DiscountHistory> {
  const caller = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const exists = await trx.selectFrom('discounts').select('id').where('partnerId', '=', caller.partnerId).where('id', '=', id).executeTakeFirst();
    if (!exists) throw new DomainError('not_found', 'Discount not found');
    const rows = await trx.selectFrom('auditEvents').select(['id', 'action', 'occurredAt', 'actorLabel', 'changes'])
      .where('partnerId', '=', caller.partnerId).where('targetType', '=', 'discount').where('targetId', '=', id)
      .where('action', 'in', ['discount.created', 'discount.changed', 'discount.ended'])
      .orderBy('seq').limit(500).execute();
    return {
      data: rows.map((r) => ({
        id: r.id, action: r.action as DiscountHistory['data'][number]['action'], at: r.occurredAt.toISOString(), actor: r.actorLabel, changes: r.changes,
      })),
    };
  });
}
