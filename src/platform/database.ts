import { AsyncLocalStorage } from 'node:async_hooks';
import assert from 'node:assert/strict';
import {
  CamelCasePlugin, CompiledQuery, Kysely, PostgresDialect, PostgresDriver, sql,
  type DatabaseConnection, type Driver, type PostgresDialectConfig, type RawBuilder, type Transaction, type TransactionSettings,
} from 'kysely';
import { createRequire } from 'node:module';
import pg from 'pg';
import type { Database } from './db-types.ts';
import { PgArray } from './pg-array.ts';

/** The driver's own conversion of a parameter to its text form (arrays, dates, JSON), for values written into a script. */
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as { prepareValue: (value: unknown) => unknown };

export type Db = Kysely<Database>;
export type Trx = Transaction<Database>;
/** Either the pool-backed Kysely or an open transaction: repositories take this first. */
export type Executor = Db | Trx;

/** Who a unit of work runs for. Row-level security reads these settings; every query still states its partner. */
export type Scope =
  | { kind: 'system' }
  | { kind: 'partner'; partnerId: string }
  | { kind: 'customer'; partnerId: string; customerId: string };

export interface DatabaseHandle {
  db: Db;
  pool: pg.Pool;
  close(): Promise<void>;
}

/**
 * Connections a pool keeps open when idle, as many as it opened up to this (pg-pool's `min`). A quiet server's next
 * request then finds a session that has its role set, its statements prepared and its catalog caches filled, instead
 * of paying a new connection: PostgreSQL's fork and authentication, `set role`, and the first statements' parse and
 * plan. Above them, connections opened for a burst close after idling `idleTimeoutMs`. Measured on the embedded server
 * (TCP, scram-sha-256), a one-statement read after the pool had closed its idle connections: ~65 ms, nearly all of it
 * the new connection (authentication, then preparing again); on a warm one: ~1.5 ms.
 */
const WARM_CONNECTIONS = 2;

/**
 * Open a pool. With `appRole`, every connection switches to the unprivileged `folio_app` role, to which
 * row-level security and the audit trail's append-only grants apply.
 */
