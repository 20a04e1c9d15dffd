import { formatDecimal, parseDecimal, type Currency } from '../money/money.ts';
import { DomainError } from '../platform/errors.ts';
import type { RateTaxCategory } from '../platform/db-types.ts';
import type { RateImportError } from './rate-import.db-types.ts';
import { MAX_RATE_MICROS, MAX_RATES_PER_PLAN, RATE_DECIMALS, type ParsedRate } from './rate-plans.repo.ts';

/**
 * A rate table as CSV (RFC 4180: comma-separated, fields may be "quoted", "" inside quotes is a quote, CRLF or LF).
 * Columns: prefix, description, price per minute, cost per minute, and optionally the tax category. A first line
 * naming the columns is optional; when present it may put them in any order (names: prefix; description | destination;
 * price | pricePerMinute | price_per_minute; cost | costPerMinute | cost_per_minute; tax | taxCategory | tax_category,
 * any case). Without it, a row may have a fifth column: its tax category. The tax category is
 * `standard` or `zero_rated` (any case; `zero-rated` and `zero` too); blank is standard (ADR 0032). Blank lines are
 * skipped. Every bad row is reported with its line in the file, the column and what is wrong; the rows without errors
 * are kept aside for an "import only valid rows".
 */

export const RATE_CSV_COLUMNS = ['prefix', 'description', 'pricePerMinute', 'costPerMinute', 'taxCategory'] as const;
type Column = (typeof RATE_CSV_COLUMNS)[number];
/** The columns of a headerless row without its optional tax category. */
const BARE: readonly Column[] = RATE_CSV_COLUMNS.filter((c) => c !== 'taxCategory');
/** The first this many errors are kept and shown; the count covers them all. */
export const MAX_REPORTED_IMPORT_ERRORS = 1000;

const HEADER_NAMES: Record<string, Column> = {
  prefix: 'prefix', description: 'description', destination: 'description',
  price: 'pricePerMinute', priceperminute: 'pricePerMinute', 'price_per_minute': 'pricePerMinute', pricepermin: 'pricePerMinute',
  cost: 'costPerMinute', costperminute: 'costPerMinute', 'cost_per_minute': 'costPerMinute', costpermin: 'costPerMinute',
  tax: 'taxCategory', taxcategory: 'taxCategory', 'tax_category': 'taxCategory',
};

/** The tax category a cell names (blank: standard); null when it names none. */
function taxCategoryOf(cell: string): RateTaxCategory | null {
  const text = cell.trim().toLowerCase().replace(/[\s-]+/g, '_');
  if (text === '' || text === 'standard') return 'standard';
  if (text === 'zero_rated' || text === 'zero') return 'zero_rated';
  return null;
}

export interface CsvRecord {
  /** The line the record starts on, 1-based. */
  line: number;
  cells: string[];
}

/** Split CSV text into records; a quoted field may span lines. Throws a 400 on an unterminated quote. */
export function parseCsvRecords(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let cells: string[] = [];
  let cell = '';
  let recordLine = 1;
  let quoted = false;
  let cellStarted = false;
  const endRecord = () => {
    cells.push(cell);
    if (!(cells.length === 1 && cells[0]!.trim() === '' && !cellStarted)) records.push({ line: recordLine, cells });
    cells = [];
    cell = '';
    cellStarted = false;
  };
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') { cell += '"'; i++; } else quoted = false;
      } else {
        if (c === '\n') line++;
        cell += c;
      }
      continue;
    }
    if (c === '"' && cell.trim() === '') { quoted = true; cell = ''; cellStarted = true; continue; }
    if (c === ',') { cells.push(cell); cell = ''; cellStarted = true; continue; }
    if (c === '\r' && text[i + 1] === '\n') continue;
    if (c === '\n' || c === '\r') { endRecord(); line++; recordLine = line; continue; }
    cell += c;
  }
  if (quoted) {
    throw new DomainError('validation_failed', `Line ${recordLine}: a quoted field is not closed`, [{ path: 'csv', message: `line ${recordLine}: a quoted field is not closed` }]);
  }
  if (cell !== '' || cells.length > 0) endRecord();
  return records;
}

export interface ValidatedRates {
  rowCount: number;
  valid: ParsedRate[];
  /** Lines with at least one error. */
  invalidRowCount: number;
  errorCount: number;
  /** The first MAX_REPORTED_IMPORT_ERRORS errors, in file order. */
  errors: RateImportError[];
}

function amountProblem(value: string, currency: Currency): { micros: bigint } | { problem: string } {
  const text = value.trim();
  if (text === '') return { problem: 'missing' };
  const any = parseDecimal(text, currency, 6);
  if (any === null) {
    return /^-?\d+\.\d{7,}$/.test(text) ? { problem: `more than ${RATE_DECIMALS} decimals` } : { problem: `"${text.slice(0, 30)}" is not a number` };
  }
  if (any < 0n) return { problem: 'must not be negative' };
  if (any > MAX_RATE_MICROS) return { problem: `more than ${formatDecimal(MAX_RATE_MICROS, currency)} per minute` };
  return { micros: any };
}

