import { DomainError } from '../platform/errors.ts';

/**
 * Money is `bigint` micro-units (10^-6 of the currency's major unit) with an ISO 4217 currency: never a JS number,
 * never a float. Call charges use all six decimals; invoice-level amounts are whole minor units of the currency,
 * reached only through `roundToMinorUnit` (see docs/adr/0001-money.md). The API carries amounts as decimal strings.
 */
export const MICROS_PER_UNIT = 1_000_000n;

/** The currencies Folio bills in, with their minor-unit exponent (ISO 4217). */
export const CURRENCIES = {
  SGD: 2, MYR: 2, HKD: 2, AUD: 2, USD: 2, EUR: 2, GBP: 2, NZD: 2, PHP: 2, THB: 2, IDR: 2, INR: 2, VND: 0, JPY: 0, KRW: 0,
} as const satisfies Record<string, number>;
export type Currency = keyof typeof CURRENCIES;
export const CURRENCY_CODES = Object.keys(CURRENCIES) as Currency[];

export interface Money {
  amountMicros: bigint;
  currency: Currency;
}

export function isCurrency(code: string): code is Currency {
  return Object.hasOwn(CURRENCIES, code);
}

export function minorUnitDecimals(currency: Currency): number {
  return CURRENCIES[currency];
}

/** Micros in one minor unit: 10,000 for cents, 1,000,000 for VND. */
export function microsPerMinorUnit(currency: Currency): bigint {
  return 10n ** BigInt(6 - CURRENCIES[currency]);
}

/**
 * Digits a decimal string may have before its point (`parseDecimal`). 10^15 major units is more than 64-bit micro-units
 * hold (~9.2 x 10^12): every caller bounds what it takes (a catalog price 1,000,000.00, a Finance amount 100,000,000.00
 * ...), so that a value over its bound, yet readable, is answered "at most ..." rather than "not a decimal".
 */
export const MAX_WHOLE_DIGITS = 15;
const DECIMAL = new RegExp(`^(-)?(\\d{1,${MAX_WHOLE_DIGITS}})(?:\\.(\\d{1,6}))?$`);

/**
 * Parse a decimal string into micros. `maxDecimals` defaults to the currency's minor unit (invoices, payments);
 * pass 6 for rates and call charges. Returns null when the string is not such a number. Strict, the one place the API
 * reads a decimal: digits, an optional "-" and an optional point with digits on both sides — no surrounding whitespace,
 * no "+", no exponent, no ".5" or "5.", and no negative zero ("-0", "-0.00"), which is zero written as a negative, even
 * where negatives are allowed. Whether a negative is allowed is each caller's rule.
 */
export function parseDecimal(value: string, currency: Currency, maxDecimals: number = CURRENCIES[currency]): bigint | null {
  const m = DECIMAL.exec(value);
  if (!m) return null;
  const fraction = m[3] ?? '';
  if (fraction.length > maxDecimals) return null;
  const micros = BigInt(m[2]!) * MICROS_PER_UNIT + BigInt(fraction.padEnd(6, '0'));
  if (m[1] && micros === 0n) return null;
  return m[1] ? -micros : micros;
}

const PLAIN_NUMBER = /^-?(\d+)(?:\.(\d+))?$/;

/**
 * Why `parseDecimal` refused `value`, as the field's code and message (docs/adr/0040). A plain number with more decimals
 * than the context allows (three for SGD, one for VND, seven on a rate) or more digits before the point than are read is
 * well-formed but breaks a rule: `rule_violation` (422). Anything else (text, "1,000", ".5", "5.", "+1", "1e3", "-0")
 * is not a decimal string at all: `validation_failed` (400).
 */
export function decimalRefusal(value: string, currency: Currency, maxDecimals: number = CURRENCIES[currency]): { code: 'validation_failed' | 'rule_violation'; message: string } {
  const plain = PLAIN_NUMBER.exec(value);
  if (plain && !/^-0+(\.0+)?$/.test(value)) {
    if ((plain[2] ?? '').length > maxDecimals) {
      return { code: 'rule_violation', message: maxDecimals === 0 ? `no decimals for ${currency}` : `at most ${maxDecimals} decimals${maxDecimals === CURRENCIES[currency] ? ` for ${currency}` : ''}` };
    }
    // A plain number with more digits than parseDecimal reads is too large, not malformed.
    if (plain[1]!.length > MAX_WHOLE_DIGITS) return { code: 'rule_violation', message: `too large: at most ${MAX_WHOLE_DIGITS} digits before the decimal point` };
  }
  return { code: 'validation_failed', message: `a decimal string with at most ${maxDecimals} decimals` };
}

