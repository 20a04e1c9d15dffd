import assert from 'node:assert/strict';
import { scaleMicros } from '../money/money.ts';

/**
 * Call rating: longest-prefix match of the destination on the partner's rate plan, a billing increment
 * (first block / next blocks, e.g. 60/60, 30/6, 1/1), per-minute price and cost, and a minimum charge.
 * Pure functions: the ingest use case loads the plan once per batch and rates every record in memory.
 */
export interface Rate {
  prefix: string;
  pricePerMinuteMicros: bigint;
  costPerMinuteMicros: bigint;
  /** True: a call to this prefix pays no tax (ADR 0032, amendment of 2026-12-05). Absent: standard. */
  zeroRated?: boolean;
}

export interface RatePlan {
  firstIncrementSeconds: number;
  nextIncrementSeconds: number;
  /** Applied to any call with a billable duration (> 0 s). */
  minimumChargeMicros: bigint;
  rates: readonly Rate[];
}

export interface RatedCall {
  prefix: string;
  billedSeconds: number;
  priceMicros: bigint;
  costMicros: bigint;
  /** The matched rate is zero-rated: the call pays no tax whatever the partner's rate. */
  zeroRated: boolean;
}

export const INCREMENTS = [
  [60, 60],
  [30, 6],
  [1, 1],
] as const;

/** Digits only, without the international `+` or `00` prefix. Null when the number is not a dialable number. */
export function normaliseNumber(raw: string): string | null {
  const trimmed = raw.trim().replace(/[\s().-]/g, '');
  const digits = trimmed.startsWith('+') ? trimmed.slice(1) : trimmed.startsWith('00') ? trimmed.slice(2) : trimmed;
  return /^\d{3,20}$/.test(digits) ? digits : null;
}

/** Seconds billed for a duration: nothing for an unanswered call, else the first block then whole next blocks. */
export function billedSeconds(durationSeconds: number, firstIncrementSeconds: number, nextIncrementSeconds: number): number {
  assert(Number.isInteger(durationSeconds) && durationSeconds >= 0, 'duration is whole, non-negative seconds');
  if (durationSeconds === 0) return 0;
  if (durationSeconds <= firstIncrementSeconds) return firstIncrementSeconds;
  return firstIncrementSeconds + Math.ceil((durationSeconds - firstIncrementSeconds) / nextIncrementSeconds) * nextIncrementSeconds;
}

/** A lookup built once per plan: prefix -> rate, and the longest prefix length to try first. */
export class PrefixTable {
  readonly #rates = new Map<string, Rate>();
  readonly #maxLength: number;
  constructor(rates: readonly Rate[]) {
    let max = 0;
    for (const r of rates) {
      this.#rates.set(r.prefix, r);
      max = Math.max(max, r.prefix.length);
    }
    this.#maxLength = max;
  }
  /** The rate of the longest prefix of `destination`, or null when no prefix matches. */
  match(destination: string): Rate | null {
    for (let len = Math.min(this.#maxLength, destination.length); len > 0; len--) {
      const rate = this.#rates.get(destination.slice(0, len));
      if (rate) return rate;
    }
    return null;
  }
}

/** Rate one call; null when no prefix of the destination is on the plan. */
export function rateCall(plan: RatePlan, table: PrefixTable, destination: string, durationSeconds: number): RatedCall | null {
  const rate = table.match(destination);
  if (!rate) return null;
  const seconds = billedSeconds(durationSeconds, plan.firstIncrementSeconds, plan.nextIncrementSeconds);
  const zeroRated = rate.zeroRated === true;
  if (seconds === 0) return { prefix: rate.prefix, billedSeconds: 0, priceMicros: 0n, costMicros: 0n, zeroRated };
  const price = scaleMicros(rate.pricePerMinuteMicros, BigInt(seconds), 60n);
  const cost = scaleMicros(rate.costPerMinuteMicros, BigInt(seconds), 60n);
  return {
    prefix: rate.prefix,
    billedSeconds: seconds,
    priceMicros: price > plan.minimumChargeMicros ? price : plan.minimumChargeMicros,
    costMicros: cost,
    zeroRated,
  };
}

/**
 * The tax charged with a call (ADR 0032): its pre-tax price x the partner's rate in basis points, rounded once to the
 * micro, half away from zero, as the price itself is (a call is charged to the micro; invoices round their totals to
 * the minor unit). 0 without a rate.
 */
export function callTaxMicros(priceMicros: bigint, taxRateBps: number): bigint {
  assert(Number.isInteger(taxRateBps) && taxRateBps >= 0 && taxRateBps <= 10_000, 'a tax rate of 0..10,000 bps');
  return taxRateBps === 0 || priceMicros === 0n ? 0n : scaleMicros(priceMicros, BigInt(taxRateBps), 10_000n);
}

/** The tax rate a call is charged at: the partner's, or 0 when its rate is zero-rated (ADR 0032, amendment of 2026-12-05). */
export function callTaxRateBps(rated: Pick<RatedCall, 'zeroRated'>, partnerTaxRateBps: number): number {
  return rated.zeroRated ? 0 : partnerTaxRateBps;
}
