import { CURRENCIES, isCurrency, MICROS_PER_UNIT, type Currency } from '../money/money.ts';
import { DomainError } from '../platform/errors.ts';
import { isIsoDay } from '../topup/dates.ts';
import { parseCsvRecords, type CsvRecord } from '../products/rate-csv.ts';
import { MAX_FINANCE_AMOUNT_MICROS } from '../finance/finance-views.ts';
import type { BankLineError } from './bank-statements.db-types.ts';

/**
 * A bank statement as CSV (RFC 4180, parsed by the one CSV reader of src/products/rate-csv.ts: comma-separated, fields may
 * be "quoted", "" inside quotes is a quote, CRLF or LF, a UTF-8 byte-order mark is skipped, blank lines are skipped).
 *
 * Columns, with a first line naming them (any order, any case; spaces, `_` and `-` in names are ignored):
 *   date (date | bookingDate | transactionDate | valueDate | postingDate | txnDate),
 *   amount (amount | amt | value | transactionAmount) — or credit (credit | creditAmount | deposit | paidIn | moneyIn) and
 *     debit (debit | debitAmount | withdrawal | paidOut | moneyOut) columns,
 *   currency (currency | ccy | cur; optional: the partner's currency when missing or empty),
 *   reference (reference | ref | description | details | narrative | memo | remarks | particulars | paymentReference;
 *     several such columns are joined with " / "),
 *   payerName (payer | payerName | name | counterparty | remitter | sender | from), payerAccount (account | payerAccount |
 *     accountNumber | iban | fromAccount | counterpartyAccount).
 * Without a header line the columns are, in order: date, amount, currency (may be empty), reference, payer name, payer account.
 *
 * Dates: `YYYY-MM-DD`, `YYYY/MM/DD`, `DD/MM/YYYY`, `DD.MM.YYYY`, `DD-MM-YYYY`, `DD MMM YYYY` (`05 Jan 2026`); never in the future.
 * Amounts: `1234.56`, `1,234.56` (comma thousands groups), `-1,234.56` or `(1,234.56)` for a debit, an optional `CR`/`DR`
 * suffix, at most the currency's decimals. A negative amount (or a debit column) is a debit: kept as an `ignored` line.
 * Every bad line is reported with its line number and field, and the other lines are kept.
 */

/** The most records (lines with content) one statement may hold. */
export const MAX_STATEMENT_RECORDS = 20_000;
/** The first this many line errors are kept and shown; the count covers them all. */
export const MAX_REPORTED_LINE_ERRORS = 1000;
const MAX_REFERENCE = 500;
const MAX_PAYER_NAME = 200;
const MAX_PAYER_ACCOUNT = 100;

type Column = 'date' | 'amount' | 'credit' | 'debit' | 'currency' | 'reference' | 'payerName' | 'payerAccount';

const HEADER_NAMES: Record<string, Column> = {
  date: 'date', bookingdate: 'date', bookeddate: 'date', transactiondate: 'date', txndate: 'date', valuedate: 'date', postingdate: 'date', trandate: 'date',
  amount: 'amount', amt: 'amount', value: 'amount', transactionamount: 'amount',
  credit: 'credit', creditamount: 'credit', credits: 'credit', deposit: 'credit', deposits: 'credit', paidin: 'credit', moneyin: 'credit',
  debit: 'debit', debitamount: 'debit', debits: 'debit', withdrawal: 'debit', withdrawals: 'debit', paidout: 'debit', moneyout: 'debit',
  currency: 'currency', ccy: 'currency', cur: 'currency', curr: 'currency',
  reference: 'reference', ref: 'reference', description: 'reference', details: 'reference', narrative: 'reference', memo: 'reference',
  remarks: 'reference', remark: 'reference', particulars: 'reference', paymentreference: 'reference', transactiondetails: 'reference',
  payer: 'payerName', payername: 'payerName', name: 'payerName', counterparty: 'payerName', counterpartyname: 'payerName', remitter: 'payerName',
  sender: 'payerName', from: 'payerName', payee: 'payerName',
  account: 'payerAccount', payeraccount: 'payerAccount', accountnumber: 'payerAccount', accountno: 'payerAccount', iban: 'payerAccount',
  fromaccount: 'payerAccount', counterpartyaccount: 'payerAccount',
};

export interface ParsedLine {
  lineNo: number;
  bookedOn: string;
  currency: Currency;
  /** Positive for money received (a credit), negative for a debit. Never 0. */
  amountMicros: bigint;
  reference: string | null;
  payerName: string | null;
  payerAccount: string | null;
}

