import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Trx } from '../platform/database.ts';
import type { RateTaxCategory } from '../platform/db-types.ts';
import { DomainError, FieldProblems, notFound } from '../platform/errors.ts';
import { newId } from '../platform/ids.ts';
import { decimalRefusal, formatDecimal, isCurrency, MICROS_PER_UNIT, parseDecimal, type Currency } from '../money/money.ts';

/**
 * Rate plans (the Product app): a partner's per-currency price list for calls. One plan per currency may be the default;
 * calls are rated on the default plan of the customer's currency (src/usage). A plan's rates are replaced as a whole, in
 * one transaction (delete + insert + version bump): readers see the old table or the new one, never a mix, and each
 * replacement is one audit event with the new table's digest. Calls already rated keep their price (`usage_calls`), and a
 * live call keeps the rate it started with, so no history of old rates is needed to explain a charge.
 */

/** Rates and minimum charges carry up to 6 decimals (../shared/api-conventions.md). */
export const RATE_DECIMALS = 6;
/** At most 10,000 units of the currency per minute, or as a minimum charge: a bound, not a business rule. */
export const MAX_RATE_MICROS = 10_000n * MICROS_PER_UNIT;
export const MAX_RATES_PER_PLAN = 50_000;
const INSERT_CHUNK = 2000;

/** `rpl_` + a time-sortable id (the same form as every other id; `rpl` is not in ids.ts' list of prefixes). */
export function newRatePlanId(): string {
  return `rpl_${newId('prd').slice(4)}`;
}

export const ratePlanViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  currency: z.string(),
  increment: z.string().describe('first/next billing blocks in seconds, e.g. 60/60, 30/6, 1/1'),
  firstIncrementSeconds: z.number().int(),
  nextIncrementSeconds: z.number().int(),
  minimumCharge: z.string(),
  whenInsufficient: z.enum(['reject', 'use_credit_limit']),
  isDefault: z.boolean(),
  rateCount: z.number().int(),
  ratesVersion: z.number().int(),
  ratesUpdatedAt: z.string(),
  createdAt: z.string(),
});
export type RatePlanView = z.infer<typeof ratePlanViewSchema>;

/** What a call to a rate's prefix pays in tax (ADR 0032): the partner's rate, or none (zero-rated, e.g. international). */
export const TAX_CATEGORIES = ['standard', 'zero_rated'] as const satisfies readonly RateTaxCategory[];
export const taxCategorySchema = z.enum(TAX_CATEGORIES)
  .describe("standard: the call pays the partner's tax rate on its price; zero_rated: it pays no tax (a 0% line on the Monthly statement)");

export const rateViewSchema = z.object({
  prefix: z.string(),
  description: z.string().nullable(),
  pricePerMinute: z.string(),
  costPerMinute: z.string(),
  currency: z.string().describe("The plan's currency (ISO 4217), which both prices are in"),
  taxCategory: taxCategorySchema,
});
export type RateView = z.infer<typeof rateViewSchema>;

export interface RatePlanRow {
  id: string;
  partnerId: string;
  name: string;
  currency: string;
  firstIncrementSeconds: number;
  nextIncrementSeconds: number;
  minimumChargeMicros: string;
  whenInsufficient: 'reject' | 'use_credit_limit';
  isDefault: boolean;
  ratesVersion: number;
  ratesUpdatedAt: Date;
  createdAt: Date;
}

export function currencyOf(code: string): Currency {
  if (!isCurrency(code)) throw new DomainError('state_conflict', `Currency ${code} is not supported`);
  return code;
}

export function ratePlanView(p: RatePlanRow, rateCount: number): RatePlanView {
  const currency = currencyOf(p.currency);
  return {
    id: p.id, name: p.name, currency: p.currency, increment: `${p.firstIncrementSeconds}/${p.nextIncrementSeconds}`,
    firstIncrementSeconds: p.firstIncrementSeconds, nextIncrementSeconds: p.nextIncrementSeconds,
    minimumCharge: formatDecimal(BigInt(p.minimumChargeMicros), currency, RATE_DECIMALS),
    whenInsufficient: p.whenInsufficient, isDefault: p.isDefault, rateCount,
    ratesVersion: p.ratesVersion, ratesUpdatedAt: p.ratesUpdatedAt.toISOString(), createdAt: p.createdAt.toISOString(),
  };
}

