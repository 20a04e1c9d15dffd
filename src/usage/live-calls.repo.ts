import type { Selectable } from 'kysely';
import { z } from 'zod';
import type { Trx } from '../platform/database.ts';
import type { LiveCallsTable } from '../platform/db-types.ts';
import { formatDecimal, isCurrency } from '../money/money.ts';
import { billedSeconds, callTaxMicros, PrefixTable, rateCall, type RatedCall, type RatePlan } from './rating.ts';

/**
 * Live calls (src/usage/live-calls-*.ts): a call is rated in real time, as the domain asks ("reserve while the call runs,
 * deduct when it ends"). Decisions:
 * - Start holds the price of `maxSeconds` (default 600 s, at most 4 h) on the customer's default rate plan. When usable points
 *   do not cover that, the hold covers fewer seconds: the longest whole number of billing blocks they pay for. The answer
 *   says how many seconds are covered, and the switch must cut the call there. Not even the first block: 422
 *   `insufficient_points`. The hold lives `coveredSeconds` + 10 min; the worker releases holds left behind.
 * - The rate (prefix, price, cost, increments, minimum) and the partner's tax rate are copied onto the call at start:
 *   replacing the plan's rates or the tax rate does not change a running call. Holds and charges are price + tax
 *   (ADR 0032).
 * - End charges the actual call, but never beyond the covered seconds (the switch should have cut it there): billed on
 *   min(duration, covered). Such a charge is always within the hold, so ending never fails for lack of points while the
 *   hold is active. After the hold expired, the end is charged like a batch record: if usable points no longer cover it,
 *   422 and nothing changes (the call stays open).
 * - One call-id namespace with `POST /usage/calls`: end writes the `usage_calls` row; a call id already charged (by a
 *   batch, or an earlier end) answers `duplicate` and charges nothing (a still-active hold is released).
 * - Fail releases the hold; nothing is charged. Start, end and fail are each one audit event (`usage.live_call_started`,
 *   `usage.live_call_ended`, `usage.live_call_failed`): at one call, one to two events, fine at this scale.
 */
export const DEFAULT_MAX_SECONDS = 600;
export const MAX_LIVE_CALL_SECONDS = 14_400;
export const HOLD_GRACE_SECONDS = 600;
export const RESERVATION_CAUSE = 'live_call';

export type LiveCallRow = Selectable<LiveCallsTable>;

export const liveCallViewSchema = z.object({
  id: z.string(),
  callId: z.string(),
  customerId: z.string(),
  status: z.enum(['active', 'ended', 'failed']),
  from: z.string(),
  to: z.string(),
  direction: z.enum(['outbound', 'inbound']),
  startedAt: z.string(),
  currency: z.string(),
  ratePlanId: z.string(),
  prefix: z.string().nullable(),
  pricePerMinute: z.string(),
  taxCategory: z.enum(['standard', 'zero_rated']).describe("The rate's tax category, copied at start: zero_rated calls pay no tax (ADR 0032)"),
  maxSeconds: z.number().int(),
  coveredSeconds: z.number().int().describe('Cut the call here: the hold pays for this long'),
  hold: z.string(),
  holdStatus: z.enum(['active', 'settled', 'released', 'expired']).nullable(),
  holdExpiresAt: z.string().nullable(),
  durationSeconds: z.number().int().nullable(),
  billedSeconds: z.number().int().nullable(),
  amount: z.string().nullable().describe('What was charged (price and tax), up to 6 decimals'),
  tax: z.string().nullable().describe('The tax included in amount, up to 6 decimals'),
  chargedElsewhere: z.boolean().describe('Ended, but the call id had been charged already (by a batch): nothing charged here'),
  createdAt: z.string(),
  closedAt: z.string().nullable(),
});
export type LiveCallView = z.infer<typeof liveCallViewSchema>;

export interface HoldState {
  status: 'active' | 'settled' | 'released' | 'expired';
  expiresAt: Date;
}

export async function holdOf(trx: Trx, partnerId: string, reservationId: string | null): Promise<HoldState | null> {
  if (!reservationId) return null;
  const r = await trx.selectFrom('walletReservations').select(['status', 'expiresAt']).where('partnerId', '=', partnerId).where('id', '=', reservationId).executeTakeFirst();
  return r ?? null;
}

export function liveCallView(c: LiveCallRow, hold: HoldState | null): LiveCallView {
  const currency = isCurrency(c.currency) ? c.currency : 'SGD';
  const fmt = (m: string | bigint) => formatDecimal(BigInt(m), currency, 6);
  return {
    id: c.id, callId: c.callId, customerId: c.customerId, status: c.status, from: c.fromNumber, to: c.toNumber, direction: c.direction,
    startedAt: c.startedAt.toISOString(), currency: c.currency, ratePlanId: c.ratePlanId, prefix: c.prefix, pricePerMinute: fmt(c.pricePerMinuteMicros),
    taxCategory: c.zeroRated ? 'zero_rated' : 'standard',
    maxSeconds: c.maxSeconds, coveredSeconds: c.coveredSeconds, hold: fmt(c.holdMicros),
    holdStatus: hold?.status ?? null, holdExpiresAt: hold?.expiresAt.toISOString() ?? null,
    durationSeconds: c.durationSeconds, billedSeconds: c.billedSeconds,
    amount: c.priceMicros === null ? null : fmt(BigInt(c.priceMicros) + BigInt(c.taxMicros ?? 0)),
    tax: c.priceMicros === null ? null : fmt(c.taxMicros ?? 0n),
    chargedElsewhere: c.chargedElsewhere, createdAt: c.createdAt.toISOString(), closedAt: c.closedAt?.toISOString() ?? null,
  };
}

