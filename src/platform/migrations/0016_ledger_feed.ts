import { sql, type Kysely } from 'kysely';

/**
 * Ledger speed and the transactions feed (docs/adr/0011-batched-call-charging.md):
 * - Customer postings carry what the feed shows (kind, feed type, description, cause), so the feed reads one index
 *   range of `postings` (account, id desc) and never joins journal entries. One journal entry can then hold many
 *   customer postings (a batch of calls: one points posting per call, the partner side summed), each with its own
 *   description and cause.
 * - `points_feed_totals`: per points account and feed type, the count and sum of postings, kept by the same trigger
 *   that keeps balances, so the feed's totals by type cover the whole history at the cost of one small read.
 * - The balance trigger locks the accounts it updates in id order first: two transactions posting to the same
 *   partner accounts queue instead of deadlocking.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- The feed's type of a journal-entry kind, by its prefix (new kinds fall into the right type by their name).
    create function folio_feed_type(kind text) returns text language sql immutable parallel safe as $f$
      select case
        when kind like 'call%' then 'call'
        when kind like 'subscription%' then 'subscription'
        when kind like 'top_up%' or kind like 'auto_top_up%' then 'top_up'
        when kind like 'invoice%' then 'purchase'
        when kind like 'credit%' or kind like 'points%' then 'credit'
        else 'other'
      end
    $f$;

    alter table postings
      add column kind text,
      add column description text,
      add column cause_type text,
      add column cause_id text,
      add column feed_type text generated always as (case when customer_id is null or kind is null then null else folio_feed_type(kind) end) stored;

    alter table postings disable trigger postings_append_only;
    update postings p set kind = e.kind, description = e.description, cause_type = e.cause_type, cause_id = e.cause_id
      from journal_entries e
      where e.id = p.entry_id and p.customer_id is not null;
    alter table postings enable trigger postings_append_only;
    create index postings_account_feed on postings (account_id, feed_type, id desc) where feed_type is not null;

    create table points_feed_totals (
      account_id text not null references ledger_accounts(id),
      feed_type text not null,
      partner_id text not null,
      customer_id text not null,
      postings bigint not null,
      total_micros bigint not null,
      primary key (account_id, feed_type)
    );
    insert into points_feed_totals (account_id, feed_type, partner_id, customer_id, postings, total_micros)
      select account_id, feed_type, min(partner_id), min(customer_id), count(*), sum(amount_micros)
        from postings where feed_type is not null group by account_id, feed_type;
    alter table points_feed_totals enable row level security;
    create policy tenant_wall on points_feed_totals to folio_app using (folio_customer_row(partner_id, customer_id)) with check (false);
    revoke insert, update, delete, truncate on points_feed_totals from folio_app;

    create or replace function ledger_apply_postings() returns trigger language plpgsql security definer set search_path = public as $f$
      begin
        perform 1 from ledger_accounts where id in (select account_id from new_postings) order by id for no key update;
        update ledger_accounts a set balance_micros = a.balance_micros + s.total
          from (select account_id, sum(amount_micros) as total from new_postings group by account_id) s
          where a.id = s.account_id;
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
  throw new Error('the ledger feed migration is not reversible');
}
