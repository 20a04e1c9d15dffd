import { sql, type Kysely } from 'kysely';

/**
 * A transaction's queued partner balances are found by their key, not by a scan (ADR 0018, amendment of 2026-12-02, third).
 *
 * `ledger_pending_balances` (migration 0041) holds rows only inside their own transaction: every charge inserts a few and
 * deletes them at commit. Between two autovacuum runs its heap fills with dead rows, and `ledger_apply_pending_balances()`
 * read the whole table three times (lock, sum, delete) while the partner's accounts were locked: 0.36-0.43 ms of every
 * charging transaction's commit at 16 clients, for three live rows.
 *
 * Now the postings trigger notes where this transaction's queued rows start (`folio.pending_balances_from`, a
 * transaction-local setting: rolled back with a savepoint as the rows are), and the function reads the rows from there by
 * the primary key: only this transaction's rows and the few of concurrent ones (invisible, or deleted by their commit)
 * lie in that range. It returns at once when nothing is queued (the second trigger of a commit that already applied them).
 * The commit trigger checks that its row is gone afterwards: a queued balance is never left unapplied.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create or replace function ledger_apply_pending_balances() returns void
      language plpgsql security definer set search_path = public as $f$
      declare
        from_ord bigint := nullif(current_setting('folio.pending_balances_from', true), '')::bigint;
      begin
        if from_ord is null then
          return;
        end if;
        perform 1 from ledger_accounts a where a.id in (select p.account_id from ledger_pending_balances p where p.ord >= from_ord)
          order by a.id for no key update;
        update ledger_accounts a set balance_micros = a.balance_micros + s.total
          from (select p.account_id, sum(p.total_micros)::bigint as total from ledger_pending_balances p where p.ord >= from_ord
                 group by p.account_id) s
          where a.id = s.account_id;
        delete from ledger_pending_balances p where p.ord >= from_ord;
        perform set_config('folio.pending_balances_from', '', true);
      end
    $f$;

    create or replace function ledger_pending_balances_commit() returns trigger
      language plpgsql security definer set search_path = public as $f$
      begin
        if exists (select 1 from ledger_pending_balances p where p.ord = new.ord) then
          perform ledger_apply_pending_balances();
          if exists (select 1 from ledger_pending_balances p where p.ord = new.ord) then
            raise exception 'a queued partner balance was not applied (account row %)', new.account_id;
          end if;
        end if;
        return null;
      end
    $f$;

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
        -- Customer accounts: locked (id order) and moved now.
        perform 1 from ledger_accounts where id in (select account_id from new_postings) and customer_id is not null order by id for no key update;
        update ledger_accounts a set balance_micros = a.balance_micros + s.total
          from (select account_id, min(partner_id) as partner_id, min(currency) as currency, max(partner_id) as partner_max,
                       max(currency) as currency_max, sum(amount_micros) as total
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
        insert into points_feed_totals as t (account_id, feed_type, partner_id, customer_id, postings, total_micros)
          select account_id, feed_type, min(partner_id), min(customer_id), count(*), sum(amount_micros)
            from new_postings where feed_type is not null group by account_id, feed_type
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