/** The ETag of a plan's rate table: changes with every replacement. */
export function ratesEtag(p: { id: string; ratesVersion: number }): string {
  return `"${p.id}.v${p.ratesVersion}"`;
}

export async function findRatePlan(trx: Trx, partnerId: string, ratePlanId: string, opts: { forUpdate?: boolean } = {}): Promise<RatePlanRow> {
  let q = trx.selectFrom('ratePlans').selectAll().where('partnerId', '=', partnerId).where('id', '=', ratePlanId);
  if (opts.forUpdate) q = q.forUpdate();
  const p = await q.executeTakeFirst();
  if (!p) throw notFound('Rate plan');
  return p;
}

export async function rateCounts(trx: Trx, partnerId: string, ratePlanIds: readonly string[]): Promise<Map<string, number>> {
  if (ratePlanIds.length === 0) return new Map();
  const rows = await trx
    .selectFrom('rates').select(['ratePlanId', (eb) => eb.fn.countAll<string>().as('n')])
    .where('partnerId', '=', partnerId).where('ratePlanId', 'in', [...ratePlanIds])
    .groupBy('ratePlanId')
    .execute();
  return new Map(rows.map((r) => [r.ratePlanId, Number(r.n)]));
}

/** Parse "first/next" (e.g. "60/60", "30/6", "1/1"): whole seconds, 1 to 3600 each. */
export function parseIncrement(value: string): { first: number; next: number } {
  const m = /^(\d{1,4})\/(\d{1,4})$/.exec(value.trim());
  const first = m ? Number(m[1]) : 0;
  const next = m ? Number(m[2]) : 0;
  if (!m || first < 1 || first > 3600 || next < 1 || next > 3600) {
    throw new DomainError('validation_failed', 'increment must be "first/next" in seconds, 1 to 3600 each, e.g. "60/60", "30/6", "1/1"', [
      { path: 'increment', message: 'first/next seconds, e.g. 60/60' },
    ]);
  }
  return { first, next };
}

/** A rate amount (per minute, or a minimum charge): 0 or more, at most 6 decimals, bounded; null when it is not. */
export function parseRateAmount(value: string, currency: Currency): bigint | null {
  const micros = parseDecimal(value, currency, RATE_DECIMALS);
  if (micros === null || micros < 0n || micros > MAX_RATE_MICROS) return null;
  return micros;
}

/**
 * The code of a rate amount `parseRateAmount` refused: 400 `validation_failed` when it is not a decimal string, 422
 * `rule_violation` when it is a number that breaks the rules (negative, more than 6 decimals, over the most): docs/adr/0040.
 */
export function rateAmountRefusal(value: string, currency: Currency): 'validation_failed' | 'rule_violation' {
  return parseDecimal(value, currency, RATE_DECIMALS) === null ? decimalRefusal(value, currency, RATE_DECIMALS).code : 'rule_violation';
}

export interface RateInput {
  prefix: string;
  description?: string | undefined;
  pricePerMinute: string;
  costPerMinute: string;
  /** Absent: standard. */
  taxCategory?: RateTaxCategory | undefined;
}

export interface ParsedRate {
  prefix: string;
  description: string | null;
  pricePerMinuteMicros: bigint;
  costPerMinuteMicros: bigint;
  taxCategory: RateTaxCategory;
}

const MAX_REPORTED_ERRORS = 50;

