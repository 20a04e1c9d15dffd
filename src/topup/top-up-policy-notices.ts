import { sql } from 'kysely';
import type { TaskList } from 'graphile-worker';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../platform/clock.ts';
import { inScope, type Db, type Executor, type Trx } from '../platform/database.ts';
import { moneyText } from '../money/money.ts';
import { enqueueNotificationsBulk, recipientsOf, type BulkNotificationInput } from '../subscriptions/renewals/bulk-writes.ts';
import { addDays, utcDay } from './dates.ts';
import { policyInForce, type TopUpPolicy } from './top-up-policy.ts';
import { currencyOf } from './top-up-views.ts';

/**
 * Customers hear of a change of the top-up policy before it takes effect: one notice per customer (organisation) and
 * version, to its owner (or, without one, its first active admin), sent `NOTICE_DAYS` days before the version's date,
 * or at once when the version is added closer to its date than that (adding a version enqueues this job). A version
 * dated today is announced the same day. Never twice for the same version: the `top_up_policy_notices` row of a
 * customer and version is written in the same transaction as its notification, under a lock on the version (the same
 * lock a withdrawal takes), so two runs at once, or a run and a withdrawal, cannot both act.
 */
export const NOTICE_DAYS = 14;
export const TOP_UP_POLICY_NOTICES_TASK = 'top_up_policy_notices';
export const TOP_UP_POLICY_NOTICES_CRONTAB = `20 * * * * ${TOP_UP_POLICY_NOTICES_TASK} ?max=1&queue=${TOP_UP_POLICY_NOTICES_TASK}`;
/** Customers told per transaction. */
export const NOTICE_BATCH = 500;
const MAX_ROUNDS = 200;

export interface NoticeDeps {
  db: Db;
  log?: Logger;
}

/** Enqueue a notice run right after the caller's transaction commits (a version dated within the notice period). */
export async function enqueueNoticeRun(trx: Trx): Promise<void> {
  await sql`select folio_enqueue_job(${TOP_UP_POLICY_NOTICES_TASK}, '{}'::json, ${TOP_UP_POLICY_NOTICES_TASK}, 5)`.execute(trx);
}


/** How a policy reads in a notice: "minimum 10.00 SGD; admin fee 2.00 SGD on top-ups below 30.00 SGD". */
export function describePolicy(p: Pick<TopUpPolicy, 'currency' | 'minimumMicros' | 'feeMicros' | 'feeThresholdMicros'>): string {
  const min = p.minimumMicros > 0n ? `minimum top-up ${moneyText(p.minimumMicros, p.currency)}` : 'no minimum top-up';
  const fee = p.feeMicros > 0n ? `an admin fee of ${moneyText(p.feeMicros, p.currency)} on top-ups below ${moneyText(p.feeThresholdMicros, p.currency)}` : 'no admin fee';
  return `${min}; ${fee}`;
}

interface DueVersion {
  id: string;
  partnerId: string;
  partnerName: string;
  currency: string;
  effectiveFrom: string;
  minimumMicros: string;
  feeThresholdMicros: string;
  feeMicros: string;
}

function dueVersions(db: Executor, today: string, horizon: string) {
  return db
    .selectFrom('topUpPolicies as p')
    .innerJoin('partners as pt', 'pt.id', 'p.partnerId')
    .select([
      'p.id', 'p.partnerId', 'pt.name as partnerName', 'p.currency', sql<string>`p.effective_from::text`.as('effectiveFrom'),
      'p.minimumMicros', 'p.feeThresholdMicros', 'p.feeMicros',
    ])
    .where('p.withdrawnAt', 'is', null)
    .where(sql<boolean>`p.effective_from between ${today}::date and ${horizon}::date`);
}

