import { z } from 'zod';
import { formatDecimal, isCurrency } from '../money/money.ts';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { partnerCaller } from '../access/caller.ts';

/**
 * What the Discount app's form picks from, readable with the Discount grant alone (a sales manager need not hold the
 * Product or Customer app): the catalog as a tree (type -> product -> variant -> billing cycle, price and cost), and
 * customers by name.
 */
export const MAX_CATALOG_PRODUCTS = 500;

export const discountCatalogSchema = z.object({
  products: z.array(z.object({
    id: z.string(), sku: z.string(), name: z.string(), type: z.string(), archived: z.boolean(),
    variants: z.array(z.object({
      id: z.string(), name: z.string(), archived: z.boolean(),
      prices: z.array(z.object({ id: z.string(), cycle: z.string(), currency: z.string(), price: z.string(), cost: z.string(), archived: z.boolean() })),
    })),
  })),
});
export type DiscountCatalog = z.infer<typeof discountCatalogSchema>;

export async function discountCatalog(ctx: Ctx): Promise<DiscountCatalog> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const products = await trx.selectFrom('products').select(['id', 'sku', 'name', 'type', 'archivedAt']).where('partnerId', '=', partnerId)
      .orderBy('name').orderBy('id').limit(MAX_CATALOG_PRODUCTS).execute();
    const ids = products.map((p) => p.id);
    const variants = ids.length === 0 ? [] : await trx.selectFrom('productVariants').select(['id', 'productId', 'name', 'archivedAt'])
      .where('partnerId', '=', partnerId).where('productId', 'in', ids).orderBy('position').orderBy('id').execute();
    const vids = variants.map((v) => v.id);
    const prices = vids.length === 0 ? [] : await trx.selectFrom('productPrices').select(['id', 'variantId', 'cycle', 'currency', 'priceMicros', 'costMicros', 'archivedAt'])
      .where('partnerId', '=', partnerId).where('variantId', 'in', vids).orderBy('cycle').orderBy('currency').execute();
    const fmt = (m: string, c: string) => (isCurrency(c.trim()) ? formatDecimal(BigInt(m), c.trim() as Parameters<typeof formatDecimal>[1]) : m);
    return {
      products: products.map((p) => ({
        id: p.id, sku: p.sku, name: p.name, type: p.type, archived: p.archivedAt !== null,
        variants: variants.filter((v) => v.productId === p.id).map((v) => ({
          id: v.id, name: v.name, archived: v.archivedAt !== null,
          prices: prices.filter((pr) => pr.variantId === v.id).map((pr) => ({
            id: pr.id, cycle: pr.cycle, currency: pr.currency.trim(), price: fmt(pr.priceMicros, pr.currency), cost: fmt(pr.costMicros, pr.currency), archived: pr.archivedAt !== null,
          })),
        })),
      })),
    };
  });
}

export const customerLookupQuery = z.strictObject({ q: z.string().trim().max(100).optional() });
export const customerLookupSchema = z.object({ data: z.array(z.object({ id: z.string(), name: z.string(), currency: z.string() })) });

/** Up to 20 of the partner's customers whose name contains `q` (all of the first 20 by name without it). */
export async function lookupCustomers(ctx: Ctx, q: string | undefined): Promise<z.infer<typeof customerLookupSchema>> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    let query = trx.selectFrom('customers').select(['id', 'name', 'currency']).where('partnerId', '=', partnerId);
    if (q) query = query.where('name', 'ilike', `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    const rows = await query.orderBy('name').orderBy('id').limit(20).execute();
    return { data: rows.map((r) => ({ id: r.id, name: r.name, currency: r.currency.trim() })) };
  });
}
