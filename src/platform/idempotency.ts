import { createHash, randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TaskList } from 'graphile-worker';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Principal } from './context.ts';
import { scopeOf } from './context.ts';
import { inScope, type Db, type Scope, type Trx } from './database.ts';
import type { IdempotencyPrincipalKind } from './db-types.ts';
import { DomainError } from './errors.ts';
import type { FolioApp } from './server.ts';

/**
 * `Idempotency-Key` for money-moving writes (../shared/api-conventions.md, "Writes").
 *
 * A route opts in with `config: { idempotent: true }`. Without the header the route runs as usual. With it:
 * - first use: the key is claimed (an `in_progress` row, committed in its own short transaction), the handler runs,
 *   and its answer (status, content type, body bytes) is stored before it is sent; 2xx and 4xx are kept, a 5xx releases
 *   the claim so a retry runs again;
 * - the same key and the same request again: the stored answer is replayed with `Idempotent-Replayed: true`, the
 *   handler does not run;
 * - the same key with another request (method, route, path parameters, query or body): 422 `idempotency_key_reused`;
 *   a route kept as an alias of another (a renamed path) declares `config.idempotencyScope`, the other's URL, and its
 *   keys are that route's: a key used on either path answers the same request on both;
 * - the same key while its first request still runs: 409 `idempotency_key_in_progress` with `Retry-After`; the retry
 *   then gets the replay. (Holding the twin open until the first finishes would tie up a connection and a poll loop
 *   per twin for as long as a handler may take; the IETF idempotency-key draft and Stripe both answer 409.)
 * A key belongs to one caller (staff user, customer user, API key, operator) of one partner, lives at least 24 hours,
 * and is 1..255 printable ASCII characters. A claim left behind by a crashed process is taken over by the same request
 * after `staleClaimSeconds`.
 */

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Honour `Idempotency-Key` on this write (money-moving POSTs). */
    idempotent?: boolean;
    /**
     * The URL (as registered) of the route whose keys this idempotent route shares, for an alias kept when a path is
     * renamed: a client retrying on the new path with the key it used on the old one gets the first answer, not a 422.
     * That route takes the same method, is idempotent itself, shares no other's keys, and is registered first.
     */
    idempotencyScope?: string;
  }
}

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const IDEMPOTENT_REPLAYED_HEADER = 'idempotent-replayed';
export const IDEMPOTENCY_MIN_RETENTION_HOURS = 24;
const KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;

/**
 * The header in a route's schema (`headers: idempotencyKeyHeaders`), so the OpenAPI document shows it: every route with
 * `config: { idempotent: true }` declares it (idempotency.test.ts walks them).
 */
export const idempotencyKeyHeaders = z.looseObject({
  [IDEMPOTENCY_KEY_HEADER]: z.string().max(255).optional()
    .describe('1 to 255 printable ASCII characters. The first answer (2xx or 4xx) to a request is kept at least 24 hours and replayed for the same key and request; the same key with another request is a 422 idempotency_key_reused'),
});
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface IdempotencyOptions {
  /** How long a key is kept; at least 24 (the table refuses less). */
  retentionHours?: number;
  /** An `in_progress` claim older than this is presumed abandoned (the process died) and may be taken over. */
  staleClaimSeconds?: number;
  /** `Retry-After` on the 409 answered to a concurrent twin. */
  retryAfterSeconds?: number;
}

interface Caller {
  partnerId: string | null;
  customerId: string | null;
  kind: IdempotencyPrincipalKind;
  id: string;
  scope: Scope;
}

interface Fingerprint {
  method: string;
  /** The route the key is kept under: the route's own URL, or the one it shares keys with (`idempotencyScope`). */
  route: string;
  hash: string;
  /**
   * Every (route, hash) a kept key of this same request may hold: `route` and `hash` first, then each alias's own URL
   * with the request hashed under it, as a key kept before the alias shared the scope holds (keys live 24 hours, so
   * a client retrying across that change still gets its first answer).
   */
  storedAs: readonly { route: string; hash: string }[];
}

