/**
 * The credit note form's own rules, said before anything is sent: which outcome and scope a form opens on for an
 * invoice, whether the preview's total fits the chosen outcome's limit, and the server's field messages in words
 * (`reduce_due: at most 18.15 SGD` -> "Reduce the amount due: at most SGD 18.15").
 */
import { isApiError } from '../../shared/api.ts';
import { decimalsOf, formatMoney, toMicros } from '../../shared/money.ts';
import type { Creditable, CreditNoteMode, CreditNoteOutcome, RefundMethod } from './CreditNoteParts.tsx';

export interface StartingChoice {
  outcome: CreditNoteOutcome;
  mode: CreditNoteMode;
  /** The custom amount to start with (mode `amount`), else ''. */
  amount: string;
}

const micros = (text: string): bigint => toMicros(text) ?? 0n;

/**
 * What the form opens on for an invoice: never a combination that is already refused. The whole invoice off the amount
 * due when all of it is due; the whole invoice to points when all of it was paid (nothing is due on a paid invoice);
 * on a partly paid invoice neither fits the whole, so a custom amount of at most what reducing the amount due allows
 * (else what points allow).
 */
export function startingChoice(c: Creditable['creditable']): StartingChoice {
  const total = micros(c.total);
  const reduceDue = micros(c.reduceDue);
  const points = micros(c.pointsOrRefund);
  if (reduceDue > 0n && reduceDue >= total) return { outcome: 'reduce_due', mode: 'whole', amount: '' };
  if (points > 0n && points >= total) return { outcome: 'points', mode: 'whole', amount: '' };
  if (reduceDue > 0n) return { outcome: 'reduce_due', mode: 'amount', amount: c.reduceDue };
  if (points > 0n) return { outcome: 'points', mode: 'amount', amount: c.pointsOrRefund };
  return { outcome: 'reduce_due', mode: 'whole', amount: '' };
}

/** The most the chosen outcome allows (a card refund: what the card charges still hold). */
export function outcomeLimit(c: Creditable['creditable'], outcome: CreditNoteOutcome, refundMethod: RefundMethod): string {
  if (outcome === 'reduce_due') return c.reduceDue;
  if (outcome === 'refund' && refundMethod === 'card') return c.card;
  return c.pointsOrRefund;
}

/** "At most SGD 18.15 for this outcome" when the total credited is above the outcome's limit, else null. */
export function limitProblem(total: string, limit: string, currency: string): string | null {
  if (micros(total) <= micros(limit)) return null;
  return micros(limit) === 0n ? 'This outcome allows nothing on this invoice: choose another' : `At most ${formatMoney(limit, currency)} for this outcome`;
}

const CODES: Record<string, string> = {
  reduce_due: 'Reduce the amount due',
  points: 'Credit points',
  refund: 'Refund',
  card: 'Refund to the card',
  bank_transfer: 'bank transfer',
  refundMethod: 'refund method',
};

/**
 * A server field message in words: the outcome and refund codes as the form labels them, amounts as "SGD 18.15", the
 * field name prefix (`amount: ...`) dropped, and a capital first letter.
 */
export function creditFieldMessage(message: string | undefined, field?: string): string | undefined {
  if (!message) return message;
  let m = message.trim();
  if (/^choose .*reduce_due.* to issue$/.test(m)) return 'Choose an outcome to issue';
  if (field && m.toLowerCase().startsWith(`${field.toLowerCase()}: `)) m = m.slice(field.length + 2);
  // "reduce_due: at most ..." / "card: at most ...": the code that leads the message, as its label.
  m = m.replace(/^([a-z_]+):\s*/, (all, code: string) => (CODES[code] ? `${CODES[code]}: ` : all));
  m = m.replace(/\b(reduce_due|bank_transfer|refundMethod)\b/g, (code: string) => CODES[code] ?? code);
  m = m.replace(/\b(\d[\d,]*(?:\.\d+)?) ([A-Z]{3})\b/g, (_all, amount: string, currency: string) => formatMoney(amount, currency));
  return m.charAt(0).toUpperCase() + m.slice(1);
}

/** The message for one field from a preview (GET, `query.` paths) or a save (POST, `body.` paths), in words. */
export function creditFieldError(error: unknown, path: string): string | undefined {
  if (!isApiError(error)) return undefined;
  const found = error.errors.find((e) => e.path === path || e.path === `body.${path}` || e.path === `query.${path}` || e.path === `querystring.${path}`);
  const field = path.split('.').pop();
  return creditFieldMessage(found?.message, field);
}

/** True when the error names any field in `paths` (so the field shows it, not an alert). */
export function namesAnyField(error: unknown, paths: readonly string[]): boolean {
  return paths.some((p) => creditFieldError(error, p) !== undefined);
}

/**
 * A credited quantity as the form shows it: a pro-rated remainder (`0.868857`) to the decimals the invoice line's own
 * quantity has, at least 2, marked "≈" when digits were left out (the exact quantity is the `exact` text, for a title).
 * A quantity with few decimals is shown as it is.
 */
export function shownQuantity(quantity: string, invoicedQuantity?: string): { text: string; exact: string | null } {
  const decimals = Math.max(2, invoicedQuantity ? decimalsOf(invoicedQuantity) : 0);
  if (decimalsOf(quantity) <= decimals) return { text: quantity, exact: null };
  const m = toMicros(quantity);
  if (m === null) return { text: quantity, exact: null };
  const unit = 10n ** BigInt(6 - decimals);
  const rounded = ((m + unit / 2n) / unit) * unit; // half up, quantities are positive
  const whole = rounded / 1_000_000n;
  const fraction = (rounded % 1_000_000n).toString().padStart(6, '0').slice(0, decimals).replace(/0+$/, '');
  return { text: `≈ ${whole}${fraction ? `.${fraction}` : ''}`, exact: quantity };
}
