import assert from 'node:assert/strict';
import { applyBps, isWholeMinorUnits, microsPerMinorUnit, roundToMinorUnit, type Currency } from '../money/money.ts';
import type { InvoiceType } from '../platform/db-types.ts';

/**
 * THE arithmetic of an invoice (docs/adr/0012-invoice-totals.md). Pure: no database, no clock. Every figure it returns is
 * in whole minor units of the currency except the unit price, which may carry up to 6 decimals.
 * - A line's gross is `unit price x quantity`, rounded ONCE to the minor unit (roundToMinorUnit, half away from zero).
 * - Its net (`amount`) is gross - discount (the discount is whole minor units, 0 <= discount <= gross).
 * - The invoice's tax is the partner's rate on the sum of the nets of its `standard` lines, rounded ONCE per invoice
 *   (applyBps); it is then spread over those lines by largest remainder, so the line taxes add up to it exactly.
 *   `zero_rated` and `exempt` lines carry rate 0 and tax 0.
 * - subtotal = sum of nets; discount = sum of line discounts; total = subtotal + tax.
 * A Top-up invoice is a deposit (docs/adr/0008): callers pass `taxRateBpsFor('top_up', ...)`, i.e. 0.
 */
export type TaxCategory = 'standard' | 'zero_rated' | 'exempt';

export interface TotalsLineInput {
  /** Decimal string, > 0, at most 6 decimals (`"1"`, `"0.333"`, `"1.5"`). */
  quantity: string;
  /** Pre-tax unit price in micros, >= 0, up to 6 decimals. */
  unitAmountMicros: bigint;
  /** Whole minor units, 0 <= discount <= gross. */
  discountMicros: bigint;
  taxCategory: TaxCategory;
}

export interface LineTotals {
  quantity: string;
  unitAmountMicros: bigint;
  grossMicros: bigint;
  discountMicros: bigint;
  /** Pre-tax net: gross - discount. */
  amountMicros: bigint;
  taxCategory: TaxCategory;
  taxRateBps: number;
  taxMicros: bigint;
}

export interface InvoiceTotals {
  currency: Currency;
  lines: LineTotals[];
  /** Sum of the lines' gross amounts (before discounts). */
  grossMicros: bigint;
  discountMicros: bigint;
  /** Sum of the nets: pre-tax, after discounts. */
  subtotalMicros: bigint;
  /** Sum of the nets of the `standard` lines: what the tax is computed on. */
  taxableMicros: bigint;
  taxRateBps: number;
  taxMicros: bigint;
  totalMicros: bigint;
}

const QUANTITY = /^(\d{1,12})(?:\.(\d{1,6}))?$/;
/** Quantities are counted in millionths. */
const QUANTITY_SCALE = 1_000_000n;

/** A quantity string in millionths, or null when it is not a decimal with at most 6 decimals. */
export function parseQuantity(quantity: string): bigint | null {
  const m = QUANTITY.exec(quantity);
  if (!m) return null;
  return BigInt(m[1]!) * QUANTITY_SCALE + BigInt((m[2] ?? '').padEnd(6, '0'));
}

/**
 * Whether a quantity `parseQuantity` refused is still a number (negative, more than 6 decimals, more digits than read):
 * well-formed but against the rules, a 422; anything else is not a quantity at all, a 400 (docs/adr/0040).
 */
export function isPlainNumber(quantity: string): boolean {
  return /^-?\d+(?:\.\d+)?$/.test(quantity);
}

/** The quantity as people read it: no trailing zeros, no trailing dot (`"1.500000"` -> `"1.5"`, `"2.000000"` -> `"2"`). */
export function displayQuantity(quantity: string): string {
  const millionths = parseQuantity(quantity.trim());
  assert(millionths !== null, `a quantity: ${quantity}`);
  const whole = millionths / QUANTITY_SCALE;
  const fraction = (millionths % QUANTITY_SCALE).toString().padStart(6, '0').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : `${whole}`;
}

/** A line's gross: unit price x quantity, rounded once to the currency's minor unit. */
export function lineGrossMicros(currency: Currency, quantity: string, unitAmountMicros: bigint): bigint {
  const millionths = parseQuantity(quantity);
  assert(millionths !== null && millionths > 0n, `a positive quantity with at most 6 decimals: ${quantity}`);
  assert(unitAmountMicros >= 0n, 'unit prices are not negative');
  return roundToMinorUnit(unitAmountMicros, currency, millionths, QUANTITY_SCALE);
}

