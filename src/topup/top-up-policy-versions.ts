import { sql } from 'kysely';
import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { inScope, type Executor } from '../platform/database.ts';
import { DomainError, FieldProblems, notFound } from '../platform/errors.ts';
import { timestamp } from '../platform/schemas.ts';
import { decimalRefusal, formatDecimal, parseDecimal, CURRENCIES, type Currency } from '../money/money.ts';
import { partnerCaller } from '../access/caller.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { enqueueNotificationsBulk } from '../subscriptions/renewals/bulk-writes.ts';
import { addDays, isIsoDay, utcDay } from './dates.ts';
import { maxTopUpMicros, maxTopUpMessage, policyInForce } from './top-up-policy.ts';
import { describePolicy, enqueueNoticeRun, NOTICE_DAYS } from './top-up-policy-notices.ts';
import { currencyOf } from './top-up-views.ts';

/** Where a version stands today: in force, upcoming (dated later), superseded by a later one, or withdrawn. */
export const policyVersionStatus = z.enum(['in_force', 'upcoming', 'superseded', 'withdrawn']);

/** A version of the partner's policy as staff see it (Portal Settings app). */
export const policyVersionSchema = z.object({
  /** `tpv_...`: named on every top-up the version applied to. */
  id: z.string(),
  currency: z.string(),
  effectiveFrom: z.iso.date(),
  minimum: z.string(),
  feeThreshold: z.string(),
  fee: z.string(),
  /** The version in force today for its currency. */
  inForce: z.boolean(),
  status: policyVersionStatus,
  /** Customers sent the notice of this change so far. */
  customersNotified: z.number().int(),
  createdAt: timestamp,
  withdrawnAt: timestamp.nullable(),
});
export type PolicyVersionView = z.infer<typeof policyVersionSchema>;

interface VersionRow {
  id: string;
  currency: string;
  effectiveFrom: string;
  minimumMicros: string;
  feeThresholdMicros: string;
  feeMicros: string;
  createdAt: Date;
  withdrawnAt: Date | null;
  inForce: boolean;
  customersNotified: number;
}

function selectVersions(db: Executor, partnerId: string, today: string) {
  return db
    .selectFrom('topUpPolicies as p')
    .select([
      'p.id', 'p.currency', sql<string>`p.effective_from::text`.as('effectiveFrom'), 'p.minimumMicros', 'p.feeThresholdMicros', 'p.feeMicros', 'p.createdAt',
      'p.withdrawnAt',
      sql<boolean>`p.withdrawn_at is null and p.effective_from = (select max(q.effective_from) from top_up_policies q
        where q.partner_id = p.partner_id and q.currency = p.currency and q.withdrawn_at is null and q.effective_from <= ${today}::date)`.as('inForce'),
      sql<number>`(select count(*)::int from top_up_policy_notices n where n.policy_version_id = p.id and cardinality(n.notification_ids) > 0)`.as('customersNotified'),
    ])
    .where('p.partnerId', '=', partnerId);
}

function toView(row: VersionRow, today: string): PolicyVersionView {
  const c = currencyOf(row.currency);
  const inForce = row.inForce === true;
  const status = row.withdrawnAt !== null ? 'withdrawn' : inForce ? 'in_force' : row.effectiveFrom > today ? 'upcoming' : 'superseded';
  return {
    id: row.id, currency: c, effectiveFrom: row.effectiveFrom, inForce, status, customersNotified: row.customersNotified,
    createdAt: row.createdAt.toISOString(), withdrawnAt: row.withdrawnAt?.toISOString() ?? null,
    minimum: formatDecimal(BigInt(row.minimumMicros), c), feeThreshold: formatDecimal(BigInt(row.feeThresholdMicros), c), fee: formatDecimal(BigInt(row.feeMicros), c),
  };
}

