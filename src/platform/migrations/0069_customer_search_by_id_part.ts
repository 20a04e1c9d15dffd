import { sql, type Kysely } from 'kysely';

/**
 * The Customer app's search (`q=`) finds a customer by any part of its id (`cus_01kx9`, `9fqr2mtk`), as staff paste it
 * from a log or an email, no longer only by the whole id. `folio_customers_matching` (migration 0024) takes in its third
 * argument a LIKE pattern for the id (null: the query is not id-shaped, src/customers/list-customers.ts) instead of a
 * whole id; ids are lower-case, so is the pattern. `customers_id_trgm` serves that pattern as `customers_search_trgm`
 * serves the name's and billing email's: a search reads the two indexes (a BitmapOr) instead of every customer of the
 * partner. Without pg_trgm (as in 0024) the search scans the partner's customers.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop function folio_customers_matching(text, text, text);
    create function folio_customers_matching(p_partner_id text, p_pattern text, p_id_pattern text) returns setof text
      language sql stable security definer set search_path = public rows 100 as $f$
        select c.id from customers c
         where c.partner_id = p_partner_id
           and p_partner_id = nullif(current_setting('folio.partner_id', true), '')
           and (c.search_text like lower(p_pattern) or c.id like p_id_pattern)
      $f$;
    revoke all on function folio_customers_matching(text, text, text) from public;
    grant execute on function folio_customers_matching(text, text, text) to folio_app;

    do $$
    begin
      if exists (select 1 from pg_extension where extname = 'pg_trgm') then
        create index customers_id_trgm on customers using gin (id gin_trgm_ops);
      end if;
    end
    $$;
  `.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the customer search by id part migration is not reversible');
}
