import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { timestamp } from '../platform/schemas.ts';
import { AUDIT_COLUMNS, afterCursor, assertCursor, auditEventSchema, pageOf, type AuditRow } from './audit-view.ts';

/**
 * What a portal user sees of an event: who did it in the organisation's terms (a member by email, the provider by its
 * name, or the system), what and on what. Not the partner-side details: no IP, user agent, request id, and no staff
 * identities; fields about the provider's own economics (cost, margin) are left out of the changes.
 */
export const portalAuditEventSchema = z.object({
  id: z.string(),
  occurredAt: timestamp,
  actor: z.object({ type: z.enum(['member', 'provider', 'system']), id: z.string().nullable(), label: z.string() }),
  app: z.string(),
  action: z.string(),
  target: auditEventSchema.shape.target,
  changes: auditEventSchema.shape.changes,
});
export type PortalAuditEventView = z.infer<typeof portalAuditEventSchema>;

const PROVIDER_ONLY_FIELD = /cost|margin/i;

export interface PortalListAuditEventsInput {
  limit: number;
  cursor?: string;
}

/**
 * The portal's Audit section: the organisation's own events, newest first (order: see audit-view.ts). Owners and
 * admins see every event of the organisation; members and guests only what they did themselves.
 */
export async function portalListAuditEvents(
  ctx: Ctx,
  input: PortalListAuditEventsInput,
): Promise<{ data: PortalAuditEventView[]; nextCursor: string | null }> {
  const p = ctx.principal;
  if (p.kind !== 'customer') throw new DomainError('forbidden', 'Only user-portal users can do this');
  const seesAll = p.role === 'owner' || p.role === 'admin';
  return inScope(ctx.db, scopeOf(p), async (trx) => {
    if (input.cursor !== undefined) await assertCursor(trx, input.cursor, { partnerId: p.partnerId, customerId: p.customerId });
    const partner = await trx.selectFrom('partners').select('name').where('id', '=', p.partnerId).executeTakeFirst();
    const rows = await trx
      .selectFrom('auditEvents')
      .leftJoin('users as member', (join) =>
        join
          .onRef('member.id', '=', 'auditEvents.actorId')
          .on('auditEvents.actorType', '=', 'user')
          .on('member.partnerId', '=', p.partnerId)
          .on('member.customerId', '=', p.customerId),
      )
      .select([...AUDIT_COLUMNS, 'member.id as memberId'])
      .where('auditEvents.partnerId', '=', p.partnerId)
      .where('auditEvents.customerId', '=', p.customerId)
      .$if(!seesAll, (q) => q.where('auditEvents.actorType', '=', 'user').where('auditEvents.actorId', '=', p.userId))
      .$if(input.cursor !== undefined, (q) => q.where(afterCursor(input.cursor!)))
      .orderBy('auditEvents.occurredAt', 'desc')
      .orderBy('auditEvents.seq', 'desc')
      .orderBy('auditEvents.id', 'desc')
      .limit(input.limit + 1)
      .execute();
    const page = pageOf(rows, input.limit);
    const providerName = partner?.name ?? 'Your provider';
    return { data: page.rows.map((r) => toPortalView(r, providerName)), nextCursor: page.nextCursor };
  });
}

function toPortalView(r: AuditRow & { memberId: string | null }, providerName: string): PortalAuditEventView {
  const actor: PortalAuditEventView['actor'] =
    r.memberId !== null ? { type: 'member', id: r.actorId, label: r.actorLabel ?? r.actorId ?? 'member' }
      : r.actorType === 'system' ? { type: 'system', id: null, label: 'System' }
        : { type: 'provider', id: null, label: providerName };
  const changes = Object.fromEntries(Object.entries(r.changes).filter(([field]) => !PROVIDER_ONLY_FIELD.test(field)));
  return {
    id: r.id,
    occurredAt: r.occurredAt.toISOString(),
    actor,
    app: r.app,
    action: r.action,
    target: { type: r.targetType, id: r.targetId },
    changes,
  };
}
