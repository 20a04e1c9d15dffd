import { sql, type Kysely } from 'kysely';

/**
 * The scheduled chain check (src/audit/check-audit-chains.ts) also walks each chain from its start (or its newest
 * retention cut) once a day, so an older event altered in place is found too, not only a break among new events.
 * `audit_chain_checks.fully_verified_at`: when the newest such full pass of the chain began; every event up to
 * `verified_seq` has been walked at or after that instant. Null until the chain's first full pass (rows written before
 * this migration: the next scheduled run makes one). No new table: the row's existing policy covers the column.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table audit_chain_checks add column fully_verified_at timestamptz`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table audit_chain_checks drop column if exists fully_verified_at`.execute(db);
}
