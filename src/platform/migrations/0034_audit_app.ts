import { sql, type Kysely } from 'kysely';

/**
 * The Audit app (issue 7):
 * - `audit_events.auth_method`: how the actor was signed in (password, password + 2FA, API key, system job, operator).
 *   It joins the event's hash: `concat_ws` skips NULLs, so the hash of every older event (auth_method null) is unchanged.
 *   Sessions remember whether their sign-in passed the second factor (`sessions.auth_method`).
 * - Indexes for the Audit app's filters, each in list order (occurred_at, seq, id) after the partner, so a page at any
 *   depth is an index range: by partner, customer, app, actor, target; and a trigram index for free text over the
 *   stored `search_text` (`audit_search_text(...)`; btree_gin puts the partner in the same GIN index).
 * - `audit_chain_checks`: the worker's incremental verification, per chain ("verified up to event N at time T", or the
 *   first broken link and when its alert went out).
 * - Retention: `partner_settings.audit_retention_years` (default 7) and `audit_cuts`, written only by
 *   `audit_cut_chain()`, a security-definer function that removes a partner's events older than its retention and
 *   records the cut (anchor = hash of the last removed event) that verification accepts as the chain's new start.
 *   The app role still cannot UPDATE, DELETE or TRUNCATE events.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create extension if not exists pg_trgm;
    create extension if not exists btree_gin;

    alter table audit_events add column auth_method text
      check (auth_method in ('password', 'password_2fa', 'api_key', 'system', 'operator'));
    alter table sessions add column auth_method text not null default 'password' check (auth_method in ('password', 'password_2fa'));
    alter table partner_settings add column audit_retention_years integer not null default 7
      check (audit_retention_years between 1 and 100);

    create or replace function audit_event_hash(e audit_events) returns text
      language sql immutable as $f$
        select encode(sha256(convert_to(concat_ws(E'\\x1f',
          e.prev_hash, e.id, coalesce(e.partner_id, '-'), coalesce(e.customer_id, '-'), e.seq::text,
          to_char(e.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
          e.actor_type, coalesce(e.actor_id, '-'), coalesce(e.actor_label, '-'), e.app, e.action, e.target_type,
          coalesce(e.target_id, '-'), e.changes::text, coalesce(e.request_id, '-'), coalesce(e.ip, '-'),
          coalesce(e.user_agent, '-'), e.auth_method), 'UTF8')), 'hex')
      $f$;

    -- What free text is matched against (lower case): action, actor, target, customer, request, IP and the changed values
    -- (the JSON text of the changes, with its quotes and backslashes unescaped, so they are found as typed).
    create function audit_search_text(action text, actor_label text, actor_id text, target_type text, target_id text,
                                      customer_id text, request_id text, ip text, changes jsonb) returns text
      language sql immutable parallel safe as $f$
        select lower(action || ' ' || coalesce(actor_label, '') || ' ' || coalesce(actor_id, '') || ' ' || target_type || ' '
          || coalesce(target_id, '') || ' ' || coalesce(customer_id, '') || ' ' || coalesce(request_id, '') || ' '
          || coalesce(ip, '') || ' ' || replace(replace(left(changes::text, 2000), '\\"', '"'), '\\\\', '\\'))
      $f$;

    drop index if exists audit_events_partner_time;
    drop index if exists audit_events_customer_time;
    create index audit_events_partner_order on audit_events (partner_id, occurred_at, seq, id);
    create index audit_events_customer_order on audit_events (partner_id, customer_id, occurred_at, seq, id);
    create index audit_events_app_order on audit_events (partner_id, app, occurred_at, seq, id);
    create index audit_events_actor on audit_events (partner_id, actor_id, occurred_at);
    create index audit_events_target on audit_events (partner_id, target_id, occurred_at);
    -- Stored, so that a search re-checks plain text rather than recomputing it per row (not part of the hash: derived).
    alter table audit_events add column search_text text generated always as (
      audit_search_text(action, actor_label, actor_id, target_type, target_id, customer_id, request_id, ip, changes)) stored;
    create index audit_events_search on audit_events using gin (partner_id, search_text gin_trgm_ops);

    -- Free text for the app role. Under row-level security a LIKE (not leakproof) may not be used as an index condition,
    -- so the search runs here, as the owner, with the tenancy check made explicitly: the caller's own partner (partner
    -- scope, not a portal user), or any (system scope: operator and worker). It returns ids only; the caller's query
    -- (under row-level security) selects, filters and orders the events.
    create function audit_search(p_partner_id text, p_pattern text) returns setof text
      language sql stable security definer set search_path = public rows 1000 as $f$
        select e.id from audit_events e
        where (p_partner_id is null or e.partner_id = p_partner_id)
          and e.search_text like p_pattern
          and (coalesce(current_setting('folio.scope', true), '') = 'system'
               or (p_partner_id is not null and p_partner_id = nullif(current_setting('folio.partner_id', true), '')
                   and coalesce(current_setting('folio.customer_id', true), '') = ''))
      $f$;
    revoke all on function audit_search(text, text) from public;
    grant execute on function audit_search(text, text) to folio_app;

    -- One page of a partner's free-text search with the list's other filters, newest first, strictly before a cursor
    -- position: planned with its values (EXECUTE), the planner can walk the partner's time index for a common word
    -- (stopping at the page's end) or use the trigram index for a rare one. Same tenancy check as audit_search().
    create function audit_search_page(p_partner_id text, p_pattern text, p_customer_id text, p_app text, p_action text,
        p_actor_id text, p_actor_type text, p_target_type text, p_target_id text, p_from timestamptz, p_to timestamptz,
        p_before_at timestamptz, p_before_seq bigint, p_limit integer) returns setof text
      language plpgsql stable security definer set search_path = public rows 100 as $f$
      declare
        q text := 'select e.id from audit_events e where e.partner_id = $1 and e.search_text like $2';
      begin
        if not (coalesce(current_setting('folio.scope', true), '') = 'system'
                or (p_partner_id = nullif(current_setting('folio.partner_id', true), '')
                    and coalesce(current_setting('folio.customer_id', true), '') = '')) then
          return;
        end if;
        if p_customer_id is not null then q := q || ' and e.customer_id = $3'; end if;
        if p_app is not null then q := q || ' and e.app = $4'; end if;
        if p_action is not null then q := q || ' and e.action = $5'; end if;
        if p_actor_id is not null then q := q || ' and e.actor_id = $6'; end if;
        if p_actor_type is not null then q := q || ' and e.actor_type = $7'; end if;
        if p_target_type is not null then q := q || ' and e.target_type = $8'; end if;
        if p_target_id is not null then q := q || ' and e.target_id = $9'; end if;
        if p_from is not null then q := q || ' and e.occurred_at >= $10'; end if;
        if p_to is not null then q := q || ' and e.occurred_at < $11'; end if;
        if p_before_at is not null then q := q || ' and (e.occurred_at, e.seq) < ($12, $13)'; end if;
        q := q || ' order by e.occurred_at desc, e.seq desc limit $14';
        return query execute q using p_partner_id, p_pattern, p_customer_id, p_app, p_action, p_actor_id, p_actor_type,
          p_target_type, p_target_id, p_from, p_to, p_before_at, p_before_seq, p_limit;
      end
    $f$;
    revoke all on function audit_search_page(text, text, text, text, text, text, text, text, text, timestamptz, timestamptz, timestamptz, bigint, integer) from public;
    grant execute on function audit_search_page(text, text, text, text, text, text, text, text, text, timestamptz, timestamptz, timestamptz, bigint, integer) to folio_app;

    create table audit_chain_checks (
      chain_key text primary key,
      partner_id text references partners(id),
      verified_seq bigint not null default 0,
      verified_hash text not null default repeat('0', 64),
      verified_event_id text,
      verified_occurred_at timestamptz,
      checked_at timestamptz,
      problem_seq bigint,
      problem_event_id text,
      problem_kind text check (problem_kind in ('altered', 'missing', 'out_of_order')),
      problem_detail text,
      problem_detected_at timestamptz,
      problem_alerted_at timestamptz
    );

    create table audit_cuts (
      id bigint generated always as identity primary key,
      chain_key text not null,
      partner_id text references partners(id),
      before_seq bigint not null,
      anchor_hash text not null,
      anchor_occurred_at timestamptz not null,
      removed_count bigint not null,
      retention_years integer not null,
      cut_by text not null,
      cut_at timestamptz not null default clock_timestamp()
    );
    create index audit_cuts_chain on audit_cuts (chain_key, before_seq desc);

    create function audit_cut_chain(p_partner_id text, p_by text)
      returns table (before_seq bigint, anchor_hash text, removed_count bigint)
      language plpgsql security definer set search_path = public as $f$
      declare
        years integer;
        cutoff timestamptz;
        head audit_chain_heads%rowtype;
        first_kept bigint;
        first_left bigint;
        anchor audit_events%rowtype;
        removed bigint;
      begin
        -- The operator's act alone: the app role reaches here only in the system scope (operator and worker).
        if coalesce(current_setting('folio.scope', true), '') <> 'system' then
          raise exception 'only the platform operator can cut an audit trail' using errcode = '42501';
        end if;
        select s.audit_retention_years into years from partner_settings s where s.partner_id = p_partner_id;
        if years is null then raise exception 'partner % has no settings', p_partner_id; end if;
        cutoff := now() - make_interval(years => years);
        select * into head from audit_chain_heads h where h.chain_key = p_partner_id for update;
        if not found then return; end if;
        select min(e.seq) into first_kept from audit_events e where e.partner_id = p_partner_id and e.occurred_at >= cutoff;
        first_kept := coalesce(first_kept, head.last_seq + 1);
        select min(e.seq) into first_left from audit_events e where e.partner_id = p_partner_id;
        if first_left is null or first_left >= first_kept then return; end if;
        select * into anchor from audit_events e where e.partner_id = p_partner_id and e.seq = first_kept - 1;
        if not found then raise exception 'event % of chain % is missing: verify the chain before cutting', first_kept - 1, p_partner_id; end if;
        delete from audit_events e where e.partner_id = p_partner_id and e.seq < first_kept;
        get diagnostics removed = row_count;
        insert into audit_cuts (chain_key, partner_id, before_seq, anchor_hash, anchor_occurred_at, removed_count, retention_years, cut_by)
          values (p_partner_id, p_partner_id, first_kept, anchor.hash, anchor.occurred_at, removed, years, p_by);
        return query select first_kept, anchor.hash, removed;
      end
    $f$;
    revoke all on function audit_cut_chain(text, text) from public;
    grant execute on function audit_cut_chain(text, text) to folio_app;
  `.execute(db);

  await sql`alter table audit_chain_checks enable row level security`.execute(db);
  await sql`create policy tenant_wall on audit_chain_checks to folio_app using (folio_partner_row(partner_id)) with check (folio_partner_row(partner_id))`.execute(db);
  await sql`alter table audit_cuts enable row level security`.execute(db);
  await sql`create policy tenant_wall on audit_cuts to folio_app using (folio_partner_row(partner_id))`.execute(db);
  await sql`
    grant select, insert, update on audit_chain_checks to folio_app;
    revoke delete, truncate on audit_chain_checks from folio_app;
    grant select on audit_cuts to folio_app;
    revoke insert, update, delete, truncate on audit_cuts from folio_app;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop function if exists audit_cut_chain(text, text);
    drop function if exists audit_search(text, text);
    drop function if exists audit_search_page(text, text, text, text, text, text, text, text, text, timestamptz, timestamptz, timestamptz, bigint, integer);
    drop table if exists audit_cuts;
    drop table if exists audit_chain_checks;
    drop index if exists audit_events_search;
    alter table audit_events drop column if exists search_text;
    drop index if exists audit_events_target;
    drop index if exists audit_events_actor;
    drop index if exists audit_events_app_order;
    drop index if exists audit_events_customer_order;
    drop index if exists audit_events_partner_order;
    create index audit_events_partner_time on audit_events (partner_id, occurred_at desc);
    create index audit_events_customer_time on audit_events (partner_id, customer_id, occurred_at desc);
    drop function if exists audit_search_text(text, text, text, text, text, text, text, text, jsonb);
    create or replace function audit_event_hash(e audit_events) returns text
      language sql immutable as $f$
        select encode(sha256(convert_to(concat_ws(E'\\x1f',
          e.prev_hash, e.id, coalesce(e.partner_id, '-'), coalesce(e.customer_id, '-'), e.seq::text,
          to_char(e.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
          e.actor_type, coalesce(e.actor_id, '-'), coalesce(e.actor_label, '-'), e.app, e.action, e.target_type,
          coalesce(e.target_id, '-'), e.changes::text, coalesce(e.request_id, '-'), coalesce(e.ip, '-'),
          coalesce(e.user_agent, '-')), 'UTF8')), 'hex')
      $f$;
    alter table partner_settings drop column if exists audit_retention_years;
    alter table sessions drop column if exists auth_method;
    alter table audit_events drop column if exists auth_method;
  `.execute(db);
}
