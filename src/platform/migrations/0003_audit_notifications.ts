import { sql, type Kysely } from 'kysely';

/**
 * Audit trail and notifications, second step:
 * - An event's `occurred_at` is now taken after its chain's head is locked, and never earlier than the previous event's,
 *   so within one chain time order and `seq` order agree (the verifier reports `out_of_order` when they do not).
 *   Before, the column default was evaluated before the lock, so two concurrent events could land in either order.
 * - The app role may READ the chain heads (never write them): the Audit app verifies its own partner's chain.
 * - Notification lists page by id (time-sortable), newest first: indexes for that order.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create or replace function audit_events_chain() returns trigger
      language plpgsql security definer set search_path = public as $f$
      declare
        chain text := coalesce(new.partner_id, 'platform');
        head audit_chain_heads%rowtype;
        previous_at timestamptz;
      begin
        insert into audit_chain_heads (chain_key, last_seq, last_hash) values (chain, 0, repeat('0', 64))
          on conflict (chain_key) do nothing;
        select * into head from audit_chain_heads where chain_key = chain for update;
        select e.occurred_at into previous_at from audit_events e
          where coalesce(e.partner_id, 'platform') = chain and e.seq = head.last_seq;
        new.seq := head.last_seq + 1;
        new.prev_hash := head.last_hash;
        new.occurred_at := greatest(clock_timestamp(), previous_at);
        new.hash := audit_event_hash(new);
        update audit_chain_heads set last_seq = new.seq, last_hash = new.hash where chain_key = chain;
        return new;
      end
    $f$;

    alter table audit_chain_heads enable row level security;
    create policy tenant_wall_read on audit_chain_heads for select to folio_app using (
      coalesce(current_setting('folio.scope', true), '') = 'system'
      or (chain_key = nullif(current_setting('folio.partner_id', true), '')
          and coalesce(current_setting('folio.customer_id', true), '') = '')
    );
    grant select on audit_chain_heads to folio_app;

    create index notifications_partner_id_idx on notifications (partner_id, id desc);
    create index notifications_customer_id_idx on notifications (partner_id, customer_id, id desc);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop index if exists notifications_customer_id_idx;
    drop index if exists notifications_partner_id_idx;
    revoke select on audit_chain_heads from folio_app;
    drop policy if exists tenant_wall_read on audit_chain_heads;
    alter table audit_chain_heads disable row level security;
  `.execute(db);
}
