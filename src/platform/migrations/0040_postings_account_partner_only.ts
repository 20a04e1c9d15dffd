import { sql, type Kysely } from 'kysely';

/**
 * `postings_account (account_id, id desc)` indexed every posting; for customer postings (one per charged call, the bulk of
 * the ledger) `postings_customer_feed (account_id, id desc) ... where customer_id is not null` (migration 0039) has the
 * same key, so each customer posting paid two insertions into big, randomly-touched indexes. `postings_account` now
 * holds the partner's own postings only; a read of a customer account's postings names the customer (the feed already
 * did; the monthly statements now say `customer_id is not null`) and is served by the feed's index.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop index postings_account;
    create index postings_account on postings (account_id, id desc) where customer_id is null;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop index postings_account;
    create index postings_account on postings (account_id, id desc);
  `.execute(db);
}
