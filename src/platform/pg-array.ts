/**
 * A PostgreSQL array literal (`{"a","b\"c",NULL,42}`) for one parameter of `unnest(${x}::text[])` and the like, built
 * in one pass and joined once.
 *
 * node-postgres serialises a JS array parameter itself, element by element with two regular-expression replacements
 * and a string concatenation each. For the 14 columns of a batch of 10,000 calls that was 39% of everything the API
 * server allocated during the batches (and most of its garbage collection): ~6 KB per charged call (ADR 0023).
 *
 * Strings are always quoted (so `NULL`, empty strings, spaces, commas and braces stay text), with `"` and `\` escaped;
 * numbers and bigints are written bare; `null` is SQL NULL. The element type comes from the cast in the statement.
 * It keeps its number of values: the connection wrapper does not prepare a statement with a large array (its generic
 * plan would assume a handful of values; src/platform/database.ts), whether it is a JS array or one of these.
 */
export function pgArray(values: ReadonlyArray<string | number | bigint | null>): PgArray {
  if (values.length === 0) return new PgArray('{}', 0);
  // The usual cases, one string built by one native join: ids and texts with nothing to escape, or only numbers.
  let plainStrings = true;
  let numbers = true;
  for (let i = 0; i < values.length && (plainStrings || numbers); i++) {
    const v = values[i];
    if (typeof v !== 'string' || needsEscape(v)) plainStrings = false;
    if (typeof v !== 'bigint' && !(typeof v === 'number' && Number.isFinite(v))) numbers = false;
  }
  if (plainStrings) return new PgArray(`{"${values.join('","')}"}`, values.length);
  if (numbers) return new PgArray(`{${values.join(',')}}`, values.length);
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null) parts[i] = 'NULL';
    else if (typeof v === 'string') parts[i] = `"${needsEscape(v) ? v.replace(ESCAPED, '\\$&') : v}"`;
    else if (typeof v === 'bigint' || Number.isFinite(v)) parts[i] = String(v);
    else throw new TypeError(`not a number for a PostgreSQL array: ${String(v)}`);
  }
  return new PgArray(`{${parts.join(',')}}`, values.length);
}

/** An array literal, sent as it is: node-postgres calls `toPostgres` for a parameter that has one. */
export class PgArray {
  readonly literal: string;
  readonly length: number;
  constructor(literal: string, length: number) {
    this.literal = literal;
    this.length = length;
  }
  toPostgres(): string {
    return this.literal;
  }
}

const ESCAPED = /["\\]/g;

function needsEscape(s: string): boolean {
  return s.includes('"') || s.includes('\\');
}
