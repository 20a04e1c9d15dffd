import { sql } from 'kysely';
import { z } from 'zod';
import { decimalRefusal, formatDecimal, isWholeMinorUnits, minorUnitDecimals, parseDecimal, type Currency } from '../money/money.ts';
import type { Executor, Trx } from '../platform/database.ts';
import type { InvoiceType } from '../platform/db-types.ts';
import { FieldProblems } from '../platform/errors.ts';
import { asRule, idOf } from '../platform/schemas.ts';
import type { DraftLine } from './invoices.db-types.ts';
import { lineGrossMicros, parseQuantity, type InvoiceTotals, type TaxCategory } from './invoice-totals.ts';
import { draftTotals } from './invoice-views.ts';

/**
 * The lines of a hand-made invoice, as sent (create and update), checked and turned into draft lines
 * (`invoices.draft_lines`). Paths in errors are 0-based like the body's array: `lines.3.discount`.
 * - A product line names the partner's product (and variant); it takes the product's tax category, and when `unitPrice`
 *   is left out, the variant's monthly price in the customer's currency. Archived products, variants or prices are refused.
 * - A free-text line needs a description and a unit price; its tax category defaults to `standard`.
 * - quantity > 0, at most 1,000,000, at most 6 decimals (default 1); unit price >= 0 with at most 6 decimals; discount in
 *   whole minor units of the customer's currency, at most the line's gross (422 `discount_exceeds_gross`).
 * - A Top-up invoice (buying points, a deposit: docs/adr/0008) has free-text lines only and no tax.
 */
export const MAX_LINES = 200;
/**
 * An invoice's lines add up (after discounts, before tax) to at most 1,000,000,000.00 of its currency: far above any
 * real invoice, and far below what the ledger's 64-bit micro-units hold, sums of many invoices included.
 */
export const MAX_INVOICE_NET_MICROS = 1_000_000_000n * 1_000_000n;
const MAX_QUANTITY_MILLIONTHS = 1_000_000n * 1_000_000n;
const DECIMAL_6 = /^\d{1,12}(\.\d{1,6})?$/;
/**
 * A number as the API writes one (digits, an optional "-" and point): its form. What it must be (above 0, at most 6
 * decimals ...) is a rule checked after it: a number that breaks it is a 422 rule_violation, not a 400 (docs/adr/0040).
 */
const NUMBER_FORM = /^(?!-0+(\.0+)?$)-?\d+(\.\d+)?$/; // negative zero is no number the API writes (parseDecimal)
const asNumber = (what: string) => z.string().max(20).regex(NUMBER_FORM, what);

export const invoiceLineBody = z.strictObject({
  description: z.string().trim().min(1).max(500).optional().describe('1-500 characters; a product line defaults to "Product — Variant"'),
  quantity: asNumber('a decimal quantity such as 1 or 2.5')
    .refine((q) => {
      if (!NUMBER_FORM.test(q)) return true; // malformed: said by the form check alone
      const m = parseQuantity(q);
      return m !== null && m > 0n && m <= MAX_QUANTITY_MILLIONTHS;
    }, asRule('a decimal quantity above 0, at most 1000000, with at most 6 decimals'))
    .optional().describe('default "1"; above 0, at most 1000000, at most 6 decimals (else 422 rule_violation)'),
  unitPrice: asNumber('a decimal price such as 12.50')
    .refine((v) => !NUMBER_FORM.test(v) || DECIMAL_6.test(v), asRule('a decimal price of at least 0 with at most 6 decimals')).optional()
    .describe('pre-tax, at least 0, at most 6 decimals (else 422 rule_violation); a product line defaults to its variant\'s monthly price in the customer\'s currency'),
  discount: asNumber('a decimal amount such as 1.50')
    .refine((v) => !NUMBER_FORM.test(v) || DECIMAL_6.test(v), asRule('a decimal amount of at least 0 such as 1.50')).optional()
    .describe('whole minor units, at most the line\'s gross'),
  productId: idOf('prd').optional(),
  variantId: z.string().regex(/^var_[0-9a-z]{10,40}$/, 'a var_ id').optional(),
  taxCategory: z.enum(['standard', 'zero_rated', 'exempt']).optional().describe('free-text lines only (default standard); a product line takes its product\'s'),
});
export type InvoiceLineBody = z.infer<typeof invoiceLineBody>;
export const invoiceLinesBody = z.array(invoiceLineBody).min(1).max(MAX_LINES);

