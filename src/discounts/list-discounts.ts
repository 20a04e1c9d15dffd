import { sql } from 'kysely';
import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { idOf } from '../platform/schemas.ts';
import { partnerCaller } from '../access/caller.ts';
import { pageOf, type Page } from '../access/paging.ts';
import { discountRows, discountView, type DiscountView } from './discount-views.ts';
import { todayOf } from './discount-audit.ts';

export const listDiscountsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: idOf('dsc').optional(),
  customerId: z.string().regex(/^cus_[0-9a-z]{10,40}$/, 'a cus_ id').optional().describe('Discounts targeting this customer only'),
  target: z.enum(['customer', 'all']).optional().describe('customer: those targeting one customer; all: those for every customer'),
  scope: z.enum(['product_type', 'product', 'variant', 'price']).optional(),
  status: z.enum(['scheduled', 'active', 'ended']).optional(),
  productId: z.string().max(60).optional().describe('Discounts on this product (or one of its variants or billing cycles)'),
});
export type ListDiscountsQuery = z.infer<typeof listDiscountsQuery>;

/** The partner's discounts, newest first, with filters; paged by id. */
export async function listDiscounts(ctx: Ctx, q: ListDiscountsQuery): Promise<Page<DiscountView>> {
  const caller = partnerCaller(ctx.principal);
  const today = todayOf(ctx);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    let query = discountRows(trx, caller.partnerId);
    if (q.customerId) query = query.where('d.customerId', '=', q.customerId);
    if (q.target === 'customer') query = query.where('d.customerId', 'is not', null);
    if (q.target === 'all') query = query.where('d.customerId', 'is', null);
    if (q.scope) query = query.where('d.scope', '=', q.scope);
    if (q.productId) query = query.where('d.productId', '=', q.productId);
    if (q.status === 'ended') query = query.where(sql<boolean>`(d.ended_at is not null or d.ends_on < ${today}::date)`);
    if (q.status === 'scheduled') query = query.where(sql<boolean>`(d.ended_at is null and d.starts_on > ${today}::date)`);
    if (q.status === 'active') query = query.where(sql<boolean>`(d.ended_at is null and d.starts_on <= ${today}::date and (d.ends_on is null or d.ends_on >= ${today}::date))`);
    if (q.cursor) query = query.where('d.id', '<', q.cursor);
    const rows = await query.orderBy('d.id', 'desc').limit(q.limit + 1).execute();
    return pageOf(rows.map((r) => discountView(r, today)), q.limit);
  });
}

/**
 * The discounts that apply to one customer now or later (the Customer app): its own and those for every customer, active
 * or scheduled, most specific first. 404 for another partner's customer.
 */
export async function listCustomerDiscounts(ctx: Ctx, customerId: string): Promise<{ data: DiscountView[] }> {
  const caller = partnerCaller(ctx.principal);
  const today = todayOf(ctx);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const customer = await trx.selectFrom('customers').select('id').where('partnerId', '=', caller.partnerId).where('id', '=', customerId).executeTakeFirst();
    if (!customer) throw new DomainError('not_found', 'Customer not found');
    const rows = await discountRows(trx, caller.partnerId)
      .where((eb) => eb.or([eb('d.customerId', '=', customerId), eb('d.customerId', 'is', null)]))
      .where(sql<boolean>`(d.ended_at is null and (d.ends_on is null or d.ends_on >= ${today}::date))`)
      .orderBy('d.id', 'desc').limit(200).execute();
    const data = rows.map((r) => discountView(r, today));
    data.sort((a, b) => b.specificity - a.specificity || (a.startsOn < b.startsOn ? -1 : a.startsOn > b.startsOn ? 1 : 0));
    return { data };
  });
}
