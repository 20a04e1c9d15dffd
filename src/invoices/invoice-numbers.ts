import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { Trx } from '../platform/database.ts';
import type { InvoiceType } from '../platform/db-types.ts';
import type { FieldError } from '../platform/errors.ts';

/**
 * Invoice numbers: one counter per partner and invoice type (`invoice_number_series`, migration 0027), never reset,
 * taken through `folio_next_invoice_numbers(partner, type, n)`, which keeps the counter row locked until the caller's
 * transaction ends: numbers are handed out in commit order, without gaps, and a rolled-back invoice gives its number back.
 *
 * The partner's format per type (`partner_settings.invoice_number_formats`) is text with placeholders:
 *   `{YYYY}` year issued (UTC), `{YY}` its last two digits, `{MM}` month, `{DD}` day, `{seq}` the counter,
 *   `{seq:06}` the counter zero-padded to 6 digits (1 to 12; a longer counter is never cut).
 * e.g. `INV-{YYYY}-{seq:06}` -> `INV-2026-000123`. The counter never resets (not per year), so a format may leave the year
 * out without repeating a number. The formats of one partner start with different fixed prefixes, none the start of
 * another, so two types can never produce the same number.
 */
export const INVOICE_TYPES = ['purchase', 'monthly', 'top_up'] as const satisfies readonly InvoiceType[];
export type InvoiceNumberFormats = Record<InvoiceType, string>;

export const DEFAULT_INVOICE_NUMBER_FORMATS: InvoiceNumberFormats = {
  purchase: 'INV-{YYYY}-{seq:06}',
  monthly: 'STM-{YYYY}{MM}-{seq:06}',
  top_up: 'TOP-{YYYY}-{seq:06}',
};