/** Check every row of a rate CSV for a plan in `currency`. File-level problems (empty, too many rows, bad header) are a 400. */
export function validateRateCsv(text: string, currency: Currency): ValidatedRates {
  const records = parseCsvRecords(text);
  let rows = records;
  const first = records[0];
  // Without a header: the four columns, and on any row that has a fifth, the tax category.
  let columns: Column[] | null = null;
  if (first && !/^\s*\d/.test(first.cells[0] ?? '')) {
    // A header line: map its names to our columns.
    const mapped = first.cells.map((c) => HEADER_NAMES[c.trim().toLowerCase().replace(/[\s-]+/g, '')] ?? HEADER_NAMES[c.trim().toLowerCase()]);
    const missing = RATE_CSV_COLUMNS.filter((c) => c !== 'description' && c !== 'taxCategory' && !mapped.includes(c));
    if (missing.length > 0 || mapped.some((m) => m === undefined)) {
      const unknown = first.cells.filter((_c, i) => mapped[i] === undefined).map((c) => `"${c.trim().slice(0, 30)}"`);
      const detail = [missing.length > 0 ? `missing ${missing.join(', ')}` : '', unknown.length > 0 ? `unknown ${unknown.join(', ')}` : ''].filter(Boolean).join('; ');
      throw new DomainError('validation_failed', `Line 1 (the header): ${detail}. Expected columns: prefix, description, pricePerMinute, costPerMinute, and optionally taxCategory`, [
        { path: 'csv', message: `line 1 (header): ${detail}` },
      ]);
    }
    columns = mapped as Column[];
    rows = records.slice(1);
  }
  if (rows.length === 0) throw new DomainError('validation_failed', 'The file has no rates', [{ path: 'csv', message: 'no rates in the file' }]);
  if (rows.length > MAX_RATES_PER_PLAN) {
    throw new DomainError('validation_failed', `The file has ${rows.length} rates; a plan holds at most ${MAX_RATES_PER_PLAN}`, [
      { path: 'csv', message: `at most ${MAX_RATES_PER_PLAN} rates` },
    ]);
  }

  const errors: RateImportError[] = [];
  let errorCount = 0;
  let invalidRowCount = 0;
  const seen = new Map<string, number>();
  const valid: ParsedRate[] = [];
  const report = (e: RateImportError) => {
    errorCount++;
    if (errors.length < MAX_REPORTED_IMPORT_ERRORS) errors.push(e);
  };
  for (const { line, cells } of rows) {
    const before = errorCount;
    const rowColumns: readonly Column[] = columns ?? (cells.length === RATE_CSV_COLUMNS.length ? RATE_CSV_COLUMNS : BARE);
    if (cells.length !== rowColumns.length) {
      const expected = columns ? `${columns.length}` : `${BARE.length} (or ${RATE_CSV_COLUMNS.length} with the tax category)`;
      report({ line, column: 'row', message: `${cells.length} column${cells.length === 1 ? '' : 's'}, expected ${expected}` });
      invalidRowCount++;
      continue;
    }
    const index = (c: Column) => rowColumns.indexOf(c);
    const prefix = cells[index('prefix')]!.trim();
    const description = index('description') >= 0 ? cells[index('description')]!.trim() : '';
    if (!/^[0-9]{1,15}$/.test(prefix)) report({ line, column: 'prefix', message: prefix === '' ? 'missing' : '1 to 15 digits' });
    else if (seen.has(prefix)) report({ line, column: 'prefix', message: `duplicate of line ${seen.get(prefix)}` });
    if (description.length > 200) report({ line, column: 'description', message: 'at most 200 characters' });
    const price = amountProblem(cells[index('pricePerMinute')]!, currency);
    if ('problem' in price) report({ line, column: 'pricePerMinute', message: price.problem });
    const cost = amountProblem(cells[index('costPerMinute')]!, currency);
    if ('problem' in cost) report({ line, column: 'costPerMinute', message: cost.problem });
    const taxCategory = index('taxCategory') >= 0 ? taxCategoryOf(cells[index('taxCategory')]!) : 'standard';
    if (taxCategory === null) report({ line, column: 'taxCategory', message: `"${cells[index('taxCategory')]!.trim().slice(0, 30)}": standard or zero_rated` });
    if (errorCount > before) {
      invalidRowCount++;
      continue;
    }
    seen.set(prefix, line);
    valid.push({
      prefix, description: description || null,
      pricePerMinuteMicros: (price as { micros: bigint }).micros, costPerMinuteMicros: (cost as { micros: bigint }).micros,
      taxCategory: taxCategory!,
    });
  }
  return { rowCount: rows.length, valid, invalidRowCount, errorCount, errors };
}
