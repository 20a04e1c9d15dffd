import { sql, type Kysely } from 'kysely';

/**
 * The partner-wide rows every money change of a partner writes — its own ledger accounts (card clearing, revenue, cost,
 * tax ...) and its audit chain's head — are written WHILE THE TRANSACTION COMMITS (ADR 0018, eighth amendment).
 * Until now each was locked by a statement (the entry's postings; the events' insert sent just before commit) and stayed
 * locked across that statement's answer, the API server's turn to send `commit` (milliseconds when its event loop is busy)
 * and the commit itself: every change of the partner queued behind it. Now:
 * - Postings: a customer account's balance moves at once, as before (the code locked it and knows the balance after each
 *   posting); a partner account is checked at once (it exists, same partner and currency) and its total is queued in
 *   `ledger_pending_balances`; at commit one deferred trigger locks the partner's accounts in id order and moves their
 *   balances. The balance on the row still equals the sum of its postings for every committed transaction.
 * - Audit: `inScope` transactions queue their events in `audit_event_queue`; at commit a deferred trigger moves them into
 *   `audit_events` in the order queued, where the chain trigger numbers and hashes them as before (it locks the head).
 * - Order at commit, whichever trigger fires first: the partner's accounts (id order), then the audit chain's head. Before
 *   commit only customer-level rows are locked, so every transaction takes customer rows, then partner accounts, then
 *   the head: one global order.
 * Both queues are unlogged: a row lives only inside its own transaction (moved and deleted before it commits).
 * `audit_events` and its chain trigger are unchanged: a direct insert chains at once, as before.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create unlogged table ledger_pending_balances (
      ord bigint generated always as identity primary key,
      account_id text not null,
      total_micros bigint not null
    );
    alter table ledger_pending_balances enable row level security;
    revoke all on ledger_pending_balances from folio_app;

    -- The transaction's queued partner balances, applied: accounts locked in id order, then moved. Visible rows only are
    -- this transaction's (others' are uncommitted, or already deleted by their own commit).
    create function ledger_apply_pending_balances() returns void
      language plpgsql security definer set search_path = public as $f$
      begin
        perform 1 from ledger_accounts a where a.id in (select p.account_id from ledger_pending_balances p) order by a.id for no key update;
        update ledger_accounts a set balance_micros = a.balance_micros + s.total
          from (select p.account_id, sum(p.total_micros)::bigint as total from ledger_pending_balances p group by p.account_id) s
          where a.id = s.account_id;
        delete from ledger_pending_balances;
      end
    $f$;
    revoke all on function ledger_apply_pending_balances() from public;
    -- The app calls it before writing a bulk job's events straight into the trail (record-audit.ts): it only ever sees and
    -- applies its own transaction's queued balances.
    grant execute on function ledger_apply_pending_balances() to folio_app;

    create function ledger_pending_balances_commit() returns trigger
      language plpgsql security definer set search_path = public as $f$
      begin
        if exists (select 1 from ledger_pending_balances p where p.ord = new.ord) then
          perform ledger_apply_pending_balances();
        end if;
        return null;
      end
    $f$;
    create constraint trigger ledger_pending_balances_commit after insert on ledger_pending_balances
      deferrable initially deferred for each row execute function ledger_pending_balances_commit();

    create or replace function ledger_apply_postings() returns trigger language plpgsql security definer set search_path = public as $f$
      declare
        accounts int;
        customer_updated int;
        partner_found int;
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
        insert into ledger_pending_balances (account_id, total_micros)
          select s.account_id, s.total
            from (select account_id, min(partner_id) as partner_id, min(currency) as currency, max(partner_id) as partner_max,
                         max(currency) as currency_max, sum(amount_micros)::bigint as total
                    from new_postings group by account_id) s
            join ledger_accounts a on a.id = s.account_id and a.partner_id = s.partner_id and a.partner_id = s.partner_max
                                  and a.currency = s.currency and a.currency = s.currency_max and a.customer_id is null
            order by s.account_id;
        get diagnostics partner_found = row_count;
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

    create unlogged table audit_event_queue (
      ord bigint generated always as identity primary key,
      id text not null,
      partner_id text,
      customer_id text,
      actor_type text not null check (actor_type in ('user', 'api_key', 'system', 'operator')),
      actor_id text,
      actor_label text,
      app text not null,
      action text not null check (action ~ '^[a-z_]+(\\.[a-z_]+)+$'),
      target_type text not null,
      target_id text,
      changes jsonb not null default '{}',
      request_id text,
      ip text,
      user_agent text,
      auth_method text
    );

    -- Fired at commit, once per queued event, in the order queued. The first firing of a transaction applies its queued
    -- partner balances (accounts before the head, always), then moves all of its events still queued (from this one on:
    -- the queue's other rows belong to transactions this one cannot see); later firings find their event gone. The chain
    -- trigger on audit_events numbers and hashes each one.
    create function audit_event_queue_seal() returns trigger
      language plpgsql security definer set search_path = public as $f$
      begin
        if not exists (select 1 from audit_event_queue q where q.ord = new.ord) then
          return null;
        end if;
        perform ledger_apply_pending_balances();
        with moved as (
          delete from audit_event_queue q where q.ord >= new.ord
          returning q.ord, q.id, q.partner_id, q.customer_id, q.actor_type, q.actor_id, q.actor_label, q.app, q.action, q.target_type,
                    q.target_id, q.changes, q.request_id, q.ip, q.user_agent, q.auth_method
        )
        insert into audit_events (id, partner_id, customer_id, actor_type, actor_id, actor_label, app, action, target_type, target_id,
                                  changes, request_id, ip, user_agent, auth_method)
          select id, partner_id, customer_id, actor_type, actor_id, actor_label, app, action, target_type, target_id,
                 changes, request_id, ip, user_agent, auth_method
            from moved order by ord;
        return null;
      end
    $f$;
    create constraint trigger audit_event_queue_seal after insert on audit_event_queue
      deferrable initially deferred for each row execute function audit_event_queue_seal();

    alter table audit_event_queue enable row level security;
    create policy tenant_wall on audit_event_queue to folio_app
      using (folio_customer_row(partner_id, customer_id)) with check (folio_customer_row(partner_id, customer_id));
    revoke all on audit_event_queue from folio_app;
    grant insert on audit_event_queue to folio_app;
  `.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the ledger migration is not reversible');
}
