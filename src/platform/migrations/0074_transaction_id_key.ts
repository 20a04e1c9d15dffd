import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';

/**
 * Keys the platform keeps in its database (so every API instance on it, and every restart, shares them), starting with
 * the one that turns a posting's number into a transaction id (src/wallet/transaction-ids.ts). Postings are numbered
 * by one sequence for every partner: an id that showed the number told any customer how many postings the whole
 * platform wrote between two of theirs. The app role may read the keys, never write them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table platform_keys (
      name text primary key,
      key bytea not null check (length(key) = 16),
      created_at timestamptz not null default now()
    );
    revoke all on platform_keys from folio_app;
    grant select on platform_keys to folio_app;
  `.execute(db);
  await sql`insert into platform_keys (name, key) values ('transaction_ids', ${randomBytes(16)})`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table platform_keys`.execute(db);
}
