import { z } from 'zod';
import type { Trx } from '../platform/database.ts';
import { DomainError, FieldProblems, notFound } from '../platform/errors.ts';
import { newId } from '../platform/ids.ts';
import { decimalRefusal, formatDecimal, isCurrency, isWholeMinorUnits, MICROS_PER_UNIT, parseDecimal, type Currency } from '../money/money.ts';
import type { BillingCycle, ProductType, TaxCategory } from './catalog.db-types.ts';
import type { PriceRow, ProductRow, VariantRow } from './sellable-price.ts';

/**
 * The product catalog (migration 0020_catalog): products (SKU unique per partner, case-insensitive), their variants (plans),
 * and per variant one price per billing cycle and currency: the pre-tax price the customer pays, the cost the platform
 * charges the partner, and a one-time activation fee. Catalog amounts are whole minor units of their currency (no
 * fractions of a cent on a price list); the margin is price - cost. Products are archived, never deleted.
 */

export const PRODUCT_TYPES = ['app_licence', 'phone_number', 'usage', 'service'] as const satisfies readonly ProductType[];
export const TAX_CATEGORIES = ['standard', 'zero_rated', 'exempt'] as const satisfies readonly TaxCategory[];
export const BILLING_CYCLES = ['monthly', 'yearly'] as const satisfies readonly BillingCycle[];
/** At most 1,000,000 units of the currency for a price, cost or activation fee: a bound, not a business rule. */
export const MAX_CATALOG_MICROS = 1_000_000n * MICROS_PER_UNIT;
/** At most this many variants per product and products per portal catalog: bounds. */
export const MAX_VARIANTS_PER_PRODUCT = 50;

/** Variant and price ids: type-prefixed, time-sortable (the same form as `newId`; the prefixes are not in ids.ts' list). */
export const newProductId = (): string => newId('prd');
export const newVariantId = (): string => `var_${newId('prd').slice(4)}`;
export const newPriceId = (): string => `prc_${newId('prd').slice(4)}`;

export const priceViewSchema = z.object({
  id: z.string(),
  variantId: z.string(),
  cycle: z.enum(BILLING_CYCLES),
  currency: z.string(),
  price: z.string().describe('Pre-tax price per cycle, in the currency\'s minor unit ("12.50")'),
  cost: z.string().describe('What the platform charges the partner per cycle'),
  activationFee: z.string().describe('One-time fee on purchase'),
  margin: z.string().describe('price - cost'),
  marginPercent: z.string().nullable().describe('margin / price x 100, one decimal ("42.5"); null when the price is 0'),
  archived: z.boolean(),
});
export type PriceView = z.infer<typeof priceViewSchema>;

export const variantViewSchema = z.object({
  id: z.string(),
  productId: z.string(),
  name: z.string(),
  position: z.number().int(),
  archived: z.boolean(),
  prices: z.array(priceViewSchema),
});
export type VariantView = z.infer<typeof variantViewSchema>;

export const productViewSchema = z.object({
  id: z.string(),
  sku: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  type: z.enum(PRODUCT_TYPES),
  taxCategory: z.enum(TAX_CATEGORIES),
  archived: z.boolean(),
  archivedAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  variants: z.array(variantViewSchema),
});
export type ProductView = z.infer<typeof productViewSchema>;

export function catalogCurrency(code: string): Currency {
  if (!isCurrency(code)) throw new DomainError('state_conflict', `Currency ${code} is not supported`);
  return code;
}

/** margin / price x 100 with one decimal, rounded half away from zero; null for a free price. */
export function marginPercentOf(priceMicros: bigint, costMicros: bigint): string | null {
  if (priceMicros === 0n) return null;
  const margin = priceMicros - costMicros;
  const negative = margin < 0n;
  const abs = negative ? -margin : margin;
  // tenths of a percent: abs x 1000 / price, rounded half up
  let tenths = (abs * 1000n) / priceMicros;
  if (((abs * 1000n) % priceMicros) * 2n >= priceMicros) tenths += 1n;
  const text = `${tenths / 10n}.${tenths % 10n}`;
  return negative && tenths !== 0n ? `-${text}` : text;
}

export function priceView(p: PriceRow): PriceView {
  const currency = catalogCurrency(p.currency);
  const price = BigInt(p.priceMicros);
  const cost = BigInt(p.costMicros);
  return {
    id: p.id, variantId: p.variantId, cycle: p.cycle, currency: p.currency,
    price: formatDecimal(price, currency), cost: formatDecimal(cost, currency),
    activationFee: formatDecimal(BigInt(p.activationFeeMicros), currency),
    margin: formatDecimal(price - cost, currency), marginPercent: marginPercentOf(price, cost),
    archived: p.archivedAt !== null,
  };
}