const TOKEN = /\{(YYYY|YY|MM|DD|seq(?::0?(\d{1,2}))?)\}/g;
const LITERAL = /^[A-Za-z0-9\-_/.#]*$/;

export function formatInvoiceNumber(format: string, sequence: bigint, issuedAt: Date): string {
  assert(sequence > 0n, 'invoice counters start at 1');
  return format.replace(TOKEN, (_, token: string, width: string | undefined) => {
    switch (token) {
      case 'YYYY': return String(issuedAt.getUTCFullYear());
      case 'YY': return String(issuedAt.getUTCFullYear() % 100).padStart(2, '0');
      case 'MM': return String(issuedAt.getUTCMonth() + 1).padStart(2, '0');
      case 'DD': return String(issuedAt.getUTCDate()).padStart(2, '0');
      default: return sequence.toString().padStart(width ? Number(width) : 0, '0');
    }
  });
}

/** The fixed text a format starts with (before its first placeholder). */
function prefixOf(format: string): string {
  const at = format.indexOf('{');
  return at < 0 ? format : format.slice(0, at);
}

/** Check one format: 1-40 characters, exactly one `{seq}`, only known placeholders, letters/digits/`-_/.#` around them. */
export function checkInvoiceNumberFormat(format: string, path: string): FieldError[] {
  const errors: FieldError[] = [];
  if (format.length < 1 || format.length > 40) errors.push({ path, message: 'between 1 and 40 characters' });
  const seqs = [...format.matchAll(TOKEN)].filter((m) => m[1]!.startsWith('seq'));
  if (seqs.length !== 1) errors.push({ path, message: 'must contain the counter exactly once: {seq} or {seq:06}' });
  for (const m of seqs) {
    const width = m[2] === undefined ? 0 : Number(m[2]);
    if (width > 12) errors.push({ path, message: 'the counter is padded to at most 12 digits' });
  }
  const literal = format.replace(TOKEN, '');
  if (!LITERAL.test(literal) || literal.includes('{') || literal.includes('}')) {
    errors.push({ path, message: 'only letters, digits, - _ / . # and the placeholders {YYYY} {YY} {MM} {DD} {seq} {seq:06}' });
  }
  if (prefixOf(format).length === 0) errors.push({ path, message: 'must start with fixed text (e.g. INV-), so numbers of each type stay apart' });
  return errors;
}

/**
 * The fixed prefixes of the partner's other numbered documents: receipts (src/payments/receipts/receipt-numbers.ts) and
 * credit notes (src/credit-notes/issue-credit-note.ts); an invoice format may not start like them (nor they like it),
 * or an invoice and a receipt could carry the same number. invoice-numbers.test.ts holds them to those formats.
 */
export const OTHER_DOCUMENT_PREFIXES: ReadonlyArray<{ document: string; prefix: string }> = [
  { document: 'receipt', prefix: 'RCT-' },
  { document: 'credit note', prefix: 'CN-' },
];

/** Check all three formats: each valid, and their fixed prefixes apart (none the start of another, nor of a receipt's or a credit note's). */
export function checkInvoiceNumberFormats(formats: InvoiceNumberFormats, path = 'invoiceNumberFormats'): FieldError[] {
  const errors = INVOICE_TYPES.flatMap((type) => checkInvoiceNumberFormat(formats[type], `${path}.${type}`));
  if (errors.length > 0) return errors;
  for (const type of INVOICE_TYPES) {
    const own = prefixOf(formats[type]).toLowerCase();
    const clash = OTHER_DOCUMENT_PREFIXES.find((o) => own.startsWith(o.prefix.toLowerCase()) || o.prefix.toLowerCase().startsWith(own));
    if (clash) errors.push({ path: `${path}.${type}`, message: `its fixed prefix "${prefixOf(formats[type])}" must differ from the start of ${clash.document} numbers (${clash.prefix})` });
  }
  if (errors.length > 0) return errors;
  for (const a of INVOICE_TYPES) {
    for (const b of INVOICE_TYPES) {
      if (a === b) continue;
      const pa = prefixOf(formats[a]).toLowerCase();
      const pb = prefixOf(formats[b]).toLowerCase();
      if (pb.startsWith(pa)) {
        errors.push({ path: `${path}.${a}`, message: `its fixed prefix "${prefixOf(formats[a])}" must differ from the start of the ${b.replace('_', '-')} format` });
        break;
      }
    }
  }
  return errors;
}

/** The partner's formats (defaults for any type not set). */
export async function invoiceNumberFormats(trx: Trx, partnerId: string): Promise<InvoiceNumberFormats> {
  const row = await trx.selectFrom('partnerSettings').select('invoiceNumberFormats').where('partnerId', '=', partnerId).executeTakeFirst();
  return { ...DEFAULT_INVOICE_NUMBER_FORMATS, ...(row?.invoiceNumberFormats ?? {}) };
}

/**
 * `count` consecutive numbers of the partner's `type` series, inside the caller's transaction (which must see that
 * partner: any of its scopes), in order. The counter row stays locked until the caller commits.
 */
export async function nextInvoiceNumbers(trx: Trx, partnerId: string, type: InvoiceType, issuedAt: Date, count: number): Promise<string[]> {
  assert(Number.isInteger(count) && count >= 1 && count <= 1_000_000, 'a bounded number of invoice numbers');
  const format = (await invoiceNumberFormats(trx, partnerId))[type];
  const { rows } = await sql<{ last: string }>`select folio_next_invoice_numbers(${partnerId}, ${type}, ${count}::int)::text as last`.execute(trx);
  const last = BigInt(rows[0]!.last);
  return Array.from({ length: count }, (_, i) => formatInvoiceNumber(format, last - BigInt(count - 1 - i), issuedAt));
}

/** The partner's next number of `type`, inside the caller's transaction. */
export async function nextInvoiceNumber(trx: Trx, partnerId: string, type: InvoiceType, issuedAt: Date): Promise<string> {
  return (await nextInvoiceNumbers(trx, partnerId, type, issuedAt, 1))[0]!;
}
