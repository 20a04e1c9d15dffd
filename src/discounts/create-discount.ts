import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { newId } from '../platform/ids.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from '../access/caller.ts';
import { findOverlap, isExclusionViolation, overlapError, resolveDiscount, type DiscountBody } from './discount-input.ts';
import { findDiscountView, type DiscountView } from './discount-views.ts';
import { auditChangesOf, todayOf } from './discount-audit.ts';

/**
 * Create a discount (the Discount app). Checked first, each refusal naming the field: percent in (0, 100], a fixed amount
 * only on one billing cycle and in its currency, an end not before the start, a start not in the past, a customer and a
 * catalog item of the partner's own, no other discount of the same target and scope in force on any of the same days
 * (409 `discount_overlap`; the database's exclusion constraint refuses it too when two creates race). The row and its
 * audit event (`discount.created`, on the customer when it targets one) commit together.
 */
export async function createDiscount(ctx: Ctx, body: DiscountBody): Promise<DiscountView> {
  const caller = partnerCaller(ctx.principal);
  const today = todayOf(ctx);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const d = await resolveDiscount(trx, caller.partnerId, body, today);
    const other = await findOverlap(trx, caller.partnerId, d);
    if (other) throw overlapError(other);
    const id = newId('dsc');
    const now = ctx.clock.now();
    try {
      await trx.insertInto('discounts').values({
        id, partnerId: caller.partnerId, customerId: d.customerId, name: d.name, scope: d.scope, productType: d.productType, productId: d.productId,
        variantId: d.variantId, priceId: d.priceId, kind: d.kind, percentBps: d.percentBps, amountMicros: d.amountMicros, currency: d.currency,
        startsOn: d.startsOn, endsOn: d.endsOn, createdBy: caller.actorId, createdAt: now, updatedAt: now,
      }).execute();
    } catch (err) {
      if (!isExclusionViolation(err)) throw err;
      const raced = await findOverlap(trx, caller.partnerId, d).catch(() => null);
      throw overlapError(raced ?? { name: 'another discount', startsOn: d.startsOn, endsOn: d.endsOn });
    }
    const view = (await findDiscountView(trx, caller.partnerId, id, today))!;
    await recordAudit(trx, ctx, {
      partnerId: caller.partnerId, customerId: d.customerId, app: 'discount', action: 'discount.created', targetType: 'discount', targetId: id,
      changes: auditChangesOf(null, view),
    });
    return view;
  });
}
