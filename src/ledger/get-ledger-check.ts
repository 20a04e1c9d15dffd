import { sql } from 'kysely';
import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { partnerIdOf, scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { timestamp } from '../platform/schemas.ts';
import { KEPT_PROBLEMS, LEDGER_CHECK_CRONTAB } from './scheduled-ledger-check.ts';

export const ledgerCheckSchema = z.object({
  status: z.enum(['sound', 'problems', 'not_checked_yet']),
  checkedAt: timestamp.nullable(),
  durationMs: z.number().int().nullable(),
  /** Problems found in this partner's books (each of checkLedger's checks lists at most 100 per partner); `problems` holds the first 20. */
  problemCount: z.number().int(),
  problems: z.array(z.object({ invariant: z.string(), subject: z.string(), detail: z.string() })).max(KEPT_PROBLEMS),
  /** When this finding (the same subjects wrong) was first seen, and when its alert went to the Finance app's holders. */
  detectedAt: timestamp.nullable(),
  alertedAt: timestamp.nullable(),
  /** When the check runs (cron, UTC). */
  schedule: z.string(),
  /** The last result is over STALE_AFTER_HOURS old: the nightly check has not run since (worker down, or the check failed). */
  stale: z.boolean(),
});

/** A nightly check's result is out of date after this long. */
export const STALE_AFTER_HOURS = 26;
export type LedgerCheck = z.infer<typeof ledgerCheckSchema>;

/** The partner's books as the worker's last nightly check found them (scheduled-ledger-check.ts). */
export async function getLedgerCheck(ctx: Ctx): Promise<LedgerCheck> {
  const partnerId = partnerIdOf(ctx.principal);
  const row = await inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const { rows } = await sql<{ checkedAt: Date; durationMs: number; problemCount: number; problems: LedgerCheck['problems']; detectedAt: Date | null; alertedAt: Date | null }>`
      select checked_at as "checkedAt", duration_ms as "durationMs", problem_count as "problemCount", problems,
             problem_detected_at as "detectedAt", problem_alerted_at as "alertedAt"
        from ledger_checks where partner_id = ${partnerId}`.execute(trx);
    return rows[0];
  });
  const schedule = LEDGER_CHECK_CRONTAB.split(' ').slice(0, 5).join(' ');
  if (!row) return { status: 'not_checked_yet', checkedAt: null, durationMs: null, problemCount: 0, problems: [], detectedAt: null, alertedAt: null, schedule, stale: false };
  return {
    status: row.problemCount > 0 ? 'problems' : 'sound',
    checkedAt: row.checkedAt.toISOString(),
    durationMs: row.durationMs,
    problemCount: row.problemCount,
    problems: row.problems,
    detectedAt: row.detectedAt?.toISOString() ?? null,
    alertedAt: row.alertedAt?.toISOString() ?? null,
    schedule,
    stale: ctx.clock.now().getTime() - row.checkedAt.getTime() > STALE_AFTER_HOURS * 3_600_000,
  };
}
