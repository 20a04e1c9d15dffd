import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { Trx } from '../platform/database.ts';
import type { InvoiceType } from '../platform/db-types.ts';
import { DomainError, type FieldError } from '../platform/errors.ts';
import { NUMBER_FORMAT_TOKEN as TOKEN, numberFormatPattern, parseDocumentNumber } from './number-format-parse.ts';

/**
 * Invoice numbers: one counter per partner and invoice type (`invoice_number_series`, migration 0027), never reset,
 * taken through `folio_next_invoice_numbers(partner, type, n)`, which keeps the counter row locked until the caller's
 * transaction ends: numbers are handed out in commit order, without gaps, and a rolled-back invoice gives its number back.
 *
 * The partner's format per type (`partner_settings.invoice_number_formats`) is text with placeholders:
 *   `{YYYY}` year issued (UTC), `{YY}` its last two digits, `{MM}` month, `{DD}` day, `{seq}` the counter,
 *   `{seq:06}` the counter zero-padded to 6 digits (1 to 12; a longer counter is never cut).
 * e.g. `INV-{YYYY}-{seq:06}` -> `INV-2026-000123`. The counter never resets (not per year), so a format may leave the year
 * out without repeating a number. Credit notes have their own counter (src/credit-notes/issue-credit-note.ts) and a
 * format set beside the invoice types' (`credit_note`, the same placeholders). The formats of one partner start with
 * different fixed prefixes, none the start of another nor of receipts' (RCT-), so two documents numbered under the
 * current formats never carry the same number.
 *
 * A number is never issued twice across format changes either (docs/adr/0041): a CHANGED format is refused when it
 * would render, for some counter value from its document's next one on and some date, a number an issued document of
 * the partner already carries (`A{seq}{MM}` issued `A512`, counter 5 in December; `A{seq}` would reach it at 512).
 * checkFormatsNeverRepeat decides it exactly (parseDocumentNumber, ./number-format-parse.ts, on the numbers with the
 * format's prefix and pattern, read in keyset pages), holding the changed formats' counter rows until the change
 * commits; issuers take their counter BEFORE they read their format, so a document issued at that moment is either
 * seen by the check or numbered in the new format. Invoices of every type and credit notes are one number space
 * (`invoices` is unique per partner and number whatever the type). Should a number still be taken when a document is
 * numbered (formats changed before this check), the document is refused with 409 `document_number_taken`, never left
 * to the unique key; the renewal job plans its numbers first and fails only the renewals it cannot number.
 */
export const INVOICE_TYPES = ['purchase', 'monthly', 'top_up'] as const satisfies readonly InvoiceType[];
export type InvoiceNumberFormats = Record<InvoiceType, string>;

export const DEFAULT_INVOICE_NUMBER_FORMATS: InvoiceNumberFormats = {
  purchase: 'INV-{YYYY}-{seq:06}',
  monthly: 'STM-{YYYY}{MM}-{seq:06}',
  top_up: 'TOP-{YYYY}-{seq:06}',
};
export const DEFAULT_CREDIT_NOTE_FORMAT = 'CN-{YYYY}-{seq:06}';

/** The documents whose number format a partner sets, by their keys in `partner_settings.invoice_number_formats`. */
export const NUMBERED_DOCUMENTS = [...INVOICE_TYPES, 'credit_note'] as const;
export type NumberedDocument = (typeof NUMBERED_DOCUMENTS)[number];
export type DocumentNumberFormats = Record<NumberedDocument, string>;
export const DEFAULT_NUMBER_FORMATS: DocumentNumberFormats = { ...DEFAULT_INVOICE_NUMBER_FORMATS, credit_note: DEFAULT_CREDIT_NOTE_FORMAT };
/** How messages name each document's format. */
const DOCUMENT_NAMES: Record<NumberedDocument, string> = { purchase: 'purchase', monthly: 'monthly', top_up: 'top-up', credit_note: 'credit note' };

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
 * The fixed prefixes of the partner's numbered documents whose format is not the partner's: receipts
 * (src/payments/receipts/receipt-numbers.ts). No format may start like them (nor they like it), or an invoice and a
 * receipt could carry the same number. invoice-numbers.test.ts holds them to those formats.
 */