interface ProductFacts {
  productId: string;
  productName: string;
  productType: string;
  taxCategory: TaxCategory;
  archived: boolean;
  variants: { id: string; name: string; archived: boolean }[];
}

async function productFacts(trx: Executor, partnerId: string, productIds: string[]): Promise<Map<string, ProductFacts>> {
  const out = new Map<string, ProductFacts>();
  if (productIds.length === 0) return out;
  const rows = await trx
    .selectFrom('products as p')
    .leftJoin('productVariants as v', (j) => j.onRef('v.partnerId', '=', 'p.partnerId').onRef('v.productId', '=', 'p.id'))
    .select(['p.id', 'p.name', 'p.type', 'p.taxCategory', 'p.archivedAt', 'v.id as variantId', 'v.name as variantName', 'v.archivedAt as variantArchivedAt'])
    .where('p.partnerId', '=', partnerId)
    .where('p.id', 'in', productIds)
    .orderBy('p.id').orderBy('v.position').orderBy('v.id')
    .forShare('p')
    .execute();
  for (const r of rows) {
    const f = out.get(r.id) ?? { productId: r.id, productName: r.name, productType: r.type, taxCategory: r.taxCategory, archived: r.archivedAt !== null, variants: [] };
    if (r.variantId) f.variants.push({ id: r.variantId, name: r.variantName!, archived: r.variantArchivedAt !== null });
    out.set(r.id, f);
  }
  return out;
}

/** Product of each variant named without its product. */
async function productsOfVariants(trx: Executor, partnerId: string, variantIds: string[]): Promise<Map<string, string>> {
  if (variantIds.length === 0) return new Map();
  const rows = await trx.selectFrom('productVariants').select(['id', 'productId']).where('partnerId', '=', partnerId).where('id', 'in', variantIds).execute();
  return new Map(rows.map((r) => [r.id, r.productId]));
}

async function monthlyPrices(trx: Executor, partnerId: string, currency: string, variantIds: string[]): Promise<Map<string, bigint>> {
  if (variantIds.length === 0) return new Map();
  const rows = await trx
    .selectFrom('productPrices')
    .select(['variantId', 'priceMicros'])
    .where('partnerId', '=', partnerId)
    .where('variantId', 'in', variantIds)
    .where('currency', '=', currency)
    .where('cycle', '=', 'monthly')
    .where('archivedAt', 'is', null)
    .execute();
  return new Map(rows.map((r) => [r.variantId, BigInt(r.priceMicros)]));
}