export interface ParsedStatement {
  /** Lines with content, the header line not counted. */
  recordCount: number;
  lines: ParsedLine[];
  errorCount: number;
  /** The first MAX_REPORTED_LINE_ERRORS errors, in file order. */
  errors: BankLineError[];
}

const normaliseName = (s: string) => s.trim().toLowerCase().replace(/[\s_\-.()/]+/g, '');

interface Layout {
  date: number;
  amount: number | null;
  credit: number | null;
  debit: number | null;
  currency: number | null;
  reference: number[];
  payerName: number | null;
  payerAccount: number | null;
}

function headerLayout(cells: readonly string[]): Layout | null {
  const found = cells.map((c) => HEADER_NAMES[normaliseName(c)]);
  if (found.filter((f) => f !== undefined).length < 2) return null;
  const first = (col: Column) => {
    const i = found.indexOf(col);
    return i === -1 ? null : i;
  };
  const date = first('date');
  const amount = first('amount');
  const credit = first('credit');
  const debit = first('debit');
  if (date === null) throw badFile('the header line names no date column (date, booking date, value date ...)');
  if (amount === null && credit === null) throw badFile('the header line names no amount column (amount, or credit and debit)');
  return {
    date, amount, credit: amount === null ? credit : null, debit: amount === null ? debit : null,
    currency: first('currency'), reference: found.flatMap((f, i) => (f === 'reference' ? [i] : [])),
    payerName: first('payerName'), payerAccount: first('payerAccount'),
  };
}

const POSITIONAL: Layout = { date: 0, amount: 1, credit: null, debit: null, currency: 2, reference: [3], payerName: 4, payerAccount: 5 };

function badFile(message: string): DomainError {
  return new DomainError('validation_failed', `csv: ${message}`, [{ path: 'csv', message }]);
}

const MONTHS: Record<string, number> = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, sept: 9, oct: 10, nov: 11, dec: 12 };