export const OTHER_DOCUMENT_PREFIXES: ReadonlyArray<{ document: string; prefix: string }> = [
  { document: 'receipt', prefix: 'RCT-' },
];

/**
 * Check the four formats (the invoice types' and the credit notes'): each valid, and their fixed prefixes apart (none the
 * start of another, nor of a receipt's). `fieldOf` names a document's field as the request spells it.
 */
export function checkInvoiceNumberFormats(
  formats: DocumentNumberFormats, fieldOf: (document: NumberedDocument) => string = (d) => `invoiceNumberFormats.${d}`,
): FieldError[] {
  const errors = NUMBERED_DOCUMENTS.flatMap((d) => checkInvoiceNumberFormat(formats[d], fieldOf(d)));
  if (errors.length > 0) return errors;
  for (const d of NUMBERED_DOCUMENTS) {
    const own = prefixOf(formats[d]).toLowerCase();
    const clash = OTHER_DOCUMENT_PREFIXES.find((o) => own.startsWith(o.prefix.toLowerCase()) || o.prefix.toLowerCase().startsWith(own));
    if (clash) errors.push({ path: fieldOf(d), message: `its fixed prefix "${prefixOf(formats[d])}" must differ from the start of ${clash.document} numbers (${clash.prefix})` });
  }
  if (errors.length > 0) return errors;
  // Both formats of a clashing pair are named (whichever of them the request changed), each once.
  const named = new Set<NumberedDocument>();
  for (const a of NUMBERED_DOCUMENTS) {
    for (const b of NUMBERED_DOCUMENTS) {
      if (a === b) continue;
      const pa = prefixOf(formats[a]).toLowerCase();
      const pb = prefixOf(formats[b]).toLowerCase();
      if (!pb.startsWith(pa)) continue;
      if (!named.has(a)) errors.push({ path: fieldOf(a), message: `its fixed prefix "${prefixOf(formats[a])}" must differ from the start of the ${DOCUMENT_NAMES[b]} format` });
      if (!named.has(b)) errors.push({ path: fieldOf(b), message: `must not start with the fixed prefix of the ${DOCUMENT_NAMES[a]} format ("${prefixOf(formats[a])}")` });
      named.add(a).add(b);
    }
  }
  return errors;
}

/**
 * `partner_settings.invoice_number_formats` as text, to be read by `storedNumberFormats`. Not the column itself: the
 * query builder's CamelCasePlugin renames the keys of a jsonb value it reads (`top_up` came back as `topUp`,
 * `credit_note` as `creditNote`), so a partner's top-up and credit note formats were never found and the defaults
 * numbered those documents (docs/adr/0040, second part).
 */
export const storedFormatsText = sql<string | null>`invoice_number_formats::text`;

/**
 * The formats as stored (defaults for any document not set), from `storedFormatsText`. A row written back while the
 * keys were read renamed may hold `topUp` / `creditNote` beside `top_up` / `credit_note`: the stored name wins, the
 * renamed one is read only without it; the next change writes the stored names alone.
 */
export function storedNumberFormats(text: string | null | undefined): DocumentNumberFormats {
  const stored = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
  const out = { ...DEFAULT_NUMBER_FORMATS };
  const renamed: Record<NumberedDocument, string> = { purchase: 'purchase', monthly: 'monthly', top_up: 'topUp', credit_note: 'creditNote' };
  for (const d of NUMBERED_DOCUMENTS) {
    const value = stored[d] ?? stored[renamed[d]];
    if (typeof value === 'string') out[d] = value;
  }
  return out;
}

/** The partner's formats (defaults for any document not set). */
export async function documentNumberFormats(trx: Trx, partnerId: string): Promise<DocumentNumberFormats> {
  const row = await trx.selectFrom('partnerSettings').select(storedFormatsText.as('formats')).where('partnerId', '=', partnerId).executeTakeFirst();
  return storedNumberFormats(row?.formats);
}

/** The UTC day of an instant, as messages name it. */
const dayOf = (at: Date) => at.toISOString().slice(0, 10);

