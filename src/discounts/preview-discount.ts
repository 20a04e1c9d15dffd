import { sql } from 'kysely';
import { z } from 'zod';
import { formatDecimal, isCurrency, type Currency } from '../money/money.ts';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { partnerCaller } from '../access/caller.ts';
import { marginPercentOf } from '../products/catalog.repo.ts';
import type { ProductType } from '../products/catalog.db-types.ts';
import { covers, discountMicros, inForce, specificity, type DiscountTerms } from './discount-rules.ts';
import { discountsFor } from './discounts.repo.ts';
import { findOverlap, overlapError, resolveDiscount, termsOfResolved, type PreviewBody } from './discount-input.ts';
import { todayOf } from './discount-audit.ts';
import { recordAudit } from '../audit/record-audit.ts';

/** At most this many subscriptions are priced in a preview (the total says how many there are). */
export const PREVIEW_LIMIT = 200;

export const previewRowSchema = z.object({
  subscriptionId: z.string(),
  customer: z.object({ id: z.string(), name: z.string() }),
  productName: z.string(),
  variantName: z.string(),
  cycle: z.string(),
  quantity: z.number().int(),
  currency: z.string(),
  renewsOn: z.string().describe('First day of the next period: the day the discount is judged on'),
  currentRenewalPrice: z.string().describe('The next renewal\'s pre-tax price today (with any discount already in force)'),
  renewalPrice: z.string().describe('The next renewal\'s pre-tax price with this discount'),
  renewalCost: z.string(),
  margin: z.string().describe('renewalPrice - renewalCost'),
  marginPercent: z.string().nullable(),
  applies: z.boolean().describe('false: not in force on renewsOn, or a more specific discount wins'),
  belowCost: z.boolean().describe('The discounted price is below the renewal cost'),
});

export const previewSchema = z.object({
  data: z.array(previewRowSchema),
  total: z.number().int().describe('Active subscriptions in scope (at most 200 are listed)'),
  belowCostCount: z.number().int(),
  warning: z.string().nullable(),
});
export type DiscountPreview = z.infer<typeof previewSchema>;

interface LineRow {
  subscriptionId: string;
  customerId: string;
  customerName: string;
  currency: string;
  cycle: string;
  subQuantity: number;
  mainProduct: string;
  mainVariant: string;
  periodEnd: string;
  isMain: boolean;
  quantity: number;
  productType: ProductType;
  productId: string;
  variantId: string;
  priceId: string;
  priceMicros: string;
  costMicros: string;
}

/**
 * Before saving a discount: the active subscriptions it would touch (target and scope, main line or add-on), each with
 * its next renewal's price today and with this discount, its renewal cost and the margin after the discount, and a
 * warning when a discount would sell below cost. Judged as the renewal will be: on the first day of the next period, the
 * most specific discount winning. Checks the body as a create does (same refusals, overlap included); writes nothing.
 */
