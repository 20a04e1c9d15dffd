/**
 * Card numbers (PANs) are never sent to, stored or logged by the server: these helpers spot one so that it can be
 * refused without being repeated.
 * Pure functions, usable in the browser too.
 */

/** Luhn (mod 10) check of a string of digits. */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** Digits of a card number as typed (spaces and dashes allowed between digits), or null when it is not one. */
export function normaliseCardNumber(typed: string): string | null {
  const trimmed = typed.trim();
  if (!/^\d[\d -]*\d$/.test(trimmed)) return null;
  const digits = trimmed.replace(/[ -]/g, '');
  return digits.length >= 13 && digits.length <= 19 && luhnValid(digits) ? digits : null;
}

/**
 * True when the text holds a card number: a run of 13-19 digits (optionally grouped by single spaces or dashes),
 * starting as card numbers do (2-6: Mastercard, Visa, Amex, JCB, Diners, Discover, UnionPay) and passing Luhn.
 * Longer or shorter digit runs (ids, timestamps in ms start with 1) are left alone.
 */
export function containsCardNumber(text: string): boolean {
  for (const match of text.matchAll(/\d(?:[ -]?\d)*/g)) {
    const digits = match[0].replace(/[ -]/g, '');
    if (digits.length >= 13 && digits.length <= 19 && /^[2-6]/.test(digits) && luhnValid(digits)) return true;
  }
  return false;
}