/** What this mechanism knows about one request, from preValidation to onSend. */
type RequestState =
  | { phase: 'captured'; rawBody: unknown; rawParams: unknown; rawQuery: unknown }
  | { phase: 'claimed'; rowId: string; claimToken: string; scope: Scope }
  | { phase: 'done' };

const states = new WeakMap<FastifyRequest, RequestState>();
const registered = new WeakSet<object>();
const idempotentRouteLists = new WeakMap<object, { method: string; url: string }[]>();

/** The routes of this server that honour the key (registered with `config.idempotent`). */
export function idempotentRoutes(app: FolioApp): readonly { method: string; url: string }[] {
  return idempotentRouteLists.get(app) ?? [];
}

/**
 * How deep a request's containers may nest when it carries a key, counted from the body (or query, path parameters) as
 * `findNulText` counts (src/platform/nul-text.ts): a body the route's schema does not bound (a calls batch's records)
 * could otherwise nest deeply enough to exhaust the stack while it is fingerprinted.
 */
export const IDEMPOTENT_MAX_DEPTH = 32;

/** A request nested deeper than `IDEMPOTENT_MAX_DEPTH`: which part, and the path of the container found at that depth. */
class TooDeep extends Error {
  readonly at: readonly (string | number)[];
  constructor(at: readonly (string | number)[]) {
    super('nested too deep');
    this.at = at;
  }
}

/**
 * JSON with object keys sorted at every depth, so `{"a":1,"b":2}` and `{"b":2,"a":1}` are the same request. A container
 * at depth `maxDepth` (the value itself is at depth 0) throws `TooDeep`, naming its path.
 */
export function canonicalJson(value: unknown, maxDepth = Number.POSITIVE_INFINITY): string {
  const path: (string | number)[] = [];
  const walk = (v: unknown): string => {
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'bigint') return JSON.stringify(v.toString());
    if (v instanceof Date) return JSON.stringify(v.toISOString());
    if (typeof v !== 'object') return JSON.stringify(v) ?? 'null';
    if (path.length >= maxDepth) throw new TooDeep([...path]);
    if (Array.isArray(v)) {
      const parts: string[] = [];
      for (let i = 0; i < v.length; i++) {
        path.push(i);
        parts.push(walk(v[i]));
        path.pop();
      }
      return `[${parts.join(',')}]`;
    }
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, inner]) => inner !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const parts: string[] = [];
    for (const [k, inner] of entries) {
      path.push(k);
      parts.push(`${JSON.stringify(k)}:${walk(inner)}`);
      path.pop();
    }
    return `{${parts.join(',')}}`;
  };
  return walk(value);
}

/**
 * The request's fingerprint, under the route its keys are kept by (`scopes`: each idempotent route, `METHOD url`, to the
 * URLs sharing its keys, the one they are kept under first); a 400 naming the field when its body, query or path
 * parameters nest too deep to take one.
 */
function fingerprintOf(req: FastifyRequest, captured: { rawBody: unknown; rawParams: unknown; rawQuery: unknown }, scopes: Map<string, string[]>): Fingerprint {
  const method = req.method;
  const own = req.routeOptions.url ?? req.url.split('?')[0] ?? '';
  const urls = scopes.get(`${method} ${own}`) ?? [own];
  let storedAs: { route: string; hash: string }[];
  try {
    // The parts sit one level below the fingerprint's own object, hence the extra level.
    storedAs = urls.map((route) => ({
      route,
      hash: createHash('sha256').update(canonicalJson({ method, route, params: captured.rawParams, query: captured.rawQuery, body: captured.rawBody }, IDEMPOTENT_MAX_DEPTH + 1)).digest('hex'),
    }));
  } catch (err) {
    if (!(err instanceof TooDeep)) throw err;
    const [part, ...inner] = err.at;
    const field = inner.length === 0 ? String(part) : inner.join('.'); // named as schema errors name them
    const message = `nested deeper than ${IDEMPOTENT_MAX_DEPTH} levels (with an Idempotency-Key)`;
    throw new DomainError('validation_failed', `Invalid ${String(part)}: ${field}: ${message}`, [{ path: field, message }]);
  }
  return { method, route: storedAs[0]!.route, hash: storedAs[0]!.hash, storedAs };
}

