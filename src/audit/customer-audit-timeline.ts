import type { Ctx } from '../platform/context.ts';
import { partnerIdOf, scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { notFound } from '../platform/errors.ts';
import { AUDIT_COLUMNS, afterCursor, assertCursor, auditWhere, pageOf, toAuditView, type AuditEventView, type AuditFilters } from './audit-view.ts';

export interface CustomerAuditTimelineInput extends Omit<AuditFilters, 'customerId'> {
  customerId: string;
  limit: number;
  cursor?: string;
}

/**
 * One customer's timeline for the Customer app: every event about the customer (recorded for it, or targeting it),
 * newest first, in the list's order and cursor (see audit-view.ts). A customer of another partner, or none, is 404.
 */
export async function customerAuditTimeline(
  ctx: Ctx,
  input: CustomerAuditTimelineInput,
): Promise<{ data: AuditEventView[]; nextCursor: string | null }> {
  const partnerId = partnerIdOf(ctx.principal);
  const { customerId, limit, cursor, ...filters } = input;
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const customer = await trx.selectFrom('customers').select('id').where('id', '=', customerId).where('partnerId', '=', partnerId).executeTakeFirst();
    if (!customer) throw notFound('Customer');
    if (cursor !== undefined) await assertCursor(trx, cursor, { partnerId });
    const rows = await trx
      .selectFrom('auditEvents')
      .select(AUDIT_COLUMNS)
      .where('auditEvents.partnerId', '=', partnerId)
      .where((eb) =>
        eb.or([
          eb('auditEvents.customerId', '=', customerId),
          eb.and([eb('auditEvents.targetType', '=', 'customer'), eb('auditEvents.targetId', '=', customerId)]),
        ]),
      )
      .where(auditWhere(filters, partnerId))
      .$if(cursor !== undefined, (q) => q.where(afterCursor(cursor!)))
      .orderBy('auditEvents.occurredAt', 'desc')
      .orderBy('auditEvents.seq', 'desc')
      .orderBy('auditEvents.id', 'desc')
      .limit(limit + 1)
      .execute();
    const page = pageOf(rows, limit);
    return { data: page.rows.map(toAuditView), nextCursor: page.nextCursor };
  });
}
