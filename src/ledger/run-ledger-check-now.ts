import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { partnerIdOf, scopeOf } from '../platform/context.ts';
import { applyScope, inScope } from '../platform/database.ts';
import { RetryLater } from '../platform/retry-later.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { checkLedger } from './check-ledger.ts';
import { recordResult } from './scheduled-ledger-check.ts';
import { getLedgerCheck, type LedgerCheck } from './get-ledger-check.ts';

/** A partner's books are checked on demand at most once in this many seconds (the nightly check runs anyway). */
export const LEDGER_CHECK_AGAIN_AFTER_SECONDS = 60;

/**
 * Check the partner's books now, as the nightly check does (scheduled-ledger-check.ts), for a Finance holder who has
 * just corrected something or will not wait for 03:20 UTC: `checkLedger` over this partner's rows in one read-only
 * snapshot, the result recorded as the nightly one is (a new finding alerts the Finance holders), audited
 * `ledger_check.run`. Bounded: once a minute per partner (429 with Retry-After), and one at a time (a second asked
 * while one runs waits for nothing: 429). Answers the recorded result, as GET /api/v1/finance/ledger-check does.
 */
export async function runLedgerCheckNow(ctx: Ctx): Promise<LedgerCheck> {
  const partnerId = partnerIdOf(ctx.principal);
  const lastAgoSeconds = await inScope(ctx.db, scopeOf(ctx.principal), async (trx) => (await sql<{ ago: number }>`
    select extract(epoch from (now() - checked_at))::int as ago from ledger_checks where partner_id = ${partnerId}`.execute(trx)).rows[0]?.ago);
  if (lastAgoSeconds !== undefined && lastAgoSeconds < LEDGER_CHECK_AGAIN_AFTER_SECONDS) {
    const wait = LEDGER_CHECK_AGAIN_AFTER_SECONDS - Math.max(0, lastAgoSeconds);
    throw new RetryLater('too_many_requests', `Your books were checked ${Math.max(0, lastAgoSeconds)} s ago; check again in ${wait} s`, wait);
  }
  const startedMs = performance.now();
  const problems = await ctx.db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute(async (trx) => {
    await applyScope(trx, { kind: 'system' });
    const { rows } = await sql<{ got: boolean }>`select pg_try_advisory_xact_lock(hashtextextended(${`ledger_check:${partnerId}`}, 0)) as got`.execute(trx);
    if (!rows[0]!.got) throw new RetryLater('too_many_requests', 'A check of your books is running; see its result in a minute', LEDGER_CHECK_AGAIN_AFTER_SECONDS);
    return checkLedger(trx, partnerId);
  });
  const durationMs = Math.round(performance.now() - startedMs);
  for (const p of problems) ctx.log.error({ invariant: p.invariant, partnerId: p.partnerId, subject: p.subject, detail: p.detail }, 'ledger check: problem');
  await recordResult(ctx.db, partnerId, problems.filter((p) => p.partnerId === partnerId), durationMs);
  await inScope(ctx.db, scopeOf(ctx.principal), (trx) => recordAudit(trx, ctx, {
    partnerId, app: 'finance', action: 'ledger_check.run', targetType: 'ledger_check', targetId: partnerId,
    changes: { status: { after: problems.length === 0 ? 'sound' : 'problems' }, problemCount: { after: problems.length }, durationMs: { after: durationMs } },
  }));
  return getLedgerCheck(ctx);
}
