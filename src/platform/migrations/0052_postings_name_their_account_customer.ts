import { sql, type Kysely } from 'kysely';

/**
 * A posting names its account's customer, checked by the database (ADR 0030).
 *
 * A posting carries its own `customer_id`: the feed's type (`feed_type`, generated from it), the feed's index, the calls'
 * and other feed totals, and the portal's row-level wall all follow it. The application always wrote the account's
 * customer there (`entryWrites`: the customer of a customer account's reference, none for the partner's own accounts),
 * but the database did not hold it to that, nor `postEntries` when its caller passes account ids (`accountIds`). A
 * posting of one customer's points naming another customer would move that account's balance, show in no feed, count in
 * the account's feed totals anyway (so rows and totals disagree) and be visible to the customer it names; no check saw it.
 *
 * The postings' trigger (migration 0051) already sums the statement's postings per account and joins each sum to its
 * account; it now also takes the least and greatest `customer_id` of each account's postings and whether all (or none)
 * name one, and a customer account's sum moves it only when all of them name exactly that customer, a partner account's
 * only when none names any. A sum that matches no account makes the counts differ, and the statement fails with
 * 23503, as for an account of another partner or currency. Postings already written are checked by `checkLedger`
 * (`posting_customer_matches_account`), not here: that is a scan of every posting, for a migration that runs at start-up.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create or replace function ledger_apply_postings() returns trigger language plpgsql security definer
      set search_path = public set enable_hashjoin = off set enable_mergejoin = off as $f$
      declare
        accounts int;
        customer_updated int;
        partner_found int;
        first_queued bigint;
      begin
        if exists (select 1 from (select distinct entry_id, partner_id, currency from new_postings) p
                    where not exists (select 1 from journal_entries e
                                       where e.id = p.entry_id and e.partner_id = p.partner_id and e.currency = p.currency)) then
          raise exception 'a posting names a journal entry that does not exist, or of another partner or currency' using errcode = '23503';
        end if;
        -- One pass over the statement's postings, summed per account in account id order: customer accounts are moved now
        -- (the update walks them in that order, taking each row's lock as it goes: the one lock order of ADR 0011), the
        -- partner's own accounts checked and queued for commit (ledger_pending_balances_commit). A posting names its
        -- account's customer (every posting of a customer's account that customer, none of a partner's own account any):
        -- the feed's type, totals and tenant wall follow the posting's own customer_id (migration 0052).
        with s as materialized (
          select account_id, min(partner_id) as partner_id, min(currency) as currency, max(partner_id) as partner_max,
                 max(currency) as currency_max, min(customer_id collate "C") as customer_min, max(customer_id collate "C") as customer_max,
                 count(customer_id) = count(*) as all_name_customer, count(customer_id) = 0 as none_name_customer,
                 sum(amount_micros)::bigint as total,
                 count(*) filter (where feed_type = 'call') as calls,
                 coalesce(sum(amount_micros) filter (where feed_type = 'call'), 0) as calls_total
            from new_postings group by account_id order by account_id
        ), moved as (
          update ledger_accounts a set balance_micros = a.balance_micros + s.total,
                                       call_postings = a.call_postings + s.calls,
                                       call_total_micros = a.call_total_micros + s.calls_total
            from s
           where a.id = s.account_id and a.partner_id = s.partner_id and a.partner_id = s.partner_max
             and a.currency = s.currency and a.currency = s.currency_max and a.customer_id is not null
             and s.all_name_customer and a.customer_id = s.customer_min and a.customer_id = s.customer_max
          returning 1
        ), queued as (
          insert into ledger_pending_balances (account_id, total_micros)
            select s.account_id, s.total from s
              join ledger_accounts a on a.id = s.account_id and a.partner_id = s.partner_id and a.partner_id = s.partner_max
                                    and a.currency = s.currency and a.currency = s.currency_max and a.customer_id is null
                                    and s.none_name_customer
             order by s.account_id
            returning ord
        )
        select (select count(*) from s), (select count(*) from moved), (select count(*) from queued), (select min(ord) from queued)
          into accounts, customer_updated, partner_found, first_queued;
        -- Where this transaction's queued rows start (the first ones not applied yet), for ledger_apply_pending_balances.
        if first_queued is not null and coalesce(current_setting('folio.pending_balances_from', true), '') = '' then
          perform set_config('folio.pending_balances_from', first_queued::text, true);
        end if;
        if customer_updated + partner_found <> accounts then
          raise exception 'a posting names an account that does not exist, or of another partner, currency or customer' using errcode = '23503';
        end if;
        -- The other feed types (calls are on the account row above).
        insert into points_feed_totals as t (account_id, feed_type, partner_id, customer_id, postings, total_micros)
          select account_id, feed_type, min(partner_id), min(customer_id), count(*), sum(amount_micros)
            from new_postings where feed_type is not null and feed_type <> 'call' group by account_id, feed_type
            order by account_id, feed_type
          on conflict (account_id, feed_type) do update
            set postings = t.postings + excluded.postings, total_micros = t.total_micros + excluded.total_micros;
        return null;
      end
    $f$;
  `.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the ledger migration is not reversible');
}
