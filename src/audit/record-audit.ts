import { beforeCommit, type Trx } from '../platform/database.ts';
import type { Ctx, Principal } from '../platform/context.ts';
import type { ActorType } from '../platform/db-types.ts';
import { newId } from '../platform/ids.ts';
import type { AuthMethod } from './audit-catalog.ts';

export type Changes = Record<string, { before?: unknown; after?: unknown }>;

const SECRET_FIELD = /password|secret|token|code|hash/i;

/**
 * Before/after of each changed field, secrets redacted. Unchanged fields are left out. Values are compared and stored
 * in their JSON form (see `normalise`), so a set, a bigint or a date compares by content, and `undefined` equals `null`.
 */
export function diff(before: Record<string, unknown> | null, after: Record<string, unknown> | null): Changes {
  const keys = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})]);
  const changes: Changes = {};
  for (const key of keys) {
    const b = normalise(before?.[key]);
    const a = normalise(after?.[key]);
    if (JSON.stringify(b) === JSON.stringify(a)) continue;
    const secret = SECRET_FIELD.test(key);
    changes[key] = {
      ...(before ? { before: secret ? '[redacted]' : b } : {}),
      ...(after ? { after: secret ? '[redacted]' : a } : {}),
    };
  }
  return changes;
}

/** The JSON form of a value, at any depth: dates as ISO strings, bigints as decimal strings, sets as arrays, maps as objects. */
function normalise(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Set) return [...(v as Set<unknown>)];
    if (v instanceof Map) return Object.fromEntries(v as Map<unknown, unknown>);
    return v;
  });
  return text === undefined ? null : JSON.parse(text);
}

function actorOf(principal: Principal): { actorType: ActorType; actorId: string | null; actorLabel: string } {
  switch (principal.kind) {
    case 'operator':
      return { actorType: 'operator', actorId: principal.userId, actorLabel: principal.email };
    case 'staff':
    case 'customer':
      return { actorType: 'user', actorId: principal.userId, actorLabel: principal.email };
    case 'api_key':
      return { actorType: 'api_key', actorId: principal.keyId, actorLabel: principal.name };
    case 'system':
      return { actorType: 'system', actorId: null, actorLabel: principal.job };
  }
}

export interface AuditInput {
  /** The partner whose trail this belongs to; defaults to the caller's. Null only for platform-level events. */
  partnerId?: string | null;
  customerId?: string | null;
  app: string;
  action: string;
  targetType: string;
  targetId: string | null;
  changes?: Changes;
  /** Overrides the actor, e.g. a user who is not signed in yet (login). */
  actor?: { actorType: ActorType; actorId: string | null; actorLabel: string };
  /** Overrides how the actor signed in (login events: the method being used); otherwise taken from the principal. */
  authMethod?: AuthMethod;
}

/** How the caller is signed in: a session's method (password, or password + 2FA), an API key, a system job, the operator. */
export function authMethodOf(principal: Principal): AuthMethod {
  switch (principal.kind) {
    case 'operator':
      return 'operator';
    case 'api_key':
      return 'api_key';
    case 'system':
      return 'system';
    case 'staff':
    case 'customer':
      return principal.authMethod ?? 'password';
  }
}

type AuditCtx = Pick<Ctx, 'principal' | 'requestId' | 'ip' | 'userAgent'>;

function auditRow(ctx: AuditCtx, input: AuditInput, id: string) {
  const principalPartner =
    ctx.principal.kind === 'staff' || ctx.principal.kind === 'api_key' || ctx.principal.kind === 'customer' ? ctx.principal.partnerId : null;
  const principalCustomer = ctx.principal.kind === 'customer' ? ctx.principal.customerId : null;
  const actor = input.actor ?? actorOf(ctx.principal);
  return {
    id,
    partnerId: input.partnerId === undefined ? principalPartner : input.partnerId,
    customerId: input.customerId === undefined ? principalCustomer : input.customerId,
    actorType: actor.actorType,
    actorId: actor.actorId,
    actorLabel: actor.actorLabel,
    app: input.app,
    action: input.action,
    targetType: input.targetType,
    targetId: input.targetId,
    changes: JSON.stringify(input.changes ?? {}),
    requestId: ctx.requestId,
    ip: ctx.ip,
    userAgent: ctx.userAgent?.slice(0, 500) ?? null,
    authMethod: input.authMethod ?? authMethodOf(ctx.principal),
  };
}

/**
 * Append one event to the partner's hash-chained trail, inside the caller's transaction:
 * the change and its audit event commit together or not at all.
 */
export async function recordAudit(trx: Trx, ctx: AuditCtx, input: AuditInput): Promise<string> {
  const id = newId('evt');
  await appendAudit(trx, [auditRow(ctx, input, id)]);
  return id;
}

type AuditRow = ReturnType<typeof auditRow>;
/**
 * Events recorded in a transaction opened by `inScope` wait for its end and are inserted together, in the order recorded,
 * just before commit: inserting one takes its partner chain's head lock (the chain trigger), held until commit, so written
 * last the lock is held for one statement and the commit instead of the whole unit of work — concurrent changes of one
 * partner no longer queue behind each other's business logic. Nothing reads an event back in the transaction that wrote it
 * (rows point to their event by id, without a foreign key); a rollback drops them with everything else.
 */
const pendingAudit = new WeakMap<Trx, AuditRow[]>();

async function appendAudit(trx: Trx, rows: AuditRow[]): Promise<void> {
  const queued = pendingAudit.get(trx);
  if (queued) {
    queued.push(...rows);
    return;
  }
  const queue = [...rows];
  if (beforeCommit(trx, () => flushAudit(trx, queue))) pendingAudit.set(trx, queue);
  else await trx.insertInto('auditEvents').values(rows).execute();
}

async function flushAudit(trx: Trx, rows: AuditRow[]): Promise<void> {
  pendingAudit.delete(trx);
  for (let start = 0; start < rows.length; start += AUDIT_INSERT_BATCH) {
    await trx.insertInto('auditEvents').values(rows.slice(start, start + AUDIT_INSERT_BATCH)).execute();
  }
}

/** Rows per insert statement when a transaction's events are written (15 columns: far below the 65,535 parameters). */
const AUDIT_INSERT_BATCH = 2_000;

/**
 * Append several events (each with its own caller and request) in one statement, in order, inside the caller's
 * transaction; `id` lets rows written earlier in the transaction already point to their event.
 */
export async function recordAudits(trx: Trx, events: ReadonlyArray<{ ctx: AuditCtx; input: AuditInput; id?: string }>): Promise<string[]> {
  if (events.length === 0) return [];
  const rows = events.map((e) => auditRow(e.ctx, e.input, e.id ?? newId('evt')));
  await appendAudit(trx, rows);
  return rows.map((r) => r.id);
}
