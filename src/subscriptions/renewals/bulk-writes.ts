import { sql, type RawBuilder } from 'kysely';
import type { Changes } from '../../audit/record-audit.ts';
import type { Trx } from '../../platform/database.ts';
import { newId } from '../../platform/ids.ts';
import { NOTIFICATION_MAX_ATTEMPTS, type NotificationKind } from '../../notifications/enqueue-notification.ts';

/**
 * Set-based versions of `recordAudit` and `enqueueNotification` for the renewal run: many rows in a few statements,
 * inside the caller's transaction. The audit trail's chain trigger still runs once per row (the chain is per partner);
 * each notification still gets its delivery job, enqueued in the same transaction.
 */

/** Rows per INSERT statement (audit rows have 14 parameters: well under PostgreSQL's 65,535). */
const CHUNK_ROWS = 2000;

export interface SystemAuditInput {
  /** Pre-assigned id (a ledger entry written in the same transaction may point to it). */
  id?: string;
  partnerId: string;
  customerId: string;
  app: string;
  action: string;
  targetType: string;
  targetId: string;
  changes: Changes;
}

export interface Actor {
  /** The job's name for the system, e.g. `subscription_renewals`; a user's email when staff acted. */
  actorType: 'system' | 'user' | 'api_key';
  actorId: string | null;
  actorLabel: string;
  requestId: string | null;
  ip: string | null;
  userAgent: string | null;
}

export const systemActor = (job: string): Actor => ({ actorType: 'system', actorId: null, actorLabel: job, requestId: null, ip: null, userAgent: null });

/** Append many events to the trail, in order; returns their ids. */
export async function recordAuditBulk(trx: Trx, actor: Actor, events: readonly SystemAuditInput[]): Promise<string[]> {
  const rows = events.map((e) => [
    e.id ?? newId('evt'), e.partnerId, e.customerId, actor.actorType, actor.actorId, actor.actorLabel, e.app, e.action, e.targetType, e.targetId,
    JSON.stringify(e.changes), actor.requestId, actor.ip, actor.userAgent?.slice(0, 500) ?? null,
  ] as const);
  for (let i = 0; i < rows.length; i += CHUNK_ROWS) {
    await insertUnnest(trx, 'audit_events', [
      ['id', 'text'], ['partner_id', 'text'], ['customer_id', 'text'], ['actor_type', 'text'], ['actor_id', 'text'], ['actor_label', 'text'], ['app', 'text'],
      ['action', 'text'], ['target_type', 'text'], ['target_id', 'text'], ['changes', 'jsonb'], ['request_id', 'text'], ['ip', 'text'], ['user_agent', 'text'],
    ], rows.slice(i, i + CHUNK_ROWS));
  }
  return rows.map((r) => r[0]);
}

export interface BulkNotificationInput {
  partnerId: string;
  customerId: string;
  userId: string | null;
  toEmail: string;
  kind: NotificationKind;
  subject: string;
  bodyText: string;
}

/** Write many notifications to the outbox with their `queued` status and delivery jobs; returns their ids. */
export async function enqueueNotificationsBulk(trx: Trx, notifications: readonly BulkNotificationInput[]): Promise<string[]> {
  if (notifications.length === 0) return [];
  const rows = notifications.map((n) => ({ id: newId('ntf'), ...n }));
  for (let i = 0; i < rows.length; i += CHUNK_ROWS) {
    const chunk = rows.slice(i, i + CHUNK_ROWS);
    await insertUnnest(trx, 'notifications', [
      ['id', 'text'], ['partner_id', 'text'], ['customer_id', 'text'], ['user_id', 'text'], ['to_email', 'text'], ['kind', 'text'], ['subject', 'text'], ['body_text', 'text'],
    ], chunk.map((n) => [n.id, n.partnerId, n.customerId, n.userId, n.toEmail, n.kind, n.subject, n.bodyText]));
    await insertUnnest(trx, 'notification_status_history', [['notification_id', 'text'], ['partner_id', 'text'], ['customer_id', 'text'], ['status', 'text']],
      chunk.map((n) => [n.id, n.partnerId, n.customerId, 'queued']));
    const ids = chunk.map((n) => n.id);
    const payloads = ids.map((id) => JSON.stringify({ notificationId: id }));
    await sql`select folio_enqueue_jobs('deliver_notification', ${payloads}::json[], ${ids}::text[], ${NOTIFICATION_MAX_ATTEMPTS}::int)`.execute(trx);
  }
  return rows.map((r) => r.id);
}

