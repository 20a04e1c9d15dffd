import { z } from 'zod';
import './validation-messages.ts';

/** Shared request/response pieces, so every route speaks the same way (../shared/api-conventions.md). */
export const email = z.email().max(254).transform((s) => s.trim().toLowerCase());
export const password = z.string().min(10, 'at least 10 characters').max(200);
/** The form of Folio's ids with this prefix (`cus_01h...`), as `idOf` checks it. */
export const idPattern = (prefix: string) => new RegExp(`^${prefix}_[0-9a-z]{10,40}$`);
export const idOf = (prefix: string) => z.string().regex(idPattern(prefix), `${/^[aeiou]/.test(prefix) ? 'an' : 'a'} ${prefix}_ id`);
export const timestamp = z.iso.datetime();

/**
 * Dates and instants as callers send them, within the years 0001-9999 (UTC for an instant). RFC 3339 allows the year
 * 0000, which PostgreSQL refuses (there is no year 0 AD: the statement would fail), and an offset can carry an instant
 * past 9999-12-31 UTC, which no longer writes as RFC 3339 (`+010000-01-01T...`). Refused here with the field named.
 */
const YEARS = 'a year from 0001 to 9999 (UTC)';
const FIRST_MS = Date.parse('0001-01-01T00:00:00Z');
const LAST_MS = Date.parse('9999-12-31T23:59:59.999Z');
/** A calendar day, `YYYY-MM-DD`, years 0001-9999. */
export const isoDay = z.iso.date().refine((v) => !v.startsWith('0000-'), YEARS);
/** An instant with its offset (RFC 3339, `2026-11-30T09:00:00+08:00`) between 0001-01-01 and 9999-12-31 UTC. */
export const isoInstant = z.iso.datetime({ offset: true }).refine(instantInYears, YEARS);

/** The years check of `isoInstant`, for a text that has its form (a day or an instant); exported for hand-read bounds. */
export function instantInYears(v: string): boolean {
  const ms = Date.parse(v);
  // Both: 0000-12-31T23:00:00-05:00 is 0001 in UTC, but PostgreSQL refuses the year it is written with.
  return ms >= FIRST_MS && ms <= LAST_MS && !v.startsWith('0000-');
}

/** zod's own pattern for `z.iso.datetime({ offset: true })` (its public `z.regexes`): the form `isoInstant` checks. */
const ISO_INSTANT_FORM = z.regexes.datetime({ offset: true });

/**
 * What `isoInstant` accepts, as a plain test (no parse result, no issues): for a hot path that checks many values and
 * leaves the rare refusal, with its message, to the schema. `src/usage/call-record.test.ts` holds the two to the same
 * answers.
 */
export function isIsoInstant(v: string): boolean {
  return ISO_INSTANT_FORM.test(v) && instantInYears(v);
}
/**
 * The options of a zod refinement that checks a rule, not the form: a request whose every issue is such a rule (and
 * none a malformed value) is answered 422 `rule_violation` naming the fields, not 400 `validation_failed`
 * (`.refine((q) => q.from <= q.to, asRule('must not be before from', ['to']))`; the error handler in server.ts;
 * docs/adr/0040).
 */
export function asRule(message: string, path?: PropertyKey[]): { message: string; params: { rule: true }; path?: PropertyKey[] } {
  return { message, params: { rule: true }, ...(path ? { path } : {}) };
}
/** Whether a custom zod issue (as fastify-type-provider-zod hands it over: the issue's fields in `params`) is an `asRule` one. */
export function isRuleIssue(params: unknown): boolean {
  const inner = (params as { params?: { rule?: unknown } } | undefined)?.params;
  return inner?.rule === true;
}

export const appName = z.enum(['customer', 'product', 'invoice', 'finance', 'audit', 'discount', 'settings', 'access']);
export const customerRole = z.enum(['owner', 'admin', 'member', 'guest']);

export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  requestId: z.string().optional(),
});

const retryAfterResponses = new WeakSet<z.ZodType>();

/**
 * The 429 of a throttled route (a RetryLater: src/platform/retry-later.ts), said in its own words, in place of the
 * generic one of `problems`: `429: throttledProblem('At most ...')`. The OpenAPI document also shows its Retry-After
 * header (added by the document's transform in src/platform/server.ts, which asks `answersRetryAfter`).
 */
export function throttledProblem(description: string): typeof problemSchema {
  const schema = problemSchema.describe(`${description} Answered 429 too_many_requests with Retry-After; nothing is done.`);
  retryAfterResponses.add(schema);
  return schema;
}
/** Whether a route's response schema is a throttledProblem: the document shows Retry-After on it. */
export function answersRetryAfter(schema: unknown): boolean {
  return typeof schema === 'object' && schema !== null && retryAfterResponses.has(schema as z.ZodType);
}
/** The Retry-After header of a throttled route's 429, as the OpenAPI document shows it. */
export const retryAfterHeader = {
  type: 'integer', minimum: 1, description: 'Whole seconds to wait before asking again: until the throttle lets this request through',
} as const;

/** The error answers every route may give; add route-specific ones beside your 2xx schema. */
export const problems = {
  400: problemSchema,
  401: problemSchema,
  403: problemSchema,
  404: problemSchema,
  409: problemSchema,
  422: problemSchema,
  429: problemSchema,
} as const;

export const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

/**
 * Whether a list or report is asked for as CSV (conventions, "Lists"): by `?format=csv`, or by `Accept: text/csv` unless
 * `?format=json` says otherwise.
 */
export function wantsCsv(req: { headers: { accept?: string | undefined } }, format: 'json' | 'csv' | undefined): boolean {
  if (format) return format === 'csv';
  return /\btext\/csv\b/i.test(req.headers.accept ?? '');
}

export const page = <T extends z.ZodType>(item: T) => z.object({ data: z.array(item), nextCursor: z.string().nullable() });

export const okSchema = z.object({ ok: z.literal(true) });