/** Whether a kept key's row holds this same request. */
function sameRequest(row: { requestMethod: string; requestRoute: string; requestHash: string }, fp: Fingerprint): boolean {
  return row.requestMethod === fp.method && fp.storedAs.some((s) => s.route === row.requestRoute && s.hash === row.requestHash);
}

function callerOf(principal: Principal | null): Caller {
  switch (principal?.kind) {
    case 'staff':
      return { partnerId: principal.partnerId, customerId: null, kind: 'staff', id: principal.userId, scope: scopeOf(principal) };
    case 'api_key':
      return { partnerId: principal.partnerId, customerId: null, kind: 'api_key', id: principal.keyId, scope: scopeOf(principal) };
    case 'customer':
      return { partnerId: principal.partnerId, customerId: principal.customerId, kind: 'customer', id: principal.userId, scope: scopeOf(principal) };
    case 'operator':
      return { partnerId: null, customerId: null, kind: 'operator', id: principal.userId, scope: scopeOf(principal) };
    default:
      // Routes that opt in are never public (checked at registration), so access control has already found a caller.
      throw new Error(`idempotent route reached without a caller (${principal?.kind ?? 'nobody'})`);
  }
}

/** The header's value, or null when absent; a 400 naming the header when it is malformed or repeated. */
function keyOf(req: FastifyRequest): string | null {
  const value = req.headers[IDEMPOTENCY_KEY_HEADER];
  if (value === undefined) return null;
  const raw = req.raw.rawHeaders;
  let occurrences = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]?.toLowerCase() === IDEMPOTENCY_KEY_HEADER) occurrences++;
  if (Array.isArray(value) || occurrences > 1) {
    throw new DomainError('malformed_request', 'Send one Idempotency-Key header, not several', [
      { path: 'Idempotency-Key', message: 'repeated header' },
    ]);
  }
  if (!KEY_PATTERN.test(value)) {
    throw new DomainError('malformed_request', 'The Idempotency-Key header must be 1 to 255 printable ASCII characters', [
      { path: 'Idempotency-Key', message: '1 to 255 printable ASCII characters' },
    ]);
  }
  return value;
}

type ClaimOutcome =
  | { kind: 'claimed'; rowId: string; claimToken: string }
  | { kind: 'replay'; status: number; contentType: string | null; body: Buffer }
  | { kind: 'reused' }
  | { kind: 'in_progress' };

async function findRow(trx: Trx, caller: Caller, key: string) {
  let q = trx
    .selectFrom('idempotencyKeys')
    .select(['id', 'status', 'requestMethod', 'requestRoute', 'requestHash', 'responseStatus', 'responseContentType', 'responseBody'])
    .select(sql<boolean>`expires_at <= now()`.as('expired'))
    .where('principalKind', '=', caller.kind)
    .where('principalId', '=', caller.id)
    .where('key', '=', key);
  q = caller.partnerId === null ? q.where('partnerId', 'is', null) : q.where('partnerId', '=', caller.partnerId);
  return q.executeTakeFirst();
}

/**
 * Claim `key` for this request in one short transaction: insert an `in_progress` row, or take over a row that expired
 * (a new request may reuse an expired key) or a stale claim of the same request. Otherwise say what the row holds.
 */
