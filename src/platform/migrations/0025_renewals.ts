import { sql, type Kysely } from 'kysely';

/**
 * Renewals (src/subscriptions/renewals): renewal by card tops up points by card first, as an automatic top-up that
 * names the renewal it pays for.
 * - `top_ups.renewal_for`: the period end (expiry) of the customer's renewal group the top-up pays for; null for every
 *   other top-up. Such a top-up is `auto` (no user started it), so the once-a-day rule of automatic top-ups now applies
 *   only to the threshold ones (a renewal top-up on the same day as an auto top-up is allowed).
 * - At most one renewal top-up pending per customer and renewal group: a rerun after a crash retries that one (same
 *   gateway idempotency key) instead of charging again.
 * - `folio_enqueue_jobs`: the bulk door to graphile-worker's queue for the app role (one `add_jobs` call for many jobs of one
 *   task), so a run that sends thousands of notices enqueues their deliveries in one statement; same rules as
 *   `folio_enqueue_job` (security definer, only this door is granted).
 * - `folio_next_invoice_numbers(partner, n)`: n consecutive invoice numbers in one step (the last one is returned), for the
 *   bulk renewal invoices; the same counter row, locked until the caller's transaction ends, as `folio_next_invoice_number`
 *   (one update instead of n, so a batch of a thousand invoices does not pile up a thousand row versions).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table top_ups add column renewal_for timestamptz;
    alter table top_ups add constraint top_ups_renewal_is_auto check (renewal_for is null or auto);
    drop index top_ups_auto_once_a_day;
    create unique index top_ups_auto_once_a_day on top_ups (partner_id, customer_id, auto_for_date) where auto and renewal_for is null;
    create unique index top_ups_renewal_pending on top_ups (partner_id, customer_id, renewal_for) where renewal_for is not null and status = 'pending';

    create function folio_enqueue_jobs(task text, payloads json[], keys text[], attempts int) returns void
      language plpgsql security definer set search_path = public as $f$
      begin
        if coalesce(array_length(payloads, 1), 0) <> coalesce(array_length(keys, 1), 0) then
          raise exception 'one key per payload' using errcode = '22023';
        end if;
        if coalesce(array_length(payloads, 1), 0) = 0 then
          return;
        end if;
        perform graphile_worker.add_jobs(array(
          select row(task, u.payload, null, null, attempts::smallint, u.key, null, null)::graphile_worker.job_spec
          from unnest(payloads, keys) with ordinality as u(payload, key, n)
          order by u.n));
      end
    $f$;
    create function folio_next_invoice_numbers(p_partner_id text, p_count int) returns bigint
      language plpgsql security definer set search_path = public as $f$
      declare
        v bigint;
      begin
        if p_partner_id is null or not folio_shared_row(p_partner_id) then
          raise exception 'invoice numbers of another partner' using errcode = '42501';
        end if;
        if p_count is null or p_count < 1 then
          raise exception 'at least one invoice number' using errcode = '22023';
        end if;
        insert into invoice_number_sequences as s (partner_id, last_value) values (p_partner_id, p_count)
          on conflict (partner_id) do update set last_value = s.last_value + p_count
          returning s.last_value into v;
        return v;
      end
    $f$;
    revoke all on function folio_next_invoice_numbers(text, int) from public;
    grant execute on function folio_next_invoice_numbers(text, int) to folio_app;
    revoke all on function folio_enqueue_jobs(text, json[], text[], int) from public;
    grant execute on function folio_enqueue_jobs(text, json[], text[], int) to folio_app;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop function folio_next_invoice_numbers(text, int);
    drop function folio_enqueue_jobs(text, json[], text[], int);
    drop index top_ups_renewal_pending;
    drop index top_ups_auto_once_a_day;
    create unique index top_ups_auto_once_a_day on top_ups (partner_id, customer_id, auto_for_date) where auto;
    alter table top_ups drop constraint top_ups_renewal_is_auto;
    alter table top_ups drop column renewal_for;
  `.execute(db);
}