/** Check the lines sent and turn them into draft lines, or throw (400 bad values, 422 broken rules, naming each line's field). */
export async function buildDraftLines(
  trx: Trx,
  input: { partnerId: string; currency: Currency; type: InvoiceType; lines: readonly InvoiceLineBody[] },
): Promise<DraftLine[]> {
  const { partnerId, currency } = input;
  const problems = new FieldProblems();
  const variantOnly = input.lines.filter((l) => !l.productId && l.variantId).map((l) => l.variantId!);
  const variantProduct = await productsOfVariants(trx, partnerId, variantOnly);
  const productIds = [...new Set(input.lines.map((l) => l.productId ?? (l.variantId ? variantProduct.get(l.variantId) : undefined)).filter((id): id is string => Boolean(id)))];
  const products = await productFacts(trx, partnerId, productIds);

  // First pass: which variant each product line is priced from.
  const chosen = input.lines.map((l, i) => {
    const path = `lines.${i}`;
    const productId = l.productId ?? (l.variantId ? variantProduct.get(l.variantId) : undefined);
    if (!l.productId && !l.variantId) return null;
    if (input.type === 'top_up') {
      problems.add('rule_violation', `${path}.productId`, 'a Top-up invoice buys points: free-text lines only');
      return null;
    }
    const product = productId ? products.get(productId) : undefined;
    if (!product) {
      problems.add('product_not_found', l.productId ? `${path}.productId` : `${path}.variantId`, 'no such product in your catalog');
      return null;
    }
    if (product.archived) {
      problems.add('product_archived', `${path}.productId`, `${product.productName} is archived`);
      return null;
    }
    let variant = l.variantId ? product.variants.find((v) => v.id === l.variantId) : undefined;
    if (l.variantId && !variant) {
      problems.add('product_not_found', `${path}.variantId`, `not a variant of ${product.productName}`);
      return null;
    }
    if (!variant) {
      const live = product.variants.filter((v) => !v.archived);
      if (live.length === 1) variant = live[0];
      else if (l.unitPrice === undefined) {
        problems.add('rule_violation', `${path}.variantId`, `${product.productName} has ${live.length} variants: name one, or give unitPrice`);
        return null;
      }
    }
    if (variant?.archived) {
      problems.add('product_archived', `${path}.variantId`, `${product.productName} — ${variant.name} is archived`);
      return null;
    }
    if (l.taxCategory !== undefined && l.taxCategory !== product.taxCategory) {
      problems.add('rule_violation', `${path}.taxCategory`, `a product line takes its product's tax category (${product.taxCategory})`);
    }
    return { product, variant: variant ?? null };
  });
  const prices = await monthlyPrices(trx, partnerId, currency, chosen.flatMap((c, i) => (c?.variant && input.lines[i]!.unitPrice === undefined ? [c.variant.id] : [])));

  const out: DraftLine[] = [];
  let netMicros = 0n;
  input.lines.forEach((l, i) => {
    const path = `lines.${i}`;
    const c = chosen[i];
    const isProduct = Boolean(l.productId || l.variantId);
    if (isProduct && !c) return;
    const quantity = l.quantity ?? '1';
    let unit: bigint | null = null;
    if (l.unitPrice !== undefined) {
      unit = parseDecimal(l.unitPrice, currency, 6);
      if (unit === null) problems.add('validation_failed', `${path}.unitPrice`, 'a decimal price with at most 6 decimals');
    } else if (c?.variant) {
      unit = prices.get(c.variant.id) ?? null;
      if (unit === null) problems.add('currency_mismatch', `${path}.unitPrice`, `${c.product.productName} — ${c.variant.name} has no monthly ${currency} price: give unitPrice`);
    } else if (!isProduct) {
      problems.add('validation_failed', `${path}.unitPrice`, 'a free-text line needs a unit price');
    }
    const description = l.description ?? (c ? `${c.product.productName}${c.variant ? ` — ${c.variant.name}` : ''}` : undefined);
    if (description === undefined) problems.add('validation_failed', `${path}.description`, 'a free-text line needs a description');
    let discount = 0n;
    if (l.discount !== undefined) {
      const d = parseDecimal(l.discount, currency);
      if (d === null || !isWholeMinorUnits(d, currency)) {
        problems.add(d === null ? decimalRefusal(l.discount, currency).code : 'rule_violation', `${path}.discount`, `a ${currency} amount with at most ${minorUnitDecimals(currency)} decimals`);
      } else discount = d;
    }
    if (unit === null || description === undefined) return;
    const gross = lineGrossMicros(currency, quantity, unit);
    if (discount > gross) {
      problems.add('discount_exceeds_gross', `${path}.discount`, `at most the line's gross, ${formatDecimal(gross, currency)} ${currency}`);
      return;
    }
    const netBefore = netMicros;
    netMicros += gross - discount;
    if (netMicros > MAX_INVOICE_NET_MICROS && netBefore <= MAX_INVOICE_NET_MICROS) { // named once, on the line that crosses it
      problems.add('rule_violation', `${path}.unitPrice`, `the lines up to here add up to more than ${formatDecimal(MAX_INVOICE_NET_MICROS, currency)} ${currency}, the most one invoice can carry`);
      return;
    }
    out.push({
      kind: input.type === 'top_up' ? 'points' : isProduct ? 'product' : 'text',
      description,
      productId: c?.product.productId ?? null,
      variantId: c?.variant?.id ?? null,
      quantity,
      unitAmountMicros: unit.toString(),
      discountMicros: discount.toString(),
      taxCategory: c ? c.product.taxCategory : (l.taxCategory ?? 'standard'),
    });
  });
  problems.throwIfAny();
  return out;
}

/** The invoice row's figures for a draft (recomputed on every save; issue computes them again at the rate of the day). */
export function draftColumns(totals: InvoiceTotals) {
  return {
    subtotalMicros: totals.subtotalMicros, discountMicros: totals.discountMicros, taxMicros: totals.taxMicros, totalMicros: totals.totalMicros,
    amountDueMicros: totals.totalMicros,
  };
}

export { draftTotals };

/** The version of an invoice row (microseconds of `updated_at`), for its ETag. */
export const INVOICE_VERSION = sql<string>`(extract(epoch from i.updated_at) * 1000000)::bigint::text`;
