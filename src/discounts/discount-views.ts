import { sql } from 'kysely';
import { z } from 'zod';
import { formatDecimal, isCurrency } from '../money/money.ts';
import type { Trx } from '../platform/database.ts';
import { specificity } from './discount-rules.ts';
import type { DiscountScope } from './discounts.db-types.ts';

/** What the API shows of a discount (the Discount app and the Customer app). Days are UTC `YYYY-MM-DD`, both inclusive. */
const day = z.string().describe('A UTC day, YYYY-MM-DD');
export const discountStatus = z.enum(['scheduled', 'active', 'ended']);
export type DiscountStatus = z.infer<typeof discountStatus>;

export const discountViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  target: z.enum(['customer', 'all']).describe('one customer, or every customer of the partner'),
  customer: z.object({ id: z.string(), name: z.string() }).nullable(),
  scope: z.enum(['product_type', 'product', 'variant', 'price']).describe('all products of a type, all variants of a product, all billing cycles of a variant, or one billing cycle'),
  scopeLabel: z.string().describe('What the scope covers, in words'),
  productType: z.string(),
  product: z.object({ id: z.string(), name: z.string(), sku: z.string() }).nullable(),
  variant: z.object({ id: z.string(), name: z.string() }).nullable(),
  price: z.object({ id: z.string(), cycle: z.string(), currency: z.string(), price: z.string() }).nullable(),
  kind: z.enum(['percent', 'fixed']),
  percentOff: z.string().nullable().describe('Percent, up to two decimals ("12.5")'),
  amountOff: z.object({ amount: z.string(), currency: z.string() }).nullable().describe('Per unit and period, pre-tax; capped at the price'),
  startsOn: day,
  endsOn: day.nullable().describe('Last day in force; null: unlimited'),
  status: discountStatus,
  specificity: z.number().int().describe('0-7: higher wins (one customer 4-7 above every customer 0-3; then billing cycle > variant > product > type)'),
  endedAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type DiscountView = z.infer<typeof discountViewSchema>;

export interface DiscountRowFull {
  id: string;
  name: string;
  customerId: string | null;
  customerName: string | null;
  scope: DiscountScope;
  productType: string;
  productId: string | null;
  productName: string | null;
  sku: string | null;
  variantId: string | null;
  variantName: string | null;
  priceId: string | null;
  cycle: string | null;
  priceCurrency: string | null;
  priceMicros: string | null;
  kind: 'percent' | 'fixed';
  percentBps: number | null;
  amountMicros: string | null;
  currency: string | null;
  startsOn: string;
  endsOn: string | null;
  endedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export const PRODUCT_TYPE_LABEL: Record<string, string> = {
  app_licence: 'App licences', phone_number: 'Phone numbers', usage: 'Usage products', service: 'Services',
};

/** Percent from basis points: "10", "12.5", "0.01". */
export function percentOf(bps: number): string {
  const whole = Math.floor(bps / 100);
  const fraction = (bps % 100).toString().padStart(2, '0').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : `${whole}`;
}

export function statusOf(row: { startsOn: string; endsOn: string | null; endedAt: Date | null }, today: string): DiscountStatus {
  if (row.endedAt !== null || (row.endsOn !== null && row.endsOn < today)) return 'ended';
  if (row.startsOn > today) return 'scheduled';
  return 'active';
}

function money(micros: string, currency: string): string {
  const c = currency.trim();
  return isCurrency(c) ? formatDecimal(BigInt(micros), c) : micros;
}

export function discountView(row: DiscountRowFull, today: string): DiscountView {
  const priceCurrency = row.priceCurrency?.trim() ?? null;
  const label = row.scope === 'product_type' ? `All ${PRODUCT_TYPE_LABEL[row.productType] ?? row.productType}`
    : row.scope === 'product' ? `All variants of ${row.productName}`
      : row.scope === 'variant' ? `All billing cycles of ${row.productName} — ${row.variantName}`
        : `${row.productName} — ${row.variantName}, ${row.cycle} (${priceCurrency})`;
  return {
    id: row.id, name: row.name, target: row.customerId ? 'customer' : 'all',
    customer: row.customerId ? { id: row.customerId, name: row.customerName ?? row.customerId } : null,
    scope: row.scope, scopeLabel: label, productType: row.productType,
    product: row.productId ? { id: row.productId, name: row.productName ?? '', sku: row.sku ?? '' } : null,
    variant: row.variantId ? { id: row.variantId, name: row.variantName ?? '' } : null,
    price: row.priceId && priceCurrency ? { id: row.priceId, cycle: row.cycle ?? '', currency: priceCurrency, price: money(row.priceMicros ?? '0', priceCurrency) } : null,
    kind: row.kind,
    percentOff: row.percentBps !== null ? percentOf(row.percentBps) : null,
    amountOff: row.amountMicros !== null && row.currency ? { amount: money(row.amountMicros, row.currency), currency: row.currency.trim() } : null,
    startsOn: row.startsOn, endsOn: row.endsOn, status: statusOf(row, today),
    specificity: specificity({ customerId: row.customerId, scope: row.scope }),
    endedAt: row.endedAt?.toISOString() ?? null, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString(),
  };
}

/** The discounts with their names, for views; filters are added by the caller. */
export function discountRows(trx: Trx, partnerId: string) {
  return trx
    .selectFrom('discounts as d')
    .leftJoin('customers as c', (j) => j.onRef('c.partnerId', '=', 'd.partnerId').onRef('c.id', '=', 'd.customerId'))
    .leftJoin('products as p', (j) => j.onRef('p.partnerId', '=', 'd.partnerId').onRef('p.id', '=', 'd.productId'))
    .leftJoin('productVariants as v', (j) => j.onRef('v.partnerId', '=', 'd.partnerId').onRef('v.id', '=', 'd.variantId'))
    .leftJoin('productPrices as pr', (j) => j.onRef('pr.partnerId', '=', 'd.partnerId').onRef('pr.id', '=', 'd.priceId'))
    .select([
      'd.id', 'd.name', 'd.customerId', 'c.name as customerName', 'd.scope', 'd.productType', 'd.productId', 'p.name as productName', 'p.sku',
      'd.variantId', 'v.name as variantName', 'd.priceId', 'pr.cycle', 'pr.currency as priceCurrency', 'pr.priceMicros', 'd.kind', 'd.percentBps',
      'd.amountMicros', 'd.currency', sql<string>`d.starts_on::text`.as('startsOn'), sql<string | null>`d.ends_on::text`.as('endsOn'),
      'd.endedAt', 'd.createdAt', 'd.updatedAt',
    ])
    .where('d.partnerId', '=', partnerId);
}

export async function findDiscountView(trx: Trx, partnerId: string, id: string, today: string): Promise<DiscountView | null> {
  const row = await discountRows(trx, partnerId).where('d.id', '=', id).executeTakeFirst();
  return row ? discountView(row, today) : null;
}
