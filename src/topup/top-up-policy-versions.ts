import { sql } from 'kysely';
import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { inScope, type Executor } from '../platform/database.ts';
import { DomainError, type FieldError } from '../platform/errors.ts';
import { timestamp } from '../platform/schemas.ts';
import { formatDecimal, parseDecimal, CURRENCIES, type Currency } from '../money/money.ts';
import { partnerCaller } from '../access/caller.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { isIsoDay, utcDay } from './dates.ts';
import { currencyOf } from './top-up-views.ts';

/** A version of the partner's policy as staff see it (Portal Settings app). */
export const policyVersionSchema = z.object({
  currency: z.string(),
  effectiveFrom: z.iso.date(),
  minimum: z.string(),
  feeThreshold: z.string(),
  fee: z.string(),
  /** The version in force today for its currency. */
  inForce: z.boolean(),
  createdAt: timestamp,
});
export type PolicyVersionView = z.infer<typeof policyVersionSchema>;

interface VersionRow {
  currency: string;
  effectiveFrom: string;
  minimumMicros: string;
  feeThresholdMicros: string;
  feeMicros: string;
  createdAt: Date;
  inForce: boolean;
}

function selectVersions(db: Executor, partnerId: string, today: string) {
  return db
    .selectFrom('topUpPolicies as p')
    .select([
      'p.currency', sql<string>`p.effective_from::text`.as('effectiveFrom'), 'p.minimumMicros', 'p.feeThresholdMicros', 'p.feeMicros', 'p.createdAt',
      sql<boolean>`p.effective_from = (select max(q.effective_from) from top_up_policies q
        where q.partner_id = p.partner_id and q.currency = p.currency and q.effective_from <= ${today}::date)`.as('inForce'),
    ])
    .where('p.partnerId', '=', partnerId);
}

function toView(row: VersionRow): PolicyVersionView {
  const c = currencyOf(row.currency);
  return {
    currency: c, effectiveFrom: row.effectiveFrom, inForce: row.inForce === true, createdAt: row.createdAt.toISOString(),
    minimum: formatDecimal(BigInt(row.minimumMicros), c), feeThreshold: formatDecimal(BigInt(row.feeThresholdMicros), c), fee: formatDecimal(BigInt(row.feeMicros), c),
  };
}

export interface ListPolicyVersionsInput {
  currency?: Currency | undefined;
  limit: number;
  /** `<currency>:<effectiveFrom>` of the last version of the previous page. */
  cursor?: string | undefined;
}

/** Every version of the partner's policy: by currency, the newest date first. */
export async function listTopUpPolicyVersions(ctx: Ctx, input: ListPolicyVersionsInput): Promise<{ data: PolicyVersionView[]; nextCursor: string | null }> {
  const { partnerId } = partnerCaller(ctx.principal);
  const after = input.cursor === undefined ? null : /^([A-Z]{3}):(\d{4}-\d{2}-\d{2})$/.exec(input.cursor);
  if (input.cursor !== undefined && (!after || !isIsoDay(after[2]!))) {
    throw new DomainError('validation_failed', 'cursor is not valid', [{ path: 'cursor', message: 'not a cursor from this list' }]);
  }
  return inScope(ctx.db, { kind: 'partner', partnerId }, async (trx) => {
    const rows = await selectVersions(trx, partnerId, utcDay(new Date()))
      .$if(input.currency !== undefined, (q) => q.where('p.currency', '=', input.currency!))
      .$if(after !== null, (q) => q.where((eb) => eb.or([
        eb('p.currency', '>', after![1]!),
        eb.and([eb('p.currency', '=', after![1]!), eb(sql`p.effective_from`, '<', sql`${after![2]!}::date`)]),
      ])))
      .orderBy('p.currency', 'asc')
      .orderBy(sql`p.effective_from`, 'desc')
      .limit(input.limit + 1)
      .execute();
    const page = rows.slice(0, input.limit).map(toView);
    const last = page.at(-1);
    return { data: page, nextCursor: rows.length > input.limit && last ? `${last.currency}:${last.effectiveFrom}` : null };
  });
}