export interface ListPolicyVersionsInput {
  currency?: Currency | undefined;
  limit: number;
  /** `<currency>:<effectiveFrom>:<id>` of the last version of the previous page. */
  cursor?: string | undefined;
}

/** Every version of the partner's policy, withdrawn ones included: by currency, the newest date first. */
export async function listTopUpPolicyVersions(ctx: Ctx, input: ListPolicyVersionsInput): Promise<{ data: PolicyVersionView[]; nextCursor: string | null }> {
  const { partnerId } = partnerCaller(ctx.principal);
  const after = input.cursor === undefined ? null : /^([A-Z]{3}):(\d{4}-\d{2}-\d{2}):(tpv_[0-9a-z]{10,40})$/.exec(input.cursor);
  if (input.cursor !== undefined && (!after || !isIsoDay(after[2]!))) {
    throw new DomainError('validation_failed', 'cursor is not valid', [{ path: 'cursor', message: 'not a cursor from this list' }]);
  }
  const today = utcDay(ctx.clock.now());
  return inScope(ctx.db, { kind: 'partner', partnerId }, async (trx) => {
    const rows = await selectVersions(trx, partnerId, today)
      .$if(input.currency !== undefined, (q) => q.where('p.currency', '=', input.currency!))
      .$if(after !== null, (q) => q.where(sql<boolean>`(p.currency, ${sql`'9999-12-31'::date`} - p.effective_from, p.id) > (${after![1]!}::bpchar, ${sql`'9999-12-31'::date`} - ${after![2]!}::date, ${after![3]!})`))
      .orderBy('p.currency', 'asc')
      .orderBy(sql`p.effective_from`, 'desc')
      .orderBy('p.id', 'asc')
      .limit(input.limit + 1)
      .execute();
    const page = rows.slice(0, input.limit).map((r) => toView(r, today));
    const last = page.at(-1);
    return { data: page, nextCursor: rows.length > input.limit && last ? `${last.currency}:${last.effectiveFrom}:${last.id}` : null };
  });
}

export interface AddPolicyVersionInput {
  currency: Currency;
  effectiveFrom: string;
  minimum: string;
  feeThreshold: string;
  fee: string;
}

/** Not a decimal string is malformed (400); too many decimals, below zero or over the most is a rule (422: docs/adr/0040). */
function amountOf(value: string, currency: Currency, field: string, problems: FieldProblems): bigint {
  const micros = parseDecimal(value, currency);
  if (micros === null) {
    problems.add(decimalRefusal(value, currency).code, field, `a decimal string, zero or more, with at most ${CURRENCIES[currency]} decimals for ${currency}`);
    return 0n;
  }
  if (micros < 0n) {
    problems.add('rule_violation', field, 'zero or more');
    return 0n;
  }
  if (micros > maxTopUpMicros(currency)) {
    problems.add('rule_violation', field, maxTopUpMessage(currency));
    return 0n;
  }
  return micros;
}

const versionLock = (partnerId: string, currency: string) => sql`select pg_advisory_xact_lock(hashtextextended(${`top_up_policy:${partnerId}:${currency}`}, 0))`;

/**
 * Add a version of the policy for one currency, taking effect on `effectiveFrom`: today (UTC, it applies at once and
 * customers are told the same day) or later; a version in the past would rewrite what customers were charged, so it
 * is refused (422 naming effectiveFrom, nothing written); versions are never edited. Sending the same version again
 * changes nothing (200); another version on a date that has one is a conflict (409: withdraw it first). A version
 * dated within the notice period starts the customer notices at once (top-up-policy-notices.ts).
 */
