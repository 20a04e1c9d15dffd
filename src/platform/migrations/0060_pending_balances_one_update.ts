import { sql, type Kysely } from 'kysely';

/**
 * `ledger_apply_pending_balances()` (migrations 0041, 0043, 0047, 0058) moved each queued partner account by an UPDATE
 * statement of its own, in account id order, so that no join planned on the queue's statistics could scan every
 * account (migration 0047). Each UPDATE statement of `ledger_accounts` prepares the table's check constraints again
 * (PostgreSQL reads and plans them per statement), and a call-charging transaction queues four accounts: at 4 clients,
 * 5.6% of PostgreSQL's backend CPU went to preparing check constraints at commit (perf, call graphs), most of it here.
 *
 * Now the queued totals are read once, the accounts locked in id order by one statement (the one lock order of ADR
 * 0018, decision 18), and moved by one UPDATE joined to the totals. The function runs with sequential scans, hash
 * and merge joins off, so the UPDATE reaches each account by its key (as migration 0051 does for the postings
 * trigger); `src/ledger/pending-balances.test.ts` reads the plans.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create or replace function ledger_apply_pending_balances() returns void
      language plpgsql security definer set search_path = public
      set enable_seqscan = off set enable_hashjoin = off set enable_mergejoin = off as $f$
      declare
        from_ord bigint := nullif(current_setting('folio.pending_balances_from', true), '')::bigint;
        ids text[];
        totals bigint[];
        moved int;
      begin
        if from_ord is null then
          return;
        end if;
        select array_agg(s.account_id order by s.account_id), array_agg(s.total order by s.account_id) into ids, totals
          from (select p.account_id, sum(p.total_micros)::bigint as total from ledger_pending_balances p where p.ord >= from_ord
                 group by p.account_id) s;
        if ids is not null then
          perform 1 from ledger_accounts a where a.id = any(ids) order by a.id for no key update;
          update ledger_accounts a set balance_micros = a.balance_micros + q.total
            from unnest(ids, totals) as q(account_id, total)
           where a.id = q.account_id;
          get diagnostics moved = row_count;
          if moved <> cardinality(ids) then
            raise exception 'a queued partner balance names an account that does not exist (%)',
              (select string_agg(q.id, ', ' order by q.id) from unnest(ids) as q(id) where not exists (select 1 from ledger_accounts a where a.id = q.id));
          end if;
        end if;
        delete from ledger_pending_balances p where p.ord >= from_ord;
        perform set_config('folio.pending_balances_from', '', true);
      end
    $f$;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    create or replace function ledger_apply_pending_balances() returns void
      language plpgsql security definer set search_path = public set enable_seqscan = off as $f$
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
