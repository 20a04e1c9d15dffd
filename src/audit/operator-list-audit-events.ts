import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { AUDIT_COLUMNS, PLATFORM_CHAIN, afterCursor, assertCursor, auditWhere, pageOf, toAuditView, type AuditEventView, type AuditFilters } from './audit-view.ts';

export interface OperatorListAuditEventsInput extends AuditFilters {
  partnerId?: string;
  limit: number;
  cursor?: string;
}

export type OperatorAuditEventView = AuditEventView & { partnerId: string | null };

/**
 * The operator console: the trail of one partner, of the platform (`partnerId=platform`), or (no `partnerId`) of everyone. The only audit
 * query without a partner filter, on purpose: the operator's scope is the whole platform.
 */
export async function operatorListAuditEvents(
  ctx: Ctx,
  input: OperatorListAuditEventsInput,
): Promise<{ data: OperatorAuditEventView[]; nextCursor: string | null }> {
  if (ctx.principal.kind !== 'operator') throw new DomainError('forbidden', 'Only the platform operator can read every trail');
  const partner = input.partnerId === undefined ? undefined : input.partnerId === PLATFORM_CHAIN ? null : input.partnerId;
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    if (input.cursor !== undefined) await assertCursor(trx, input.cursor, { partnerId: partner });
    const rows = await trx
      .selectFrom('auditEvents')
      .select(AUDIT_COLUMNS)
      .$if(partner === null, (q) => q.where('auditEvents.partnerId', 'is', null))
      .$if(typeof partner === 'string', (q) => q.where('auditEvents.partnerId', '=', partner!))
      .where(auditWhere(input, typeof partner === 'string' ? partner : null))
      .$if(input.cursor !== undefined, (q) => q.where(afterCursor(input.cursor!, { acrossPartners: partner === undefined })))
      .orderBy('auditEvents.occurredAt', 'desc')
      .orderBy('auditEvents.seq', 'desc')
      .orderBy('auditEvents.id', 'desc')
      .limit(input.limit + 1)
      .execute();
    const page = pageOf(rows, input.limit);
    return { data: page.rows.map((r) => ({ ...toAuditView(r), partnerId: r.partnerId })), nextCursor: page.nextCursor };
  });
}