/**
 * Which of `numbers` an issued document of the partner (an invoice of any type, or a credit note) already carries, with
 * the instant it was issued. Through `folio_document_numbers_taken` (migration 0070): a portal request sees only its own
 * customer's documents, and a number is the partner's, whoever it was issued to.
 */
export async function documentNumbersTaken(trx: Trx, partnerId: string, numbers: readonly string[]): Promise<Map<string, Date>> {
  if (numbers.length === 0) return new Map();
  const { rows } = await sql<{ number: string; issuedAt: Date }>`
    select number, issued_at as "issuedAt" from folio_document_numbers_taken(${partnerId}, ${[...numbers]}::text[])`.execute(trx);
  return new Map(rows.map((r) => [r.number, r.issuedAt]));
}

/**
 * 409 `document_number_taken`: the number a document is about to take is already an issued document's (a format changed
 * before formats were checked against the numbers issued, docs/adr/0041). Nothing is issued; staff change the format.
 */
export function documentNumberTaken(document: NumberedDocument, number: string, issuedAt: Date): DomainError {
  const name = DOCUMENT_NAMES[document];
  return new DomainError('document_number_taken',
    `The next ${name} number, ${number}, was already issued on ${dayOf(issuedAt)}: the ${name} number format would issue it again. `
    + `Staff with Portal Settings: change the ${name} number format (e.g. a different fixed prefix), then try again.`);
}

/**
 * The next values of the partner's counters of `documents`, each counter row locked until the caller's transaction ends
 * (`folio_lock_number_counters`, migration 0070: in one order, created at 0 when missing). A document issued meanwhile
 * has committed before this returns; one issued later waits for the caller.
 */
export async function lockNumberCounters(trx: Trx, partnerId: string, documents: readonly NumberedDocument[]): Promise<Map<NumberedDocument, bigint>> {
  if (documents.length === 0) return new Map();
  const { rows } = await sql<{ document: NumberedDocument; nextValue: string }>`
    select document, next_value::text as "nextValue" from folio_lock_number_counters(${partnerId}, ${[...documents]}::text[])`.execute(trx);
  return new Map(rows.map((r) => [r.document, BigInt(r.nextValue)]));
}

/**
 * `count` consecutive numbers of the partner's `type` series, inside the caller's transaction (which must see that
 * partner: any of its scopes), in order. The counter row stays locked until the caller commits.
 * The counter is taken BEFORE the format is read: a format change holds the counter rows while it checks the numbers
 * issued (updateInvoicingSettings), so a document either committed before that check or is numbered in the new format.
 * A number an issued document already carries is refused (`documentNumberTaken`, 409), never left to the unique key.
 */
export async function nextInvoiceNumbers(trx: Trx, partnerId: string, type: InvoiceType, issuedAt: Date, count: number): Promise<string[]> {
  assert(Number.isInteger(count) && count >= 1 && count <= 1_000_000, 'a bounded number of invoice numbers');
  const { rows } = await sql<{ last: string }>`select folio_next_invoice_numbers(${partnerId}, ${type}, ${count}::int)::text as last`.execute(trx);
  const format = (await documentNumberFormats(trx, partnerId))[type];
  const last = BigInt(rows[0]!.last);
  const numbers = Array.from({ length: count }, (_, i) => formatInvoiceNumber(format, last - BigInt(count - 1 - i), issuedAt));
  const taken = await documentNumbersTaken(trx, partnerId, numbers);
  const first = numbers.find((n) => taken.has(n));
  if (first !== undefined) throw documentNumberTaken(type, first, taken.get(first)!);
  return numbers;
}

/** The partner's next number of `type`, inside the caller's transaction. */
export async function nextInvoiceNumber(trx: Trx, partnerId: string, type: InvoiceType, issuedAt: Date): Promise<string> {
  return (await nextInvoiceNumbers(trx, partnerId, type, issuedAt, 1))[0]!;
}

/**
 * The `count` numbers the partner's `type` series would issue next, without taking them, and how many of them can be
 * issued before one an issued document already carries (`count` when none does; then that document, to say why). The
 * counter row stays locked until the caller commits, so nextInvoiceNumbers then hands out these very numbers. For a
 * batch that would rather fail what it cannot number than fail whole (the renewal job).
 */
