import { sql, type ExpressionBuilder, type Expression, type SqlBool } from 'kysely';
import { z } from 'zod';
import type { Trx } from '../platform/database.ts';
import type { ActorType, Database } from '../platform/db-types.ts';
import { DomainError } from '../platform/errors.ts';
import { idOf, instantInYears, listQuery, timestamp } from '../platform/schemas.ts';
import { ACTOR_TYPES, AUDIT_APPS, AUTH_METHODS, type AuthMethod } from './audit-catalog.ts';

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
  /** How the actor was signed in; null on events recorded before this was kept. */
  authMethod: z.enum(AUTH_METHODS).nullable(),
});
export type AuditEventView = z.infer<typeof auditEventSchema>;

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A filter bound: an ISO timestamp with offset (2026-11-30T09:00:00+08:00) or a date (2026-11-30, a UTC day). As an
 * upper bound (`to`, exclusive) a date means the END of that day, so `from=2026-11-01&to=2026-11-30` is all of November 1-30.
 */
export function parseBound(value: string, end: 'from' | 'to'): Date | null {
  // Years 0001-9999 (UTC for an instant), as every date the API takes (src/platform/schemas.ts).
  if ((DATE_ONLY.test(value) || DATE_TIME.test(value)) && !instantInYears(DATE_ONLY.test(value) ? `${value}T00:00:00Z` : value)) return null;
  if (DATE_ONLY.test(value)) {
    const day = new Date(`${value}T00:00:00.000Z`);
    if (Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== value) return null;
    return end === 'to' ? new Date(day.getTime() + 86_400_000) : day;
  }
  if (!DATE_TIME.test(value)) return null;
  const at = new Date(value);
  const [, month, dayOfMonth] = /^\d{4}-(\d{2})-(\d{2})/.exec(value)!;
  if (Number.isNaN(at.getTime()) || Number(month) > 12 || Number(dayOfMonth) > 31) return null;
  return at;
}

const bound = (end: 'from' | 'to') =>
  z.string().max(40).refine((v) => parseBound(v, end) !== null, 'an ISO date (2026-11-30) or timestamp with offset (2026-11-30T09:00:00Z)');

/** Free text: at most 200 characters; matched literally (no wildcards), case-insensitively. */
export const auditQ = z.string().min(1).max(200).refine((v) => v.trim().length > 0, 'not blank');

/** The filters of the staff and operator lists (query parameters). */
export const auditFilterShape = {
  customerId: idOf('cus').optional(),
  app: z.enum(AUDIT_APPS, { error: `one of: ${AUDIT_APPS.join(', ')}` }).optional(),
  action: z.string().regex(/^[a-z_]+(\.[a-z_]+)+$/, 'an action such as customer.created').max(100).optional(),
  /** A user id, an API key id, or `system`. */
  actorId: z.string().min(1).max(100).optional(),
  actorType: z.enum(ACTOR_TYPES).optional(),
  targetType: z.string().regex(/^[a-z_]{1,40}$/, 'a target type such as invoice').optional(),
  targetId: z.string().min(1).max(200).optional(),
  /** Inclusive. */
  from: bound('from').optional(),
  /** Exclusive; a date means up to the end of that day. */
  to: bound('to').optional(),
  q: auditQ.optional(),
};
export const auditCursor = idOf('evt').optional();
export const auditLimit = listQuery.shape.limit;

export interface AuditFilters {
  customerId?: string;
  app?: string;
  action?: string;
  actorId?: string;
  actorType?: ActorType;
  targetType?: string;
  targetId?: string;
  from?: string;
  to?: string;
  q?: string;
}

/** `to` must come after `from`; named on `to`. */
export function fromBeforeTo(q: { from?: string; to?: string }): boolean {
  if (!q.from || !q.to) return true;
  const from = parseBound(q.from, 'from');
  const to = parseBound(q.to, 'to');
  return !from || !to || from.getTime() < to.getTime();
}

/** `%`, `_` and `\` stand for themselves in a LIKE pattern. */
export function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}


export const AUDIT_COLUMNS = [
  'auditEvents.id', 'auditEvents.partnerId', 'auditEvents.customerId', 'auditEvents.seq', 'auditEvents.occurredAt',
  'auditEvents.actorType', 'auditEvents.actorId', 'auditEvents.actorLabel', 'auditEvents.app', 'auditEvents.action',
  'auditEvents.targetType', 'auditEvents.targetId', 'auditEvents.changes', 'auditEvents.requestId', 'auditEvents.ip', 'auditEvents.userAgent',
  'auditEvents.authMethod',
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
  authMethod: AuthMethod | null;
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
    authMethod: r.authMethod,
  };
}

