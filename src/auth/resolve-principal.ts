import { sql } from 'kysely';
import { inScope, readInScope, type Db, type Trx } from '../platform/database.ts';
import type { Principal, SessionAuthMethod } from '../platform/context.ts';
import type { AppName, CustomerRole } from '../platform/db-types.ts';
import { sha256Hex } from '../platform/crypto.ts';

export const SESSION_COOKIE = 'folio_session';
export const CSRF_COOKIE = 'folio_csrf';
export const CSRF_HEADER = 'x-csrf-token';

/** Writes of last-seen times are skipped when the previous one is this recent, to keep reads cheap. */
const TOUCH_EVERY_MS = 30_000;

export interface ResolvedSession {
  principal: Principal;
  csrfToken: string;
}

interface SessionRow {
  sessionId: string;
  csrfToken: string;
  lastSeenAt: Date;
  authMethod: SessionAuthMethod;
  userId: string;
  kind: 'operator' | 'staff' | 'customer';
  partnerId: string | null;
  customerId: string | null;
  customerRole: CustomerRole | null;
  email: string;
  name: string;
  status: string;
  /** Staff only: the apps granted. */
  apps: AppName[] | null;
}

/**
 * Look up a session cookie: valid, not revoked, within idle and absolute expiry; slide the idle expiry. Every signed-in
 * request starts here, so the session, its user and a staff member's apps are read by one statement in one round trip
 * (`readInScope`); the idle expiry is slid by a transaction of its own, at most every TOUCH_EVERY_MS (`touchSession`).
 */
export async function resolveSession(db: Db, token: string, idleMinutes: number): Promise<ResolvedSession | null> {
  if (token.length < 20 || token.length > 200) return null;
  const [row] = await readInScope(db, { kind: 'system' }, sql<SessionRow>`
    select s.id as "sessionId", s.csrf_token as "csrfToken", s.last_seen_at as "lastSeenAt", s.auth_method as "authMethod",
           u.id as "userId", u.kind, u.partner_id as "partnerId", u.customer_id as "customerId", u.customer_role as "customerRole",
           u.email, u.name, u.status,
           case when u.kind = 'staff' then array(select g.app from app_grants g where g.user_id = u.id and g.partner_id = u.partner_id order by g.app) end as apps
      from sessions s
      join users u on u.id = s.user_id
     where s.token_hash = ${sha256Hex(token)} and s.revoked_at is null and s.idle_expires_at > now() and s.absolute_expires_at > now()`);
  if (!row || row.status !== 'active') return null;
  if (Date.now() - row.lastSeenAt.getTime() > TOUCH_EVERY_MS) await touchSession(db, row.sessionId, idleMinutes);
  const { authMethod } = row;
  let principal: Principal;
  if (row.kind === 'operator') {
    principal = { kind: 'operator', userId: row.userId, email: row.email, name: row.name, sessionId: row.sessionId, authMethod };
  } else if (row.kind === 'staff' && row.partnerId) {
    principal = {
      kind: 'staff', userId: row.userId, partnerId: row.partnerId, email: row.email, name: row.name,
      apps: new Set(row.apps ?? []), sessionId: row.sessionId, authMethod,
    };
  } else if (row.kind === 'customer' && row.partnerId && row.customerId && row.customerRole) {
    principal = {
      kind: 'customer', userId: row.userId, partnerId: row.partnerId, customerId: row.customerId, role: row.customerRole,
      email: row.email, name: row.name, sessionId: row.sessionId, authMethod,
    };
  } else {
    return null;
  }
  return { principal, csrfToken: row.csrfToken };
}

/** Sessions whose idle expiry is being slid, by id: a page's requests sent together share one write. */
const sessionTouches = new WeakMap<Db, Map<string, Promise<void>>>();
/**
 * When this process last slid each session (ms): a request whose read began before that write committed still sees
 * the old last-seen time, and must not write again. Forgotten all at once when full.
 */
const sessionTouchedAt = new WeakMap<Db, Map<string, number>>();
const MAX_TOUCHED_SESSIONS = 10_000;