export async function addTopUpPolicyVersion(ctx: Ctx, input: AddPolicyVersionInput): Promise<{ created: boolean; version: PolicyVersionView }> {
  const caller = partnerCaller(ctx.principal);
  const problems = new FieldProblems();
  const minimum = amountOf(input.minimum, input.currency, 'minimum', problems);
  const threshold = amountOf(input.feeThreshold, input.currency, 'feeThreshold', problems);
  const fee = amountOf(input.fee, input.currency, 'fee', problems);
  problems.throwIfAny((errors) => `Invalid amounts: ${errors.map((e) => e.path).join(', ')}`);
  if (fee > 0n && threshold === 0n) {
    throw new DomainError('rule_violation', 'An admin fee needs a threshold: the fee applies to top-ups below it', [{ path: 'feeThreshold', message: 'more than zero when there is a fee' }]);
  }
  if (threshold > 0n && fee === 0n) {
    throw new DomainError('rule_violation', 'A fee threshold without a fee means nothing: set the fee, or a threshold of 0', [{ path: 'fee', message: 'more than zero when there is a threshold' }]);
  }
  if (fee > 0n && fee >= threshold) {
    throw new DomainError('rule_violation', `An admin fee of ${formatDecimal(fee, input.currency)} on top-ups below ${formatDecimal(threshold, input.currency)} would cost more than the points it comes with: `
      + 'the fee must be less than its threshold', [{ path: 'fee', message: `less than the fee threshold (${formatDecimal(threshold, input.currency)})` }]);
  }
  if (fee > 0n && minimum >= threshold) {
    throw new DomainError('rule_violation', `With a minimum of ${formatDecimal(minimum, input.currency)}, no top-up is below the fee threshold of ${formatDecimal(threshold, input.currency)}, so the fee would never apply: `
      + 'lower the minimum, or set the fee and its threshold to 0', [{ path: 'minimum', message: `below the fee threshold (${formatDecimal(threshold, input.currency)}) when there is a fee` }]);
  }
  const today = utcDay(ctx.clock.now());
  if (input.effectiveFrom < today) {
    throw new DomainError('rule_violation', `A new version takes effect today (${today}) or later; past versions are never rewritten`, [
      { path: 'effectiveFrom', message: `${today} or later` },
    ]);
  }
  return inScope(ctx.db, { kind: 'partner', partnerId: caller.partnerId }, async (trx) => {
    // One writer per partner and currency at a time, so the 'same date' check below cannot race.
    await versionLock(caller.partnerId, input.currency).execute(trx);
    const existing = await selectVersions(trx, caller.partnerId, today)
      .where('p.currency', '=', input.currency).where(sql<boolean>`p.effective_from = ${input.effectiveFrom}::date`).where('p.withdrawnAt', 'is', null)
      .executeTakeFirst();
    if (existing) {
      const same = BigInt(existing.minimumMicros) === minimum && BigInt(existing.feeThresholdMicros) === threshold && BigInt(existing.feeMicros) === fee;
      if (same) return { created: false, version: toView(existing, today) };
      throw new DomainError('already_exists', `A ${input.currency} version taking effect on ${input.effectiveFrom} exists; versions are never edited: withdraw it or add one on another date`, [
        { path: 'effectiveFrom', message: 'a version on this date exists' },
      ]);
    }
    const { id } = await trx
      .insertInto('topUpPolicies')
      .values({
        partnerId: caller.partnerId, currency: input.currency, effectiveFrom: input.effectiveFrom,
        minimumMicros: minimum, feeThresholdMicros: threshold, feeMicros: fee, createdBy: caller.actorId,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const fmt = (m: bigint) => formatDecimal(m, input.currency);
    await recordAudit(trx, ctx, {
      partnerId: caller.partnerId, app: 'settings', action: 'top_up_policy.version_added', targetType: 'top_up_policy', targetId: id,
      changes: {
        currency: { after: input.currency }, effectiveFrom: { after: input.effectiveFrom },
        minimum: { after: fmt(minimum) }, feeThreshold: { after: fmt(threshold) }, fee: { after: fmt(fee) },
      },
    });
    if (input.effectiveFrom <= addDays(today, NOTICE_DAYS)) await enqueueNoticeRun(trx);
    const version = await selectVersions(trx, caller.partnerId, today).where('p.id', '=', id).executeTakeFirstOrThrow();
    return { created: true, version: toView(version, today) };
  });
}

/**
 * Withdraw a version before it takes effect (its date is after today): it never applies, its date is free again, and
 * the customers already told of it are told it will not happen. A version in force or past is history: 409
 * `policy_version_in_effect`. Withdrawing it again changes nothing. Audited.
 */
export async function withdrawTopUpPolicyVersion(ctx: Ctx, input: { versionId: string }): Promise<{ withdrawn: boolean; version: PolicyVersionView }> {
  const caller = partnerCaller(ctx.principal);
  const today = utcDay(ctx.clock.now());
  return inScope(ctx.db, { kind: 'partner', partnerId: caller.partnerId }, async (trx) => {
    const found = await trx.selectFrom('topUpPolicies').select('currency').where('partnerId', '=', caller.partnerId).where('id', '=', input.versionId).executeTakeFirst();
    if (!found) throw notFound('Top-up policy version');
    await versionLock(caller.partnerId, found.currency).execute(trx);
    // The row lock also waits for a notice run working on this version (it locks the version the same way).
    const row = await selectVersions(trx, caller.partnerId, today).where('p.id', '=', input.versionId).forUpdate().executeTakeFirstOrThrow();
    if (row.withdrawnAt !== null) return { withdrawn: false, version: toView(row, today) };
    if (row.effectiveFrom <= today) {
      throw new DomainError('policy_version_in_effect', `This version took effect on ${row.effectiveFrom}; only a version dated after today can be withdrawn. Add a new version instead.`, [
        { path: 'versionId', message: 'already in effect' },
      ]);
    }
    await trx.updateTable('topUpPolicies').set({ withdrawnAt: ctx.clock.now(), withdrawnBy: caller.actorId }).where('partnerId', '=', caller.partnerId).where('id', '=', row.id).execute();
    const currency = currencyOf(row.currency);
    const told = await trx
      .selectFrom('topUpPolicyNotices as n')
      .innerJoin('notifications as m', (j) => j.on(sql<boolean>`m.id = n.notification_ids[1]`))
      .select(['n.customerId', 'm.userId', 'm.toEmail'])
      .where('n.partnerId', '=', caller.partnerId).where('n.policyVersionId', '=', row.id)
      .execute();
    const still = await policyInForce(trx, caller.partnerId, currency, row.effectiveFrom);
    const ids = await enqueueNotificationsBulk(trx, told.map((t) => ({
      partnerId: caller.partnerId, customerId: t.customerId, userId: t.userId, toEmail: t.toEmail, kind: 'top_up_policy_withdrawn' as const,
      subject: `Cancelled: the top-up policy change of ${row.effectiveFrom} (${currency})`,
      bodyText: [
        `The change to the top-up policy for ${currency} announced for ${row.effectiveFrom} will not happen.`,
        '',
        `On ${row.effectiveFrom} the policy will be: ${describePolicy(still)}.`,
        'Reply to this email to reach our sales team.',
      ].join('\n'),
    })));
    for (const [i, t] of told.entries()) {
      await trx.updateTable('topUpPolicyNotices').set({ withdrawalNotificationIds: [ids[i]!] })
        .where('policyVersionId', '=', row.id).where('customerId', '=', t.customerId).execute();
    }
    await recordAudit(trx, ctx, {
      partnerId: caller.partnerId, app: 'settings', action: 'top_up_policy.version_withdrawn', targetType: 'top_up_policy', targetId: row.id,
      changes: {
        currency: { before: currency }, effectiveFrom: { before: row.effectiveFrom },
        withdrawn: { before: false, after: true }, customersToldOfWithdrawal: { after: told.length },
      },
    });
    const version = await selectVersions(trx, caller.partnerId, today).where('p.id', '=', row.id).executeTakeFirstOrThrow();
    return { withdrawn: true, version: toView(version, today) };
  });
}