export async function findLiveCall(trx: Trx, partnerId: string, callId: string, opts: { forUpdate?: boolean } = {}): Promise<LiveCallRow | null> {
  let q = trx.selectFrom('liveCalls').selectAll().where('partnerId', '=', partnerId).where('callId', '=', callId);
  if (opts.forUpdate) q = q.forUpdate();
  return (await q.executeTakeFirst()) ?? null;
}

export async function alreadyCharged(trx: Trx, partnerId: string, callId: string): Promise<boolean> {
  const row = await trx.selectFrom('usageCalls').select('id').where('partnerId', '=', partnerId).where('callId', '=', callId).executeTakeFirst();
  return row !== undefined;
}

export async function defaultPlanOf(trx: Trx, partnerId: string, currency: string) {
  return trx.selectFrom('ratePlans').selectAll().where('partnerId', '=', partnerId).where('currency', '=', currency).where('isDefault', '=', true).executeTakeFirst();
}

/** The rate of the longest prefix of `destination` on a plan (one indexed look-up, not the whole table). */
export async function longestPrefixRate(trx: Trx, partnerId: string, ratePlanId: string, destination: string) {
  const prefixes = Array.from({ length: Math.min(15, destination.length) }, (_, i) => destination.slice(0, i + 1));
  return trx
    .selectFrom('rates').select(['prefix', 'pricePerMinuteMicros', 'costPerMinuteMicros', 'taxCategory'])
    .where('partnerId', '=', partnerId).where('ratePlanId', '=', ratePlanId).where('prefix', 'in', prefixes)
    .orderBy((eb) => eb.fn('length', ['prefix']), 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** The call's own rate and tax rate, as copied at start. */
export interface CallRate {
  plan: RatePlan;
  prefix: string;
  taxRateBps: number;
}

export function callRateOf(c: Pick<LiveCallRow, 'prefix' | 'pricePerMinuteMicros' | 'costPerMinuteMicros' | 'firstIncrementSeconds' | 'nextIncrementSeconds' | 'minimumChargeMicros' | 'taxRateBps' | 'zeroRated'>): CallRate | null {
  if (c.prefix === null) return null;
  const rate = { prefix: c.prefix, pricePerMinuteMicros: BigInt(c.pricePerMinuteMicros), costPerMinuteMicros: BigInt(c.costPerMinuteMicros), zeroRated: c.zeroRated };
  return {
    prefix: c.prefix,
    plan: { firstIncrementSeconds: c.firstIncrementSeconds, nextIncrementSeconds: c.nextIncrementSeconds, minimumChargeMicros: BigInt(c.minimumChargeMicros), rates: [rate] },
    taxRateBps: c.taxRateBps,
  };
}

/** A live call rated: its price and cost, and the tax the points pay with the price. */
export type RatedLiveCall = RatedCall & { taxMicros: bigint };

/** Rate `seconds` of a call on its own rate (null rate: an inbound call, free). */
export function rateSeconds(rate: CallRate | null, seconds: number): RatedLiveCall {
  if (!rate) return { prefix: '', billedSeconds: 0, priceMicros: 0n, costMicros: 0n, zeroRated: false, taxMicros: 0n };
  const rated = rateCall(rate.plan, new PrefixTable(rate.plan.rates), rate.prefix, seconds)!;
  return { ...rated, taxMicros: callTaxMicros(rated.priceMicros, rate.taxRateBps) };
}

/**
 * What to hold for a call of up to `maxSeconds` with `availableMicros` usable: the price (with its tax) of the whole
 * call if covered, else of the longest whole number of billing blocks covered. Null when not even the first block is.
 */
export function coverage(rate: CallRate | null, maxSeconds: number, availableMicros: bigint): { coveredSeconds: number; holdMicros: bigint } | null {
  if (!rate) return { coveredSeconds: maxSeconds, holdMicros: 0n };
  const { firstIncrementSeconds: first, nextIncrementSeconds: next } = rate.plan;
  // What the points pay for `s` seconds: price and tax.
  const price = (s: number) => {
    const rated = rateSeconds(rate, s);
    return rated.priceMicros + rated.taxMicros;
  };
  const full = billedSeconds(maxSeconds, first, next);
  const fullPrice = price(full);
  if (fullPrice <= availableMicros) return { coveredSeconds: maxSeconds, holdMicros: fullPrice };
  if (price(first) > availableMicros) return null;
  // Block ends first + k * next below `full` (all shorter than maxSeconds): the largest k whose price is covered.
  let lo = 0;
  let hi = Math.max(0, Math.floor((full - first) / next) - 1);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (price(first + mid * next) <= availableMicros) lo = mid;
    else hi = mid - 1;
  }
  const covered = first + lo * next;
  return { coveredSeconds: covered, holdMicros: price(covered) };
}
