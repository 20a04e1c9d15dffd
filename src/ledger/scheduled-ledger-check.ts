import type { TaskList } from 'graphile-worker';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { inScope, type Db } from '../platform/database.ts';
import { enqueueNotification } from '../notifications/enqueue-notification.ts';
import { activeAppHolders } from '../access/app-holders.ts';
import { checkLedger, type LedgerProblem } from './check-ledger.ts';

/**
 * The worker's nightly proof of the books (wired in src/platform/jobs.ts): `checkLedger` over every partner's rows at
 * once, in one read-only snapshot through the owner connection (as `npm run ledger:check`; on 10 million postings it
 * reads for about half a minute), then one row per partner in `ledger_checks` (migration 0053): checked at, how long,
 * the problems found in its books (at most LISTED_PER_PARTNER per check, so one partner's never hide another's). A
 * subject found wrong that was not on record the night before alerts the partner's Finance app holders by email; the
 * same subjects wrong again, or fewer, alert nobody again. Sound books clear the finding. The Finance app shows the
 * result (GET /api/v1/finance/ledger-check). Every problem is also logged as an error.
 */
export const LEDGER_CHECK_TASK = 'check_ledger';
/** 03:20 UTC every day, one attempt (the next night runs anyway), never two at once. */
export const LEDGER_CHECK_CRONTAB = `20 3 * * * ${LEDGER_CHECK_TASK} ?max=1&queue=${LEDGER_CHECK_TASK}`;

/** Problems kept per partner for the Finance app (the count keeps how many the check listed). */
export const KEPT_PROBLEMS = 20;

export interface LedgerCheckDeps {
  /** The app role: writes the results and alerts in system scope. */
  db: Db;
  /** The owner: reads every partner's rows for the check itself. */
  ownerDb: Db;
  log: Logger;
}

export interface LedgerCheckOutcome {
  partners: number;
  problems: number;
  durationMs: number;
  /** Partners alerted by this run (a finding not on record before). */
  alerted: string[];
}

export async function runLedgerCheck(deps: LedgerCheckDeps): Promise<LedgerCheckOutcome> {
  const startedMs = performance.now();
  const problems = await deps.ownerDb.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute((trx) => checkLedger(trx));
  const durationMs = Math.round(performance.now() - startedMs);
  for (const p of problems) deps.log.error({ invariant: p.invariant, partnerId: p.partnerId, subject: p.subject, detail: p.detail }, 'ledger check: problem');

  const byPartner = new Map<string, LedgerProblem[]>();
  for (const p of problems) {
    if (p.partnerId === null) continue; // logged above; every check's rows name their partner
    const list = byPartner.get(p.partnerId) ?? [];
    list.push(p);
    byPartner.set(p.partnerId, list);
  }
  const partnerIds = await inScope(deps.db, { kind: 'system' }, async (trx) => (await trx.selectFrom('partners').select('id').orderBy('id').execute()).map((r) => r.id));
  const alerted: string[] = [];
  for (const partnerId of partnerIds) {
    if (await recordResult(deps.db, partnerId, byPartner.get(partnerId) ?? [], durationMs)) alerted.push(partnerId);
  }
  deps.log.info({ partners: partnerIds.length, problems: problems.length, durationMs, alerted }, problems.length === 0 ? 'ledger check: sound' : 'ledger check: problems found');
  return { partners: partnerIds.length, problems: problems.length, durationMs, alerted };
}

/**
 * One partner's result, in its own transaction. The finding (`problem_detected_at`) starts when its books were last
 * found sound and ends when they are again; an alert goes to its Finance holders when a subject is wrong that was not
 * on record the night before, or when the finding has not reached anyone yet (no Finance holder then). Answers whether
 * an alert went out.
 */
export async function recordResult(db: Db, partnerId: string, problems: readonly LedgerProblem[], durationMs: number): Promise<boolean> {
  const subjects = [...new Set(problems.map((p) => `${p.invariant}: ${p.subject}`))].sort();
  const kept = problems.slice(0, KEPT_PROBLEMS).map((p) => ({ invariant: p.invariant, subject: p.subject, detail: p.detail }));
  return inScope(db, { kind: 'system' }, async (trx) => {
    const { rows } = await sql<{ subjects: string[]; alerted: boolean }>`
      select problem_subjects as subjects, problem_alerted_at is not null as alerted from ledger_checks where partner_id = ${partnerId} for update`.execute(trx);
    const previous = rows[0];
    const onRecord = new Set(previous?.subjects ?? []);
    const wasSound = onRecord.size === 0;
    const somethingNew = subjects.some((s) => !onRecord.has(s));
    // now(): one time for the whole transaction, so a finding first seen by this check shows the check's own time.
    const finding = subjects.length === 0
      ? sql`problem_subjects = '{}', problem_detected_at = null, problem_alerted_at = null`
      : wasSound
        ? sql`problem_subjects = ${subjects}, problem_detected_at = now(), problem_alerted_at = null`
        : sql`problem_subjects = ${subjects}`;
    await sql`
      insert into ledger_checks (partner_id, checked_at, duration_ms) values (${partnerId}, now(), ${durationMs})
      on conflict (partner_id) do nothing`.execute(trx);
    await sql`
      update ledger_checks set checked_at = now(), duration_ms = ${durationMs}, problem_count = ${problems.length},
             problems = ${JSON.stringify(kept)}::jsonb, ${finding}
       where partner_id = ${partnerId}`.execute(trx);
    if (subjects.length === 0 || (!somethingNew && previous?.alerted === true)) return false;

    const holders = await activeAppHolders(trx, partnerId, 'finance');
    if (holders.length === 0) return false; // nobody to tell yet: the next check tries again
    const lines = kept.slice(0, 5).map((p) => `- ${p.invariant.replaceAll('_', ' ')}: ${p.detail}`);
    for (const holder of holders) {
      await enqueueNotification(trx, {
        partnerId, customerId: null, userId: holder.id, toEmail: holder.email, kind: 'ledger_check_failed',
        subject: `Ledger check: ${problems.length} problem${problems.length === 1 ? '' : 's'} in your books`,
        bodyText:
          `Tonight's check of your books found ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${lines.join('\n')}` +
          `${problems.length > lines.length ? `\n(and ${problems.length - lines.length} more)` : ''}\n` +
          'Open Finance > Reports for the full result. Nothing was changed; a correction is a reversing entry.',
      });
    }
    await sql`update ledger_checks set problem_alerted_at = now() where partner_id = ${partnerId}`.execute(trx);
    return true;
  });
}

export function ledgerCheckTasks(deps: LedgerCheckDeps): TaskList {
  return {
    [LEDGER_CHECK_TASK]: async () => {
      await runLedgerCheck(deps);
    },
  };
}
