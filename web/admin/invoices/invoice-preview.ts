import { currencyDecimals, formatMicros, toMicros } from '../../shared/money.ts';
import type { TaxCategory } from './invoice-types.ts';

/**
 * A preview of an invoice's totals while it is typed, for display only: the server computes the real figures
 * (src/invoices/invoice-totals.ts) and they are what the saved invoice shows. Everything here is bigint micros
 * (web/shared/money.ts), rounded half away from zero to the currency's minor unit like the server (ADR 0001).
 */
const MICROS = 1_000_000n;

/** n / d rounded half away from zero (d > 0). */
function divRound(n: bigint, d: bigint): bigint {
  const negative = n < 0n;
  const abs = negative ? -n : n;
  const q = (abs + d / 2n) / d;
  return negative ? -q : q;
}

export interface PreviewLineInput {
  quantity: string;
  unitPrice: string;
  discount: string;
  taxCategory: TaxCategory | 'none';
}

export interface PreviewLine {
  /** null when an input is not a valid decimal yet. */
  gross: bigint | null;
  discount: bigint | null;
  amount: bigint | null;
  /** Not per line in the preview: the tax is computed once per invoice. */
  tax: bigint | null;
}

export interface Preview {
  lines: PreviewLine[];
  /** Sum of the nets (pre-tax, after discounts). */
  subtotal: bigint;
  discount: bigint;
  tax: bigint;
  total: bigint;
  /** False when some line's figures cannot be read (the totals then leave it out). */
  complete: boolean;
}

function decimal(text: string, fallback: string): bigint | null {
  const t = text.trim();
  return toMicros(t === '' ? fallback : t);
}

/**
 * Line and invoice totals in micros, by the server's rules (src/invoices/invoice-totals.ts): a line's gross is rounded once
 * to the minor unit, its net is gross - discount; subtotal = sum of nets; the tax is the rate on the sum of the `standard`
 * nets, rounded once per invoice. `taxRateBps` null means "not known here" (tax shown as computed on save).
 */
export function previewTotals(lines: PreviewLineInput[], currency: string, taxRateBps: number | null): Preview {
  const unit = 10n ** BigInt(6 - currencyDecimals(currency)); // micros per minor unit
  let subtotal = 0n;
  let discount = 0n;
  let taxable = 0n;
  let complete = true;
  const out = lines.map((l): PreviewLine => {
    const qty = decimal(l.quantity, '1');
    const price = decimal(l.unitPrice, '');
    const disc = decimal(l.discount, '0');
    if (qty === null || price === null || disc === null || qty < 0n) {
      complete = false;
      return { gross: null, discount: null, amount: null, tax: null };
    }
    // quantity (micros) x unit price (micros) is in 10^-12 units: round once to the minor unit.
    const gross = divRound(qty * price, MICROS * unit) * unit;
    const amount = gross - disc;
    subtotal += amount;
    discount += disc;
    if (l.taxCategory === 'standard') taxable += amount;
    return { gross, discount: disc, amount, tax: null };
  });
  const tax = taxRateBps === null ? (taxable === 0n ? 0n : null) : divRound(taxable * BigInt(taxRateBps), 10_000n * unit) * unit;
  if (tax === null) complete = false;
  return { lines: out, subtotal, discount, tax: tax ?? 0n, total: subtotal + (tax ?? 0n), complete };
}

export function showMicros(micros: bigint | null, currency: string): string {
  return micros === null ? '—' : formatMicros(micros, currencyDecimals(currency));
}