async function claim(db: Db, caller: Caller, key: string, fp: Fingerprint, opts: Required<IdempotencyOptions>): Promise<ClaimOutcome> {
  const expiresAt = sql<Date>`now() + make_interval(hours => ${opts.retentionHours})`;
  for (let attempt = 0; attempt < 3; attempt++) {
    const claimToken = randomUUID();
    const outcome = await inScope(db, caller.scope, async (trx): Promise<ClaimOutcome | null> => {
      const fresh = {
        requestMethod: fp.method, requestRoute: fp.route, requestHash: fp.hash, status: 'in_progress' as const, claimToken,
        claimedAt: sql<Date>`now()`, createdAt: sql<Date>`now()`, expiresAt,
        responseStatus: null, responseContentType: null, responseBody: null, completedAt: null,
      };
      const won = await trx
        .insertInto('idempotencyKeys')
        .values({ partnerId: caller.partnerId, customerId: caller.customerId, principalKind: caller.kind, principalId: caller.id, key, ...fresh })
        .onConflict((oc) =>
          oc
            .columns(['partnerId', 'principalKind', 'principalId', 'key'])
            .doUpdateSet(fresh)
            .where((eb) =>
              eb.or([
                eb('idempotencyKeys.expiresAt', '<=', sql<Date>`now()`),
                eb.and([
                  eb('idempotencyKeys.status', '=', 'in_progress'),
                  eb('idempotencyKeys.claimedAt', '<=', sql<Date>`now() - make_interval(secs => ${opts.staleClaimSeconds})`),
                  eb('idempotencyKeys.requestMethod', '=', fp.method),
                  eb.or(fp.storedAs.map((s) => eb.and([eb('idempotencyKeys.requestRoute', '=', s.route), eb('idempotencyKeys.requestHash', '=', s.hash)]))),
                ]),
              ]),
            ),
        )
        .returning(['id', 'claimToken'])
        .executeTakeFirst();
      if (won && won.claimToken === claimToken) return { kind: 'claimed', rowId: won.id, claimToken };

      // Someone else's committed row (ON CONFLICT waited for its transaction). It may vanish (a 5xx released it): try again.
      const row = await findRow(trx, caller, key);
      if (!row || row.expired) return null;
      if (!sameRequest(row, fp)) return { kind: 'reused' };
      if (row.status === 'completed' && row.responseStatus !== null) {
        return { kind: 'replay', status: row.responseStatus, contentType: row.responseContentType, body: row.responseBody ?? Buffer.alloc(0) };
      }
      return { kind: 'in_progress' };
    });
    if (outcome) return outcome;
  }
  return { kind: 'in_progress' };
}

function payloadBytes(payload: unknown): Buffer | null {
  if (payload === null || payload === undefined) return Buffer.alloc(0);
  if (typeof payload === 'string') return Buffer.from(payload, 'utf8');
  if (Buffer.isBuffer(payload)) return payload;
  if (payload instanceof Uint8Array) return Buffer.from(payload);
  return null; // a stream: cannot be kept
}

function headerText(value: ReturnType<FastifyReply['getHeader']>): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(', ') : String(value);
}

async function complete(db: Db, state: { rowId: string; claimToken: string; scope: Scope }, status: number, contentType: string | null, body: Buffer): Promise<boolean> {
  const res = await inScope(db, state.scope, (trx) =>
    trx
      .updateTable('idempotencyKeys')
      .set({
        status: 'completed', claimToken: null, responseStatus: status, responseContentType: contentType, responseBody: body,
        completedAt: sql<Date>`now()`,
      })
      .where('id', '=', state.rowId)
      .where('claimToken', '=', state.claimToken)
      .executeTakeFirst(),
  );
  return res.numUpdatedRows > 0n;
}

async function release(db: Db, state: { rowId: string; claimToken: string; scope: Scope }): Promise<void> {
  await inScope(db, state.scope, (trx) =>
    trx.deleteFrom('idempotencyKeys').where('id', '=', state.rowId).where('claimToken', '=', state.claimToken).execute(),
  );
}

/**
 * Install the mechanism on the server (once; a second call is a no-op). Call it before routes are registered so the
 * registration check below sees every route; the hooks themselves apply to every route of the root instance.
 */
