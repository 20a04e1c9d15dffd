import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkInvoiceNumberFormat, formatInvoiceNumber } from './invoice-numbers.ts';
import { numberFormatPattern, parseDocumentNumber } from './number-format-parse.ts';

const counters = (format: string, number: string) => parseDocumentNumber(format, number).map((p) => p.counter);

/** Valid formats (checkInvoiceNumberFormat accepts them): fixed text first, the counter once, date placeholders and text around it. */
const literal = (minLength: number) => fc.string({ unit: fc.constantFrom(...'AB1209-_/.#'), minLength, maxLength: 4 });
const dateToken = fc.constantFrom('{YYYY}', '{YY}', '{MM}', '{DD}');
const seqToken = fc.oneof(fc.constant('{seq}'), fc.integer({ min: 1, max: 12 }).map((w) => `{seq:${String(w).padStart(2, '0')}}`), fc.integer({ min: 1, max: 9 }).map((w) => `{seq:${w}}`));
const formats = fc
  .tuple(literal(1), fc.array(fc.oneof(dateToken, literal(1)), { maxLength: 4 }), seqToken, fc.array(fc.oneof(dateToken, literal(1)), { maxLength: 4 }))
  .map(([prefix, before, seq, after]) => [prefix, ...before, seq, ...after].join(''))
  .filter((f) => checkInvoiceNumberFormat(f, 'f').length === 0);
const seqs = fc.oneof(fc.bigInt({ min: 1n, max: 2_000n }), fc.bigInt({ min: 1n, max: 9_223_372_036_854_775_807n }));
const dates = fc.date({ min: new Date('1000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true });

describe('parseDocumentNumber', () => {
  it('reads the brief\'s example: A512 is counter 5 of A{seq}{MM} (December), counter 512 of A{seq}', () => {
    expect(parseDocumentNumber('A{seq}{MM}', 'A512')).toEqual([{ counter: 5n, date: new Date('2000-12-01T00:00:00Z') }]);
    expect(counters('A{seq}', 'A512')).toEqual([512n]);
    // Padding: {seq:06} is 6 digits or more; {seq} never has a leading zero.
    expect(counters('INV-{seq:06}', 'INV-000512')).toEqual([512n]);
    expect(counters('INV-{seq}', 'INV-000512')).toEqual([]);
    expect(counters('INV-{seq:06}', 'INV-0000512')).toEqual([]);
    expect(counters('INV-{seq:06}', 'INV-1234567')).toEqual([1_234_567n]);
    expect(counters('INV-{seq:06}', 'INV-000000')).toEqual([]); // counters start at 1
  });

  it('enumerates every parse where digits run together, and keeps only real dates', () => {
    // The counter's digits run into the fixed text's: A{seq}1{DD} reads A11111 as counter 11, day 11 (counter 1 leaves a digit over).
    expect(counters('A{seq}1{DD}', 'A11111')).toEqual([11n]);
    expect(counters('A{seq}{MM}', 'A513')).toEqual([]); // no month 13
    expect(counters('A{MM}{DD}{seq}', 'A02301')).toEqual([]); // no 30th of February
    expect(counters('A{YYYY}{MM}{DD}{seq}', 'A202702291')).toEqual([]); // 2027 is no leap year
    expect(counters('A{YYYY}{MM}{DD}{seq}', 'A202802291')).toEqual([1n]);
    expect(counters('A{YY}{MM}{DD}-{seq}', 'A270229-1')).toEqual([]); // no year ending 27 is a leap year
    expect(counters('A{YY}{MM}{DD}-{seq}', 'A000229-1')).toEqual([1n]); // 2000 was
    expect(counters('A{YYYY}-{YY}-{seq}', 'A2026-27-1')).toEqual([]); // one date: YY is the end of YYYY
    expect(counters('A{YYYY}-{YY}-{seq}', 'A2026-26-1')).toEqual([1n]);
    expect(counters('A{MM}{seq}{MM}', 'A1251201')).toEqual([]); // the month twice, differently
    expect(counters('A{MM}{seq}{MM}', 'A1251212')).toEqual([512n]);
    expect(counters('A{YYYY}{seq}', 'A0999123')).toEqual([]); // years are 4 digits, from 1000
    expect(counters('a{seq}', 'A1')).toEqual([]); // fixed text as written: numbers are compared byte for byte
    expect(counters('A{seq}', `A${2n ** 63n}`)).toEqual([]); // beyond what a counter can reach
  });

  it('parses back every number a format renders, with its counter (fast-check)', () => {
    fc.assert(fc.property(formats, seqs, dates, (format, seq, date) => {
      const number = formatInvoiceNumber(format, seq, date);
      expect(counters(format, number)).toContain(seq);
      expect(new RegExp(numberFormatPattern(format)).test(number)).toBe(true);
    }), { numRuns: 2000 });
  });

  it('never claims a number that no counter and date render (fast-check)', () => {
    // Numbers of another format, or of this one with a character changed: each parse claimed must render the number again.
    const numbers = fc.tuple(formats, seqs, dates, fc.nat(), fc.constantFrom(...'0123456789AB-')).map(([f, s, d, at, c]) => {
      const n = formatInvoiceNumber(f, s, d);
      return [n, `${n.slice(0, at % (n.length + 1))}${c}${n.slice(at % (n.length + 1) + 1)}`];
    });
    fc.assert(fc.property(formats, numbers, (format, candidates) => {
      for (const number of candidates) {
        for (const parse of parseDocumentNumber(format, number)) {
          expect(formatInvoiceNumber(format, parse.counter, parse.date)).toBe(number);
        }
      }
    }), { numRuns: 3000 });
  });

  it('finds the brief\'s collision for every counter and month: A{seq}{MM} numbers read through A{seq} (fast-check)', () => {
    fc.assert(fc.property(fc.bigInt({ min: 1n, max: 99_999n }), fc.integer({ min: 1, max: 12 }), (seq, month) => {
      const old = formatInvoiceNumber('A{seq}{MM}', seq, new Date(Date.UTC(2026, month - 1, 3)));
      expect(counters('A{seq}', old)).toEqual([BigInt(`${seq}${String(month).padStart(2, '0')}`)]);
    }));
  });
});

describe('numberFormatPattern', () => {
  it('is a PostgreSQL regular expression of the format, its fixed text escaped', () => {
    expect(numberFormatPattern('INV-{YYYY}-{seq:06}')).toBe('^INV\\-[0-9]{4}\\-[0-9]{6,}$');
    expect(numberFormatPattern('S/{YY}{MM}{DD}.{seq}#')).toBe('^S\\/[0-9]{2}[0-9]{2}[0-9]{2}\\.[0-9]{1,}\\#$');
  });
});