export async function previewDiscount(ctx: Ctx, body: PreviewBody): Promise<DiscountPreview> {
  const caller = partnerCaller(ctx.principal);
  const today = todayOf(ctx);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const d = await resolveDiscount(trx, caller.partnerId, body, today);
    const other = await findOverlap(trx, caller.partnerId, d);
    if (other) throw overlapError(other);
    const terms = termsOfResolved('preview', d);
    const lines = sql`
      select s.id as sub_id, s.customer_id, s.price_id, s.variant_id, s.product_id, s.quantity, true as is_main
      from subscriptions s where s.partner_id = ${caller.partnerId} and s.status = 'active'
      union all
      select a.subscription_id, a.customer_id, a.price_id, a.variant_id, a.product_id, coalesce(a.pending_quantity, a.quantity), false
      from subscription_add_ons a join subscriptions s on s.partner_id = a.partner_id and s.id = a.subscription_id
      where a.partner_id = ${caller.partnerId} and a.removed_at is null and s.status = 'active'`;
    const inScopeIds = await sql<{ subId: string; total: string }>`
      with l as (${lines})
      select l.sub_id as "subId", count(*) over ()::text as total
      from l join products p on p.partner_id = ${caller.partnerId} and p.id = l.product_id
      where (${d.customerId}::text is null or l.customer_id = ${d.customerId})
        and p.type = ${d.productType}
        and (${d.productId}::text is null or l.product_id = ${d.productId})
        and (${d.variantId}::text is null or l.variant_id = ${d.variantId})
        and (${d.priceId}::text is null or l.price_id = ${d.priceId})
      group by l.sub_id order by l.sub_id desc limit ${PREVIEW_LIMIT}`.execute(trx);
    const total = Number(inScopeIds.rows[0]?.total ?? 0);
    const ids = inScopeIds.rows.map((r) => r.subId);
    // Who looked at which margins is kept (the Audit app), as every Discount-app action; the preview itself changes nothing.
    const auditPreview = (subscriptions: number, belowCost: number) => recordAudit(trx, ctx, {
      partnerId: caller.partnerId, customerId: d.customerId, app: 'discount', action: 'discount.previewed', targetType: 'discount', targetId: null,
      changes: {
        target: { after: d.customerName ?? 'every customer' }, scope: { after: `${d.scope} ${d.priceId ?? d.variantId ?? d.productId ?? d.productType}` },
        rate: { after: d.percentBps !== null ? `${d.percentBps} bps` : `${d.amountMicros} micros ${d.currency}` },
        subscriptions: { after: subscriptions }, belowCost: { after: belowCost },
      },
    });
    if (ids.length === 0) {
      await auditPreview(0, 0);
      return { data: [], total: 0, belowCostCount: 0, warning: null };
    }

    const { rows } = await sql<LineRow>`
      with l as (${lines})
      select l.sub_id as "subscriptionId", s.customer_id as "customerId", c.name as "customerName", s.currency, s.cycle, s.quantity as "subQuantity",
        mp.name as "mainProduct", mv.name as "mainVariant", s.current_period_end as "periodEnd", l.is_main as "isMain", l.quantity,
        p.type as "productType", p.id as "productId", l.variant_id as "variantId", l.price_id as "priceId",
        pr.price_micros::text as "priceMicros", pr.cost_micros::text as "costMicros"
      from l
      join subscriptions s on s.partner_id = ${caller.partnerId} and s.id = l.sub_id
      join customers c on c.partner_id = s.partner_id and c.id = s.customer_id
      join products mp on mp.partner_id = s.partner_id and mp.id = s.product_id
      join product_variants mv on mv.partner_id = s.partner_id and mv.id = s.variant_id
      join products p on p.partner_id = s.partner_id and p.id = l.product_id
      join product_prices pr on pr.partner_id = s.partner_id and pr.id = l.price_id
      where l.sub_id = any(${ids}::text[]) and l.quantity > 0
      order by l.sub_id desc, l.is_main desc, l.price_id`.execute(trx);
    const dayOf = (r: LineRow) => new Date(r.periodEnd).toISOString().slice(0, 10);
    const existing = await discountsFor(trx, rows.map((r) => ({ partnerId: caller.partnerId, customerId: r.customerId, priceId: r.priceId, day: dayOf(r) })));

    const bySub = new Map<string, { first: LineRow; now: bigint; after: bigint; cost: bigint; applies: boolean }>();
    rows.forEach((r, i) => {
      const currency = r.currency.trim() as Currency;
      const gross = BigInt(r.priceMicros) * BigInt(r.quantity);
      const current = existing[i] ?? null;
      const day = dayOf(r);
      const mine = covers(terms, r.customerId, { productType: r.productType, productId: r.productId, variantId: r.variantId, priceId: r.priceId }) && inForce(terms, day)
        && (current === null || specificity(terms) > specificity(current));
      const winner: DiscountTerms | null = mine ? terms : current;
      const entry = bySub.get(r.subscriptionId) ?? { first: r, now: 0n, after: 0n, cost: 0n, applies: false };
      entry.now += gross - (current ? discountMicros(current, gross, r.quantity, currency) : 0n);
      entry.after += gross - (winner ? discountMicros(winner, gross, r.quantity, currency) : 0n);
      entry.cost += BigInt(r.costMicros) * BigInt(r.quantity);
      entry.applies ||= mine;
      bySub.set(r.subscriptionId, entry);
    });
    const data = ids.filter((id) => bySub.has(id)).map((id) => {
      const e = bySub.get(id)!;
      const c = e.first.currency.trim();
      const fmt = (m: bigint) => (isCurrency(c) ? formatDecimal(m, c) : m.toString());
      return {
        subscriptionId: id, customer: { id: e.first.customerId, name: e.first.customerName }, productName: e.first.mainProduct, variantName: e.first.mainVariant,
        cycle: e.first.cycle, quantity: e.first.subQuantity, currency: c, renewsOn: dayOf(e.first),
        currentRenewalPrice: fmt(e.now), renewalPrice: fmt(e.after), renewalCost: fmt(e.cost), margin: fmt(e.after - e.cost),
        marginPercent: marginPercentOf(e.after, e.cost), applies: e.applies, belowCost: e.after < e.cost,
      };
    });
    const belowCostCount = data.filter((r) => r.applies && r.belowCost).length;
    await auditPreview(total, belowCostCount);
    return {
      data, total, belowCostCount,
      warning: belowCostCount > 0 ? `This discount sells ${belowCostCount} subscription${belowCostCount === 1 ? '' : 's'} below cost at the next renewal` : null,
    };
  });
}