/**
 * Slide a session's idle expiry, at most once every TOUCH_EVERY_MS per process. The requests a page sends at once all
 * read the same old last-seen time: they wait for the one write on its way instead of each writing the row in turn,
 * queued on its lock; and one whose read was still running when that write ended finds it done (it failed on a loaded
 * machine without this: two writes for six requests).
 */
async function touchSession(db: Db, sessionId: string, idleMinutes: number): Promise<void> {
  let touches = sessionTouches.get(db);
  if (!touches) sessionTouches.set(db, (touches = new Map()));
  const pending = touches.get(sessionId);
  if (pending) return pending;
  let touchedAt = sessionTouchedAt.get(db);
  if (!touchedAt) sessionTouchedAt.set(db, (touchedAt = new Map()));
  const last = touchedAt.get(sessionId);
  if (last !== undefined && Date.now() - last < TOUCH_EVERY_MS) return;
  const touch = inScope(db, { kind: 'system' }, async (trx) => {
    await trx
      .updateTable('sessions')
      .set({
        lastSeenAt: sql`now()`,
        idleExpiresAt: sql`least(now() + make_interval(mins => ${idleMinutes}), absolute_expires_at)`,
      })
      .where('id', '=', sessionId)
      .where('revokedAt', 'is', null)
      .execute();
  });
  touches.set(sessionId, touch);
  try {
    await touch;
    if (touchedAt.size >= MAX_TOUCHED_SESSIONS) touchedAt.clear();
    touchedAt.set(sessionId, Date.now());
  } finally {
    touches.delete(sessionId);
  }
}

/**
 * Resolved API keys, for a few seconds: a switch posting calls one by one would otherwise pay a database round trip
 * per request for the same answer. Revoking a key forgets it at once in this process (`forgetApiKey`); another
 * server process stops honouring it within API_KEY_CACHE_MS.
 */
export const API_KEY_CACHE_MS = 5_000;
const MAX_CACHED_KEYS = 1_000;
const apiKeyCache = new WeakMap<Db, Map<string, { principal: Principal & { kind: 'api_key' }; until: number }>>();
/**
 * Lookups on their way, by token hash: requests that miss the cache at the same moment (a switch's clients, each time
 * the entry runs out) share one lookup instead of each running its own and queueing on the key row's last-use update.
 */
const apiKeyLookups = new WeakMap<Db, Map<string, Promise<(Principal & { kind: 'api_key' }) | null>>>();
/** Bumped by every forget: a lookup that began before it does not put what it read into the cache. */
const apiKeyForgets = new WeakMap<Db, { count: number }>();

function forgotten(db: Db): void {
  const forgets = apiKeyForgets.get(db);
  if (forgets) forgets.count++;
  else apiKeyForgets.set(db, { count: 1 });
  apiKeyLookups.get(db)?.clear();
}

/** Drop every cached key of a partner (a staff member lost an app or was disabled: the keys they made lose it too). */
export function forgetPartnerApiKeys(db: Db, partnerId: string): void {
  forgotten(db);
  const cache = apiKeyCache.get(db);
  if (!cache) return;
  for (const [hash, entry] of cache) if (entry.principal.partnerId === partnerId) cache.delete(hash);
}

/** Drop a key from the cache (after it was revoked or changed). */
export function forgetApiKey(db: Db, keyId: string): void {
  forgotten(db);
  const cache = apiKeyCache.get(db);
  if (!cache) return;
  for (const [hash, entry] of cache) if (entry.principal.keyId === keyId) cache.delete(hash);
}

/** How many makers up a key's chain is followed (a key made by a key made by a staff member ...); deeper is refused. */
export const MAX_MAKER_DEPTH = 5;

/**
 * Look up an API key (`Authorization: Bearer fk_...`): not revoked, and its makers still standing. A key made by a staff
 * member uses the apps it was given that the member still holds, and stops when the member is disabled; a key made by
 * another key likewise follows that key (revoked: this one stops too). A key Folio made itself (no maker) keeps its apps.
 * Records its last use at most every 30 s. Requests that miss the cache at the same moment share one lookup.
 */
