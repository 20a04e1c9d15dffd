import { idOf, isoDay } from '../platform/schemas.ts';
import { sql } from 'kysely';
import { z } from 'zod';
import { decimalRefusal, formatDecimal, isCurrency, minorUnitDecimals, parseDecimal, type Currency } from '../money/money.ts';
import { MAX_CATALOG_MICROS } from '../products/catalog.repo.ts';
import type { Trx } from '../platform/database.ts';
import { DomainError, type FieldError } from '../platform/errors.ts';
import type { ProductType } from '../products/catalog.db-types.ts';
import type { DiscountTerms } from './discount-rules.ts';
import type { DiscountKind, DiscountScope } from './discounts.db-types.ts';

/**
 * The body of a new discount (and of its margin preview), and its checks against the partner's customers and catalog.
 * Every refusal names the field; nothing is written before all pass.
 */
const dayString = isoDay.describe('A UTC day, YYYY-MM-DD');
/** An id of the catalog (`prd_...`), as every id the API takes. */
const catalogId = idOf;

export const discountBody = z.strictObject({
  name: z.string().trim().min(1).max(120).describe('What staff call it, e.g. "Acme yearly deal"'),
  customerId: z.string().regex(/^cus_[0-9a-z]{10,40}$/, 'a cus_ id').nullable().describe('One customer; null: every customer of the partner'),
  scope: z.enum(['product_type', 'product', 'variant', 'price']),
  productType: z.enum(['app_licence', 'phone_number', 'usage', 'service']).optional().describe('scope product_type'),
  productId: catalogId('prd').optional().describe('scope product (and below)'),
  variantId: catalogId('var').optional().describe('scope variant (and below)'),
  priceId: catalogId('prc').optional().describe('scope price: one billing cycle of a variant'),
  percentOff: z.string().max(12).regex(/^-?\d+(\.\d+)?$/, 'a percent such as "10" or "12.5"').optional()
    .describe('More than 0, at most 100, at most 2 decimals (else 422 rule_violation); or amountOff'),
  amountOff: z.strictObject({
    amount: z.string().max(40).describe('Per unit and period, pre-tax, the currency\'s minor-unit decimals'),
    currency: z.string().length(3),
  }).optional().describe('A fixed amount: only on one billing cycle (scope price), in its currency'),
  startsOn: dayString.optional().describe('First day in force; default today; not in the past'),
  endsOn: dayString.nullable().optional().describe('Last day in force (inclusive); null or absent: unlimited'),
});
export type DiscountBody = z.infer<typeof discountBody>;
export const previewBody = discountBody.extend({ name: z.string().trim().min(1).max(120).optional() });
export type PreviewBody = z.infer<typeof previewBody>;

export interface ResolvedDiscount {
  name: string;
  customerId: string | null;
  customerName: string | null;
  scope: DiscountScope;
  productType: ProductType;
  productId: string | null;
  variantId: string | null;
  priceId: string | null;
  kind: DiscountKind;
  percentBps: number | null;
  amountMicros: bigint | null;
  currency: string | null;
  startsOn: string;
  endsOn: string | null;
}

export function fail(code: 'validation_failed' | 'rule_violation' | 'currency_mismatch' | 'product_not_found' | 'customer_not_found', path: string, message: string): never {
  throw new DomainError(code, `${path}: ${message}`, [{ path, message }]);
}

/**
 * A fixed amount off (`amountOff.amount`): more than zero, the currency's minor-unit decimals, and at most what a catalog
 * price may be (1,000,000.00): more could never take off more than a price, and far more overflowed the 64-bit
 * micro-units it is stored in (a 500 before). Not a decimal string is a 400; a number that breaks one of those rules a
 * 422 rule_violation (docs/adr/0040).
 */
export function amountOffMicros(amount: string, currency: Currency): bigint {
  const micros = parseDecimal(amount, currency);
  if (micros === null || micros <= 0n) {
    fail(micros === null ? decimalRefusal(amount, currency).code : 'rule_violation', 'amountOff.amount', `a positive ${currency} amount with at most ${minorUnitDecimals(currency)} decimals`);
  }
  if (micros > MAX_CATALOG_MICROS) fail('rule_violation', 'amountOff.amount', `at most ${formatDecimal(MAX_CATALOG_MICROS, currency)}, the most a catalog price can be`);
  return micros;
}

