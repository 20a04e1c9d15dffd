import { sql, type Kysely } from 'kysely';

/**
 * Room on each page for the next version of a balance row (ADR 0021, amendment of 2026-12-04).
 *
 * Every charge rewrites its customer's points account (`ledger_accounts.balance_micros`) and feed totals
 * (`points_feed_totals`), and every charging transaction its partner's accounts. PostgreSQL writes an update as a new
 * row version; when the old version's page has room for it (a HOT update), no index changes. With the default fill
 * factor (100) pages are packed full, and at full size only ~70% of these updates found room: the others added an
 * entry to every index of the table (two on the accounts, one on the totals) and left more for vacuum.
 *
 * Pages written from now on are filled to 70%: an account row is ~150 bytes, so a page keeps room for a dozen new
 * versions between two prunings. Pages already written keep their rows until they are rewritten (vacuum full, or a
 * dump and restore); the setting costs them nothing.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table ledger_accounts set (fillfactor = 70);
    alter table points_feed_totals set (fillfactor = 70);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table ledger_accounts reset (fillfactor);
    alter table points_feed_totals reset (fillfactor);
  `.execute(db);
}