export function registerIdempotency(app: FolioApp, db: Db, options: IdempotencyOptions = {}): void {
  if (registered.has(app)) return;
  registered.add(app);
  const routes: { method: string; url: string }[] = [];
  idempotentRouteLists.set(app, routes);
  // Each idempotent route (`METHOD url`) -> the URLs sharing its keys, the one they are kept under first.
  const scopes = new Map<string, string[]>();
  const opts: Required<IdempotencyOptions> = {
    retentionHours: options.retentionHours ?? IDEMPOTENCY_MIN_RETENTION_HOURS,
    staleClaimSeconds: options.staleClaimSeconds ?? 300,
    retryAfterSeconds: options.retryAfterSeconds ?? 1,
  };
  if (!Number.isInteger(opts.retentionHours) || opts.retentionHours < IDEMPOTENCY_MIN_RETENTION_HOURS) {
    throw new Error(`idempotency keys must live a whole number of hours, at least ${IDEMPOTENCY_MIN_RETENTION_HOURS}`);
  }
  if (!(opts.staleClaimSeconds > 0) || !Number.isInteger(opts.retryAfterSeconds) || opts.retryAfterSeconds < 0) throw new Error('invalid idempotency options');

  // Only writes with a known caller can be idempotent: a key needs an owner, and a read needs no key.
  app.addHook('onRoute', (route) => {
    const scope = route.config?.idempotencyScope;
    if (!route.config?.idempotent) {
      if (scope !== undefined) throw new Error(`route ${String(route.method)} ${route.url} shares the keys of ${scope} but is not idempotent`);
      return;
    }
    const methods = [route.method].flat().map(String);
    if (methods.some((m) => !WRITE_METHODS.has(m))) throw new Error(`route ${methods.join(',')} ${route.url} is idempotent but is not a write`);
    const audience = route.config.access?.audience;
    if (!audience || audience === 'public') throw new Error(`route ${methods.join(',')} ${route.url} is idempotent but has no signed-in caller to own its keys`);
    for (const method of methods) {
      routes.push({ method, url: route.url });
      if (scope === undefined || scope === route.url) {
        scopes.set(`${method} ${route.url}`, [route.url]);
        continue;
      }
      // One level: the scope is a route of its own, so every alias's keys are kept under one URL.
      const shared = scopes.get(`${method} ${scope}`);
      if (!shared || shared[0] !== scope) {
        throw new Error(`route ${method} ${route.url} shares the keys of ${method} ${scope}, which must be registered before it, idempotent and sharing no other's keys`);
      }
      shared.push(route.url);
      scopes.set(`${method} ${route.url}`, shared);
    }
  });

  // Keep what the client sent (before schemas transform it): "the same body" means the same request.
  app.addHook('preValidation', async (req) => {
    if (!req.routeOptions.config.idempotent || req.headers[IDEMPOTENCY_KEY_HEADER] === undefined) return;
    states.set(req, { phase: 'captured', rawBody: req.body, rawParams: req.params, rawQuery: req.query });
  });

  // After access control and validation: claim the key, or answer from it.
  app.addHook('preHandler', async (req, reply) => {
    if (!req.routeOptions.config.idempotent) return;
    const key = keyOf(req);
    if (key === null) return;
    const captured = states.get(req);
    const fp = fingerprintOf(req, captured?.phase === 'captured' ? captured : { rawBody: req.body, rawParams: req.params, rawQuery: req.query }, scopes);
    const caller = callerOf(req.principal);
    const outcome = await claim(db, caller, key, fp, opts);
    switch (outcome.kind) {
      case 'claimed':
        states.set(req, { phase: 'claimed', rowId: outcome.rowId, claimToken: outcome.claimToken, scope: caller.scope });
        return;
      case 'reused':
        states.set(req, { phase: 'done' });
        throw new DomainError('idempotency_key_reused', 'This Idempotency-Key was already used for a different request; send a new key for a new request', [
          { path: 'Idempotency-Key', message: 'already used for a different request' },
        ]);
      case 'in_progress':
        states.set(req, { phase: 'done' });
        reply.header('retry-after', String(opts.retryAfterSeconds));
        throw new DomainError('idempotency_key_in_progress', 'A request with this Idempotency-Key is still being processed; retry shortly to get its answer', [
          { path: 'Idempotency-Key', message: 'in progress' },
        ]);
      case 'replay':
        states.set(req, { phase: 'done' });
        req.log.info({ idempotencyKey: key, status: outcome.status }, 'idempotent replay');
        reply.code(outcome.status).header(IDEMPOTENT_REPLAYED_HEADER, 'true');
        if (outcome.contentType) reply.header('content-type', outcome.contentType);
        return outcome.body.length === 0 && !outcome.contentType ? reply.send() : reply.send(outcome.body);
    }
  });

  // The final answer, before it leaves: keep it (2xx, 4xx) or release the claim (5xx) so a retry can run.
  app.addHook('onSend', async (req, reply, payload) => {
    const state = states.get(req);
    if (state?.phase !== 'claimed') return payload;
    states.set(req, { phase: 'done' });
    try {
      const bytes = payloadBytes(payload);
      if (reply.statusCode >= 500) {
        await release(db, state);
      } else if (bytes === null) {
        req.log.error({ route: req.routeOptions.url }, 'idempotent route answered with a stream; its answer cannot be kept, the key is released');
        await release(db, state);
      } else if (!(await complete(db, state, reply.statusCode, headerText(reply.getHeader('content-type')), bytes))) {
        req.log.warn({ route: req.routeOptions.url }, 'idempotency claim was taken over before this answer was kept');
      }
    } catch (err) {
      // The answer still goes out; the claim stays in progress and is taken over once stale.
      req.log.error({ err }, 'could not keep the idempotent answer');
    }
    return payload;
  });
}

