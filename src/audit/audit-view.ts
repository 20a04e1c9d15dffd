import { sql, type ExpressionBuilder, type Expression, type SqlBool } from 'kysely';
import { z } from 'zod';
import type { Trx } from '../platform/database.ts';
import type { ActorType, Database } from '../platform/db-types.ts';
import { DomainError } from '../platform/errors.ts';
import { idOf, listQuery, timestamp } from '../platform/schemas.ts';

/**
 * How audit events are listed. ORDER: newest first by (occurred_at desc, seq desc, id desc). Within one partner that
 * is exactly the chain's order (since migration 0003 an event's time is taken under the chain lock and never goes
 * back), and it is also a total order across partners for the operator, served by the (partner_id, occurred_at)
 * indexes. The cursor is the id of the last event shown; the next page starts strictly after that event's position.
 */

/** The chain (and operator filter value) of events without a partner: operator sign-ins, partner set-up. */
export const PLATFORM_CHAIN = 'platform';

export const auditEventSchema = z.object({
  id: z.string(),
  /** Position in the partner's hash chain (1, 2, 3...). */
  seq: z.number().int(),
  occurredAt: timestamp,
  actor: z.object({ type: z.enum(['user', 'api_key', 'system', 'operator']), id: z.string().nullable(), label: z.string().nullable() }),
  app: z.string(),
  action: z.string(),
  customerId: z.string().nullable(),
  target: z.object({ type: z.string(), id: z.string().nullable() }),
  changes: z.record(z.string(), z.object({ before: z.unknown().optional(), after: z.unknown().optional() })),
  requestId: z.string().nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
});
export type AuditEventView = z.infer<typeof auditEventSchema>;

/** The filters of the staff and operator lists (query parameters). */
export const auditFilterShape = {
  customerId: idOf('cus').optional(),
  app: z.string().regex(/^[a-z_]{1,40}$/, 'an app name such as customer').optional(),
  action: z.string().regex(/^[a-z_]+(\.[a-z_]+)+$/, 'an action such as customer.created').max(100).optional(),
  actorId: z.string().min(1).max(100).optional(),
  targetId: z.string().min(1).max(200).optional(),
  /** Inclusive. */
  from: z.iso.datetime({ offset: true }).optional(),
  /** Exclusive. */
  to: z.iso.datetime({ offset: true }).optional(),
};
export const auditCursor = idOf('evt').optional();
export const auditLimit = listQuery.shape.limit;

export interface AuditFilters {
  customerId?: string;
  app?: string;
  action?: string;
  actorId?: string;
  targetId?: string;
  from?: string;
  to?: string;
}

/** `to` must come after `from`; named on `to`. */
export function fromBeforeTo(q: { from?: string; to?: string }): boolean {
  return !q.from || !q.to || new Date(q.from).getTime() < new Date(q.to).getTime();
}

export const AUDIT_COLUMNS = [
  'auditEvents.id', 'auditEvents.partnerId', 'auditEvents.customerId', 'auditEvents.seq', 'auditEvents.occurredAt',
  'auditEvents.actorType', 'auditEvents.actorId', 'auditEvents.actorLabel', 'auditEvents.app', 'auditEvents.action',
  'auditEvents.targetType', 'auditEvents.targetId', 'auditEvents.changes', 'auditEvents.requestId', 'auditEvents.ip', 'auditEvents.userAgent',
] as const;

export interface AuditRow {
  id: string;
  partnerId: string | null;
  customerId: string | null;
  seq: string;
  occurredAt: Date;
  actorType: ActorType;
  actorId: string | null;
  actorLabel: string | null;
  app: string;
  action: string;
  targetType: string;
  targetId: string | null;
  changes: Record<string, { before?: unknown; after?: unknown }>;
  requestId: string | null;
  ip: string | null;
  userAgent: string | null;
}

export function toAuditView(r: AuditRow): AuditEventView {
  return {
    id: r.id,
    seq: Number(r.seq),
    occurredAt: r.occurredAt.toISOString(),
    actor: { type: r.actorType, id: r.actorId, label: r.actorLabel },
    app: r.app,
    action: r.action,
    customerId: r.customerId,
    target: { type: r.targetType, id: r.targetId },
    changes: r.changes,
    requestId: r.requestId,
    ip: r.ip,
    userAgent: r.userAgent,
  };
}

type Eb = ExpressionBuilder<Database, 'auditEvents'>;

/** The optional filters, as one condition (always true when none is given). */
export function auditWhere(f: AuditFilters) {
  return (eb: Eb): Expression<SqlBool> => {
    const conditions: Expression<SqlBool>[] = [];
    if (f.customerId !== undefined) conditions.push(eb('auditEvents.customerId', '=', f.customerId));
    if (f.app !== undefined) conditions.push(eb('auditEvents.app', '=', f.app));
    if (f.action !== undefined) conditions.push(eb('auditEvents.action', '=', f.action));
    if (f.actorId !== undefined) conditions.push(eb('auditEvents.actorId', '=', f.actorId));
    if (f.targetId !== undefined) conditions.push(eb('auditEvents.targetId', '=', f.targetId));
    if (f.from !== undefined) conditions.push(eb('auditEvents.occurredAt', '>=', new Date(f.from)));
    if (f.to !== undefined) conditions.push(eb('auditEvents.occurredAt', '<', new Date(f.to)));
    return eb.and(conditions);
  };
}

/**
 * Events strictly after the cursor event in list order. The comparison stays in SQL: occurred_at has microseconds,
 * a JavaScript Date only milliseconds.
 */
export function afterCursor(cursorId: string) {
  return (_eb: Eb): Expression<SqlBool> =>
    sql<SqlBool>`(audit_events.occurred_at, audit_events.seq, audit_events.id) < (select c.occurred_at, c.seq, c.id from audit_events c where c.id = ${cursorId})`;
}

/**
 * A cursor must name an event the caller can see (same partner, and customer on the portal); otherwise 400 naming
 * `cursor`, rather than an empty page that looks like the end.
 */
export async function assertCursor(trx: Trx, cursorId: string, where: { partnerId?: string | null; customerId?: string }): Promise<void> {
  const found = await trx
    .selectFrom('auditEvents')
    .select('id')
    .where('id', '=', cursorId)
    .$if(where.partnerId === null, (q) => q.where('partnerId', 'is', null))
    .$if(typeof where.partnerId === 'string', (q) => q.where('partnerId', '=', where.partnerId!))
    .$if(where.customerId !== undefined, (q) => q.where('customerId', '=', where.customerId!))
    .executeTakeFirst();
  if (!found) throw new DomainError('validation_failed', 'Invalid querystring: cursor: not an event of this list', [{ path: 'cursor', message: 'not an event of this list' }]);
}

/** Fetch `limit + 1`, show `limit`, and give the last id shown as the next cursor when there is more. */
export function pageOf<T extends { id: string }>(rows: T[], limit: number): { rows: T[]; nextCursor: string | null } {
  if (rows.length <= limit) return { rows, nextCursor: null };
  const shown = rows.slice(0, limit);
  return { rows: shown, nextCursor: shown[shown.length - 1]!.id };
}
