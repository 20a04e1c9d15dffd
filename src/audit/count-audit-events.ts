import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { partnerIdOf, scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { auditWhere, type AuditFilters } from './audit-view.ts';

/** Up to this many matches are counted exactly; beyond, the planner's estimate is given (a progress bar needs no more). */
export const EXACT_COUNT_CAP = 100_000;

/**
 * How many events a filter matches, for an export's progress bar: exact up to EXACT_COUNT_CAP (counting stops there),
 * the planner's row estimate beyond it (never less than the cap), with `exact: false`.
 */
export async function countAuditEvents(ctx: Ctx, filters: AuditFilters): Promise<{ count: number; exact: boolean }> {
  const partnerId = partnerIdOf(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const matching = trx
      .selectFrom('auditEvents')
      .select(sql<number>`1`.as('one'))
      .where('auditEvents.partnerId', '=', partnerId)
      .where(auditWhere(filters, partnerId, { limit: EXACT_COUNT_CAP + 1 }));
    const capped = await trx
      .selectFrom(matching.limit(EXACT_COUNT_CAP + 1).as('m'))
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    const n = Number(capped.n);
    if (n <= EXACT_COUNT_CAP) return { count: n, exact: true };
    const compiled = matching.compile();
    const { rows } = await trx.executeQuery<{ 'QUERY PLAN': Array<{ Plan: { 'Plan Rows': number } }> }>({
      ...compiled,
      sql: `explain (format json) ${compiled.sql}`,
    });
    const estimate = Math.round(rows[0]?.['QUERY PLAN'][0]?.Plan['Plan Rows'] ?? 0);
    return { count: Math.max(estimate, EXACT_COUNT_CAP + 1), exact: false };
  });
}
