/**
 * Reading a document number back through a number format (src/invoices/invoice-numbers.ts): which counter values, on
 * which dates, the format renders it for. Pure, no dependencies: a format change is refused when it would render a number
 * already issued for a counter still to come (docs/adr/0041), and that refusal must be exact, neither a guess from one
 * regular expression's capture nor a refusal of numbers no counter and date could render.
 *
 * The dates are every day of the years 1000-9999 (`{YYYY}` is then always 4 digits): a format may be used on any date
 * to come, and the placeholders of one format are of one date (`{YY}` is the last two digits of `{YYYY}`, a 29th of
 * February is in a leap year). Every parse is enumerated: the counter's digits may run into a neighbouring placeholder's
 * (`{seq}{MM}`) or into digits of the fixed text (`A{seq}1{DD}`).
 */

/** The placeholders of a format, as formatInvoiceNumber reads them (`{seq:06}` or `{seq:6}`: padded to 6 digits). */
export const NUMBER_FORMAT_TOKEN = /\{(YYYY|YY|MM|DD|seq(?::0?(\d{1,2}))?)\}/g;

type DateToken = 'YYYY' | 'YY' | 'MM' | 'DD';
export type FormatPart = { kind: 'text'; text: string } | { kind: 'seq'; width: number } | { kind: DateToken };

/** The largest value a counter can take (`bigint` in PostgreSQL): a number that needs a larger one is never issued. */
const MAX_COUNTER = 9_223_372_036_854_775_807n;

/** A format as its fixed texts and placeholders, in order. */
export function formatParts(format: string): FormatPart[] {
  const parts: FormatPart[] = [];
  let at = 0;
  for (const m of format.matchAll(NUMBER_FORMAT_TOKEN)) {
    if (m.index > at) parts.push({ kind: 'text', text: format.slice(at, m.index) });
    const token = m[1]!;
    parts.push(token.startsWith('seq') ? { kind: 'seq', width: m[2] === undefined ? 0 : Number(m[2]) } : { kind: token as DateToken });
    at = m.index + m[0].length;
  }
  if (at < format.length) parts.push({ kind: 'text', text: format.slice(at) });
  return parts;
}

/** One way a format renders a number: the counter and a date it renders it on (any other date with the same fields too). */
export interface NumberParse {
  counter: bigint;
  date: Date;
}

interface Fields {
  counter?: bigint;
  year?: number;
  yy?: number;
  month?: number;
  day?: number;
}

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

/**
 * A date the fields are of, or null when there is none: `{YYYY}` and `{YY}` agree, the day exists in the month (a 29th
 * of February in some leap year: 2000 + YY is one whenever any year ending so is).
 */
function dateOf(f: Fields): Date | null {
  if (f.year !== undefined && f.yy !== undefined && f.year % 100 !== f.yy) return null;
  const year = f.year ?? 2000 + (f.yy ?? 0);
  const month = f.month ?? 1;
  const day = f.day ?? 1;
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day ? date : null;
}

/**
 * Every way `format` renders `number`: each counter value (with a date) for which formatInvoiceNumber(format, counter,
 * date) === number, each counter once. Empty when no counter and date render it.
 */
export function parseDocumentNumber(format: string, number: string): NumberParse[] {
  const parts = formatParts(format);
  const found = new Map<bigint, Date>();
  const walk = (i: number, at: number, f: Fields): void => {
    if (i === parts.length) {
      if (at !== number.length || f.counter === undefined || found.has(f.counter)) return;
      const date = dateOf(f);
      if (date) found.set(f.counter, date);
      return;
    }
    const part = parts[i]!;
    if (part.kind === 'text') {
      if (number.startsWith(part.text, at)) walk(i + 1, at + part.text.length, f);
      return;
    }
    if (part.kind === 'seq') {
      // Padded to `width` digits (leading zeros allowed, the value at least 1), or longer without a leading zero.
      let end = at;
      while (isDigit(number[end])) end++;
      for (let len = Math.max(part.width, 1); at + len <= end; len++) {
        const digits = number.slice(at, at + len);
        if (len > part.width && digits[0] === '0') continue;
        const counter = BigInt(digits);
        if (counter < 1n || counter > MAX_COUNTER) continue;
        if (f.counter !== undefined && f.counter !== counter) continue;
        walk(i + 1, at + len, { ...f, counter });
      }
      return;
    }
    const len = part.kind === 'YYYY' ? 4 : 2;
    const digits = number.slice(at, at + len);
    if (digits.length !== len || ![...digits].every(isDigit)) return;
    const value = Number(digits);
    const field = { YYYY: 'year', YY: 'yy', MM: 'month', DD: 'day' } as const satisfies Record<DateToken, keyof Fields>;
    const name = field[part.kind];
    const ok = part.kind === 'YYYY' ? value >= 1000 : part.kind === 'MM' ? value >= 1 && value <= 12 : part.kind === 'DD' ? value >= 1 && value <= 31 : true;
    // A placeholder written twice is of the one date: both the same.
    if (!ok || (f[name] !== undefined && f[name] !== value)) return;
    walk(i + 1, at + len, { ...f, [name]: value });
  };
  walk(0, 0, {});
  return [...found].map(([counter, date]) => ({ counter, date })).sort((a, b) => (a.counter < b.counter ? -1 : a.counter > b.counter ? 1 : 0));
}

/** A PostgreSQL regular expression (ARE) every number the format renders matches: a prefilter, parseDocumentNumber decides. */
export function numberFormatPattern(format: string): string {
  const escape = (text: string) => text.replace(/[^A-Za-z0-9]/g, (c) => `\\${c}`);
  const body = formatParts(format).map((p) => {
    switch (p.kind) {
      case 'text': return escape(p.text);
      case 'seq': return `[0-9]{${Math.max(p.width, 1)},}`;
      case 'YYYY': return '[0-9]{4}';
      default: return '[0-9]{2}';
    }
  });
  return `^${body.join('')}$`;
}
