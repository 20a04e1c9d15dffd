import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from '../access/caller.ts';
import { addDaysIso } from './discount-input.ts';
import { findDiscountView, type DiscountView } from './discount-views.ts';
import { auditChangesOf, todayOf } from './discount-audit.ts';
import { lockDiscount } from './update-discount.ts';

/**
 * End a discount now: its last day in force becomes yesterday, so nothing charged from today on gets it (a scheduled one
 * is withdrawn: its end becomes the day before its start, never in force). One that started today ends today: it was in
 * force today (an invoice may carry it), and a period ending before it starts would say it never was; nothing charged
 * after its end gets it all the same (`discountsFor` leaves out a discount on and after the day it was ended). Only the
 * end date moves: the invoices that carried the discount keep their figures (issued invoices never change). 409
 * `discount_ended` when it already has. Audited `discount.ended`.
 */
export async function endDiscount(ctx: Ctx, id: string): Promise<DiscountView> {
  const caller = partnerCaller(ctx.principal);
  const today = todayOf(ctx);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const row = await lockDiscount(trx, caller.partnerId, id);
    const before = (await findDiscountView(trx, caller.partnerId, id, today))!;
    if (before.status === 'ended') throw new DomainError('discount_ended', `"${row.name}" has already ended`);
    const yesterday = addDaysIso(today, -1);
    const endsOn = before.status === 'scheduled' ? addDaysIso(row.startsOnDay, -1) : row.startsOnDay === today ? today : yesterday;
    const now = ctx.clock.now();
    await trx.updateTable('discounts').set({ endsOn, endedAt: now, endedBy: caller.actorId, updatedAt: now })
      .where('partnerId', '=', caller.partnerId).where('id', '=', id).execute();
    const after = (await findDiscountView(trx, caller.partnerId, id, today))!;
    await recordAudit(trx, ctx, {
      partnerId: caller.partnerId, customerId: row.customerId, app: 'discount', action: 'discount.ended', targetType: 'discount', targetId: id,
      changes: { ...auditChangesOf(before, after), status: { before: before.status, after: 'ended' } },
    });
    return after;
  });
}