/** Delete up to `batchSize` expired keys (oldest first); returns how many went. Any pool works: it runs as the system. */
export async function cleanupExpiredIdempotencyKeys(db: Db, batchSize: number): Promise<number> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error('batchSize must be a positive integer');
  return inScope(db, { kind: 'system' }, async (trx) => {
    // The batch is picked once, in a materialized CTE: as an IN (subquery), PostgreSQL may rescan the LIMITed subquery
    // per row and delete more than `batchSize`.
    const res = await trx
      .with((cte) => cte('doomed').materialized(), (q) =>
        q.selectFrom('idempotencyKeys').select('id').where('expiresAt', '<=', sql<Date>`now()`).orderBy('expiresAt').orderBy('id').limit(batchSize).forUpdate().skipLocked(),
      )
      .deleteFrom('idempotencyKeys')
      .where('id', 'in', (eb) => eb.selectFrom('doomed').select('doomed.id'))
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  });
}

export const IDEMPOTENCY_CLEANUP_TASK = 'idempotency_keys_cleanup';
/** graphile-worker crontab line: hourly, one attempt (the next hour retries anyway). */
export const IDEMPOTENCY_CLEANUP_CRONTAB = `23 * * * * ${IDEMPOTENCY_CLEANUP_TASK} ?max=1`;

/** The cleanup job for the worker: at most `maxBatches` batches of `batchSize` per run, so one run stays short. */
export function idempotencyTasks(deps: { db: Db; log: Logger; batchSize?: number; maxBatches?: number }): TaskList {
  const batchSize = deps.batchSize ?? 5000;
  const maxBatches = deps.maxBatches ?? 20;
  return {
    [IDEMPOTENCY_CLEANUP_TASK]: async () => {
      let total = 0;
      for (let i = 0; i < maxBatches; i++) {
        const deleted = await cleanupExpiredIdempotencyKeys(deps.db, batchSize);
        total += deleted;
        if (deleted < batchSize) break;
      }
      if (total > 0) deps.log.info({ deleted: total }, 'expired idempotency keys deleted');
    },
  };
}
