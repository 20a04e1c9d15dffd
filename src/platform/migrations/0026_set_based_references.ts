import { sql, type Kysely } from 'kysely';

/**
 * The ledger's references, checked per statement instead of per row (docs/adr/0011): a posting must name an existing journal
 * entry and an account of the same partner and currency; a charged call must name an existing customer of its partner. A
 * foreign key checks (and share-locks) the referenced row once per inserted row — 10,000 times for a batch of calls on the
 * same few rows — while these checks read each referenced row once per statement, inside the triggers that already run.
 * Entries, accounts and customers are never deleted by the app (grants and triggers), so no delete can orphan a reference.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table postings drop constraint postings_entry_id_fkey, drop constraint postings_account_id_fkey;
    alter table usage_calls drop constraint usage_calls_partner_id_fkey, drop constraint usage_calls_customer_id_fkey;

    create or replace function ledger_apply_postings() returns trigger language plpgsql security definer set search_path = public as $f$
      declare
        accounts int;
        updated int;
      begin
        if exists (select 1 from (select distinct entry_id, partner_id, currency from new_postings) p
                    where not exists (select 1 from journal_entries e
                                       where e.id = p.entry_id and e.partner_id = p.partner_id and e.currency = p.currency)) then
          raise exception 'a posting names a journal entry that does not exist, or of another partner or currency' using errcode = '23503';
        end if;
        select count(*) into accounts from (select distinct account_id from new_postings) x;
        perform 1 from ledger_accounts where id in (select account_id from new_postings) order by id for no key update;
        update ledger_accounts a set balance_micros = a.balance_micros + s.total
          from (select account_id, min(partner_id) as partner_id, min(currency) as currency, max(partner_id) as partner_max,
                       max(currency) as currency_max, sum(amount_micros) as total
                  from new_postings group by account_id) s
          where a.id = s.account_id and a.partner_id = s.partner_id and a.partner_id = s.partner_max
            and a.currency = s.currency and a.currency = s.currency_max;
        get diagnostics updated = row_count;
        if updated <> accounts then
          raise exception 'a posting names an account that does not exist, or of another partner or currency' using errcode = '23503';
        end if;
        insert into points_feed_totals as t (account_id, feed_type, partner_id, customer_id, postings, total_micros)
          select account_id, feed_type, min(partner_id), min(customer_id), count(*), sum(amount_micros)
            from new_postings where feed_type is not null group by account_id, feed_type
            order by account_id, feed_type
          on conflict (account_id, feed_type) do update
            set postings = t.postings + excluded.postings, total_micros = t.total_micros + excluded.total_micros;
        return null;
      end
    $f$;

    create function usage_calls_check_customers() returns trigger language plpgsql security definer set search_path = public as $f$
      begin
        if exists (select 1 from (select distinct partner_id, customer_id from new_calls) c
                    where not exists (select 1 from customers k where k.id = c.customer_id and k.partner_id = c.partner_id)) then
          raise exception 'a call names a customer that does not exist, or of another partner' using errcode = '23503';
        end if;
        return null;
      end
    $f$;
    create trigger usage_calls_customers after insert on usage_calls referencing new table as new_calls
      for each statement execute function usage_calls_check_customers();

    -- A customer organisation is closed, never deleted (its books and history stay).
    revoke delete, truncate on customers from folio_app;
  `.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the set-based references migration is not reversible');
}
