import { sql } from 'kysely';
import type { Executor, Trx } from '../platform/database.ts';
import type { Principal } from '../platform/context.ts';
import { partnerCaller } from '../access/caller.ts';
import { DomainError, notFound, type FieldError } from '../platform/errors.ts';
import { assertIfMatch, versionEtag } from '../platform/etag.ts';
import type { BusinessHours, Destination } from './services.db-types.ts';
import {
  userRefs, VIRTUAL_LINE_COLUMNS, WALLBOARD_COLUMNS, type People, type ServiceListQuery, type VirtualLineRow, type WallboardRow,
} from './service-views.ts';

/** The organisation a service belongs to. Every query below states both. */
export interface Owner {
  partnerId: string;
  customerId: string;
}

/**
 * Names and emails of the organisation's users among `ids` (any status: a removed member still has a name in a summary,
 * marked as no longer answering calls).
 */
export async function peopleOf(db: Executor, owner: Owner, ids: Iterable<string>): Promise<People> {
  const wanted = [...new Set(ids)];
  if (wanted.length === 0) return new Map();
  const rows = await db
    .selectFrom('users')
    .select(['id', 'name', 'email', 'status'])
    .where('partnerId', '=', owner.partnerId)
    .where('customerId', '=', owner.customerId)
    .where('id', 'in', wanted)
    .execute();
  return new Map(rows.map((r) => [r.id, { name: r.name, email: r.email, answers: r.status === 'active' }]));
}

export function lineUserIds(r: Pick<VirtualLineRow, 'destination' | 'businessHours'>): string[] {
  return [...userRefs(r.destination, 'destination'), ...(r.businessHours ? userRefs(r.businessHours.outsideHours, 'businessHours.outsideHours') : [])].map((u) => u.userId);
}

/**
 * Calls can only go to the organisation's active members: not one removed, nor one invited who has not joined (an
 * invitation may never be accepted: another tenant's address, a typo). An unknown id, another organisation's user, a
 * removed or not-yet-joined member: 422 naming each field, never telling which of these it was.
 */
export async function checkDestinationUsers(trx: Trx, owner: Owner, destination: Destination | undefined, businessHours: BusinessHours | null | undefined): Promise<void> {
  const refs = [
    ...(destination ? userRefs(destination, 'destination') : []),
    ...(businessHours ? userRefs(businessHours.outsideHours, 'businessHours.outsideHours') : []),
  ];
  if (refs.length === 0) return;
  const found = await trx
    .selectFrom('users')
    .select('id')
    .where('partnerId', '=', owner.partnerId)
    .where('customerId', '=', owner.customerId)
    .where('kind', '=', 'customer')
    .where('status', '=', 'active')
    .where('id', 'in', [...new Set(refs.map((r) => r.userId))])
    .execute();
  const known = new Set(found.map((f) => f.id));
  const errors: FieldError[] = refs.filter((r) => !known.has(r.userId)).map((r) => ({ path: r.path, message: 'not a member of your organisation' }));
  if (errors.length > 0) {
    throw new DomainError('rule_violation', `Calls can only go to members of your organisation: ${errors.map((e) => e.path).join(', ')}`, errors);
  }
}

/**
 * A service may name the subscription it comes from: it must be one of the organisation's. The subscriptions table arrives
 * with its own migration; until it exists, a well-formed id is kept as given.
 */
export async function checkSubscription(trx: Trx, owner: Owner, subscriptionId: string | null | undefined): Promise<void> {
  if (subscriptionId === undefined || subscriptionId === null) return;
  const table = await sql<{ present: boolean }>`select to_regclass('public.subscriptions') is not null as present`.execute(trx);
  if (!table.rows[0]?.present) return;
  const found = await sql<{ id: string }>`
    select id from subscriptions where id = ${subscriptionId} and partner_id = ${owner.partnerId} and customer_id = ${owner.customerId}
  `.execute(trx);
  if (found.rows.length === 0) {
    throw new DomainError('rule_violation', 'subscriptionId is not a subscription of your organisation', [
      { path: 'subscriptionId', message: 'not a subscription of your organisation' },
    ]);
  }
}

