import { sql, type Kysely } from 'kysely';

/**
 * Two index entries fewer for every charged call (ADR 0022). On a large ledger each was a leaf page of its own customer's
 * range, scattered over its index: a page to read into memory, to write back, and after each checkpoint to log whole.
 *
 * - `usage_calls_customer` (migration 0013: partner, customer, start time) is read by no query: the transactions feed
 *   reads the points account's postings, statements reach a call by its primary key, and duplicates are found by the
 *   (partner, call id) key.
 * - `postings_account_feed` (migration 0016) served the feed filtered by type. Calls are nearly every posting of a points
 *   account, so a page of calls is read from `postings_customer_feed` (the account's postings, newest first, type
 *   included) keeping the calls; the other types are rare among a customer's postings, and keep an index of their own,
 *   now without the calls: `postings_feed_not_calls`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop index if exists usage_calls_customer;
    -- "if not exists": an operator may have built it beforehand with "create index concurrently" (ADR 0022).
    create index if not exists postings_feed_not_calls on postings (account_id, feed_type, id desc) where feed_type is not null and feed_type <> 'call';
    drop index if exists postings_account_feed;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    create index usage_calls_customer on usage_calls (partner_id, customer_id, started_at desc);
    create index postings_account_feed on postings (account_id, feed_type, id desc) where feed_type is not null;
    drop index postings_feed_not_calls;
  `.execute(db);
}