/** A statement date as `YYYY-MM-DD`, or null when it is not one of the accepted forms or not a real day. */
export function parseStatementDate(value: string): string | null {
  const v = value.trim();
  let y: number; let m: number; let d: number;
  let match = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$/.exec(v);
  if (match) {
    [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  } else if ((match = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(v))) {
    [d, m, y] = [Number(match[1]), Number(match[2]), Number(match[3])];
  } else if ((match = /^(\d{1,2})[ -]([A-Za-z]{3,4})[ -](\d{4})$/.exec(v))) {
    const month = MONTHS[match[2]!.toLowerCase()];
    if (!month) return null;
    [d, m, y] = [Number(match[1]), month, Number(match[3])];
  } else {
    return null;
  }
  const iso = `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
  return isIsoDay(iso) ? iso : null;
}

/**
 * A statement amount in micros (negative for a debit), or a message saying what is wrong. Accepts thousands
 * separators (`1,234.56`), a leading sign, parentheses for a debit, a trailing CR/DR; at most the currency's decimals.
 */
export function parseStatementAmount(value: string, currency: Currency): bigint | string {
  let v = value.trim().replace(/\s+/g, ' ');
  if (v === '') return 'is empty';
  let negative = false;
  const suffix = /\s?(CR|DR)$/i.exec(v);
  if (suffix) {
    negative = suffix[1]!.toUpperCase() === 'DR';
    v = v.slice(0, suffix.index).trim();
  }
  if (/^\(.*\)$/.test(v)) {
    negative = !negative;
    v = v.slice(1, -1).trim();
  }
  if (v.startsWith('-') || v.startsWith('+')) {
    if (v.startsWith('-')) negative = !negative;
    v = v.slice(1).trim();
  }
  const m = /^(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?$/.exec(v);
  if (!m) return `"${value.trim().slice(0, 40)}" is not an amount such as 1234.56 or 1,234.56`;
  const decimals = CURRENCIES[currency];
  const fraction = m[2] ?? '';
  if (fraction.length > decimals) return `has ${fraction.length} decimals; ${currency} allows at most ${decimals}`;
  const whole = m[1]!.replaceAll(',', '');
  if (whole.length > 15) return 'is too large';
  const micros = BigInt(whole) * MICROS_PER_UNIT + BigInt(fraction.padEnd(6, '0'));
  if (micros === 0n) return 'is zero';
  if (micros > MAX_FINANCE_AMOUNT_MICROS) return 'is too large';
  return negative ? -micros : micros;
}

const text = (v: string | undefined) => {
  const s = (v ?? '').replace(/\s+/g, ' ').trim();
  return s === '' ? null : s;
};

/**
 * Read a statement. Throws a 400 naming `csv` when the file as a whole is not a statement (not text, no lines, an
 * unclosed quote, a header without a date or amount column, too many lines, or not one readable line); otherwise every
 * line is either parsed or reported.
 */
export function parseStatementCsv(csv: string, options: { defaultCurrency: Currency; today: string }): ParsedStatement {
  if (csv.includes('\u0000')) throw badFile('the file is not text (it holds NUL bytes)');
  const records: CsvRecord[] = parseCsvRecords(csv);
  if (records.length === 0) throw badFile('the file has no lines');
  const layout = headerLayout(records[0]!.cells);
  const body = layout ? records.slice(1) : records;
  if (body.length === 0) throw badFile('the file has a header line but no lines after it');
  if (body.length > MAX_STATEMENT_RECORDS) throw badFile(`at most ${MAX_STATEMENT_RECORDS} lines per statement, this file has ${body.length}`);
  const cols = layout ?? POSITIONAL;

  const lines: ParsedLine[] = [];
  const errors: BankLineError[] = [];
  let errorCount = 0;
  const report = (e: BankLineError) => {
    errorCount += 1;
    if (errors.length < MAX_REPORTED_LINE_ERRORS) errors.push(e);
  };
  for (const record of body) {
    const cell = (i: number | null) => (i === null ? undefined : record.cells[i]);
    const line = record.line;
    if (record.cells.length < 2) {
      report({ line, field: 'row', message: 'expected at least a date and an amount, separated by commas' });
      continue;
    }
    let bad = false;
    const currencyText = text(cell(cols.currency))?.toUpperCase() ?? null;
    let currency: Currency = options.defaultCurrency;
    if (currencyText !== null) {
      if (!isCurrency(currencyText)) {
        report({ line, field: 'currency', message: `"${currencyText.slice(0, 10)}" is not a supported currency` });
        bad = true;
      } else {
        currency = currencyText;
      }
    }
    const dateText = text(cell(cols.date)) ?? '';
    const bookedOn = parseStatementDate(dateText);
    if (!bookedOn) {
      report({ line, field: 'date', message: dateText === '' ? 'is empty' : `"${dateText.slice(0, 30)}" is not a date such as 2026-11-30 or 30/11/2026` });
      bad = true;
    } else if (bookedOn > options.today) {
      report({ line, field: 'date', message: `${bookedOn} is in the future` });
      bad = true;
    }
    let amountMicros: bigint | null = null;
    if (!bad || currencyText === null || isCurrency(currencyText)) {
      if (cols.amount !== null) {
        const parsed = parseStatementAmount(cell(cols.amount) ?? '', currency);
        if (typeof parsed === 'string') report({ line, field: 'amount', message: parsed });
        else amountMicros = parsed;
      } else {
        const credit = text(cell(cols.credit));
        const debit = text(cell(cols.debit));
        if ((credit === null) === (debit === null)) {
          report({ line, field: 'amount', message: credit === null ? 'neither a credit nor a debit amount' : 'both a credit and a debit amount' });
        } else {
          const parsed = parseStatementAmount((credit ?? debit)!, currency);
          if (typeof parsed === 'string') report({ line, field: 'amount', message: parsed });
          else amountMicros = credit !== null ? parsed : -(parsed < 0n ? -parsed : parsed);
        }
      }
    }
    const reference = cols.reference.map((i) => text(record.cells[i])).filter((s): s is string => s !== null).join(' / ') || null;
    const payerName = text(cell(cols.payerName));
    const payerAccount = text(cell(cols.payerAccount));
    if (reference && reference.length > MAX_REFERENCE) { report({ line, field: 'reference', message: `longer than ${MAX_REFERENCE} characters` }); bad = true; }
    if (payerName && payerName.length > MAX_PAYER_NAME) { report({ line, field: 'payerName', message: `longer than ${MAX_PAYER_NAME} characters` }); bad = true; }
    if (payerAccount && payerAccount.length > MAX_PAYER_ACCOUNT) { report({ line, field: 'payerAccount', message: `longer than ${MAX_PAYER_ACCOUNT} characters` }); bad = true; }
    if (bad || amountMicros === null || !bookedOn) continue;
    lines.push({ lineNo: line, bookedOn, currency, amountMicros, reference, payerName, payerAccount });
  }
  if (lines.length === 0) {
    const first = errors.slice(0, 5).map((e) => `line ${e.line} ${e.field}: ${e.message}`).join('; ');
    throw new DomainError('validation_failed', `csv: not one line could be read (${first})`, errors.slice(0, 20).map((e) => ({ path: 'csv', message: `line ${e.line} ${e.field}: ${e.message}` })));
  }
  return { recordCount: body.length, lines, errorCount, errors };
}
