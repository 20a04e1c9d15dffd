import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope, type Trx } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { asRule, idOf, isoDay, isoInstant, listQuery, timestamp } from '../platform/schemas.ts';
import { AUDIT_COLUMNS, afterCursor, assertCursor, auditCursor, pageOf, type AuditRow } from './audit-view.ts';
import { csvRow } from './csv.ts';
import {
  PORTAL_ACTIONS, PORTAL_AUDIT_TYPES, PORTAL_AUDIT_TYPE_LABELS, peopleIdsOf, portalActionsOf, portalChanges, type PortalAuditType,
} from './portal-audit-catalog.ts';

/**
 * The customer portal's Audit section. What a portal user sees of an event: who did it in the organisation's terms (a
 * member by name, the provider by its name, or the system), when, what (the section's type and the action), on what,
 * and the allow-listed changes (portal-audit-catalog.ts). Never the partner-side details: no IP, user agent, request
 * id, staff identities, costs, margins or staff remarks, and only actions the catalog lists.
 */
export const portalAuditEventSchema = z.object({
  id: z.string(),
  occurredAt: timestamp,
  type: z.enum(PORTAL_AUDIT_TYPES),
  actor: z.object({
    type: z.enum(['member', 'provider', 'system']),
    /** The member's user id (to filter by person); null for the provider and the system. */
    id: z.string().nullable(),
    label: z.string(),
  }),
  app: z.string(),
  action: z.string(),
  target: z.object({
    type: z.string(),
    id: z.string().nullable(),
    /** A person's name when the target is a member of the organisation. */
    label: z.string().nullable(),
  }),
  changes: z.record(z.string(), z.object({ before: z.unknown().optional(), after: z.unknown().optional() })),
});
export type PortalAuditEventView = z.infer<typeof portalAuditEventSchema>;

/** A day (`2026-11-30`, the whole day in UTC) or an instant (RFC 3339). */
const dayOrInstant = z.union([isoDay, isoInstant], { error: 'a date (2026-11-30) or a date-time (RFC 3339)' });

export const portalAuditFilterShape = {
  type: z.enum(PORTAL_AUDIT_TYPES, { error: `one of: ${PORTAL_AUDIT_TYPES.join(', ')}` }).optional(),
  /** Actions of one member (owners and admins; for members and guests it can only narrow to themselves). */
  personId: idOf('usr').optional(),
  /** Inclusive; a day starts at 00:00 UTC. */
  from: dayOrInstant.optional(),
  /** A day is inclusive (until the end of that day, UTC); an instant is exclusive. */
  to: dayOrInstant.optional(),
};

export const portalAuditQuery = z
  .strictObject({
    ...portalAuditFilterShape,
    limit: listQuery.shape.limit,
    cursor: auditCursor,
    format: z.enum(['json', 'csv']).optional(),
  })
  .refine((q) => !q.from || !q.to || startOf(q.from) < endOf(q.to), asRule('must be later than from', ['to']));

export interface PortalAuditFilters {
  type?: PortalAuditType;
  personId?: string;
  from?: string;
  to?: string;
}

export interface PortalListAuditEventsInput extends PortalAuditFilters {
  limit: number;
  cursor?: string;
}

const isDay = (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s);
function startOf(s: string): Date {
  return isDay(s) ? new Date(`${s}T00:00:00Z`) : new Date(s);
}
function endOf(s: string): Date {
  return isDay(s) ? new Date(new Date(`${s}T00:00:00Z`).getTime() + 86_400_000) : new Date(s);
}

type CustomerPrincipal = Extract<Ctx['principal'], { kind: 'customer' }>;

function customerOf(ctx: Ctx): CustomerPrincipal {
  const p = ctx.principal;
  if (p.kind !== 'customer') throw new DomainError('forbidden', 'Only user-portal users can do this');
  return p;
}

type PortalRow = AuditRow & { memberName: string | null; memberEmail: string | null; targetName: string | null };

/** One page (or batch) of the organisation's visible events, newest first, in the list's keyset order. */
async function selectEvents(trx: Trx, p: CustomerPrincipal, f: PortalAuditFilters, after: string | undefined, limit: number): Promise<PortalRow[]> {
  const seesAll = p.role === 'owner' || p.role === 'admin';
  const actions = f.type ? portalActionsOf(f.type) : Object.keys(PORTAL_ACTIONS);
  return trx
    .selectFrom('auditEvents')
    .leftJoin('users as member', (join) =>
      join
        .onRef('member.id', '=', 'auditEvents.actorId')
        .on('auditEvents.actorType', '=', 'user')
        .on('member.partnerId', '=', p.partnerId)
        .on('member.customerId', '=', p.customerId),
    )
    .leftJoin('users as targetUser', (join) =>
      join
        .onRef('targetUser.id', '=', 'auditEvents.targetId')
        .on('auditEvents.targetType', '=', 'user')
        .on('targetUser.partnerId', '=', p.partnerId)
        .on('targetUser.customerId', '=', p.customerId),
    )
    .select([...AUDIT_COLUMNS, 'member.name as memberName', 'member.email as memberEmail', 'targetUser.name as targetName'])
    .where('auditEvents.partnerId', '=', p.partnerId)
    .where('auditEvents.customerId', '=', p.customerId)
    .where('auditEvents.action', 'in', actions)
    .$if(!seesAll, (q) => q.where('auditEvents.actorType', '=', 'user').where('auditEvents.actorId', '=', p.userId))
    .$if(f.personId !== undefined, (q) => q.where('auditEvents.actorType', '=', 'user').where('auditEvents.actorId', '=', f.personId!))
    .$if(f.from !== undefined, (q) => q.where('auditEvents.occurredAt', '>=', startOf(f.from!)))
    .$if(f.to !== undefined, (q) => q.where('auditEvents.occurredAt', '<', endOf(f.to!)))
    .$if(after !== undefined, (q) => q.where(afterCursor(after!)))
    .orderBy('auditEvents.occurredAt', 'desc')
    .orderBy('auditEvents.seq', 'desc')
    .orderBy('auditEvents.id', 'desc')
    .limit(limit)
    .execute();
}