type Eb = ExpressionBuilder<Database, 'auditEvents'>;

/** A page of a partner-scoped list: free text then fetches just this page's candidates (audit_search_page). */
export interface SearchPage {
  limit: number;
  cursorId?: string | undefined;
  /** Or the position itself (the export's batches): strictly before this occurred_at (UTC, microseconds) and seq. */
  before?: { at: string; seq: string } | undefined;
}

/**
 * The optional filters, as one condition (always true when none is given). Free text runs in the database as the owner
 * (migration 0034), where the trigram index can serve it (a LIKE under row-level security cannot use it), with the tenancy
 * check made there: `searchPartner` is the partner searched (null: every partner, operator only). With `page`, only
 * that page's candidates are fetched (`audit_search_page`, all filters and the cursor applied there too); without,
 * every match (`audit_search`), to which the caller's query applies the rest.
 */
export function auditWhere(f: AuditFilters, searchPartner: string | null = null, page?: SearchPage) {
  return (eb: Eb): Expression<SqlBool> => {
    const conditions: Expression<SqlBool>[] = [];
    if (f.customerId !== undefined) conditions.push(eb('auditEvents.customerId', '=', f.customerId));
    if (f.app !== undefined) conditions.push(eb('auditEvents.app', '=', f.app));
    if (f.action !== undefined) conditions.push(eb('auditEvents.action', '=', f.action));
    if (f.actorId === 'system') conditions.push(eb('auditEvents.actorType', '=', 'system'));
    else if (f.actorId !== undefined) conditions.push(eb('auditEvents.actorId', '=', f.actorId));
    if (f.actorType !== undefined) conditions.push(eb('auditEvents.actorType', '=', f.actorType));
    if (f.targetType !== undefined) conditions.push(eb('auditEvents.targetType', '=', f.targetType));
    if (f.targetId !== undefined) conditions.push(eb('auditEvents.targetId', '=', f.targetId));
    const from = f.from === undefined ? null : parseBound(f.from, 'from');
    const to = f.to === undefined ? null : parseBound(f.to, 'to');
    if (from) conditions.push(eb('auditEvents.occurredAt', '>=', from));
    if (to) conditions.push(eb('auditEvents.occurredAt', '<', to));
    if (f.q !== undefined) {
      const pattern = `%${likeLiteral(f.q.toLowerCase())}%`;
      if (page && searchPartner !== null) {
        const system = f.actorId === 'system';
        const cursor = page.cursorId ?? null;
        conditions.push(sql<SqlBool>`audit_events.id in (select audit_search_page(${searchPartner}::text, ${pattern}::text,
          ${f.customerId ?? null}::text, ${f.app ?? null}::text, ${f.action ?? null}::text, ${system ? null : f.actorId ?? null}::text,
          ${system ? 'system' : f.actorType ?? null}::text, ${f.targetType ?? null}::text, ${f.targetId ?? null}::text,
          ${from}::timestamptz, ${to}::timestamptz,
          ${page.before ? sql`${page.before.at}::timestamptz` : sql`(select c.occurred_at from audit_events c where c.id = ${cursor}::text)`},
          ${page.before ? sql`${page.before.seq}::bigint` : sql`(select c.seq from audit_events c where c.id = ${cursor}::text)`},
          ${page.limit}::int))`);
      } else {
        conditions.push(sql<SqlBool>`audit_events.id in (select audit_search(${searchPartner}::text, ${pattern}::text))`);
      }
    }
    return eb.and(conditions);
  };
}

/**
 * Events strictly after the cursor event in list order. The comparison stays in SQL: occurred_at has microseconds,
 * a JavaScript Date only milliseconds. Within one partner (every list but the operator's across partners) (occurred_at,
 * seq) is already unique, and comparing only those keeps the condition leakproof: under row-level security it can then
 * be an index condition, so a page at any depth, and each export batch, starts right at the cursor instead of re-reading
 * every newer event (a text comparison on the id is not leakproof and would be applied only as a filter).
 */
export function afterCursor(cursorId: string, options: { acrossPartners?: boolean } = {}) {
  if (options.acrossPartners) {
    return (_eb: Eb): Expression<SqlBool> =>
      sql<SqlBool>`(audit_events.occurred_at, audit_events.seq, audit_events.id) < (select c.occurred_at, c.seq, c.id from audit_events c where c.id = ${cursorId})`;
  }
  return (_eb: Eb): Expression<SqlBool> =>
    sql<SqlBool>`(audit_events.occurred_at, audit_events.seq) < (select c.occurred_at, c.seq from audit_events c where c.id = ${cursorId})`;
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
