import { CamelCasePlugin, CompiledQuery, Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import type { Database } from './db-types.ts';

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
 * Open a pool. With `appRole`, every connection switches to the unprivileged `folio_app` role, to which
 * row-level security and the audit trail's append-only grants apply.
 */
export function openDatabase(url: string, options: { appRole: boolean; max?: number; onError?: (err: Error) => void }): DatabaseHandle {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 20, idleTimeoutMillis: 30_000 });
  pool.on('error', (err) => options.onError?.(err));
  pool.on('connect', (client) => {
    client.on('error', (err) => options.onError?.(err));
  });
  // Every app connection switches to the unprivileged role before its first query, and a failure to do so fails
  // that connection (never silently running as the owner, which would bypass row-level security).
  const onCreateConnection = options.appRole
    ? async (connection: { executeQuery: (q: CompiledQuery) => Promise<unknown> }) => {
        await connection.executeQuery(CompiledQuery.raw('set role folio_app'));
      }
    : undefined;
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool, ...(onCreateConnection ? { onCreateConnection } : {}) }),
    plugins: [new CamelCasePlugin()],
  });
  return {
    db,
    pool,
    close: async () => {
      await db.destroy();
    },
  };
}

/** Refuse to run when the app pool does not end up as `folio_app` (e.g. the DATABASE_URL user is not a member of it). */
export async function assertAppRole(db: Db): Promise<void> {
  const { rows } = await sql<{ role: string; bypass: boolean }>`select current_user as role, rolbypassrls or rolsuper as bypass from pg_roles where rolname = current_user`.execute(db);
  const row = rows[0];
  if (!row || row.role !== 'folio_app' || row.bypass) {
    throw new Error(`the app connection runs as "${row?.role ?? '?'}", not the unprivileged folio_app role: grant folio_app to the DATABASE_URL user`);
  }
}

async function applyScope(trx: Trx, scope: Scope): Promise<void> {
  const partnerId = scope.kind === 'system' ? '' : scope.partnerId;
  const customerId = scope.kind === 'customer' ? scope.customerId : '';
  await sql`select set_config('folio.scope', ${scope.kind}, true), set_config('folio.partner_id', ${partnerId}, true), set_config('folio.customer_id', ${customerId}, true)`.execute(trx);
}

/** Run `fn` in one transaction with the scope's row-level-security settings. */
export async function inScope<T>(db: Db, scope: Scope, fn: (trx: Trx) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await applyScope(trx, scope);
    return fn(trx);
  });
}
