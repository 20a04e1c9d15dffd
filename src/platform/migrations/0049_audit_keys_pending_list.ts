import { sql, type Kysely } from 'kysely';

/**
 * Room in the audit search keys' pending list (ADR 0018, amendment of 2026-12-04, later): 16 MB instead of the server's
 * 4 MB default, so that the worker's upkeep loop (src/audit/audit-keys-upkeep.ts) merges it every 2 seconds, and an insert
 * merges it only when that loop has not run for a long while (the worker stopped). Storage parameter only: no rewrite.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter index audit_events_search_keys set (gin_pending_list_limit = 16384)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter index audit_events_search_keys reset (gin_pending_list_limit)`.execute(db);
}
