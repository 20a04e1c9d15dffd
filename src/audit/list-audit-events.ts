import type { Ctx } from '../platform/context.ts';
import { partnerIdOf, scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { AUDIT_COLUMNS, afterCursor, assertCursor, auditWhere, pageOf, toAuditView, type AuditEventView, type AuditFilters } from './audit-view.ts';

export interface ListAuditEventsInput extends AuditFilters {
  limit: number;
  cursor?: string;
}

/**
 * The Audit app: the partner's own trail, newest first (order: see audit-view.ts). A customer id of another partner
 * matches nothing: the partner filter below and row-level security both keep other partners' events out.
 */
export async function listAuditEvents(ctx: Ctx, input: ListAuditEventsInput): Promise<{ data: AuditEventView[]; nextCursor: string | null }> {
  const partnerId = partnerIdOf(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    if (input.cursor !== undefined) await assertCursor(trx, input.cursor, { partnerId });
    const rows = await trx
      .selectFrom('auditEvents')
      .select(AUDIT_COLUMNS)
      .where('auditEvents.partnerId', '=', partnerId)
      .where(auditWhere(input, partnerId, { limit: input.limit + 1, cursorId: input.cursor }))
      .$if(input.cursor !== undefined, (q) => q.where(afterCursor(input.cursor!)))
      .orderBy('auditEvents.occurredAt', 'desc')
      .orderBy('auditEvents.seq', 'desc')
      .orderBy('auditEvents.id', 'desc')
      .limit(input.limit + 1)
      .execute();
    const page = pageOf(rows, input.limit);
    return { data: page.rows.map(toAuditView), nextCursor: page.nextCursor };
  });
}