export async function resolveApiKey(db: Db, token: string): Promise<Principal | null> {
  if (!token.startsWith('fk_') || token.length > 200) return null;
  const hash = sha256Hex(token);
  let cache = apiKeyCache.get(db);
  if (!cache) apiKeyCache.set(db, (cache = new Map()));
  const hit = cache.get(hash);
  if (hit && hit.until > Date.now()) return hit.principal;
  let lookups = apiKeyLookups.get(db);
  if (!lookups) apiKeyLookups.set(db, (lookups = new Map()));
  const pending = lookups.get(hash);
  if (pending) return pending;
  const lookup = lookUpApiKey(db, hash, cache);
  lookups.set(hash, lookup);
  try {
    return await lookup;
  } finally {
    if (lookups.get(hash) === lookup) lookups.delete(hash);
  }
}

async function lookUpApiKey(db: Db, hash: string, cache: Map<string, { principal: Principal & { kind: 'api_key' }; until: number }>): Promise<(Principal & { kind: 'api_key' }) | null> {
  const forgetsBefore = apiKeyForgets.get(db)?.count ?? 0;
  const principal = await inScope(db, { kind: 'system' }, async (trx) => {
    const key = await trx
      .selectFrom('apiKeys')
      .select(['id', 'partnerId', 'name', 'apps', 'lastUsedAt', 'createdBy'])
      .where('tokenHash', '=', hash)
      .where('revokedAt', 'is', null)
      .executeTakeFirst();
    if (!key) return null;
    const apps = await appsLeftByMakers(trx, key.partnerId, new Set<AppName>(key.apps), key.createdBy);
    if (!apps) return null;
    if (!key.lastUsedAt || Date.now() - key.lastUsedAt.getTime() > TOUCH_EVERY_MS) {
      await trx.updateTable('apiKeys').set({ lastUsedAt: sql`now()` }).where('id', '=', key.id).execute();
    }
    return { kind: 'api_key' as const, keyId: key.id, partnerId: key.partnerId, name: key.name, apps };
  });
  if (!principal) {
    cache.delete(hash);
    return null;
  }
  // Forgotten while this lookup ran (revoked, a maker's apps changed): what it read may be from before that; it answers
  // this request, as a lookup finished a moment earlier would have, but the next one reads again.
  if ((apiKeyForgets.get(db)?.count ?? 0) !== forgetsBefore) return principal;
  if (cache.size >= MAX_CACHED_KEYS) cache.delete(cache.keys().next().value!);
  cache.set(hash, { principal, until: Date.now() + API_KEY_CACHE_MS });
  return principal;
}

/**
 * The apps a key may use, walking up its makers: each maker key must be live (its apps bound this one's), the staff
 * member at the top active (their granted apps bound it). Null: a maker was revoked or disabled, or the chain is too deep.
 */
async function appsLeftByMakers(trx: Trx, partnerId: string, apps: Set<AppName>, makerId: string | null): Promise<Set<AppName> | null> {
  let maker = makerId;
  for (let depth = 0; maker !== null; depth++) {
    if (depth >= MAX_MAKER_DEPTH) return null;
    if (maker.startsWith('key_')) {
      const parent = await trx.selectFrom('apiKeys').select(['apps', 'createdBy', 'revokedAt']).where('partnerId', '=', partnerId).where('id', '=', maker).executeTakeFirst();
      if (!parent || parent.revokedAt !== null) return null;
      for (const app of apps) if (!parent.apps.includes(app)) apps.delete(app);
      maker = parent.createdBy;
    } else {
      const user = await trx
        .selectFrom('users')
        .select(['status', 'kind', sql<AppName[]>`array(select g.app from app_grants g where g.user_id = users.id and g.partner_id = users.partner_id)`.as('granted')])
        .where('partnerId', '=', partnerId)
        .where('id', '=', maker)
        .executeTakeFirst();
      if (!user || user.kind !== 'staff' || user.status !== 'active') return null;
      for (const app of apps) if (!user.granted.includes(app)) apps.delete(app);
      maker = null;
    }
  }
  return apps;
}