/** The tax rate an invoice of `type` applies to its standard lines: none on a Top-up invoice (a deposit, docs/adr/0008). */
export function taxRateBpsFor(type: InvoiceType, partnerTaxRateBps: number): number {
  return type === 'top_up' ? 0 : partnerTaxRateBps;
}

/**
 * Spread `taxMicros` (whole minor units) over lines in proportion to their `weights` (the nets of taxable lines; 0 for
 * others), by largest remainder: each line first gets its exact share rounded down to the minor unit, then the minor
 * units left over go one each to the lines with the largest remainders (ties: the larger line, then the earlier one).
 * The shares add up to the tax exactly, none is negative, and each is within one minor unit of its exact share.
 */
export function spreadTax(currency: Currency, taxMicros: bigint, weights: readonly bigint[]): bigint[] {
  const unit = microsPerMinorUnit(currency);
  assert(taxMicros >= 0n && taxMicros % unit === 0n, 'the tax to spread is whole minor units');
  const base = weights.reduce((s, w) => s + w, 0n);
  const shares = weights.map(() => 0n);
  if (taxMicros === 0n) return shares;
  assert(base > 0n, 'tax is spread over something taxable');
  const taxUnits = taxMicros / unit;
  const remainders: { i: number; remainder: bigint; weight: bigint }[] = [];
  let given = 0n;
  weights.forEach((w, i) => {
    assert(w >= 0n, 'weights are not negative');
    const exact = taxUnits * w;
    const floor = exact / base;
    shares[i] = floor;
    given += floor;
    if (w > 0n) remainders.push({ i, remainder: exact % base, weight: w });
  });
  remainders.sort((a, b) => (a.remainder !== b.remainder ? (b.remainder > a.remainder ? 1 : -1) : a.weight !== b.weight ? (b.weight > a.weight ? 1 : -1) : a.i - b.i));
  let left = taxUnits - given;
  assert(left >= 0n && left <= BigInt(remainders.length), 'the floors leave fewer units than lines');
  for (const r of remainders) {
    if (left === 0n) break;
    shares[r.i]! += 1n;
    left -= 1n;
  }
  return shares.map((s) => s * unit);
}

/** Compute every figure of an invoice from its lines (see the module comment for the rules). */
export function computeInvoiceTotals(currency: Currency, lines: readonly TotalsLineInput[], taxRateBps: number): InvoiceTotals {
  assert(Number.isInteger(taxRateBps) && taxRateBps >= 0 && taxRateBps <= 10_000, 'a tax rate between 0 and 100%');
  const computed = lines.map((line) => {
    const grossMicros = lineGrossMicros(currency, line.quantity, line.unitAmountMicros);
    assert(line.discountMicros >= 0n && isWholeMinorUnits(line.discountMicros, currency), 'a line discount is whole minor units, not negative');
    assert(line.discountMicros <= grossMicros, 'a line discount is at most its gross');
    const amountMicros = grossMicros - line.discountMicros;
    const taxed = line.taxCategory === 'standard';
    return {
      quantity: line.quantity, unitAmountMicros: line.unitAmountMicros, grossMicros, discountMicros: line.discountMicros, amountMicros,
      taxCategory: line.taxCategory, taxRateBps: taxed ? taxRateBps : 0, taxMicros: 0n, taxed,
    };
  });
  let grossMicros = 0n;
  let discountMicros = 0n;
  let subtotalMicros = 0n;
  let taxableMicros = 0n;
  for (const l of computed) {
    grossMicros += l.grossMicros;
    discountMicros += l.discountMicros;
    subtotalMicros += l.amountMicros;
    if (l.taxed) taxableMicros += l.amountMicros;
  }
  const taxMicros = applyBps(taxableMicros, taxRateBps, currency);
  const shares = spreadTax(currency, taxMicros, computed.map((l) => (l.taxed ? l.amountMicros : 0n)));
  const out: LineTotals[] = computed.map(({ taxed: _taxed, ...l }, i) => ({ ...l, taxMicros: shares[i]! }));
  return { currency, lines: out, grossMicros, discountMicros, subtotalMicros, taxableMicros, taxRateBps, taxMicros, totalMicros: subtotalMicros + taxMicros };
}
