import { sql, type Kysely } from 'kysely';

/**
 * The postings' trigger moves and checks the balances in one pass over the statement's postings (ADR 0029, amendment).
 *
 * `ledger_apply_postings()` (migration 0050) read the statement's postings four times: a count of their accounts, a
 * lock of the customer accounts in id order, the customer accounts' update, and the partner accounts' check and queue,
 * each with its own `group by`. A batch part of 5,000 calls thus locked each customer's account twice (the lock, then
 * the update's new version) and grouped 5,000 postings three times.
 *
 * Now the postings are summed per account once, in account id order (a materialized CTE), and one statement counts
 * them, moves the customer accounts and queues the partner's. The separate locking statement is gone: the update takes
 * each row's lock as it reaches it. The function runs with hash and merge joins off (its own settings, for its
 * statements only), so the update is a nested loop; on tables of any real size it walks the ordered sums and finds
 * each account by its primary key, i.e. in id order (`balance-lock-order.test.ts`: an account held in the middle of a
 * statement's 1,200, the ones before it locked and the ones after it free). On a tiny table or stale statistics the
 * planner may put the accounts table outside and lock in its physical order instead: the order is then the callers',
 * who lock their customer accounts before they post (postEntries in id order, a call batch with its wallets;
 * migration 0041), as they did before this migration. A writer that locks nothing first can then meet a deadlock,
 * which PostgreSQL detects by aborting one of the two; no balance is wrong either way.
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
        -- partner's own accounts checked and queued for commit (ledger_pending_balances_commit).
        with s as materialized (
          select account_id, min(partner_id) as partner_id, min(currency) as currency, max(partner_id) as partner_max,
                 max(currency) as currency_max, sum(amount_micros)::bigint as total,
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
          returning 1
        ), queued as (
          insert into ledger_pending_balances (account_id, total_micros)
            select s.account_id, s.total from s
              join ledger_accounts a on a.id = s.account_id and a.partner_id = s.partner_id and a.partner_id = s.partner_max
                                    and a.currency = s.currency and a.currency = s.currency_max and a.customer_id is null
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

export async function down(): Promise<void> {
  throw new Error('the ledger migration is not reversible');
}
