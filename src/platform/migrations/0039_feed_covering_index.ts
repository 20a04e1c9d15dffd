import { sql, type Kysely } from 'kysely';

/**
 * The transactions feed (issue 3: latest 100 of one customer among 10 million postings, p99 <= 5 ms) read its rows from
 * the heap: a customer's postings are spread one per page among every other customer's, so its newest 100 cost ~100
 * (bitmap: all of the account's, ~250) scattered page reads, and the slowest of them decided the p99.
 *
 * This index holds the feed's whole row for customer postings (a quarter of all postings: a call posts the customer's
 * points and three partner accounts), in the feed's order, so the page is an index-only scan of a few leaf pages. The
 * row-level-security condition reads partner_id and customer_id, included too. Index-only scans skip the heap only on
 * pages the visibility map marks all-visible: postings is append-only, so the table is vacuumed for inserts every 1% of
 * its size instead of PostgreSQL's default 20% (with 10 million postings: every ~100,000 instead of ~2,000,000), and
 * only the newest postings, still in memory, are read from the heap.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create index postings_customer_feed on postings (account_id, id desc)
      include (partner_id, customer_id, amount_micros, balance_after_micros, posted_at, kind, feed_type, description, cause_type, cause_id)
      where customer_id is not null;
    alter table postings set (autovacuum_vacuum_insert_scale_factor = 0.01);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table postings reset (autovacuum_vacuum_insert_scale_factor);
    drop index if exists postings_customer_feed;
  `.execute(db);
}