/** Check a whole rate table, naming each bad field (`rates.12.pricePerMinute`), up to 50 of them, before anything is written. */
export function parseRates(rates: readonly RateInput[], currency: Currency): ParsedRate[] {
  const problems = new FieldProblems();
  const seen = new Map<string, number>();
  const parsed: ParsedRate[] = [];
  const amountMessage = `a decimal string, 0 to ${formatDecimal(MAX_RATE_MICROS, currency)}, at most ${RATE_DECIMALS} decimals`;
  rates.forEach((r, i) => {
    if (problems.size >= MAX_REPORTED_ERRORS) return;
    const price = parseRateAmount(r.pricePerMinute, currency);
    const cost = parseRateAmount(r.costPerMinute, currency);
    if (!/^[0-9]{1,15}$/.test(r.prefix)) problems.add('validation_failed', `rates.${i}.prefix`, '1 to 15 digits');
    const first = seen.get(r.prefix);
    if (first !== undefined) problems.add('validation_failed', `rates.${i}.prefix`, `duplicate of rates.${first}.prefix`);
    else seen.set(r.prefix, i);
    if (price === null) problems.add(rateAmountRefusal(r.pricePerMinute, currency), `rates.${i}.pricePerMinute`, amountMessage);
    if (cost === null) problems.add(rateAmountRefusal(r.costPerMinute, currency), `rates.${i}.costPerMinute`, amountMessage);
    if (price !== null && cost !== null) {
      parsed.push({ prefix: r.prefix, description: r.description?.trim() || null, pricePerMinuteMicros: price, costPerMinuteMicros: cost, taxCategory: r.taxCategory ?? 'standard' });
    }
  });
  problems.throwIfAny((errors) => `Invalid rates: ${errors.slice(0, 5).map((e) => `${e.path}: ${e.message}`).join('; ')}${errors.length > 5 ? '; ...' : ''}`);
  return parsed;
}

/**
 * SHA-256 of the rate table in prefix order (`prefix,price,cost` lines, micros, and `,zero_rated` after a zero-rated
 * rate's cost): what the audit trail records of a table. A table of standard rates keeps the digest it had before tax
 * categories (migration 0057).
 */
export function ratesDigest(rates: readonly ParsedRate[]): string {
  const h = createHash('sha256');
  for (const r of [...rates].sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0))) {
    h.update(`${r.prefix},${r.pricePerMinuteMicros},${r.costPerMinuteMicros}${r.taxCategory === 'zero_rated' ? ',zero_rated' : ''}\n`);
  }
  return h.digest('hex');
}

/** Remove a plan's whole rate table (before a replacement): how many rates it had, and how many of them were zero-rated. */
export async function deleteRates(trx: Trx, partnerId: string, ratePlanId: string): Promise<{ rates: number; zeroRated: number }> {
  const { rows } = await sql<{ rates: number; zeroRated: number }>`
    with removed as (delete from rates where partner_id = ${partnerId} and rate_plan_id = ${ratePlanId} returning tax_category)
    select count(*)::int as rates, (count(*) filter (where tax_category = 'zero_rated'))::int as "zeroRated" from removed`.execute(trx);
  return rows[0]!;
}

/** Zero-rated rates of a table about to be written. */
export const zeroRatedCount = (rates: readonly ParsedRate[]) => rates.reduce((n, r) => n + (r.taxCategory === 'zero_rated' ? 1 : 0), 0);

export async function insertRates(trx: Trx, partnerId: string, ratePlanId: string, rates: readonly ParsedRate[]): Promise<void> {
  for (let i = 0; i < rates.length; i += INSERT_CHUNK) {
    await trx
      .insertInto('rates')
      .values(rates.slice(i, i + INSERT_CHUNK).map((r) => ({
        ratePlanId, partnerId, prefix: r.prefix, description: r.description,
        pricePerMinuteMicros: r.pricePerMinuteMicros, costPerMinuteMicros: r.costPerMinuteMicros, taxCategory: r.taxCategory,
      })))
      .execute();
  }
}

/** Only one default plan per partner and currency: creating a default plan waits here for any other doing the same. */
export async function lockDefaultSlot(trx: Trx, partnerId: string, currency: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${`rate_plans.default:${partnerId}:${currency}`}, 0))`.execute(trx);
}