/** Names of the organisation's people that the events' changes mention by id (e.g. the new owner). */
async function peopleNames(trx: Trx, p: CustomerPrincipal, rows: readonly PortalRow[]): Promise<Map<string, string>> {
  const ids = peopleIdsOf(rows);
  if (ids.length === 0) return new Map();
  const found = await trx
    .selectFrom('users')
    .select(['id', 'name', 'email'])
    .where('partnerId', '=', p.partnerId)
    .where('customerId', '=', p.customerId)
    .where('id', 'in', ids)
    .execute();
  return new Map(found.map((u) => [u.id, u.name || u.email]));
}

async function providerName(trx: Trx, p: CustomerPrincipal): Promise<string> {
  const partner = await trx.selectFrom('partners').select('name').where('id', '=', p.partnerId).executeTakeFirst();
  return partner?.name ?? 'Your provider';
}

function toPortalView(r: PortalRow, provider: string, names: Map<string, string>): PortalAuditEventView {
  const actor: PortalAuditEventView['actor'] =
    r.memberName !== null || r.memberEmail !== null ? { type: 'member', id: r.actorId, label: r.memberName || r.memberEmail || 'A member' }
      : r.actorType === 'system' ? { type: 'system', id: null, label: 'System' }
        : { type: 'provider', id: null, label: provider };
  return {
    id: r.id,
    occurredAt: r.occurredAt.toISOString(),
    type: PORTAL_ACTIONS[r.action]!.type,
    actor,
    app: r.app,
    action: r.action,
    target: { type: r.targetType, id: r.targetId, label: r.targetName },
    changes: portalChanges(r.action, r.changes, (id) => names.get(id)),
  };
}

/**
 * The portal's Audit section: the organisation's own events, newest first (order: see audit-view.ts). Owners and
 * admins see every listed event of the organisation; members and guests only what they did themselves.
 */
export async function portalListAuditEvents(
  ctx: Ctx,
  input: PortalListAuditEventsInput,
): Promise<{ data: PortalAuditEventView[]; nextCursor: string | null }> {
  const p = customerOf(ctx);
  return inScope(ctx.db, scopeOf(p), async (trx) => {
    if (input.cursor !== undefined) await assertCursor(trx, input.cursor, { partnerId: p.partnerId, customerId: p.customerId });
    const rows = await selectEvents(trx, p, input, input.cursor, input.limit + 1);
    const page = pageOf(rows, input.limit);
    const [provider, names] = await Promise.all([providerName(trx, p), peopleNames(trx, p, page.rows)]);
    return { data: page.rows.map((r) => toPortalView(r, provider, names)), nextCursor: page.nextCursor };
  });
}

/** Rows per query while streaming the CSV: memory and transaction length stay bounded. */
export const PORTAL_CSV_BATCH_SIZE = 500;

export const PORTAL_CSV_HEADER = ['occurredAt', 'type', 'action', 'person', 'personType', 'targetType', 'target', 'changes', 'eventId'] as const;

function csvLine(v: PortalAuditEventView): string {
  return csvRow([
    v.occurredAt, PORTAL_AUDIT_TYPE_LABELS[v.type], v.action, v.actor.label, v.actor.type, v.target.type, v.target.label ?? v.target.id,
    JSON.stringify(v.changes), v.id,
  ]);
}

/**
 * The same list as CSV, every page from the cursor on: checked before answering (a bad cursor is a 400, not a broken
 * download), then read in batches, each in its own short transaction, so a slow download holds nothing open.
 */
export async function portalExportAuditEventsCsv(
  ctx: Ctx,
  input: PortalAuditFilters & { cursor?: string; batchSize?: number },
): Promise<AsyncIterable<string>> {
  const p = customerOf(ctx);
  const scope = scopeOf(p);
  const batchSize = input.batchSize ?? PORTAL_CSV_BATCH_SIZE;
  const provider = await inScope(ctx.db, scope, async (trx) => {
    if (input.cursor !== undefined) await assertCursor(trx, input.cursor, { partnerId: p.partnerId, customerId: p.customerId });
    return providerName(trx, p);
  });

  async function* chunks(): AsyncGenerator<string> {
    yield csvRow(PORTAL_CSV_HEADER);
    let after = input.cursor;
    for (;;) {
      const lines = await inScope(ctx.db, scope, async (trx) => {
        const rows = await selectEvents(trx, p, input, after, batchSize);
        const names = await peopleNames(trx, p, rows);
        return { text: rows.map((r) => csvLine(toPortalView(r, provider, names))).join(''), count: rows.length, last: rows.at(-1)?.id };
      });
      if (lines.count > 0) yield lines.text;
      if (lines.count < batchSize) return;
      after = lines.last;
    }
  }
  return chunks();
}