export interface Recipient {
  customerId: string;
  userId: string;
  email: string;
}

/**
 * Who hears about a customer's subscriptions: its active owner, or its active admins when it has no owner (as the
 * automatic top-up does). One query for many customers.
 */
export async function recipientsOf(trx: Trx, partnerId: string, customerIds: readonly string[]): Promise<Map<string, Recipient[]>> {
  const byCustomer = new Map<string, Recipient[]>();
  if (customerIds.length === 0) return byCustomer;
  const { rows } = await sql<{ customerId: string; userId: string; email: string; role: string }>`
    select u.customer_id as "customerId", u.id as "userId", u.email, u.customer_role as role
    from users u
    where u.partner_id = ${partnerId} and u.customer_id = any(${[...customerIds]}::text[]) and u.status = 'active'
      and u.customer_role in ('owner', 'admin')
    order by u.customer_id, u.id`.execute(trx);
  const owners = new Map<string, Recipient[]>();
  const admins = new Map<string, Recipient[]>();
  for (const r of rows) {
    const target = r.role === 'owner' ? owners : admins;
    const list = target.get(r.customerId) ?? [];
    list.push({ customerId: r.customerId, userId: r.userId, email: r.email });
    target.set(r.customerId, list);
  }
  for (const id of customerIds) byCustomer.set(id, owners.get(id) ?? admins.get(id) ?? []);
  return byCustomer;
}

export type ColumnType = 'text' | 'bigint' | 'int' | 'timestamptz' | 'boolean' | 'jsonb' | 'json' | 'char(3)';
export type Cell = string | number | bigint | boolean | Date | null;

/**
 * INSERT many rows with one array parameter per column (`insert ... select * from unnest($1::text[], $2::bigint[], ...)`):
 * a handful of parameters whatever the row count, so a batch of thousands of rows is parsed and bound once, cheaply.
 * `columns` maps each snake_case column to its SQL type; rows give values in that order.
 */
export async function insertUnnest(trx: Trx, table: string, columns: readonly (readonly [string, ColumnType])[], rows: readonly (readonly Cell[])[]): Promise<void> {
  if (rows.length === 0) return;
  const { names, arrays } = unnestOf(columns, rows);
  await sql`insert into ${sql.table(table)} (${names}) select * from unnest(${arrays})`.execute(trx);
}

/** The column names and the typed array parameters (one per column) of rows to `unnest`. */
export function unnestOf(columns: readonly (readonly [string, ColumnType])[], rows: readonly (readonly Cell[])[]): { names: RawBuilder<unknown>; arrays: RawBuilder<unknown> } {
  const values = columns.map((_, i) => rows.map((r) => {
    const v = r[i];
    if (v === undefined || v === null) return null;
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Date) return v.toISOString();
    return v;
  }));
  const names = sql.join(columns.map(([name]) => sql.ref(name)));
  const arrays = sql.join(columns.map(([, type], i) => sql`${values[i]}::${sql.raw(type === 'char(3)' ? 'text' : type)}[]`));
  return { names, arrays };
}

export interface SubscriptionEventRow {
  partnerId: string;
  customerId: string;
  subscriptionId: string;
  kind: string;
  amountMicros: bigint | null;
  currency: string;
  invoiceId: string | null;
  detail: string | null;
  /** JSON text. */
  data: string;
  actor: string;
  auditEventId: string | null;
  occurredAt: Date;
}

/** Append history rows (subscription_events), one statement per 5,000. */
export async function insertSubscriptionEvents(trx: Trx, events: readonly SubscriptionEventRow[]): Promise<void> {
  for (let i = 0; i < events.length; i += 5000) {
    await insertUnnest(trx, 'subscription_events', [
      ['partner_id', 'text'], ['customer_id', 'text'], ['subscription_id', 'text'], ['kind', 'text'], ['amount_micros', 'bigint'], ['currency', 'text'],
      ['invoice_id', 'text'], ['detail', 'text'], ['data', 'jsonb'], ['actor', 'text'], ['audit_event_id', 'text'], ['occurred_at', 'timestamptz'],
    ], events.slice(i, i + 5000).map((e) => [
      e.partnerId, e.customerId, e.subscriptionId, e.kind, e.amountMicros, e.currency, e.invoiceId, e.detail?.slice(0, 500) ?? null, e.data, e.actor, e.auditEventId, e.occurredAt,
    ]));
  }
}