/** The row to change, locked; 404 when it is not this organisation's (never telling whether it exists elsewhere). */
export async function lockVirtualLine(trx: Trx, owner: Owner, id: string): Promise<VirtualLineRow> {
  const row = await trx
    .selectFrom('virtualLines')
    .select(VIRTUAL_LINE_COLUMNS)
    .where('partnerId', '=', owner.partnerId)
    .where('customerId', '=', owner.customerId)
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  if (!row) throw notFound('Virtual line');
  return row;
}

export async function lockWallboard(trx: Trx, owner: Owner, id: string): Promise<WallboardRow> {
  const row = await trx
    .selectFrom('wallboards')
    .select(WALLBOARD_COLUMNS)
    .where('partnerId', '=', owner.partnerId)
    .where('customerId', '=', owner.customerId)
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  if (!row) throw notFound('Wallboard');
  return row;
}

/**
 * Optimistic concurrency: the edit must be based on the version stored now, named by the body's `version` (409
 * `stale_version`) and, when sent, by the `If-Match` header (the ETag of a read, `versionEtag`: 412); removed services
 * are not edited.
 */
export function assertEditable(row: { status: string; version: number }, version: number, what: string, ifMatch?: string): void {
  if (row.status === 'removed') throw new DomainError('state_conflict', `This ${what} was removed`);
  assertIfMatch(ifMatch, () => versionEtag(row.version), what);
  if (row.version !== version) {
    throw new DomainError('stale_version', `This ${what} was changed meanwhile (version ${row.version}, you sent ${version}); reload it and try again`, [
      { path: 'version', message: `stale: the current version is ${row.version}` },
    ]);
  }
}

export async function listVirtualLineRows(db: Executor, owner: Owner, q: ServiceListQuery): Promise<{ rows: VirtualLineRow[]; nextCursor: string | null }> {
  const rows = await db
    .selectFrom('virtualLines')
    .select(VIRTUAL_LINE_COLUMNS)
    .where('partnerId', '=', owner.partnerId)
    .where('customerId', '=', owner.customerId)
    .$if(q.status !== 'all', (qb) => qb.where('status', '=', q.status as 'active' | 'removed'))
    .$if(q.cursor !== undefined, (qb) => qb.where('id', '<', q.cursor!))
    .orderBy('id', 'desc')
    .limit(q.limit + 1)
    .execute();
  return pageOf(rows, q.limit);
}

export async function listWallboardRows(db: Executor, owner: Owner, q: ServiceListQuery): Promise<{ rows: WallboardRow[]; nextCursor: string | null }> {
  const rows = await db
    .selectFrom('wallboards')
    .select(WALLBOARD_COLUMNS)
    .where('partnerId', '=', owner.partnerId)
    .where('customerId', '=', owner.customerId)
    .$if(q.status !== 'all', (qb) => qb.where('status', '=', q.status as 'active' | 'removed'))
    .$if(q.cursor !== undefined, (qb) => qb.where('id', '<', q.cursor!))
    .orderBy('id', 'desc')
    .limit(q.limit + 1)
    .execute();
  return pageOf(rows, q.limit);
}

function pageOf<T extends { id: string }>(rows: T[], limit: number): { rows: T[]; nextCursor: string | null } {
  if (rows.length <= limit) return { rows, nextCursor: null };
  const shown = rows.slice(0, limit);
  return { rows: shown, nextCursor: shown[shown.length - 1]!.id };
}

/**
 * Whose services a read is about: a portal user's own organisation, or (staff, Customer app) the customer in the path,
 * which must be one of the partner's (404 otherwise).
 */
export async function readerOwner(trx: Trx, principal: Principal, customerId: string | undefined): Promise<Owner> {
  if (principal.kind === 'customer') return { partnerId: principal.partnerId, customerId: principal.customerId };
  const { partnerId } = partnerCaller(principal);
  if (customerId === undefined) throw notFound('Customer');
  const found = await trx.selectFrom('customers').select('id').where('partnerId', '=', partnerId).where('id', '=', customerId).executeTakeFirst();
  if (!found) throw notFound('Customer');
  return { partnerId, customerId };
}