export function openDatabase(
  url: string,
  options: {
    appRole: boolean;
    max?: number;
    onError?: (err: Error) => void;
    /** Prepare statements with parameters once per connection (default true; false behind a transaction-pooling proxy). */
    prepareStatements?: boolean;
    /** Connections kept open however long they idle (default WARM_CONNECTIONS); the others close after idleTimeoutMs. */
    warmConnections?: number;
    /** How long a connection above the warm ones may stay idle before it closes (default 30 s). */
    idleTimeoutMs?: number;
  },
): DatabaseHandle {
  const max = options.max ?? 20;
  const pool = new pg.Pool({
    connectionString: url, max, idleTimeoutMillis: options.idleTimeoutMs ?? 30_000,
    min: Math.min(options.warmConnections ?? WARM_CONNECTIONS, max),
    // Warm connections idle for long: keep-alive probes keep a firewall or NAT from forgetting them silently, and find a
    // peer that is gone (the pool then drops that connection and reports it through onError).
    keepAlive: true, keepAliveInitialDelayMillis: 60_000,
  });
  pool.on('error', (err) => options.onError?.(err));
  // Connections still open (pg-pool's end() resolves once it has asked each to end, before its socket closes).
  const open = new Set<pg.PoolClient>();
  pool.on('connect', (client) => {
    open.add(client);
    client.on('end', () => open.delete(client));
    client.on('error', (err) => options.onError?.(err));
    wrapQueries(client, options.prepareStatements !== false);
  });
  // Every app connection switches to the unprivileged role before its first query, and a failure to do so fails
  // that connection (never silently running as the owner, which would bypass row-level security).
  const onCreateConnection = options.appRole
    ? async (connection: { executeQuery: (q: CompiledQuery) => Promise<unknown> }) => {
        await connection.executeQuery(CompiledQuery.raw('set role folio_app'));
      }
    : undefined;
  const db = new Kysely<Database>({
    dialect: new ScopedPostgresDialect({ pool, ...(onCreateConnection ? { onCreateConnection } : {}) }),
    plugins: [new CamelCasePlugin()],
  });
  return {
    db,
    pool,
    close: async () => {
      await db.destroy();
      if (!pool.ended) await pool.end(); // Kysely ends the pool only if it used it
      // Closed means disconnected: a server stopped right after (the embedded one at shutdown) then finds no session
      // of ours to terminate, and no connection reports "terminating connection due to administrator command".
      for (let waitedMs = 0; open.size > 0 && waitedMs < CLOSE_WAIT_MAX_MS; waitedMs += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    },
  };
}

/** How long `close` waits at most for the pool's connections to disconnect. */
const CLOSE_WAIT_MAX_MS = 5_000;

/** Named (prepared) statements per connection at most; statements seen after that run unnamed, as before. */
const PREPARED_PER_CONNECTION = 256;
/** Longer statement texts (large multi-row inserts) are not kept prepared. */
const PREPARED_MAX_TEXT_CHARS = 8_192;
/**
 * A statement carrying an array of more values than this runs unnamed, so it is planned for those values every time.
 * A prepared statement's generic plan assumes an array of a handful of values: a batch job's `= any($1)` over 1,000 ids
 * ran on such a plan, and the monthly statements of 10,000 customers took 48 s instead of 7 s (bench:statements).
 */
const PREPARED_MAX_ARRAY_VALUES = 100;
/**
 * A statement whose text starts with this mark is prepared whatever the size of its arrays. For statements whose
 * arrays only probe unique indexes and whose joins go by primary key, so that one kept plan is right for any number of
 * values and planning one for every batch is work for nothing (the call charge's wallet lock: ADR 0018, decision 34).
 */
export const ANY_ARRAY_SIZE_MARK = '/* folio: one plan for any array size */';

/**
 * Every statement with parameters is prepared once per connection and then only bound and executed: the same text,
 * the same name. PostgreSQL then skips parsing it again and, after five executions, may keep one generic plan when it
 * costs no more than planning each time (plan_cache_mode auto) — under row-level security, planning was a third of
 * the database's time in a portal pay (bench/invoice-pay.ts, BENCH_PAY_PG_STATEMENTS=1). Bounded per connection;
 * statements without parameters (begin, commit, multi-statement scripts) stay on the simple protocol, and batches
 * (an array parameter of more than PREPARED_MAX_ARRAY_VALUES values) are planned each time, unless their text starts
 * with ANY_ARRAY_SIZE_MARK. A `readInScope` script
 * (ONE_TRIP_MARK) is answered with its statement's own result, prepared or not.
 */
function wrapQueries(client: pg.PoolClient, prepare: boolean): void {
  const names = new Map<string, string>();
  /** Names the server has parsed on this connection (a statement that ran once by name), which a script may `execute`. */
  const parsed = new Set<string>();
  const oneTrip = { names: new Map<string, string>(), prepares: 0 };
  /** A scoped `begin` not sent yet: it goes with the transaction's first statement (DeferredBegin). */
  let deferredBegin: string | null = null;
  const query = client.query.bind(client) as (config: unknown, values?: unknown, callback?: unknown) => unknown;
  const send = (config: unknown, values?: unknown): Promise<unknown> => sendWithCallback(query, config, values);
  const wrapped = (config: unknown, values?: unknown, callback?: unknown): unknown => {
    if (config === DEFERRED_BEGIN_MARK && Array.isArray(values) && values[0] instanceof DeferredBegin) {
      assert(deferredBegin === null, 'one transaction at a time per connection');
      deferredBegin = values[0].script;
      return Promise.resolve({ command: 'BEGIN', rowCount: null, rows: [], fields: [] });
    }
    if (deferredBegin !== null) {
      const begin = deferredBegin;
      deferredBegin = null;
      assert(callback === undefined, 'a deferred begin goes with a promise-style query');
      // A unit of work that failed before its first statement: nothing was begun, nothing to roll back.
      if (config === 'rollback') return Promise.resolve({ command: 'ROLLBACK', rowCount: null, rows: [], fields: [] });
      return withBegin(begin, config, values);
    }
    if (config === ONE_TRIP_MARK && Array.isArray(values) && values[0] instanceof OneTripRead) {
      return runOneTrip(send, prepare ? oneTrip : null, values[0]);
    }
    const name = preparedName(config, values);
    if (name !== undefined) {
      if (callback !== undefined) return query({ name, text: config, values }, callback);
      if (parsed.has(name)) return send({ name, text: config, values });
      return send({ name, text: config, values }).then((result) => {
        parsed.add(name);
        return result;
      });
    }
    // A query object of its own (a cursor, a copy stream) is handed back as it is, as node-postgres does.
    const submittable = typeof (config as { submit?: unknown } | null)?.submit === 'function';
    return callback !== undefined || submittable ? query(config, values, callback) : send(config, values);
  };

  function preparedName(config: unknown, values: unknown): string | undefined {
    if (!prepare || typeof config !== 'string' || !Array.isArray(values) || values.length === 0 || config.length > PREPARED_MAX_TEXT_CHARS
      || (!config.startsWith(ANY_ARRAY_SIZE_MARK) && values.some((v) => (Array.isArray(v) || v instanceof PgArray) && v.length > PREPARED_MAX_ARRAY_VALUES))) return undefined;
    let name = names.get(config);
    if (name === undefined && names.size < PREPARED_PER_CONNECTION) {
      name = `folio_${names.size}`;
      names.set(config, name);
    }
    return name;
  }

  /**
   * The transaction's first statement with its `begin`: in ONE script (`begin; set_config...; execute name(literals)`)
   * when the statement is already parsed on this connection and every value can be written as a literal; otherwise
   * the `begin` first, then the statement as usual. Answers the statement's own result.
   */
  async function withBegin(begin: string, config: unknown, values: unknown): Promise<unknown> {
    const name = preparedName(config, values);
    if (name !== undefined && parsed.has(name)) {
      const literals = (values as unknown[]).map(scriptLiteral);
      const script = `${begin}; execute ${name}(${literals.join(', ')})`;
      if (!literals.includes(null) && script.length <= DEFERRED_BEGIN_MAX_SCRIPT_CHARS) {
        const results = await send(script);
        assert(Array.isArray(results) && results.length === 3, 'a begin with its first statement answers 3 results');
        return results[2];
      }
    }
    await send(begin);
    return wrapped(config, values);
  }
  Object.assign(client, { query: wrapped });
}

/**
 * A query through node-postgres' callback form, answered as a promise (ADR 0025). Its promise form creates the query
 * first and sets the query's callback afterwards; on Node 24 every query made so then kept its result rows alive through
 * the young generation's collections until the next full one: ~1 MB promoted per scavenge, each scavenge ~2.5 ms
 * instead of ~0.3 ms, one in every ~20 feed requests. As node-postgres does, a failure's stack is taken again here so
 * that it leads back to the code that sent the query, not to the socket's read.
 */
function sendWithCallback(query: (config: unknown, values?: unknown, callback?: unknown) => unknown, config: unknown, values: unknown): Promise<unknown> {
  return new Promise<unknown>((resolve, reject) => {
    query(config, values, (err: Error | null, result: unknown) => (err ? reject(err) : resolve(result)));
  }).catch((err: unknown) => {
    if (err instanceof Error) Error.captureStackTrace(err);
    throw err;
  });
}

/** What `ScopedPostgresDriver` hands its connection: the scoped `begin`, to be sent with the first statement. */
class DeferredBegin {
  readonly script: string;
  constructor(script: string) {
    this.script = script;
  }
}
const DEFERRED_BEGIN_MARK = '/* folio: begin with the first statement */';
/** The largest script a deferred begin and its first statement are sent as; longer ones go in two round trips. */
const DEFERRED_BEGIN_MAX_SCRIPT_CHARS = 32_768;

/**
 * A parameter as a quoted SQL literal of its text form, exactly what the driver would send as that parameter (its own
 * `prepareValue`: arrays, dates, JSON), quoted by its own `escapeLiteral`; typed by the prepared statement it is passed
 * to. Null for binary values (Buffer), which travel as parameters only.
 */
function scriptLiteral(value: unknown): string | null {
  const text = prepareValue(value);
  if (text === null) return 'null';
  if (typeof text !== 'string') return null;
  // The driver's `escapeLiteral` copies the text character by character (~7 µs for a transaction's 16 customer and call
  // ids, on the path where the partner's next charge waits); a text with neither a quote nor a backslash comes out of it
  // as itself between quotes, so that is written at once.
  return NEEDS_ESCAPE.test(text) ? pg.escapeLiteral(text) : `'${text}'`;
}
const NEEDS_ESCAPE = /['\\]/;

/** What `readInScope` hands its connection: the scope's `begin` script, the statement, its values as SQL literals. */
class OneTripRead {
  readonly begin: string;
  readonly statement: string;
  readonly literals: readonly string[];
  constructor(begin: string, statement: string, literals: readonly string[]) {
    this.begin = begin;
    this.statement = statement;
    this.literals = literals;
  }
}

/** The text `readInScope` sends with a OneTripRead as its only value; the connection's wrapper runs it (`runOneTrip`). */
const ONE_TRIP_MARK = '/* folio: one round trip */';

/** Statements `readInScope` keeps prepared per connection at most (SQL-level PREPARE); later ones are sent each time. */
const ONE_TRIP_PREPARED_PER_CONNECTION = 32;

/**
 * One simple-protocol script: `begin read only` with the scope's settings, the statement, `commit`. The statement is
 * prepared (SQL-level `prepare`) in the first script that runs it on this connection and executed by name after, so it
 * is parsed once and its plan cached as any prepared statement's; its values go in as literals. Without prepared
 * statements (`prepared` null: behind a proxy that pools by transaction, where a name would not follow the session) the
 * statement is sent whole every time. Answers the statement's own result.
 */
async function runOneTrip(
  query: (config: unknown, values?: unknown) => Promise<unknown>, prepared: { names: Map<string, string>; prepares: number } | null, read: OneTripRead,
): Promise<unknown> {
  let name = prepared?.names.get(read.statement);
  let prepare = '';
  if (prepared && name === undefined && prepared.prepares < ONE_TRIP_PREPARED_PER_CONNECTION) {
    // A name never used before on this connection: a script that failed after its `prepare` ran (PREPARE is not
    // undone by a rollback) leaves that name taken, and the next try prepares under another.
    name = `folio_read_${prepared.prepares++}`;
    // A new line ends the statement before its `;`: a statement ending in a `--` comment would swallow the rest.
    prepare = `prepare ${name} as ${read.statement}\n; `;
  }
  const run = name === undefined ? `${inlineParameters(read.statement, read.literals)}\n` : `execute ${name}${read.literals.length > 0 ? `(${read.literals.join(', ')})` : ''}`;
  const results = await query(`${prepare}${read.begin.replace(/^begin;/, 'begin read only;')}; ${run}; commit`);
  if (prepare !== '') prepared!.names.set(read.statement, name!);
  const expected = prepare === '' ? 4 : 5;
  assert(Array.isArray(results) && results.length === expected, `a one-round-trip read answers ${expected} results`);
  return results[expected - 2];
}

/** Refuse to run when the app pool does not end up as `folio_app` (e.g. the DATABASE_URL user is not a member of it). */
export async function assertAppRole(db: Db): Promise<void> {
  const { rows } = await sql<{ role: string; bypass: boolean }>`select current_user as role, rolbypassrls or rolsuper as bypass from pg_roles where rolname = current_user`.execute(db);
  const row = rows[0];
  if (!row || row.role !== 'folio_app' || row.bypass) {
    throw new Error(`the app connection runs as "${row?.role ?? '?'}", not the unprivileged folio_app role: grant folio_app to the DATABASE_URL user`);
  }
}

/**
 * The scope of the transaction `inScope` is beginning, for the driver to send with `begin` in the same round trip
 * (one simple-protocol message: `begin; select set_config(...)`), instead of a statement of its own after it. Taken
 * by the first `begin` in the unit of work's async context only; any other transaction begun inside the unit of work
 * (a bare `db.transaction()`) gets a plain `begin` and no scope, as before.
 */
interface PendingScope {
  scope: Scope;
  genericPlans: boolean;
  state: 'pending' | 'sent' | 'not_sent';
}
const pendingScopes = new AsyncLocalStorage<PendingScope>();

/** Ids as Folio makes them (`ptn_01h...`, `cus_bench0001`): written as SQL literals only when they are this plain. */
const PLAIN_ID = /^[A-Za-z0-9_-]{0,100}$/;

/** `begin` and the scope's settings in one script, or null when a value is not plain enough to be written inline. */
function beginWithScope(scope: Scope, genericPlans: boolean): string | null {
  const partnerId = scope.kind === 'system' ? '' : scope.partnerId;
  const customerId = scope.kind === 'customer' ? scope.customerId : '';
  if (!PLAIN_ID.test(partnerId) || !PLAIN_ID.test(customerId)) return null;
  return `begin; select set_config('folio.scope', '${scope.kind}', true), set_config('folio.partner_id', '${partnerId}', true), set_config('folio.customer_id', '${customerId}', true)${genericPlans ? GENERIC_PLANS_SQL : ''}`;
}

/** Added to the scope's settings for `inScope(..., { genericPlans: true })`: see InScopeOptions. */
const GENERIC_PLANS_SQL = `, set_config('plan_cache_mode', 'force_generic_plan', true)`;

class ScopedPostgresDriver extends PostgresDriver {
  override async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const pending = pendingScopes.getStore();
    if (!pending || pending.state !== 'pending' || settings.isolationLevel || settings.accessMode) {
      return super.beginTransaction(connection, settings);
    }
    const script = beginWithScope(pending.scope, pending.genericPlans);
    pending.state = script ? 'sent' : 'not_sent';
    if (!script) return super.beginTransaction(connection, settings);
    // Sent by the connection with the transaction's first statement, in the same round trip (wrapQueries); a failure
    // of either is that statement's failure, and the unit of work then rolls back as after any other.
    await connection.executeQuery(CompiledQuery.raw(DEFERRED_BEGIN_MARK, [new DeferredBegin(script)]));
  }
}

class ScopedPostgresDialect extends PostgresDialect {
  readonly #config: PostgresDialectConfig;
  constructor(config: PostgresDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new ScopedPostgresDriver(this.#config);
  }
}

/**
 * The scope's row-level-security settings for a transaction begun outside `inScope` (one that needs its own isolation
 * level: `db.transaction().setIsolationLevel(...)`, whose first statement must be the begin). Prefer `inScope`.
 */
export async function applyScope(trx: Trx, scope: Scope, genericPlans = false): Promise<void> {
  const partnerId = scope.kind === 'system' ? '' : scope.partnerId;
  const customerId = scope.kind === 'customer' ? scope.customerId : '';
  await sql`select set_config('folio.scope', ${scope.kind}, true), set_config('folio.partner_id', ${partnerId}, true), set_config('folio.customer_id', ${customerId}, true)${sql.raw(genericPlans ? GENERIC_PLANS_SQL : '')}`.execute(trx);
}

type BeforeCommit = (trx: Trx) => Promise<void>;
const beforeCommitHooks = new WeakMap<Trx, BeforeCommit[]>();

/**
 * Run `hook` once, after the unit of work's function returns and just before its transaction commits (in the order
 * registered). Returns false when `trx` was not opened by `inScope` (the caller then does the work at once).
 * The audit trail uses it: a transaction's events are written together at its end (they join their chain at commit).
 */
export function beforeCommit(trx: Trx, hook: BeforeCommit): boolean {
  const hooks = beforeCommitHooks.get(trx);
  if (!hooks) return false;
  hooks.push(hook);
  return true;
}

export interface InScopeOptions {
  /**
   * Every statement of the transaction runs on its generic plan (`plan_cache_mode = force_generic_plan`, for this
   * transaction only): planned once per connection instead of at every run. For a hot transaction whose statements
   * PostgreSQL would otherwise plan every time although their plans do not depend on the values, such as the
   * charging transaction's first statement (ADR 0018, seventh amendment): ~1 ms of planning each time on a ledger of
   * 10 million postings. Never for a transaction with a large array parameter (decision 8): a statement carrying one
   * runs unnamed and would get a generic plan too.
   */
  genericPlans?: boolean;
}

/** Run `fn` in one transaction with the scope's row-level-security settings. */
export async function inScope<T>(db: Db, scope: Scope, fn: (trx: Trx) => Promise<T>, options: InScopeOptions = {}): Promise<T> {
  const pending: PendingScope = { scope, genericPlans: options.genericPlans === true, state: 'pending' };
  return pendingScopes.run(pending, () => db.transaction().execute(async (trx) => {
    const hooks: BeforeCommit[] = [];
    beforeCommitHooks.set(trx, hooks);
    try {
      // Sent with `begin` by the driver (openDatabase's pools); otherwise, or for unusual ids, a statement of its own.
      if (pending.state !== 'sent') await applyScope(trx, scope, pending.genericPlans);
      pending.state = 'not_sent';
      const result = await fn(trx);
      for (let i = 0; i < hooks.length; i++) await hooks[i]!(trx);
      return result;
    } finally {
      beforeCommitHooks.delete(trx);
    }
  }));
}

/** The largest statement text `readInScope` sends as one script; longer ones take the usual path. */
const ONE_TRIP_MAX_TEXT_CHARS = 16_384;

/**
 * A parameter as a SQL literal, or null when it is not plain enough to be written into a statement's text: only ids
 * as Folio makes them (PLAIN_ID: letters, digits, `_`, `-`), integers and null. Anything else (a name, a date, an
 * array) keeps the statement on the usual path, where it travels as a parameter.
 */
function plainLiteral(value: unknown): string | null {
  if (value === null) return 'null';
  // A negative number in parentheses: written after a minus (`a -$1`), `-5` would make `--5`, a comment.
  if (typeof value === 'bigint') return value < 0n ? `(${value})` : value.toString();
  if (typeof value === 'number') return Number.isSafeInteger(value) ? (value < 0 ? `(${value})` : String(value)) : null;
  if (typeof value === 'string') return value.length > 0 && PLAIN_ID.test(value) ? `'${value}'` : null;
  return null;
}

/** The statement with its literals written in for `$1`, `$2` ... */
function inlineParameters(statement: string, literals: readonly string[]): string {
  return statement.replace(/\$(\d+)/g, (_, n: string) => {
    const literal = literals[Number(n) - 1];
    assert(literal !== undefined, `statement parameter $${n} has a value`);
    return literal;
  });
}

/**
 * A read-only unit of work of one statement, in ONE round trip: `begin read only`, the scope's settings, the statement
 * and `commit` go to PostgreSQL as one simple-protocol script, instead of three round trips (begin with the scope, the
 * statement, commit). Row-level security applies as in `inScope`, and the transaction refuses writes. The statement is
 * prepared by SQL (`prepare` / `execute`) once per connection, so it is planned as any prepared statement. For a hot
 * read (the transactions feed), each round trip costs a socket write and a wake-up on both sides, which under load was
 * more than the statement's own execution.
 *
 * Only when every value is plain (ids, integers: `plainLiteral`) is it written into the script; otherwise, or when the
 * statement is long, it runs through `inScope` as any other, with the same answer. Runs without Kysely's plugins: rows
 * come back with the column names the statement gives them.
 */
export async function readInScope<R>(db: Db, scope: Scope, statement: RawBuilder<R>): Promise<R[]> {
  const plain = db.withoutPlugins();
  const compiled = statement.compile(plain);
  const begin = beginWithScope(scope, false);
  const literals = compiled.parameters.map(plainLiteral);
  if (begin === null || compiled.sql.length > ONE_TRIP_MAX_TEXT_CHARS || literals.some((l) => l === null)) {
    return inScope(db, scope, async (trx) => (await statement.execute(trx.withoutPlugins())).rows);
  }
  const read = new OneTripRead(begin, compiled.sql, literals as string[]);
  return plain.connection().execute(async (connection) => {
    try {
      return (await connection.executeQuery<R>(CompiledQuery.raw(ONE_TRIP_MARK, [read]))).rows;
    } catch (err) {
      // The script stopped at its failing statement, inside its transaction: never hand the connection back so.
      await connection.executeQuery(CompiledQuery.raw('rollback')).catch(() => {});
      throw err;
    }
  });
}