/**
 * As `parseDecimal`, but a refused value throws, naming the field: 400 when it is not a decimal string, 422 when it is
 * one with too many decimals or digits (`decimalRefusal`). Whether zero or a negative is allowed is each caller's rule.
 */
export function parseAmount(value: string, currency: Currency, field: string, maxDecimals: number = CURRENCIES[currency]): bigint {
  const micros = parseDecimal(value, currency, maxDecimals);
  if (micros === null) {
    const { code, message } = decimalRefusal(value, currency, maxDecimals);
    const detail = code === 'validation_failed' ? `${field} must be a decimal string with at most ${maxDecimals} decimals for ${currency}` : `${field}: ${message}`;
    throw new DomainError(code, detail, [{ path: field, message }]);
  }
  return micros;
}

/** Format micros as a decimal string with `decimals` places (default: the currency's minor unit, exact value required). */
export function formatDecimal(micros: bigint, currency: Currency, decimals: number = CURRENCIES[currency]): string {
  const negative = micros < 0n;
  const abs = negative ? -micros : micros;
  // The fraction as a plain number (0..999,999, exact), trimmed of trailing zeros down to `decimals` digits: never
  // drop value silently, every significant decimal is shown. No strings or regexes until the result (the feed formats
  // two amounts per row, 100 rows a page).
  let fraction = Number(abs % MICROS_PER_UNIT);
  let digits = 6;
  while (digits > decimals && fraction % 10 === 0) {
    fraction /= 10;
    digits--;
  }
  const whole = abs / MICROS_PER_UNIT;
  if (digits === 0) return negative ? `-${whole}` : `${whole}`;
  return `${negative ? '-' : ''}${whole}.${String(fraction).padStart(digits, '0')}`;
}

/**
 * An amount as people read it in messages, emails and errors: every significant decimal (a call's charge may have six),
 * then the currency code ("12.50 SGD"). A code this platform does not know keeps six decimals at most, as stored.
 */
export function moneyText(micros: bigint, currency: string): string {
  return `${formatDecimal(micros, isCurrency(currency) ? currency : 'USD')} ${currency}`;
}

/** Integer division rounding half away from zero (d > 0): the one rounding rule, used by the functions below. */
function divideRounded(n: bigint, d: bigint): bigint {
  const negative = n < 0n;
  const abs = negative ? -n : n;
  let q = abs / d;
  if ((abs % d) * 2n >= d) q += 1n;
  return negative ? -q : q;
}

/**
 * THE rounding function. Rounds an exact amount `micros x numerator / denominator` to a whole minor unit of the
 * currency, half away from zero (commercial rounding, as invoices and receipts show customers; docs/adr/0001-money.md).
 */
export function roundToMinorUnit(micros: bigint, currency: Currency, numerator = 1n, denominator = 1n): bigint {
  const unit = microsPerMinorUnit(currency);
  return divideRounded(micros * numerator, denominator * unit) * unit;
}

/** Micros x numerator / denominator, rounded to a whole micro (per-second shares of per-minute rates). */
export function scaleMicros(micros: bigint, numerator: bigint, denominator: bigint): bigint {
  return divideRounded(micros * numerator, denominator);
}

/** Micros x basis points (1/100 of a percent), rounded once to the minor unit: tax, percent discounts. */
export function applyBps(micros: bigint, bps: number | bigint, currency: Currency): bigint {
  return roundToMinorUnit(micros, currency, BigInt(bps), 10_000n);
}

export function isWholeMinorUnits(micros: bigint, currency: Currency): boolean {
  return micros % microsPerMinorUnit(currency) === 0n;
}

/**
 * The most of a balance that can be spent in whole minor units: `micros` less its sub-minor-unit remainder (e.g. the
 * points of 12.34567 SGD pay at most 12.34 of an invoice). Not a rounding of a price: what is taken never exceeds what
 * is held, so it truncates towards zero; amounts themselves are rounded by `roundToMinorUnit` only.
 */
export function spendableMinorUnits(micros: bigint, currency: Currency): bigint {
  if (micros <= 0n) return 0n;
  return micros - (micros % microsPerMinorUnit(currency));
}