/** "12.5" -> 1250 basis points; more than 0, at most 100 %, at most 2 decimals (a number that is not: 422, docs/adr/0040). */
export function bpsOf(percent: string): number {
  const [whole, fraction = ''] = percent.split('.');
  if (fraction.length > 2) fail('rule_violation', 'percentOff', 'at most 2 decimals');
  const bps = Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
  if (!(bps > 0 && bps <= 10_000)) fail('rule_violation', 'percentOff', 'more than 0 and at most 100');
  return bps;
}

export function addDaysIso(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** Check a new discount's body against the partner's data (inside the caller's transaction). */
export async function resolveDiscount(trx: Trx, partnerId: string, body: PreviewBody, today: string): Promise<ResolvedDiscount> {
  const problems: FieldError[] = [];
  // Rate: exactly one of percentOff and amountOff.
  if ((body.percentOff === undefined) === (body.amountOff === undefined)) {
    fail('validation_failed', 'percentOff', 'give either percentOff or amountOff');
  }
  const percentBps = body.percentOff !== undefined ? bpsOf(body.percentOff) : null;
  if (body.amountOff && body.scope !== 'price') {
    fail('rule_violation', 'amountOff', 'a fixed amount is only allowed on one billing cycle (scope price); use a percent for a wider scope');
  }
  const startsOn = body.startsOn ?? today;
  if (startsOn < today) fail('rule_violation', 'startsOn', `not before today (${today})`);
  const endsOn = body.endsOn ?? null;
  if (endsOn !== null && endsOn < startsOn) fail('rule_violation', 'endsOn', `not before startsOn (${startsOn})`);

  let customerName: string | null = null;
  if (body.customerId) {
    const c = await trx.selectFrom('customers').select(['name', 'currency']).where('partnerId', '=', partnerId).where('id', '=', body.customerId).executeTakeFirst();
    if (!c) fail('customer_not_found', 'customerId', 'no such customer');
    customerName = c.name;
  }

  // Scope: the field of the scope is required; ids given above it must be the same path.
  let productType: ProductType;
  let productId: string | null = null;
  let variantId: string | null = null;
  let priceId: string | null = null;
  let priceCurrency: string | null = null;
  let priceMicros: bigint | null = null;
  if (body.scope === 'product_type') {
    if (!body.productType) fail('validation_failed', 'productType', 'required for scope product_type');
    for (const f of ['productId', 'variantId', 'priceId'] as const) if (body[f] !== undefined) problems.push({ path: f, message: 'not used by scope product_type' });
    productType = body.productType;
  } else {
    const field = body.scope === 'product' ? 'productId' : body.scope === 'variant' ? 'variantId' : 'priceId';
    const id = body[field];
    if (!id) fail('validation_failed', field, `required for scope ${body.scope}`);
    const base = trx.selectFrom('products as p').innerJoin('productVariants as v', (j) => j.onRef('v.partnerId', '=', 'p.partnerId').onRef('v.productId', '=', 'p.id'));
    const row = body.scope === 'product'
      ? await trx.selectFrom('products as p').select(['p.id as productId', 'p.type']).where('p.partnerId', '=', partnerId).where('p.id', '=', id)
        .executeTakeFirst().then((r) => r && { ...r, variantId: null, priceId: null, currency: null, priceMicros: null })
      : body.scope === 'variant'
        ? await base.select(['p.id as productId', 'p.type', 'v.id as variantId']).where('p.partnerId', '=', partnerId).where('v.id', '=', id)
          .executeTakeFirst().then((r) => r && { ...r, priceId: null, currency: null, priceMicros: null })
        : await base.innerJoin('productPrices as pr', (j) => j.onRef('pr.partnerId', '=', 'v.partnerId').onRef('pr.variantId', '=', 'v.id'))
          .select(['p.id as productId', 'p.type', 'v.id as variantId', 'pr.id as priceId', 'pr.currency', 'pr.priceMicros'])
          .where('p.partnerId', '=', partnerId).where('pr.id', '=', id).executeTakeFirst();
    if (!row) fail('product_not_found', field, 'not in your catalog');
    productType = row.type;
    productId = row.productId;
    variantId = row.variantId;
    priceId = row.priceId;
    priceCurrency = row.currency?.trim() ?? null;
    priceMicros = row.priceMicros === null ? null : BigInt(row.priceMicros);
    const path = { productType, productId, variantId, priceId };
    for (const f of ['productType', 'productId', 'variantId', 'priceId'] as const) {
      if (body[f] !== undefined && body[f] !== path[f]) problems.push({ path: f, message: `does not match the ${body.scope} chosen` });
    }
  }
  if (problems.length > 0) throw new DomainError('validation_failed', `${problems[0]!.path}: ${problems[0]!.message}`, problems);

  let amountMicros: bigint | null = null;
  let currency: string | null = null;
  if (body.amountOff) {
    const c = body.amountOff.currency.toUpperCase();
    if (!isCurrency(c)) fail('validation_failed', 'amountOff.currency', 'an ISO 4217 currency Folio bills in');
    if (c !== priceCurrency) fail('currency_mismatch', 'amountOff.currency', `the price is in ${priceCurrency}`);
    amountMicros = amountOffMicros(body.amountOff.amount, c);
    currency = c;
    void priceMicros; // a fixed amount above the price is allowed: it is capped at the price (the preview warns)
  }
  return {
    name: body.name ?? 'Preview', customerId: body.customerId ?? null, customerName, scope: body.scope, productType, productId, variantId, priceId,
    kind: percentBps !== null ? 'percent' : 'fixed', percentBps, amountMicros, currency, startsOn, endsOn,
  };
}

/** Another discount of the same target and scope in force on a common day (the exclusion constraint's rule, told first with its name). */
export async function findOverlap(
  trx: Trx, partnerId: string, d: Pick<ResolvedDiscount, 'customerId' | 'scope' | 'productType' | 'productId' | 'variantId' | 'priceId' | 'startsOn' | 'endsOn'>,
  exceptId: string | null = null,
): Promise<{ id: string; name: string; startsOn: string; endsOn: string | null } | null> {
  const ref = d.priceId ?? d.variantId ?? d.productId ?? d.productType;
  const { rows } = await sql<{ id: string; name: string; startsOn: string; endsOn: string | null }>`
    select id, name, starts_on::text as "startsOn", ends_on::text as "endsOn" from discounts
    where partner_id = ${partnerId} and coalesce(customer_id, '*') = ${d.customerId ?? '*'} and scope = ${d.scope}
      and coalesce(price_id, variant_id, product_id, product_type) = ${ref}
      and daterange(starts_on, ends_on + 1, '[)') && daterange(${d.startsOn}::date, ${d.endsOn}::date + 1, '[)')
      and id is distinct from ${exceptId}
    limit 1`.execute(trx);
  return rows[0] ?? null;
}

export function overlapError(other: { name: string; startsOn: string; endsOn: string | null }): DomainError {
  const period = `${other.startsOn} to ${other.endsOn ?? 'unlimited'}`;
  return new DomainError('discount_overlap', `"${other.name}" (${period}) has the same customer and scope on some of these days: end it first, or choose other dates`, [
    { path: 'startsOn', message: `overlaps "${other.name}" (${period}), a discount of the same specificity` },
  ]);
}

/** PostgreSQL's exclusion_violation (the overlap constraint, hit by a concurrent create). */
export function isExclusionViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23P01';
}

export function termsOfResolved(id: string, d: ResolvedDiscount): DiscountTerms {
  return {
    id, name: d.name, customerId: d.customerId, scope: d.scope, productType: d.productType, productId: d.productId, variantId: d.variantId,
    priceId: d.priceId, kind: d.kind, percentBps: d.percentBps, amountMicros: d.amountMicros, currency: d.currency, startsOn: d.startsOn, endsOn: d.endsOn,
  };
}
