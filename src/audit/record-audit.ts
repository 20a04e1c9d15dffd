import { sql } from 'kysely';
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
 * Events recorded in a transaction opened by `inScope` join their partner's hash chain while it commits (migration 0041,
 * ADR 0018 eighth amendment): they are written together, in the order recorded, to `audit_event_queue` just before commit
 * (or earlier: `writeRecordedAudit`), which takes no lock, and a deferred trigger moves them into `audit_events` during the
 * commit. The chain head is locked there and released when the commit is durable, with no round trip to this server in
 * between — concurrent changes of one partner no longer queue behind each other's answers. Nothing reads an event back in
 * the transaction that wrote it (rows point to their event by id, without a foreign key); a rollback drops them with
 * everything else. Outside `inScope` an event is inserted into `audit_events` at once, as before; so are the events of a
 * transaction that records more than AUDIT_QUEUE_MAX_EVENTS (a bulk job), just before its commit.
 */
const pendingAudit = new WeakMap<Trx, AuditRow[]>();

async function appendAudit(trx: Trx, rows: AuditRow[]): Promise<void> {
  const queued = pendingAudit.get(trx);
  if (queued) {
    queued.push(...rows);
    return;
  }
  const queue = [...rows];
  if (beforeCommit(trx, () => flushAudit(trx, queue, true))) pendingAudit.set(trx, queue);
  else await trx.insertInto('auditEvents').values(rows).execute();
}

/** `atEnd`: the unit of work is over (the before-commit hook): nothing is posted after these events. */
async function flushAudit(trx: Trx, rows: AuditRow[], atEnd: boolean): Promise<void> {
  if (pendingAudit.get(trx) === rows) pendingAudit.delete(trx);
  const batch = rows.splice(0); // written once: the before-commit hook finds it empty after an early write
  if (batch.length === 0) return;
  if (atEnd && batch.length > AUDIT_QUEUE_MAX_EVENTS) {
    // A bulk job's events (renewals, statements): straight into the trail, where the chain trigger locks the head now —
    // after the partner's balances queued by this transaction are applied, so that the order of locks stays the one of
    // every commit (the partner's accounts, then the head). Moving each event at commit would cost a trigger call apiece.
    await sql`select ledger_apply_pending_balances()`.execute(trx);
    for (let start = 0; start < batch.length; start += AUDIT_INSERT_BATCH) {
      await trx.insertInto('auditEvents').values(batch.slice(start, start + AUDIT_INSERT_BATCH)).execute();
    }
    return;
  }
  for (let start = 0; start < batch.length; start += AUDIT_INSERT_BATCH) {
    await trx.insertInto('auditEventQueue').values(batch.slice(start, start + AUDIT_INSERT_BATCH)).execute();
  }
}

/** More events than this, written at the end of a transaction, go straight into the trail (see flushAudit). */
const AUDIT_QUEUE_MAX_EVENTS = 100;

/**
 * Write the events recorded so far in this `inScope` transaction now instead of just before commit (they still join the
 * chain at commit). For a transaction whose last statement takes a partner-wide lock (a journal entry on the partner's
 * card clearing): written before it, they are not one more round trip while that lock is held. Always queued, however
 * many: entries may follow, and their partner accounts must be locked before the chain head.
 */
export async function writeRecordedAudit(trx: Trx): Promise<void> {
  const rows = pendingAudit.get(trx);
  if (rows) await flushAudit(trx, rows, false);
}

/** Rows per insert statement when a transaction's events are written (15 columns: far below the 65,535 parameters). */
const AUDIT_INSERT_BATCH = 2_000;

/**
 * The events recorded so far in this `inScope` transaction and not yet written, as one insert into the audit queue, for
 * the caller to run inside its next statement (a CTE) instead of a statement of their own: one round trip fewer. They
 * count as written (the caller must run the insert) and join the chain at commit like every queued event. Null when there
 * is nothing to write, or when the events are not queued (a bare transaction, or more than AUDIT_QUEUE_MAX_EVENTS: those
 * are written as before, at the end).
 */
export function takeRecordedAuditInsert(trx: Trx) {
  const rows = pendingAudit.get(trx);
  if (!rows || rows.length === 0 || rows.length > AUDIT_QUEUE_MAX_EVENTS) return null;
  const batch = rows.splice(0); // the before-commit hook finds it empty
  return trx.insertInto('auditEventQueue').values(batch);
}

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
