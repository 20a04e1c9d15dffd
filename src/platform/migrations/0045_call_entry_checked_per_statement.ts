import { sql, type Kysely } from 'kysely';

/**
 * A charged call's journal entry is checked once per statement, not once per row (ADR 0023). `usage_calls.entry_id`
 * was a foreign key, deferred to commit: a batch of 10,000 calls ran 10,000 look-ups of the same one or two entries
 * at commit, each taking a share lock on the entry row (~4-5% of PostgreSQL's time per charged call). The statement
 * trigger that already checks the calls' customers (migration 0026) now also checks their entries, and more strictly
 * than the key did: the entry must exist, and be of the call's partner and currency. As with 0026, entries are never
 * deleted (grants and triggers), so no delete can orphan a call afterwards.
 *
 * The check runs when the inserting statement ends, so the entry must exist by then: written before the call, or by
 * the same statement (the batch writes both in one). Ending a live call now writes the call after its entry.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table usage_calls drop constraint usage_calls_entry_id_fkey;

    create or replace function usage_calls_check_customers() returns trigger language plpgsql security definer set search_path = public as $f$
      begin
        if exists (select 1 from (select distinct partner_id, customer_id from new_calls) c
                    where not exists (select 1 from customers k where k.id = c.customer_id and k.partner_id = c.partner_id)) then
          raise exception 'a call names a customer that does not exist, or of another partner' using errcode = '23503';
        end if;
        if exists (select 1 from (select distinct entry_id, partner_id, currency from new_calls where entry_id is not null) c
                    where not exists (select 1 from journal_entries e
                                       where e.id = c.entry_id and e.partner_id = c.partner_id and e.currency = c.currency)) then
          raise exception 'a call names a journal entry that does not exist, or of another partner or currency' using errcode = '23503';
        end if;
        return null;
      end
    $f$;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    create or replace function usage_calls_check_customers() returns trigger language plpgsql security definer set search_path = public as $f$
      begin
        if exists (select 1 from (select distinct partner_id, customer_id from new_calls) c
                    where not exists (select 1 from customers k where k.id = c.customer_id and k.partner_id = c.partner_id)) then
          raise exception 'a call names a customer that does not exist, or of another partner' using errcode = '23503';
        end if;
        return null;
      end
    $f$;
    alter table usage_calls add constraint usage_calls_entry_id_fkey foreign key (entry_id) references journal_entries(id) deferrable initially deferred;
  `.execute(db);
}
