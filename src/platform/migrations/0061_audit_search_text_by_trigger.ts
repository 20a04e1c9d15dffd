import { sql, type Kysely } from 'kysely';

/**
 * `audit_events.search_text` (migration 0034) was a stored generated column: PostgreSQL prepares a table's generation
 * expressions again for every statement that inserts into it (`ExecInitGenerated` plans `audit_search_text`, inlining
 * its body), so every transaction that moved its audit events into the trail at commit paid that planning once more,
 * while the partner's chain head is locked. Migration 0059 did the same for the queue's keys. In a perf profile of the
 * single-record charging run at 16 clients, computing generated columns at commit was 1.7% of PostgreSQL's CPU; paired
 * blocks of 16-request charging transactions (one connection, alternated 100 times) measured 30-70 µs less per
 * transaction with the text from the chain trigger instead (ADR 0018, decision 30).
 *
 * Now the insert trigger that chains the event (`audit_events_chain`, which already runs for every event) writes the
 * text from the same function over the same values, and an update trigger writes it again if a row is ever changed
 * (only the owner may; the app role has no update privilege on the trail). What the column guaranteed stays
 * guaranteed: the text is always the event's own, whatever an insert or update said; the app role may not name the
 * column (its insert privilege is column by column since migration 0042, and never covered it). An insert that skips
 * triggers (session_replication_role = replica, tests and the benchmarks' bulk loads) must write the text itself.
 * No event of the trail is rewritten: `drop expression` keeps every stored text as it is.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table audit_events alter column search_text drop expression;

    create or replace function audit_events_chain() returns trigger
      language plpgsql security definer set search_path = public as $f$
      declare
        chain text := coalesce(new.partner_id, 'platform');
        head audit_chain_heads%rowtype;
        previous_at timestamptz;
      begin
        new.search_text := audit_search_text(new.action, new.actor_label, new.actor_id, new.target_type, new.target_id, new.customer_id,
                                             new.request_id, new.ip, new.changes);
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

    create function audit_events_search_text() returns trigger
      language plpgsql set search_path = public as $f$
      begin
        new.search_text := audit_search_text(new.action, new.actor_label, new.actor_id, new.target_type, new.target_id, new.customer_id,
                                             new.request_id, new.ip, new.changes);
        return new;
      end
    $f$;
    create trigger audit_events_search_text before update on audit_events for each row execute function audit_events_search_text();
  `.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the audit trail migration is not reversible');
}
