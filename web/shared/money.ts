import { CURRENCIES, isCurrency } from '../../src/money/money.ts';

/**
 * Money in the browser: the API's decimal strings, never floats. These helpers parse a decimal string into BigInt
 * micros (millionths of a unit, like the server) and format micros back, so the UI can compare and add amounts exactly.
 */
const MICROS = 1_000_000n;

/** `"12.50"` -> 12_500_000n; null when the text is not a plain decimal (at most 6 decimals, optional leading minus). */
export function toMicros(text: string): bigint | null {
  const m = /^(-)?(\d+)(?:\.(\d{1,6}))?$/.exec(text.trim());
  if (!m) return null;
  const whole = BigInt(m[2] ?? '0');
  const fraction = BigInt((m[3] ?? '').padEnd(6, '0') || '0');
  const value = whole * MICROS + fraction;
  return m[1] ? -value : value;
}

/** The number of decimals a decimal string shows (`"1.00"` -> 2, `"18000"` -> 0). */
export function decimalsOf(text: string): number {
  const i = text.indexOf('.');
  return i < 0 ? 0 : text.length - i - 1;
}

/** Micros as a decimal string with `decimals` places (the currency's minor unit), never dropping a significant digit. */
export function formatMicros(micros: bigint, decimals: number): string {
  const negative = micros < 0n;
  const abs = negative ? -micros : micros;
  const whole = abs / MICROS;
  const fraction = (abs % MICROS).toString().padStart(6, '0');
  const kept = fraction.slice(0, decimals);
  const rest = fraction.slice(decimals).replace(/0+$/, '');
  const shown = rest ? fraction.replace(/0+$/, '') : kept;
  return `${negative ? '-' : ''}${whole}${shown ? `.${shown}` : ''}`;
}

/** An amount string with its currency, digits grouped for reading: `"1234.50", "SGD"` -> `"SGD 1,234.50"`. The digits are the API's. */
export function formatMoney(amount: string, currency?: string): string {
  const m = /^(-)?(\d+)(\.\d+)?$/.exec(amount);
  const grouped = m ? `${m[1] ?? ''}${(m[2] ?? '').replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${m[3] ?? ''}` : amount;
  return currency ? `${currency} ${grouped}` : grouped;
}

/** True when a signed decimal string is negative. */
export function isNegative(amount: string): boolean {
  return amount.trim().startsWith('-');
}

/**
 * The decimals of a currency's minor unit, from the server's own table (src/money/money.ts: 0 for VND, JPY and KRW);
 * 2 for a code Folio does not bill in.
 */
export function currencyDecimals(currency: string): number {
  return isCurrency(currency) ? CURRENCIES[currency] : 2;
}

/**
 * Amounts added per currency as bigint micros, for a headline: `SGD 1,234.50 · MYR 20.00` (currencies in alphabetical
 * order), or `None` when there is nothing to add (a bare "0.00" named no currency).
 */
export function sumsByCurrency<T>(rows: readonly T[], amountOf: (row: T) => { amount: string; currency: string }): string {
  const sums = new Map<string, bigint>();
  for (const row of rows) {
    const { amount, currency } = amountOf(row);
    sums.set(currency, (sums.get(currency) ?? 0n) + (toMicros(amount) ?? 0n));
  }
  if (sums.size === 0) return 'None';
  return [...sums.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([currency, micros]) => formatMoney(formatMicros(micros, currencyDecimals(currency)), currency))
    .join(' · ');
}

/**
 * What is wrong with an amount typed to be charged, said next to its field: null for a positive amount with no more
 * decimals than the currency has (2 for SGD, none for VND), else why (`example` shows what to type).
 */
export function amountInputProblem(text: string, currency: string, example = '50.00'): string | null {
  const t = text.trim();
  if (!/^-?\d+(\.\d+)?$/.test(t)) return `Enter an amount, for example ${example}`;
  const decimals = decimalsProblem(t, currency);
  if (decimals !== null) return decimals;
  const micros = toMicros(t);
  if (micros === null || micros <= 0n) return `Enter an amount, for example ${example}`;
  return null;
}

/** More decimals than the currency has (`10.001` SGD), said while typing; null for any other text. */
export function decimalsProblem(text: string, currency: string): string | null {
  const t = text.trim();
  if (!/^-?\d+\.\d+$/.test(t)) return null;
  const decimals = currencyDecimals(currency);
  if (decimalsOf(t) <= decimals) return null;
  return decimals === 0 ? `Whole ${currency} only, no decimals` : `At most ${decimals} decimals for ${currency}`;
}

/**
 * An amount written with at least `decimals` decimals, padded with zeros (`"-0.327"`, 4 -> `"-0.3270"`): amounts shown
 * together read alike. Never drops a digit: an amount with more decimals keeps them all. Text that is not a plain
 * decimal is returned as it is.
 */
export function padDecimals(amount: string, decimals: number): string {
  const micros = toMicros(amount);
  if (micros === null) return amount;
  return formatMicros(micros, Math.min(6, Math.max(decimals, decimalsOf(amount.trim()))));
}

/**
 * The decimals amounts shown together are padded to: the most any of them has, at least the currency's minor unit
 * (`["202.07", "0.791"]`, SGD -> 3).
 */
export function commonDecimals(amounts: readonly string[], currency: string): number {
  return Math.min(6, Math.max(currencyDecimals(currency), ...amounts.map((a) => decimalsOf(a.trim()))));
}
