import { sql } from 'kysely';
import type { Trx } from '../platform/database.ts';
import type { ProductType } from '../products/catalog.db-types.ts';
import type { DiscountKind, DiscountScope } from './discounts.db-types.ts';
import { chooseDiscount, type DiscountTerms, type LineScope } from './discount-rules.ts';

/** A charge line to find the discount of: whose, which catalog price, on which UTC day (YYYY-MM-DD). */
export interface DiscountRequest {
  partnerId: string;
  customerId: string;
  priceId: string;
  day: string;
}

interface CandidateRow {
  idx: string;
  productType: ProductType;
  productId: string;
  variantId: string;
  priceId: string;
  id: string | null;
  name: string;
  customerId: string | null;
  scope: DiscountScope;
  dType: ProductType;
  dProductId: string | null;
  dVariantId: string | null;
  dPriceId: string | null;
  kind: DiscountKind;
  percentBps: number | null;
  amountMicros: string | null;
  currency: string | null;
  startsOn: string;
  endsOn: string | null;
}

/**
 * The discount of each request (same order; null when none), set-based: one query finds every discount that covers the
 * request's price and customer and is in force on its day, then `chooseDiscount` (the one precedence rule) picks the most
 * specific. Works in partner or system scope (the renewal job prices many partners at once).
 */
export async function discountsFor(trx: Trx, requests: readonly DiscountRequest[]): Promise<(DiscountTerms | null)[]> {
  if (requests.length === 0) return [];
  const { rows } = await sql<CandidateRow>`
    with r (partner_id, customer_id, price_id, day, idx) as (
      select * from unnest(${requests.map((q) => q.partnerId)}::text[], ${requests.map((q) => q.customerId)}::text[],
        ${requests.map((q) => q.priceId)}::text[], ${requests.map((q) => q.day)}::date[]) with ordinality)
    select r.idx::text as idx, p.type as "productType", p.id as "productId", v.id as "variantId", pp.id as "priceId",
      d.id, d.name, d.customer_id as "customerId", d.scope, d.product_type as "dType", d.product_id as "dProductId",
      d.variant_id as "dVariantId", d.price_id as "dPriceId", d.kind, d.percent_bps as "percentBps",
      d.amount_micros::text as "amountMicros", d.currency, d.starts_on::text as "startsOn", d.ends_on::text as "endsOn"
    from r
    join product_prices pp on pp.partner_id = r.partner_id and pp.id = r.price_id
    join product_variants v on v.partner_id = pp.partner_id and v.id = pp.variant_id
    join products p on p.partner_id = v.partner_id and p.id = v.product_id
    join discounts d on d.partner_id = r.partner_id and (d.customer_id is null or d.customer_id = r.customer_id)
      and d.product_type = p.type and (d.product_id is null or d.product_id = p.id)
      and (d.variant_id is null or d.variant_id = v.id) and (d.price_id is null or d.price_id = pp.id)
      and d.starts_on <= r.day and (d.ends_on is null or d.ends_on >= r.day)
      -- Ended by hand: nothing charged on or after the day it was ended gets it (one that started that day ends that day).
      and (d.ended_at is null or (d.ended_at at time zone 'UTC')::date > r.day)
    order by r.idx`.execute(trx);
  const byIdx = new Map<number, { line: LineScope; candidates: DiscountTerms[] }>();
  for (const row of rows) {
    const idx = Number(row.idx) - 1;
    const entry = byIdx.get(idx) ?? { line: { productType: row.productType, productId: row.productId, variantId: row.variantId, priceId: row.priceId }, candidates: [] };
    entry.candidates.push(termsOf({
      id: row.id!, name: row.name, customerId: row.customerId, scope: row.scope, productType: row.dType, productId: row.dProductId,
      variantId: row.dVariantId, priceId: row.dPriceId, kind: row.kind, percentBps: row.percentBps, amountMicros: row.amountMicros,
      currency: row.currency, startsOn: row.startsOn, endsOn: row.endsOn,
    }));
    byIdx.set(idx, entry);
  }
  return requests.map((q, i) => {
    const entry = byIdx.get(i);
    return entry ? chooseDiscount(entry.candidates, q.customerId, entry.line, q.day) : null;
  });
}

export interface TermsRow {
  id: string;
  name: string;
  customerId: string | null;
  scope: DiscountScope;
  productType: ProductType;
  productId: string | null;
  variantId: string | null;
  priceId: string | null;
  kind: DiscountKind;
  percentBps: number | null;
  amountMicros: string | null;
  currency: string | null;
  startsOn: string;
  endsOn: string | null;
}

export function termsOf(row: TermsRow): DiscountTerms {
  return { ...row, amountMicros: row.amountMicros === null ? null : BigInt(row.amountMicros), currency: row.currency?.trim() ?? null };
}
