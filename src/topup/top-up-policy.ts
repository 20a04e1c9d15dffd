import { sql } from 'kysely';
import { z } from 'zod';
import { formatDecimal, MICROS_PER_UNIT, type Currency } from '../money/money.ts';
import type { Executor } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { fromMinorUnits, MAX_CHARGE_MINOR } from '../gateway/gateway.ts';
import type {} from './top-up-policy.db-types.ts';

/**
 * The most one top-up, and any figure of a top-up policy or of auto top-up, can be: what one card payment can carry
 * (Stripe's limit, 99,999,999 in the currency's minor unit: 999,999.99 SGD, 99,999,999 VND). A larger amount is a 400
 * naming the field, before anything is charged or written.
 */
export function maxTopUpMicros(currency: Currency): bigint {
  return fromMinorUnits(MAX_CHARGE_MINOR, currency);
}

/** The message for an amount above maxTopUpMicros. */
export function maxTopUpMessage(currency: Currency): string {
  return `at most ${formatDecimal(maxTopUpMicros(currency), currency)}`;
}

/**
 * The partner's minimum top-up policy, per currency, in dated versions (migration 0014): a minimum top-up, and an admin
 * fee charged on top of a top-up below a threshold. The version in force on a day is the latest one not withdrawn whose
 * `effective_from` is on or before that (UTC) day; versions are never edited, a change is a new version (migration 0036:
 * each has an id, `tpv_...`, recorded on every top-up it applied to; one may be withdrawn before it takes effect).
 *
 * Built-in default, when the partner has no version for a currency yet (the provider's policy in ../shared/domain.md):
 * any amount is allowed (minimum 0), and below 20 SGD / USD / AUD (60 MYR, 300,000 VND) an admin fee of 1 (3 MYR,
 * 18,000 VND) is added. The domain names no figure for other currencies (HKD, ...): there the default is no minimum
 * and no fee, until the partner adds a version.
 */
export interface TopUpPolicy {
  /** The version's id (`tpv_...`); null for the built-in default. */
  versionId: string | null;
  currency: Currency;
  /** The version's first day; null for the built-in default. */
  effectiveFrom: string | null;
  source: 'partner' | 'default';
  minimumMicros: bigint;
  feeThresholdMicros: bigint;
  feeMicros: bigint;
}

const units = (n: bigint) => n * MICROS_PER_UNIT;

const DEFAULTS: Partial<Record<Currency, { minimum: bigint; threshold: bigint; fee: bigint }>> = {
  SGD: { minimum: 0n, threshold: units(20n), fee: units(1n) },
  USD: { minimum: 0n, threshold: units(20n), fee: units(1n) },
  AUD: { minimum: 0n, threshold: units(20n), fee: units(1n) },
  MYR: { minimum: 0n, threshold: units(60n), fee: units(3n) },
  VND: { minimum: 0n, threshold: units(300_000n), fee: units(18_000n) },
};

export function defaultTopUpPolicy(currency: Currency): TopUpPolicy {
  const d = DEFAULTS[currency] ?? { minimum: 0n, threshold: 0n, fee: 0n };
  return { versionId: null, currency, effectiveFrom: null, source: 'default', minimumMicros: d.minimum, feeThresholdMicros: d.threshold, feeMicros: d.fee };
}

const POLICY_COLUMNS = [
  'id', sql<string>`effective_from::text`.as('effectiveFrom'), 'minimumMicros', 'feeThresholdMicros', 'feeMicros',
] as const;

function toPolicy(currency: Currency, row: { id: string; effectiveFrom: string; minimumMicros: string; feeThresholdMicros: string; feeMicros: string }): TopUpPolicy {
  return {
    versionId: row.id, currency, effectiveFrom: row.effectiveFrom, source: 'partner',
    minimumMicros: BigInt(row.minimumMicros), feeThresholdMicros: BigInt(row.feeThresholdMicros), feeMicros: BigInt(row.feeMicros),
  };
}

/** The version in force on `day` (UTC, `YYYY-MM-DD`), or the built-in default. */
export async function policyInForce(db: Executor, partnerId: string, currency: Currency, day: string): Promise<TopUpPolicy> {
  const row = await db
    .selectFrom('topUpPolicies')
    .select(POLICY_COLUMNS)
    .where('partnerId', '=', partnerId)
    .where('currency', '=', currency)
    .where('withdrawnAt', 'is', null)
    .where(sql<boolean>`effective_from <= ${day}::date`)
    .orderBy('effectiveFrom', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? toPolicy(currency, row) : defaultTopUpPolicy(currency);
}

/** The next version after `day`, if one is already planned. */
export async function nextPolicyVersion(db: Executor, partnerId: string, currency: Currency, day: string): Promise<TopUpPolicy | null> {
  const row = await db
    .selectFrom('topUpPolicies')
    .select(POLICY_COLUMNS)
    .where('partnerId', '=', partnerId)
    .where('currency', '=', currency)
    .where('withdrawnAt', 'is', null)
    .where(sql<boolean>`effective_from > ${day}::date`)
    .orderBy('effectiveFrom', 'asc')
    .limit(1)
    .executeTakeFirst();
  return row ? toPolicy(currency, row) : null;
}

/** How an admin fee reads as an invoice line: a card top-up's invoice and a staff Top-up invoice say it the same way. */
export const ADMIN_FEE_DESCRIPTION = 'Admin fee (top-up below the fee threshold)';

/** The admin fee added to a top-up of `amountMicros`: the policy's fee below its threshold, else nothing. */
export function feeFor(policy: TopUpPolicy, amountMicros: bigint): bigint {
  return policy.feeMicros > 0n && amountMicros < policy.feeThresholdMicros ? policy.feeMicros : 0n;
}

/** Refuse a top-up below the minimum (422 naming `field` and the minimum); otherwise the fee it carries. */
export function applyPolicy(policy: TopUpPolicy, amountMicros: bigint, field = 'amount'): bigint {
  if (amountMicros < policy.minimumMicros) {
    const minimum = `${formatDecimal(policy.minimumMicros, policy.currency)} ${policy.currency}`;
    throw new DomainError('rule_violation', `The minimum top-up is ${minimum}`, [{ path: field, message: `at least ${minimum}` }]);
  }
  return feeFor(policy, amountMicros);
}

export const topUpPolicySchema = z.object({
  /** The version's id (`tpv_...`); null for the built-in default. */
  versionId: z.string().nullable(),
  currency: z.string(),
  /** The first day (UTC) the version applies; null for the built-in default. */
  effectiveFrom: z.iso.date().nullable(),
  source: z.enum(['partner', 'default']),
  minimum: z.string(),
  feeThreshold: z.string(),
  fee: z.string(),
});
export type TopUpPolicyView = z.infer<typeof topUpPolicySchema>;

export function toPolicyView(p: TopUpPolicy): TopUpPolicyView {
  return {
    versionId: p.versionId, currency: p.currency, effectiveFrom: p.effectiveFrom, source: p.source,
    minimum: formatDecimal(p.minimumMicros, p.currency), feeThreshold: formatDecimal(p.feeThresholdMicros, p.currency), fee: formatDecimal(p.feeMicros, p.currency),
  };
}