/** One batch of customers for one version; returns how many customers were handled (0: the version is done). */
async function noticeBatch(trx: Trx, v: DueVersion, today: string, limit: number): Promise<number> {
  const customers = await trx
    .selectFrom('customers as c')
    .select(['c.id'])
    .where('c.partnerId', '=', v.partnerId)
    .where('c.currency', '=', v.currency)
    .where('c.status', '=', 'active')
    .where((eb) => eb.not(eb.exists(
      eb.selectFrom('topUpPolicyNotices as n').select(sql`1`.as('one')).where('n.policyVersionId', '=', v.id).whereRef('n.customerId', '=', 'c.id'),
    )))
    .orderBy('c.id')
    .limit(limit)
    .execute();
  if (customers.length === 0) return 0;
  const currency = currencyOf(v.currency);
  const next: TopUpPolicy = {
    versionId: v.id, currency, effectiveFrom: v.effectiveFrom, source: 'partner',
    minimumMicros: BigInt(v.minimumMicros), feeThresholdMicros: BigInt(v.feeThresholdMicros), feeMicros: BigInt(v.feeMicros),
  };
  const before = await policyInForce(trx, v.partnerId, currency, addDays(v.effectiveFrom, -1));
  const when = v.effectiveFrom === today ? `today, ${v.effectiveFrom}` : v.effectiveFrom;
  const subject = `Top-up policy change from ${v.effectiveFrom} (${currency})`;
  const bodyText = [
    `From ${when}, ${v.partnerName}'s top-up policy for ${currency} changes.`,
    '',
    `New: ${describePolicy(next)}.`,
    `Until then: ${describePolicy(before)}.`,
    '',
    'Top-ups made before that date follow the current policy. Automatic top-ups below a new minimum are not made.',
    'Reply to this email to reach our sales team.',
  ].join('\n');

  const recipients = await recipientsOf(trx, v.partnerId, customers.map((c) => c.id));
  const notifications: BulkNotificationInput[] = [];
  const owners: string[] = [];
  for (const c of customers) {
    const to = recipients.get(c.id)?.[0];
    if (!to) continue;
    owners.push(c.id);
    notifications.push({ partnerId: v.partnerId, customerId: c.id, userId: to.userId, toEmail: to.email, kind: 'top_up_policy_notice', subject, bodyText });
  }
  const ids = await enqueueNotificationsBulk(trx, notifications);
  const sent = new Map(owners.map((customerId, i) => [customerId, ids[i]!]));
  await trx
    .insertInto('topUpPolicyNotices')
    .values(customers.map((c) => ({
      policyVersionId: v.id, partnerId: v.partnerId, customerId: c.id,
      // No owner or admin to tell: recorded all the same, so the version is not scanned again for this customer.
      notificationIds: sent.has(c.id) ? [sent.get(c.id)!] : [],
    })))
    .execute();
  return customers.length;
}

/**
 * Tell every customer of every version taking effect within `NOTICE_DAYS` days of `asOf` (today included) that has not
 * been told yet. Each round is one transaction over one version's next batch, the version locked; rounds are bounded.
 */
export async function runTopUpPolicyNotices(deps: NoticeDeps, options: { asOf: Date; batchSize?: number }): Promise<{ notified: number }> {
  const today = utcDay(options.asOf);
  const horizon = addDays(today, NOTICE_DAYS);
  const limit = options.batchSize ?? NOTICE_BATCH;
  const versions = await inScope(deps.db, { kind: 'system' }, (trx) => dueVersions(trx, today, horizon).orderBy('p.effectiveFrom').orderBy('p.id').execute());
  let notified = 0;
  let rounds = 0;
  for (const version of versions) {
    for (;;) {
      if (++rounds > MAX_ROUNDS) {
        deps.log?.warn({ notified }, 'top-up policy notices: round limit reached; the next run continues');
        return { notified };
      }
      const handled = await inScope(deps.db, { kind: 'system' }, async (trx) => {
        // Lock the version and recheck it: a withdrawal, or another run, may have come first.
        const v = await dueVersions(trx, today, horizon).where('p.id', '=', version.id).forUpdate(['p']).executeTakeFirst();
        return v ? noticeBatch(trx, v, today, limit) : 0;
      });
      notified += handled;
      if (handled < limit) break;
    }
  }
  if (notified > 0) deps.log?.info({ notified }, 'top-up policy change notices sent');
  return { notified };
}

export function topUpPolicyNoticeTasks(deps: NoticeDeps & { clock?: Clock }): TaskList {
  return {
    [TOP_UP_POLICY_NOTICES_TASK]: async () => {
      await runTopUpPolicyNotices(deps, { asOf: (deps.clock ?? systemClock).now() });
    },
  };
}
