/**
 * CSV as RFC 4180 says (CRLF line ends; a field with a comma, quote, CR or LF is quoted, quotes doubled), with a guard
 * against formula injection: a text cell that a spreadsheet would run as a formula (starting with = + - @, or a tab or
 * carriage return) is prefixed with a single quote.
 */
export type CsvCell = string | number | null | undefined;

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

export function csvCell(value: CsvCell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function csvRow(cells: readonly CsvCell[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}
