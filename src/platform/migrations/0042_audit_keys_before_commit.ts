import { sql, type Kysely } from 'kysely';

/**
 * An audit event's search keys are computed before the commit, not inside it (ADR 0018, amendment of 2026-12-02, third).
 *
 * The GIN index of migration 0038 indexed `audit_search_keys(partner_id, search_text)`: the keys (hashes of the partner's
 * trigrams, `show_trgm`) were computed when the row went into `audit_events`, which for a queued event is at commit,
 * while the partner's chain head is locked (migration 0041) — 0.18-0.21 ms of every charging transaction's commit at 16
 * clients (pg_stat_statements; an estimate of 0.3-0.5 ms came before the measurement).
 *
 * Now:
 * - `audit_event_queue` computes them when an event is queued (a stored generated column, `search_keys`), before any
 *   partner-wide lock, with the same functions over the same values `audit_events.search_text` is generated from; the
 *   commit trigger copies them with the event.
 * - `audit_events.search_keys` holds them; null for every event inserted straight into the trail (bulk jobs, bare
 *   transactions, the trail written before this migration), whose keys the index computes from the text as before:
 *   the index is on `coalesce(search_keys, audit_search_keys(partner_id, search_text))`, and the searches use that
 *   expression. No event of the trail is rewritten.
 * - Only the commit trigger (the owner) writes the column: the app role's insert privilege on `audit_events` no longer
 *   covers it, so keys that do not match the text cannot be written. That privilege is now granted column by column: a
 *   column added to `audit_events` later must be added to the grant for the app to write it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table audit_event_queue add column search_keys bigint[] generated always as (
      audit_search_keys(partner_id, audit_search_text(action, actor_label, actor_id, target_type, target_id, customer_id, request_id, ip, changes))) stored;
    alter table audit_events add column search_keys bigint[];

    revoke insert on audit_events from folio_app;
    grant insert (id, partner_id, customer_id, seq, occurred_at, actor_type, actor_id, actor_label, app, action, target_type,
                  target_id, changes, request_id, ip, user_agent, prev_hash, hash, auth_method) on audit_events to folio_app;

    create or replace function audit_event_queue_seal() returns trigger
      language plpgsql security definer set search_path = public as $f$
      begin
        if not exists (select 1 from audit_event_queue q where q.ord = new.ord) then
          return null;
        end if;
        perform ledger_apply_pending_balances();
        with moved as (
          delete from audit_event_queue q where q.ord >= new.ord
          returning q.ord, q.id, q.partner_id, q.customer_id, q.actor_type, q.actor_id, q.actor_label, q.app, q.action, q.target_type,
                    q.target_id, q.changes, q.request_id, q.ip, q.user_agent, q.auth_method, q.search_keys
        )
        insert into audit_events (id, partner_id, customer_id, actor_type, actor_id, actor_label, app, action, target_type, target_id,
                                  changes, request_id, ip, user_agent, auth_method, search_keys)
          select id, partner_id, customer_id, actor_type, actor_id, actor_label, app, action, target_type, target_id,
                 changes, request_id, ip, user_agent, auth_method, search_keys
            from moved order by ord;
        return null;
      end
    $f$;

    drop index audit_events_search_keys;
    create index audit_events_search_keys on audit_events using gin (coalesce(search_keys, audit_search_keys(partner_id, search_text)));

    create or replace function audit_search(p_partner_id text, p_pattern text) returns setof text
      language plpgsql stable security definer set search_path = public rows 1000 as $f$
      declare
        keys bigint[];
      begin
        if not (coalesce(current_setting('folio.scope', true), '') = 'system'
                or (p_partner_id is not null and p_partner_id = nullif(current_setting('folio.partner_id', true), '')
                    and coalesce(current_setting('folio.customer_id', true), '') = '')) then
          return;
        end if;
        if p_partner_id is null then
          return query select e.id from audit_events e where e.search_text like p_pattern;
          return;
        end if;
        keys := audit_search_keys(p_partner_id, p_pattern);
        if cardinality(keys) = 0 then
          return query select e.id from audit_events e where e.partner_id = p_partner_id and e.search_text like p_pattern;
        else
          return query select e.id from audit_events e
            where coalesce(e.search_keys, audit_search_keys(e.partner_id, e.search_text)) @> keys and (e.partner_id || '') = p_partner_id and e.search_text like p_pattern;
        end if;
      end
    $f$;

    create or replace function audit_search_page(p_partner_id text, p_pattern text, p_customer_id text, p_app text, p_action text,
        p_actor_id text, p_actor_type text, p_target_type text, p_target_id text, p_from timestamptz, p_to timestamptz,
        p_before_at timestamptz, p_before_seq bigint, p_limit integer) returns setof text
      language plpgsql stable security definer set search_path = public rows 100 as $f$
      declare
        conditions text := '';
        keys bigint[];
        found_ids text[];
        window_rows integer := 1000;
        seen integer;
        old_indexscan text;
      begin
        if not (coalesce(current_setting('folio.scope', true), '') = 'system'
                or (p_partner_id = nullif(current_setting('folio.partner_id', true), '')
                    and coalesce(current_setting('folio.customer_id', true), '') = '')) then
          return;
        end if;
        if p_customer_id is not null then conditions := conditions || ' and e.customer_id = $3'; end if;
        if p_app is not null then conditions := conditions || ' and e.app = $4'; end if;
        if p_action is not null then conditions := conditions || ' and e.action = $5'; end if;
        if p_actor_id is not null then conditions := conditions || ' and e.actor_id = $6'; end if;
        if p_actor_type is not null then conditions := conditions || ' and e.actor_type = $7'; end if;
        if p_target_type is not null then conditions := conditions || ' and e.target_type = $8'; end if;
        if p_target_id is not null then conditions := conditions || ' and e.target_id = $9'; end if;
        if p_from is not null then conditions := conditions || ' and e.occurred_at >= $10'; end if;
        if p_to is not null then conditions := conditions || ' and e.occurred_at < $11'; end if;
        if p_before_at is not null then conditions := conditions || ' and (e.occurred_at, e.seq) < ($12, $13)'; end if;

        -- 1. The newest window: enough for a common word.
        execute 'select array_agg(w.id order by w.occurred_at desc, w.seq desc) filter (where w.search_text like $2), count(*)::int
                 from (select e.id, e.occurred_at, e.seq, e.search_text from audit_events e where e.partner_id = $1' || conditions
                 || ' order by e.occurred_at desc, e.seq desc limit $15) w'
          into found_ids, seen
          using p_partner_id, p_pattern, p_customer_id, p_app, p_action, p_actor_id, p_actor_type,
            p_target_type, p_target_id, p_from, p_to, p_before_at, p_before_seq, p_limit, window_rows;
        if coalesce(cardinality(found_ids), 0) >= p_limit or seen < window_rows then
          return query select unnest(found_ids[1:p_limit]);
          return;
        end if;

        -- 2. Beyond it: the partner's keys when the text has any, else the time-ordered scan.
        keys := audit_search_keys(p_partner_id, p_pattern);
        if cardinality(keys) = 0 then
          return query execute 'select e.id from audit_events e where e.partner_id = $1 and e.search_text like $2' || conditions
            || ' order by e.occurred_at desc, e.seq desc limit $14'
            using p_partner_id, p_pattern, p_customer_id, p_app, p_action, p_actor_id, p_actor_type,
              p_target_type, p_target_id, p_from, p_to, p_before_at, p_before_seq, p_limit;
          return;
        end if;
        old_indexscan := current_setting('enable_indexscan');
        -- Nothing but the keys' bitmap should serve this statement: plain index scans off, and the partner (in every key)
        -- written so that no partner index can be chosen instead.
        perform set_config('enable_indexscan', 'off', true);
        return query execute 'select e.id from audit_events e where coalesce(e.search_keys, audit_search_keys(e.partner_id, e.search_text)) @> $15
            and (e.partner_id || '''') = $1 and e.search_text like $2' || conditions
          || ' order by e.occurred_at desc, e.seq desc limit $14'
          using p_partner_id, p_pattern, p_customer_id, p_app, p_action, p_actor_id, p_actor_type,
            p_target_type, p_target_id, p_from, p_to, p_before_at, p_before_seq, p_limit, keys;
        perform set_config('enable_indexscan', old_indexscan, true);
      end
    $f$;
  `.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the audit trail migration is not reversible');
}