export interface AddPolicyVersionInput {
  currency: Currency;
  effectiveFrom: string;
  minimum: string;
  feeThreshold: string;
  fee: string;
}

function amountOf(value: string, currency: Currency, field: string, errors: FieldError[]): bigint {
  const micros = parseDecimal(value, currency);
  if (micros === null || micros < 0n) {
    errors.push({ path: field, message: `a decimal string, zero or more, with at most ${CURRENCIES[currency]} decimals for ${currency}` });
    return 0n;
  }
  return micros;
}

/**
 * Add a version of the policy for one currency, taking effect on `effectiveFrom` (today or later, UTC): a version in
 * the past would rewrite what customers were charged, so it is refused (422); versions are never edited. Sending the
 * same version again changes nothing (200); another version on a date that has one is a conflict (409).
 */
export async function addTopUpPolicyVersion(ctx: Ctx, input: AddPolicyVersionInput): Promise<{ created: boolean; version: PolicyVersionView }> {
  const caller = partnerCaller(ctx.principal);
  const errors: FieldError[] = [];
  const minimum = amountOf(input.minimum, input.currency, 'minimum', errors);
  const threshold = amountOf(input.feeThreshold, input.currency, 'feeThreshold', errors);
  const fee = amountOf(input.fee, input.currency, 'fee', errors);
  if (errors.length > 0) throw new DomainError('validation_failed', `Invalid amounts: ${errors.map((e) => e.path).join(', ')}`, errors);
  if (fee > 0n && threshold === 0n) {
    throw new DomainError('rule_violation', 'An admin fee needs a threshold: the fee applies to top-ups below it', [{ path: 'feeThreshold', message: 'more than zero when there is a fee' }]);
  }
  const today = utcDay(new Date());
  if (input.effectiveFrom < today) {
    throw new DomainError('rule_violation', `A new version takes effect today (${today}) or later; past versions are never rewritten`, [
      { path: 'effectiveFrom', message: `${today} or later` },
    ]);
  }
  return inScope(ctx.db, { kind: 'partner', partnerId: caller.partnerId }, async (trx) => {
    // One writer per partner and currency at a time, so the 'same date' check below cannot race.
    await sql`select pg_advisory_xact_lock(hashtextextended(${`top_up_policy:${caller.partnerId}:${input.currency}`}, 0))`.execute(trx);
    const existing = await selectVersions(trx, caller.partnerId, today)
      .where('p.currency', '=', input.currency).where(sql<boolean>`p.effective_from = ${input.effectiveFrom}::date`)
      .executeTakeFirst();
    if (existing) {
      const same = BigInt(existing.minimumMicros) === minimum && BigInt(existing.feeThresholdMicros) === threshold && BigInt(existing.feeMicros) === fee;
      if (same) return { created: false, version: toView(existing) };
      throw new DomainError('already_exists', `A ${input.currency} version taking effect on ${input.effectiveFrom} exists; versions are never edited: add one on another date`, [
        { path: 'effectiveFrom', message: 'a version on this date exists' },
      ]);
    }
    await trx
      .insertInto('topUpPolicies')
      .values({
        partnerId: caller.partnerId, currency: input.currency, effectiveFrom: input.effectiveFrom,
        minimumMicros: minimum, feeThresholdMicros: threshold, feeMicros: fee, createdBy: caller.actorId,
      })
      .execute();
    const fmt = (m: bigint) => formatDecimal(m, input.currency);
    await recordAudit(trx, ctx, {
      partnerId: caller.partnerId, app: 'settings', action: 'top_up_policy.version_added', targetType: 'top_up_policy',
      targetId: `${input.currency}:${input.effectiveFrom}`,
      changes: {
        currency: { after: input.currency }, effectiveFrom: { after: input.effectiveFrom },
        minimum: { after: fmt(minimum) }, feeThreshold: { after: fmt(threshold) }, fee: { after: fmt(fee) },
      },
    });
    const version = await selectVersions(trx, caller.partnerId, today)
      .where('p.currency', '=', input.currency).where(sql<boolean>`p.effective_from = ${input.effectiveFrom}::date`)
      .executeTakeFirstOrThrow();
    return { created: true, version: toView(version) };
  });
}
