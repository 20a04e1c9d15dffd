import { sql, type Kysely } from 'kysely';

/**
 * A number format never issues a number again (docs/adr/0041). Two functions, security definer because the counters are
 * not readable by the app role and a portal request sees only its own customer's documents:
 * - `folio_lock_number_counters(partner, documents[])`: the next value of each named counter (`purchase`, `monthly`,
 *   `top_up` in `invoice_number_series`; `credit_note` in `credit_note_number_series`), each row locked `for update`
 *   until the caller's transaction ends (created at 0 when missing, so even a partner's first document waits), in the one
 *   order top_up, purchase, monthly, credit_note (a renewal by card takes the top-up counter before the purchase one).
 *   A change of format holds them while it checks the issued numbers and commits: an issuer, which takes its counter
 *   before it reads its format, either commits first (its number is then checked) or waits and numbers in the new format.
 *   The renewal job reads what it will issue before taking the numbers, so a number already issued fails the renewal,
 *   not the job.
 * - `folio_document_numbers_taken(partner, numbers[])`: which of these numbers an issued invoice (of any type) or credit
 *   note of the partner already carries, with when it was issued: checked before a document takes a number.
 * - `folio_document_numbers_page(partner, table, like, pattern, after, limit)`: a page (keyset by number) of the numbers
 *   of the partner's invoices or credit notes matching a format's prefix (LIKE) and pattern (regular expression), for
 *   the check of a changed format. Planned for the values given (EXECUTE), outside row-level security (a staff scope's
 *   only: the partner's every document), so that on a memcmp-ordered database (ADR 0023) the prefix becomes a range of
 *   the unique (partner, number) index: through RLS, LIKE and ~ (not leakproof) stayed filters over every number of the
 *   partner. On another collation they stay filters, still exact, still paged.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function folio_lock_number_counters(p_partner_id text, p_documents text[]) returns table (document text, next_value bigint)
      language plpgsql security definer set search_path = public as $f$
      declare
        d text;
      begin
        if p_partner_id is null or not folio_shared_row(p_partner_id) then
          raise exception 'number counters of another partner' using errcode = '42501';
        end if;
        if p_documents is null or not p_documents <@ array['top_up', 'purchase', 'monthly', 'credit_note'] then
          raise exception 'unknown numbered documents %', p_documents using errcode = '22023';
        end if;
        foreach d in array array['top_up', 'purchase', 'monthly', 'credit_note'] loop
          continue when not (d = any(p_documents));
          if d = 'credit_note' then
            insert into credit_note_number_series (partner_id, last_value) values (p_partner_id, 0) on conflict (partner_id) do nothing;
            return query select d, s.last_value + 1 from credit_note_number_series s where s.partner_id = p_partner_id for update;
          else
            insert into invoice_number_series (partner_id, type, last_value) values (p_partner_id, d, 0) on conflict (partner_id, type) do nothing;
            return query select d, s.last_value + 1 from invoice_number_series s where s.partner_id = p_partner_id and s.type = d for update;
          end if;
        end loop;
      end
    $f$;
    revoke all on function folio_lock_number_counters(text, text[]) from public;
    grant execute on function folio_lock_number_counters(text, text[]) to folio_app;

    create function folio_document_numbers_taken(p_partner_id text, p_numbers text[]) returns table (number text, issued_at timestamptz)
      language plpgsql stable security definer set search_path = public as $f$
      begin
        if p_partner_id is null or not folio_shared_row(p_partner_id) then
          raise exception 'document numbers of another partner' using errcode = '42501';
        end if;
        return query
          select i.number, i.issued_at from invoices i where i.partner_id = p_partner_id and i.number = any(p_numbers)
          union all
          select c.number, c.issued_at from credit_notes c where c.partner_id = p_partner_id and c.number = any(p_numbers);
      end
    $f$;
    revoke all on function folio_document_numbers_taken(text, text[]) from public;
    grant execute on function folio_document_numbers_taken(text, text[]) to folio_app;

    create function folio_document_numbers_page(p_partner_id text, p_table text, p_like text, p_pattern text, p_after text, p_limit int)
      returns table (number text, issued_at timestamptz)
      language plpgsql stable security definer set search_path = public as $f$
      begin
        if p_partner_id is null or not folio_partner_row(p_partner_id) then
          raise exception 'document numbers of another partner' using errcode = '42501';
        end if;
        if p_table is null or p_table not in ('invoices', 'credit_notes') or p_limit is null or p_limit not between 1 and 10000 then
          raise exception 'a page of invoice or credit note numbers' using errcode = '22023';
        end if;
        return query execute format(
          'select d.number, d.issued_at from %I d where d.partner_id = $1 and d.number like $2 and d.number ~ $3 and d.number > $4 order by d.number limit $5',
          p_table) using p_partner_id, p_like, p_pattern, p_after, p_limit;
      end
    $f$;
    revoke all on function folio_document_numbers_page(text, text, text, text, text, int) from public;
    grant execute on function folio_document_numbers_page(text, text, text, text, text, int) to folio_app;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop function folio_document_numbers_page(text, text, text, text, text, int);
    drop function folio_document_numbers_taken(text, text[]);
    drop function folio_lock_number_counters(text, text[]);
  `.execute(db);
}
