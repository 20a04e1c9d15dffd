import { z } from 'zod';

/**
 * What a field's problem says to an API client, in words, for the checks every schema shares: `at most 200 characters`,
 * `required`, `one of: draft, issued` (the problem+json's `errors[].message`, ../shared/api-conventions.md). zod's own
 * wording ("Too big: expected string to have <=200 characters") reads as the validator talking. A message a schema gives
 * itself (`idOf`'s `a cus_ id`, a refinement's rule) always wins over these; anything not named here keeps zod's.
 *
 * Installed once for the process by importing this module (src/platform/schemas.ts and the server do), before any
 * request is parsed: zod looks the map up at parse time.
 */
export function validationMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return 'required';
      // A query value read as a number (`limit=abc`, a parameter given twice) arrives as NaN: the client sent no NaN.
      if (issue.expected === 'number' && typeof issue.input === 'number' && Number.isNaN(issue.input)) return 'not a number';
      if (issue.expected === 'int') return typeof issue.input === 'number' ? 'a whole number' : `expected a whole number, got ${withArticle(kindOf(issue.input))}`;
      // A query parameter given twice arrives as a list: say so, not "an array".
      if (Array.isArray(issue.input) && issue.expected !== 'array') return `expected ${withArticle(issue.expected)}, got several values`;
      return `expected ${withArticle(issue.expected)}, got ${withArticle(kindOf(issue.input))}`;
    }
    case 'too_big': {
      const bound = String(issue.maximum);
      const unit = unitOf(issue.origin, issue.maximum);
      if (issue.exact) return `exactly ${bound}${unit}`;
      if (unit !== null) return `at most ${bound}${unit}`;
      // The bound every integer has (z.number().int()): the field's own bound, if it has one, is said beside it.
      if (issue.maximum === Number.MAX_SAFE_INTEGER) return 'too large a number';
      if (issue.origin === 'date') return issue.inclusive ? `on or before ${dateOf(issue.maximum)}` : `before ${dateOf(issue.maximum)}`;
      return issue.inclusive ? `at most ${bound}` : `less than ${bound}`;
    }
    case 'too_small': {
      const bound = String(issue.minimum);
      const unit = unitOf(issue.origin, issue.minimum);
      if (issue.exact) return `exactly ${bound}${unit}`;
      if (issue.origin === 'string' && Number(issue.minimum) === 1) return 'required (empty)';
      if (unit !== null) return `at least ${bound}${unit}`;
      if (issue.minimum === Number.MIN_SAFE_INTEGER) return 'too small a number';
      if (issue.origin === 'date') return issue.inclusive ? `on or after ${dateOf(issue.minimum)}` : `after ${dateOf(issue.minimum)}`;
      return issue.inclusive ? `at least ${bound}` : `more than ${bound}`;
    }
    case 'invalid_value': {
      if (issue.input === undefined) return 'required';
      const values = issue.values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v) ?? String(v)));
      if (values.length === 1) return `must be ${values[0]}`;
      return values.length <= 20 ? `one of: ${values.join(', ')}` : undefined;
    }
    case 'invalid_format':
      if (issue.format === 'regex' && 'pattern' in issue && typeof issue.pattern === 'string') return `does not match ${issue.pattern}`;
      return FORMATS[issue.format];
    case 'not_multiple_of':
      return `a multiple of ${String(issue.divisor)}`;
    case 'invalid_union':
      // Which branch failed is the schema's to say (its own message); these two are the same whatever the branches.
      if (issue.input === undefined) return 'required';
      if (Array.isArray(issue.input)) return 'expected one value, got several values';
      return undefined;
    case 'unrecognized_keys':
      return issue.keys.length === 1 ? `unknown field: ${issue.keys[0]}` : `unknown fields: ${issue.keys.join(', ')}`;
    default:
      return undefined;
  }
}

/** The forms callers most often get wrong, said with an example; others keep zod's "Invalid ..." wording. */
const FORMATS: Partial<Record<string, string>> = {
  email: 'not an email address',
  uuid: 'not a UUID',
  url: 'not a URL',
  datetime: 'not a date and time with its offset (2026-11-30T09:00:00+08:00)',
  date: 'not a day (YYYY-MM-DD)',
  time: 'not a time of day (HH:MM or HH:MM:SS)',
  e164: 'not a phone number in international form (+6561234567)',
  currency_code: 'not an ISO 4217 currency code (SGD)',
};

/** " characters" / " items" after a size bound, "" for a plain number, null where the origin has no unit. */
function unitOf(origin: string, bound: number | bigint | Date): string | null {
  const one = Number(bound) === 1;
  switch (origin) {
    case 'string': return one ? ' character' : ' characters';
    case 'array':
    case 'set': return one ? ' item' : ' items';
    case 'map': return one ? ' entry' : ' entries';
    case 'file': return one ? ' byte' : ' bytes';
    default: return null;
  }
}

function dateOf(bound: number | bigint | Date): string {
  return bound instanceof Date ? bound.toISOString() : new Date(Number(bound)).toISOString();
}

function kindOf(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'array';
  if (typeof input === 'number' && Number.isNaN(input)) return 'NaN';
  return typeof input;
}

function withArticle(kind: string): string {
  if (kind === 'null' || kind === 'undefined' || kind === 'NaN') return kind;
  return /^[aeiou]/.test(kind) ? `an ${kind}` : `a ${kind}`;
}

z.config({ customError: validationMessage });
