import { sql, type Kysely } from 'kysely';

/**
 * Customer app (issue 4 §3): the customer's billing contact, a version for edits (ETag / If-Match), and the indexes the
 * customer list and the partner dashboard read with.
 * - `billing_*`: who receives invoices (name, email, phone, postal address); all optional.
 * - `updated_at`: moved on every edit, so the ETag changes.
 * - `customers_partner_id`: the list's order (newest first by id) within one partner, so a page reads only its rows.
 * - `customers_partner_billing_email`: an exact billing address lookup.
 * - `search_text`: the name and billing email lower-cased, with a trigram index (pg_trgm, when the server has it), for `q=`
 *   searches by any part, read through `folio_customers_matching` (below).
 * - `postings_posted_brin`: the dashboard's revenue and cost per day read the postings of a period. Postings are append-only and
 *   arrive in time order, so a BRIN index (a few pages, next to nothing per insert) narrows a period to its block ranges.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table customers
      add column billing_name text check (length(billing_name) between 1 and 200),
      add column billing_email text check (length(billing_email) between 3 and 254),
      add column billing_phone text check (length(billing_phone) between 3 and 40),
      add column billing_address text check (length(billing_address) between 1 and 1000),
      add column updated_at timestamptz not null default now(),
      -- What a search matches: the name and the billing email, lower-cased once (LIKE on it is cheaper than ILIKE on both).
      add column search_text text generated always as (lower(name) || ' ' || coalesce(lower(billing_email), '')) stored;

    create index customers_partner_id on customers (partner_id, id desc);
    create index customers_partner_billing_email on customers (partner_id, lower(billing_email));
    create index postings_posted_brin on postings using brin (posted_at);

    -- The list's search, run as the owner so that the trigram index can serve it: under row-level security PostgreSQL does
    -- not use an index for LIKE (not a leakproof operator) before the policy. It answers only the calling partner's
    -- customers (the scope's partner must be the one asked for), and only their ids: the list reads the rows under RLS.
    create function folio_customers_matching(p_partner_id text, p_pattern text, p_id text) returns setof text
      language sql stable security definer set search_path = public rows 100 as $f$
        select c.id from customers c
         where c.partner_id = p_partner_id
           and p_partner_id = nullif(current_setting('folio.partner_id', true), '')
           and (c.search_text like lower(p_pattern) or c.id = p_id)
      $f$;
    revoke all on function folio_customers_matching(text, text, text) from public;
    grant execute on function folio_customers_matching(text, text, text) to folio_app;

    do $$
    begin
      create extension if not exists pg_trgm;
      create index customers_search_trgm on customers using gin (search_text gin_trgm_ops);
    exception when others then
      raise notice 'pg_trgm is not available (%): customer searches scan the partner''s customers', sqlerrm;
    end
    $$;
  `.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the customer profile migration is not reversible');
}
