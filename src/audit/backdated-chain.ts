import { sql } from 'kysely';
import type { Db } from '../platform/database.ts';

/**
 * For tests and the benchmark only, through the OWNER connection (a superuser): append `count` events to a partner's
 * chain as if they had been recorded in the past, one every `stepSeconds` from `startAt`, each correctly linked and
 * hashed (audit_event_hash, as the trigger would), and move the chain's head. The insert trigger is skipped
 * (session_replication_role = replica) because it stamps the current time; everything it does is done here (the chain,
 * the hash, the search text: migration 0061).
 * The chain must not have events later than `startAt` (times must not go back).
 */
export async function appendBackdatedEvents(
  owner: Db,
  input: { partnerId: string; count: number; startAt: Date; stepSeconds: number; customerId?: string | null; action?: string },
): Promise<void> {
  await owner.connection().execute(async (conn) => {
    await sql`set session_replication_role = replica`.execute(conn);
    try {
      await sql`
        create or replace function pg_temp.folio_append_backdated(p text, n int, t0 timestamptz, step float8, cust text, act text) returns void
          language plpgsql as $f$
          declare
            head audit_chain_heads%rowtype;
            r audit_events%rowtype;
            prev text;
            s bigint;
          begin
            insert into audit_chain_heads (chain_key, last_seq, last_hash) values (p, 0, repeat('0', 64)) on conflict (chain_key) do nothing;
            select * into head from audit_chain_heads where chain_key = p for update;
            s := head.last_seq;
            prev := head.last_hash;
            for i in 1..n loop
              r := null;
              r.id := 'evt_' || lpad(to_hex((s + i)::bigint), 12, '0') || substr(md5(p || (s + i)::text), 1, 14);
              r.partner_id := p;
              r.customer_id := cust;
              r.seq := s + i;
              r.occurred_at := t0 + make_interval(secs => step * (i - 1));
              r.actor_type := 'system';
              r.actor_label := 'backdated';
              r.app := 'customer';
              r.action := act;
              r.target_type := 'customer';
              r.target_id := cust;
              r.changes := jsonb_build_object('n', jsonb_build_object('after', i));
              r.auth_method := 'system';
              r.prev_hash := prev;
              r.hash := audit_event_hash(r);
              insert into audit_events (id, partner_id, customer_id, seq, occurred_at, actor_type, actor_id, actor_label, app, action,
                target_type, target_id, changes, request_id, ip, user_agent, prev_hash, hash, auth_method, search_text)
              values (r.id, r.partner_id, r.customer_id, r.seq, r.occurred_at, r.actor_type, r.actor_id, r.actor_label, r.app, r.action,
                r.target_type, r.target_id, r.changes, r.request_id, r.ip, r.user_agent, r.prev_hash, r.hash, r.auth_method,
                audit_search_text(r.action, r.actor_label, r.actor_id, r.target_type, r.target_id, r.customer_id, r.request_id, r.ip, r.changes));
              prev := r.hash;
            end loop;
            update audit_chain_heads set last_seq = s + n, last_hash = prev where chain_key = p;
          end
        $f$`.execute(conn);
      await sql`select pg_temp.folio_append_backdated(${input.partnerId}, ${input.count}::int, ${input.startAt}::timestamptz, ${input.stepSeconds}::float8,
        ${input.customerId ?? null}::text, ${input.action ?? 'customer.updated'}::text)`.execute(conn);
    } finally {
      await sql`set session_replication_role = origin`.execute(conn);
    }
  });
}
