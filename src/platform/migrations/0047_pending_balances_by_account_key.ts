import { sql, type Kysely } from 'kysely';

/**
 * A transaction's queued partner balances are applied one account at a time, by the account's key (ADR 0018,
 * amendment of 2026-12-04).
 *
 * `ledger_apply_pending_balances()` (migrations 0041 and 0043) locked and moved the queued accounts with two joins of
 * `ledger_accounts` and the queued rows. PL/pgSQL plans them once per connection, from `ledger_pending_balances`'
 * statistics: an unlogged table whose rows live only inside their own transaction, so its row estimate is whatever
 * its pages suggest (hundreds), and the planner chose a hash join over a sequential scan of every ledger account when
 * that table is compact on disk. With 10,000 customers that was 2 ms per join and ~5 ms per charging transaction's
 * commit (PostgreSQL's own time, auto_explain), while the transaction holds its partner's accounts: half of
 * PostgreSQL's time in a single-record run of the bench's small dataset. A larger (rewritten) accounts table tips the
 * plan back to the index, so whether a server pays it depended on its tables' physical size.
 *
 * Now the queued totals are summed per account and each account is updated by its primary key, in account id order
 * (the one lock order of ADR 0018: the update takes the row lock, so no separate locking statement is needed). A few
 * index look-ups whatever the statistics say. An account that is gone stops the commit (accounts are never deleted).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create or replace function ledger_apply_pending_balances() returns void
      language plpgsql security definer set search_path = public as $f$
      declare
        from_ord bigint := nullif(current_setting('folio.pending_balances_from', true), '')::bigint;
        queued record;
      begin
        if from_ord is null then
          return;
        end if;
        for queued in
          select p.account_id, sum(p.total_micros)::bigint as total
            from ledger_pending_balances p where p.ord >= from_ord
           group by p.account_id order by p.account_id
        loop
          update ledger_accounts a set balance_micros = a.balance_micros + queued.total where a.id = queued.account_id;
          if not found then
            raise exception 'a queued partner balance names an account that does not exist (%)', queued.account_id;
          end if;
        end loop;
        delete from ledger_pending_balances p where p.ord >= from_ord;
        perform set_config('folio.pending_balances_from', '', true);
      end
    $f$;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
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
  `.execute(db);
}