export async function plannedInvoiceNumbers(
  trx: Trx, partnerId: string, type: InvoiceType, issuedAt: Date, count: number,
): Promise<{ issuable: number; taken: { number: string; issuedAt: Date } | null }> {
  const next = (await lockNumberCounters(trx, partnerId, [type])).get(type)!;
  const format = (await documentNumberFormats(trx, partnerId))[type];
  const numbers = Array.from({ length: count }, (_, i) => formatInvoiceNumber(format, next + BigInt(i), issuedAt));
  const taken = await documentNumbersTaken(trx, partnerId, numbers);
  const at = numbers.findIndex((n) => taken.has(n));
  return at < 0 ? { issuable: count, taken: null } : { issuable: at, taken: { number: numbers[at]!, issuedAt: taken.get(numbers[at]!)! } };
}

/** Numbers read per page when a format is checked against the numbers issued (keyset pages: a partner's millions are never loaded at once). */
export const REPEAT_CHECK_PAGE = 5000;

export interface RepeatedNumber {
  number: string;
  counter: bigint;
  issuedAt: Date;
}

/**
 * An issued document's number (an invoice of any type, or a credit note: one number space per partner) that `format`
 * would render again for some counter value from `nextCounter` on, on some date; null when there is none. Only numbers
 * starting with the format's fixed prefix and matching its pattern are read (numberFormatPattern), in pages of
 * `pageSize` by number (`folio_document_numbers_page`, migration 0070: a range of the partner's unique index); each is
 * then parsed exactly (parseDocumentNumber). Of the first page holding any, the one of the lowest counter (the soonest
 * reached) is named. A staff scope's (or the system's) only.
 */
export async function repeatedNumber(trx: Trx, partnerId: string, format: string, nextCounter: bigint, pageSize = REPEAT_CHECK_PAGE): Promise<RepeatedNumber | null> {
  const like = `${prefixOf(format).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const pattern = numberFormatPattern(format);
  for (const table of ['invoices', 'credit_notes'] as const) {
    let after = '';
    for (;;) {
      const { rows } = await sql<{ number: string; issuedAt: Date }>`
        select number, issued_at as "issuedAt" from folio_document_numbers_page(${partnerId}, ${table}, ${like}, ${pattern}, ${after}, ${pageSize}::int)`.execute(trx);
      let found: RepeatedNumber | null = null;
      for (const r of rows) {
        const counter = parseDocumentNumber(format, r.number).map((p) => p.counter).find((c) => c >= nextCounter);
        if (counter !== undefined && (found === null || counter < found.counter)) found = { number: r.number, counter, issuedAt: r.issuedAt };
      }
      if (found) return found;
      if (rows.length < pageSize) break;
      after = rows[rows.length - 1]!.number;
    }
  }
  return null;
}

/**
 * The formats a change would set that could issue a number already issued: for each document whose format changes, an
 * error naming its field (`fieldOf`) when repeatedNumber finds one for a counter from the document's next value on.
 * Locks the counters of the changed formats first (lockNumberCounters), to be held until the change commits.
 */
export async function checkFormatsNeverRepeat(
  trx: Trx, partnerId: string, before: DocumentNumberFormats, after: DocumentNumberFormats, fieldOf: (document: NumberedDocument) => string,
): Promise<FieldError[]> {
  const changed = NUMBERED_DOCUMENTS.filter((d) => after[d] !== before[d]);
  const next = await lockNumberCounters(trx, partnerId, changed);
  const errors: FieldError[] = [];
  for (const d of changed) {
    const repeated = await repeatedNumber(trx, partnerId, after[d], next.get(d)!);
    if (repeated) {
      errors.push({
        path: fieldOf(d),
        message: `this format would issue ${repeated.number} again (counter ${repeated.counter}), already issued on ${dayOf(repeated.issuedAt)}; `
          + 'keep the counter apart, e.g. with a different fixed prefix',
      });
    }
  }
  return errors;
}
