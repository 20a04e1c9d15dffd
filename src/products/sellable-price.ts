import type { Selectable } from 'kysely';
import type { Trx } from '../platform/database.ts';
import { DomainError, unknownId } from '../platform/errors.ts';
import type { ProductPricesTable, ProductsTable, ProductVariantsTable } from './catalog.db-types.ts';

export type PriceRow = Selectable<ProductPricesTable>;
export type VariantRow = Selectable<ProductVariantsTable>;
export type ProductRow = Selectable<ProductsTable>;

export interface SellablePrice {
  price: PriceRow;
  variant: VariantRow;
  product: ProductRow;
}

/**
 * The catalog price a customer can buy now, with its variant and product, for other domains (subscriptions, portal purchase).
 * Reads inside the caller's transaction (partner or customer scope; the catalog is readable by the partner's customers), and
 * filters the partner explicitly, so another partner's price is simply not found.
 * - `price_not_found` (422 naming `priceId`): no such price for this partner (the price is always given in a body or query: docs/adr/0037).
 * - `product_archived` (409): the price, its variant or its product is archived (no new sales; existing subscriptions keep it).
 * `forShare` locks the three rows (`for share`) so the product cannot be archived while the caller's transaction sells it.
 */
export async function findSellablePrice(
  trx: Trx,
  partnerId: string,
  priceId: string,
  options: { forShare?: boolean } = {},
): Promise<SellablePrice> {
  const row = await findPriceWithProduct(trx, partnerId, priceId, options);
  // Name what is archived: the product, one of its variants, or one billing cycle's price (the others still sell).
  const what = row.product.archivedAt ? `${row.product.name} (${row.product.sku}) is archived`
    : row.variant.archivedAt ? `${row.product.name} — ${row.variant.name} is archived`
      : row.price.archivedAt ? `The ${row.price.cycle} ${row.price.currency} price of ${row.product.name} — ${row.variant.name} is archived`
        : null;
  if (what !== null) throw new DomainError('product_archived', `${what} and can no longer be bought`);
  return row;
}

/** The same price rows whether archived or not (e.g. to show what an existing subscription is on); `price_not_found` when missing. */
export async function findPriceWithProduct(
  trx: Trx,
  partnerId: string,
  priceId: string,
  options: { forShare?: boolean } = {},
): Promise<SellablePrice> {
  let priceQuery = trx.selectFrom('productPrices').selectAll().where('partnerId', '=', partnerId).where('id', '=', priceId);
  if (options.forShare) priceQuery = priceQuery.forShare();
  const price = await priceQuery.executeTakeFirst();
  if (!price) throw unknownId('price_not_found', 'priceId', 'Price');
  let variantQuery = trx.selectFrom('productVariants').selectAll().where('partnerId', '=', partnerId).where('id', '=', price.variantId);
  if (options.forShare) variantQuery = variantQuery.forShare();
  const variant = await variantQuery.executeTakeFirstOrThrow();
  let productQuery = trx.selectFrom('products').selectAll().where('partnerId', '=', partnerId).where('id', '=', variant.productId);
  if (options.forShare) productQuery = productQuery.forShare();
  const product = await productQuery.executeTakeFirstOrThrow();
  return { price, variant, product };
}
