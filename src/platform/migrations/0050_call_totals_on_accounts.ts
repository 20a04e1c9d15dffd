import { sql, type Kysely, type RawBuilder } from 'kysely';

/**
 * A customer account's calls total lives on the account's own row (ADR 0029).
 *
 * The transactions feed's totals by type (`points_feed_totals`, migration 0016) were upserted by the postings' trigger
 * for every type, calls included: a charged call moved two rows of its customer, the account's balance and the calls'
 * total, each a row lock, a new row version and a WAL record. Calls are nearly every posting of a points account, and
 * the account row is rewritten by the same trigger anyway. Now the account row keeps the count and sum of its `call`
 * postings (`call_postings`, `call_total_micros`) in the same update as its balance, and `points_feed_totals` keeps the
 * other types (top-ups, renewals, purchases, credits: a few a month).
 *
 * Existing calls totals move onto their accounts, and `points_feed_totals` refuses a `call` row from then on (a check
 * constraint: the calls would be counted twice). The feed and `checkLedger` read both places.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table ledger_accounts
      add column call_postings bigint not null default 0,
      add column call_total_micros bigint not null default 0;
  `.execute(db);
  await moveCallTotals(db);
  await sql`
    alter table points_feed_totals add constraint points_feed_totals_not_calls check (feed_type <> 'call');

    create or replace function ledger_apply_postings() returns trigger language plpgsql security definer set search_path = public as $f$
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
        select count(*) into accounts from (select distinct account_id from new_postings) x;
        -- Customer accounts: locked (id order) and moved now, with their calls' count and sum.
        perform 1 from ledger_accounts where id in (select account_id from new_postings) and customer_id is not null order by id for no key update;
        update ledger_accounts a set balance_micros = a.balance_micros + s.total,
                                     call_postings = a.call_postings + s.calls,
                                     call_total_micros = a.call_total_micros + s.calls_total
          from (select account_id, min(partner_id) as partner_id, min(currency) as currency, max(partner_id) as partner_max,
                       max(currency) as currency_max, sum(amount_micros) as total,
                       count(*) filter (where feed_type = 'call') as calls,
                       coalesce(sum(amount_micros) filter (where feed_type = 'call'), 0) as calls_total
                  from new_postings group by account_id) s
          where a.id = s.account_id and a.partner_id = s.partner_id and a.partner_id = s.partner_max
            and a.currency = s.currency and a.currency = s.currency_max and a.customer_id is not null;
        get diagnostics customer_updated = row_count;
        -- The partner's own accounts: checked now, moved at commit (ledger_pending_balances_commit).
        with queued as (
          insert into ledger_pending_balances (account_id, total_micros)
            select s.account_id, s.total
              from (select account_id, min(partner_id) as partner_id, min(currency) as currency, max(partner_id) as partner_max,
                           max(currency) as currency_max, sum(amount_micros)::bigint as total
                      from new_postings group by account_id) s
              join ledger_accounts a on a.id = s.account_id and a.partner_id = s.partner_id and a.partner_id = s.partner_max
                                    and a.currency = s.currency and a.currency = s.currency_max and a.customer_id is null
              order by s.account_id
            returning ord
        )
        select count(*), min(ord) into partner_found, first_queued from queued;
        -- Where this transaction's queued rows start (the first ones not applied yet), for ledger_apply_pending_balances.
        if first_queued is not null and coalesce(current_setting('folio.pending_balances_from', true), '') = '' then
          perform set_config('folio.pending_balances_from', first_queued::text, true);
        end if;
        if customer_updated + partner_found <> accounts then
          raise exception 'a posting names an account that does not exist, or of another partner or currency' using errcode = '23503';
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

/** The calls' totals kept so far move from `points_feed_totals` onto their accounts (added to what the account holds). */
export async function moveCallTotals(db: Parameters<RawBuilder<unknown>['execute']>[0]): Promise<void> {
  await sql`
    with moved as (delete from points_feed_totals where feed_type = 'call' returning account_id, postings, total_micros)
    update ledger_accounts a set call_postings = a.call_postings + m.postings, call_total_micros = a.call_total_micros + m.total_micros
      from moved m
     where m.account_id = a.id
  `.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the ledger migration is not reversible');
}