const CYCLE_ORDER: Record<BillingCycle, number> = { monthly: 0, yearly: 1 };

export function variantView(v: VariantRow, prices: readonly PriceRow[]): VariantView {
  const mine = prices
    .filter((p) => p.variantId === v.id)
    .sort((a, b) => (a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : CYCLE_ORDER[a.cycle] - CYCLE_ORDER[b.cycle]));
  return { id: v.id, productId: v.productId, name: v.name, position: v.position, archived: v.archivedAt !== null, prices: mine.map(priceView) };
}

export function productView(p: ProductRow, variants: readonly VariantRow[], prices: readonly PriceRow[]): ProductView {
  return {
    id: p.id, sku: p.sku, name: p.name, description: p.description, type: p.type, taxCategory: p.taxCategory,
    archived: p.archivedAt !== null, archivedAt: p.archivedAt?.toISOString() ?? null,
    createdAt: p.createdAt.toISOString(), updatedAt: p.updatedAt.toISOString(),
    variants: variants
      .filter((v) => v.productId === p.id)
      .sort((a, b) => a.position - b.position || (a.id < b.id ? -1 : 1))
      .map((v) => variantView(v, prices)),
  };
}

/** Products with their variants and prices, in the order given. */
export async function loadProductViews(trx: Trx, partnerId: string, products: readonly ProductRow[]): Promise<ProductView[]> {
  if (products.length === 0) return [];
  const ids = products.map((p) => p.id);
  const variants = await trx.selectFrom('productVariants').selectAll().where('partnerId', '=', partnerId).where('productId', 'in', ids).execute();
  const prices = variants.length === 0 ? [] : await trx
    .selectFrom('productPrices').selectAll().where('partnerId', '=', partnerId).where('variantId', 'in', variants.map((v) => v.id))
    .execute();
  return products.map((p) => productView(p, variants, prices));
}

export async function findProduct(trx: Trx, partnerId: string, productId: string, opts: { forUpdate?: boolean } = {}): Promise<ProductRow> {
  let q = trx.selectFrom('products').selectAll().where('partnerId', '=', partnerId).where('id', '=', productId);
  if (opts.forUpdate) q = q.forUpdate();
  const row = await q.executeTakeFirst();
  if (!row) throw notFound('Product');
  return row;
}

export async function findVariant(trx: Trx, partnerId: string, variantId: string): Promise<VariantRow> {
  const row = await trx.selectFrom('productVariants').selectAll().where('partnerId', '=', partnerId).where('id', '=', variantId).executeTakeFirst();
  if (!row) throw notFound('Variant');
  return row;
}

/**
 * Catalog amounts: decimal strings, 0 or more, whole minor units of the currency (2 decimals for SGD, none for VND), at most
 * 1,000,000. Every bad one is named in one answer (`price`, `cost`, `activationFee`), before anything is written: a 400
 * when one is not a decimal string, else a 422 rule_violation for a number that breaks those rules (docs/adr/0040).
 */
export function parseCatalogAmounts<K extends string>(fields: Record<K, string>, currency: Currency): Record<K, bigint> {
  const problems = new FieldProblems();
  const out = {} as Record<K, bigint>;
  const decimals = formatDecimal(0n, currency).split('.')[1]?.length ?? 0;
  for (const [field, value] of Object.entries(fields) as Array<[K, string]>) {
    const micros = parseDecimal(value, currency, 6);
    if (micros === null) {
      const refusal = decimalRefusal(value, currency, 6);
      const message = refusal.code === 'validation_failed' ? 'a decimal string such as "12.50"'
        : /\.\d{7,}$/.test(value) ? `at most ${decimals} decimals for ${currency}` : `at most ${formatDecimal(MAX_CATALOG_MICROS, currency)}`;
      problems.add(refusal.code, field, message);
    } else if (micros < 0n) problems.add('rule_violation', field, 'must not be negative');
    else if (!isWholeMinorUnits(micros, currency)) problems.add('rule_violation', field, `at most ${decimals} decimals for ${currency}`);
    else if (micros > MAX_CATALOG_MICROS) problems.add('rule_violation', field, `at most ${formatDecimal(MAX_CATALOG_MICROS, currency)}`);
    else out[field] = micros;
  }
  problems.throwIfAny();
  return out;
}
