import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { notFound } from '../platform/errors.ts';
import { formatDecimal } from '../money/money.ts';
import { portalCaller } from '../access/caller.ts';
import type { Page } from '../access/paging.ts';
import { BILLING_CYCLES, catalogCurrency, PRODUCT_TYPES } from './catalog.repo.ts';

/** At most this many products in the portal catalog (a bound: a partner's price list, not a data set). */
export const MAX_PORTAL_PRODUCTS = 500;

export const portalCatalogItemSchema = z.object({
  productId: z.string(),
  sku: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  type: z.enum(PRODUCT_TYPES),
  variants: z.array(z.object({
    variantId: z.string(),
    name: z.string(),
    prices: z.array(z.object({
      priceId: z.string(),
      cycle: z.enum(BILLING_CYCLES),
      currency: z.string(),
      price: z.string().describe('Pre-tax, per cycle'),
      activationFee: z.string(),
    })),
  })),
});
export type PortalCatalogItem = z.infer<typeof portalCatalogItemSchema>;

/**
 * The catalog as a customer sees it: products, variants and prices that are on sale (none archived), in the organisation's
 * currency only, without cost or margin (what the partner pays is not the customer's business). Products with no price in
 * that currency are left out. Sorted by name; one page (nextCursor is always null).
 */
export async function portalCatalog(ctx: Ctx): Promise<Page<PortalCatalogItem>> {
  const caller = portalCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const customer = await trx.selectFrom('customers').select('currency')
      .where('partnerId', '=', caller.partnerId).where('id', '=', caller.customerId).executeTakeFirst();
    if (!customer) throw notFound('Customer');
    const currency = catalogCurrency(customer.currency);
    const rows = await trx
      .selectFrom('productPrices as pp')
      .innerJoin('productVariants as v', (j) => j.onRef('v.id', '=', 'pp.variantId').onRef('v.partnerId', '=', 'pp.partnerId'))
      .innerJoin('products as p', (j) => j.onRef('p.id', '=', 'v.productId').onRef('p.partnerId', '=', 'v.partnerId'))
      .select([
        'p.id as productId', 'p.sku', 'p.name as productName', 'p.description', 'p.type',
        'v.id as variantId', 'v.name as variantName', 'v.position',
        'pp.id as priceId', 'pp.cycle', 'pp.priceMicros', 'pp.activationFeeMicros',
      ])
      .where('pp.partnerId', '=', caller.partnerId)
      .where('pp.currency', '=', currency)
      .where('pp.archivedAt', 'is', null).where('v.archivedAt', 'is', null).where('p.archivedAt', 'is', null)
      .orderBy('p.name').orderBy('p.id').orderBy('v.position').orderBy('v.id').orderBy('pp.cycle')
      .execute();
    const products = new Map<string, PortalCatalogItem>();
    for (const r of rows) {
      let product = products.get(r.productId);
      if (!product) {
        if (products.size >= MAX_PORTAL_PRODUCTS) break;
        product = { productId: r.productId, sku: r.sku, name: r.productName, description: r.description, type: r.type, variants: [] };
        products.set(r.productId, product);
      }
      let variant = product.variants.at(-1);
      if (variant?.variantId !== r.variantId) {
        variant = { variantId: r.variantId, name: r.variantName, prices: [] };
        product.variants.push(variant);
      }
      variant.prices.push({
        priceId: r.priceId, cycle: r.cycle, currency,
        price: formatDecimal(BigInt(r.priceMicros), currency), activationFee: formatDecimal(BigInt(r.activationFeeMicros), currency),
      });
    }
    return { data: [...products.values()], nextCursor: null };
  });
}
