import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { notFound } from '../platform/errors.ts';
import { partnerCaller } from '../access/caller.ts';
import type { Page } from '../access/paging.ts';
import { loadProductViews, type ProductView } from './catalog.repo.ts';

/** At most this many products offered for sale at once (a partner's price list, not a data set). */
export const MAX_SELLABLE_PRODUCTS = 500;

/**
 * What staff with the Customer app can sell to one customer: products, variants and prices on sale (nothing archived), priced
 * in the customer's currency, with cost and margin (staff see what a sale earns). The Product app is not needed to sell.
 * Products with no price in that currency are left out. Newest first, one page.
 */
export async function sellableCatalog(ctx: Ctx, input: { customerId: string }): Promise<Page<ProductView>> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const customer = await trx.selectFrom('customers').select('currency').where('partnerId', '=', partnerId).where('id', '=', input.customerId).executeTakeFirst();
    if (!customer) throw notFound('Customer');
    const products = await trx.selectFrom('products').selectAll()
      .where('partnerId', '=', partnerId).where('archivedAt', 'is', null)
      .where((eb) => eb.exists(eb.selectFrom('productPrices as pp')
        .innerJoin('productVariants as v', (j) => j.onRef('v.id', '=', 'pp.variantId').onRef('v.partnerId', '=', 'pp.partnerId'))
        .select('pp.id')
        .whereRef('v.productId', '=', 'products.id')
        .where('pp.partnerId', '=', partnerId).where('pp.currency', '=', customer.currency)
        .where('pp.archivedAt', 'is', null).where('v.archivedAt', 'is', null)))
      .orderBy('id', 'desc').limit(MAX_SELLABLE_PRODUCTS)
      .execute();
    const views = await loadProductViews(trx, partnerId, products);
    const data = views.map((p) => ({
      ...p,
      variants: p.variants
        .filter((v) => !v.archived)
        .map((v) => ({ ...v, prices: v.prices.filter((pr) => !pr.archived && pr.currency === customer.currency) }))
        .filter((v) => v.prices.length > 0),
    }));
    return { data, nextCursor: null };
  });
}
