import { sql, type Kysely } from 'kysely';

/**
 * The audit chain trigger reads its chain's head first, and creates it only when it is missing (docs/adr/0018,
 * amendment of 2026-12-08). Since migration 0001 every event began with `insert into audit_chain_heads ... on conflict
 * do nothing`, which does its work (a speculative insertion into the unique index, found taken) for every event of a
 * chain that has long had its head: pg_stat_statements counted 639 ms for the 20,000 events of a 100,000-renewal run,
 * one statement of the five each event runs. Now the head is locked (`for update`) as before; only when there is none
 * yet is it inserted, and then locked. Everything else is 0061's function as it was.
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
        new.search_text := audit_search_text(new.action, new.actor_label, new.actor_id, new.target_type, new.target_id, new.customer_id,
                                             new.request_id, new.ip, new.changes);
        select * into head from audit_chain_heads where chain_key = chain for update;
        if not found then
          insert into audit_chain_heads (chain_key, last_seq, last_hash) values (chain, 0, repeat('0', 64))
            on conflict (chain_key) do nothing;
          select * into head from audit_chain_heads where chain_key = chain for update;
        end if;
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
  `.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the audit trail migration is not reversible');
}
