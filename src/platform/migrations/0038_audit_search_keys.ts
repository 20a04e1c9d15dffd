import { sql, type Kysely } from 'kysely';

/**
 * Free-text search of the audit trail, per partner (issue 7: p99 <= 200 ms at 10 million events).
 *
 * Migration 0034 indexed `(partner_id, search_text gin_trgm_ops)` with btree_gin. With many partners that index is slow:
 * a trigram's posting list spans every partner (a trigram such as "inv" is in nearly every event), and GIN reads and
 * intersects those whole lists before the partner narrows them (150-460 ms at 10 million events, 100 partners).
 *
 * Here each event is indexed under keys that already name its partner: `audit_search_keys(partner, text)` is the set of
 * hashes of (partner, trigram) for every plain trigram inside a word of the text (three ASCII letters or digits, no
 * word-boundary padding; pg_trgm's `show_trgm` makes them). A posting list is then one partner's events only.
 *
 * Why it never misses a match: a LIKE '%q%' match holds q as a substring, so every run of letters/digits in q lies
 * inside a run of the event's text, and every three-character window of that run is a window of the event's run: the
 * query's keys (same function over the pattern; the escape backslashes and % are not letters or digits) are a subset
 * of the event's. Only trigrams of three single-byte characters are used (pg_trgm hashes multibyte ones together with
 * their padding, which a substring may not share). A hash collision only adds a candidate; the LIKE always rechecks.
 * A query without such a trigram (under three letters or digits in a row) is answered by the time-ordered scan.
 *
 * `audit_search_page` first looks for the page among the newest `window` events the other filters leave (a common word
 * fills a page there in a few milliseconds), and only when that window does not hold the page goes to the keys,
 * which a rare word needs, with plain index scans switched off for that one statement so the planner cannot prefer
 * walking the whole partner trail in time order.
 *
 * The CSV export's cells are made in the database too (`audit_csv_cell`, used by src/audit/export-audit-events-csv.ts):
 * a batch of 20,000 events comes back as one text value instead of 20,000 rows the server would parse (jsonb included)
 * and format again. Same cells as `src/audit/csv.ts` (RFC 4180 quoting, the formula guard).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // Named with its schema: an index expression is evaluated with a search_path of pg_catalog only.
  const trgm = (await sql<{ schema: string }>`select extnamespace::regnamespace::text as schema from pg_extension where extname = 'pg_trgm'`.execute(db)).rows[0];
  if (!trgm) throw new Error('migration 0038 needs the pg_trgm extension (migration 0034 creates it)');
  await sql`
    create function audit_search_keys(p_partner_id text, p_text text) returns bigint[]
      language sql immutable parallel safe strict as $f$
        select coalesce(array_agg(hashtextextended(p_partner_id || '|' || g, 0)), '{}')
        from unnest(${sql.id(trgm.schema)}.show_trgm(p_text)) g
        where g ~ '^[a-z0-9]{3}$' and g !~ '^0x'
      $f$;

    -- One CSV cell as src/audit/csv.ts makes it: quoted when it holds a quote, comma, CR or LF (quotes doubled), and a
    -- formula guard (a leading single quote) when it starts with = + - @, a tab or a CR. strpos and left: no regex per cell.
    create function audit_csv_cell(v text) returns text
      language sql immutable parallel safe as $f$
        select case
          when v is null then ''
          when strpos(v, '"') > 0 or strpos(v, ',') > 0 or strpos(v, E'\n') > 0 or strpos(v, E'\r') > 0
            then '"' || replace(case when left(v, 1) in ('=', '+', '-', '@', E'\t', E'\r') then '''' || v else v end, '"', '""') || '"'
          when left(v, 1) in ('=', '+', '-', '@', E'\t', E'\r') then '''' || v
          else v
        end
      $f$;

    -- What only code writes stays plain words, so the export can write these cells as they are (checked for new events;
    -- the trail before this migration was written by the same code).
    alter table audit_events add constraint audit_events_app_word check (app ~ '^[a-z_]{1,40}$') not valid;
    alter table audit_events add constraint audit_events_target_type_word check (target_type ~ '^[a-z_]{1,40}$') not valid;

    drop index if exists audit_events_search;
    create index audit_events_search_keys on audit_events using gin (audit_search_keys(partner_id, search_text));

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
            where audit_search_keys(e.partner_id, e.search_text) @> keys and (e.partner_id || '') = p_partner_id and e.search_text like p_pattern;
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
        return query execute 'select e.id from audit_events e where audit_search_keys(e.partner_id, e.search_text) @> $15
            and (e.partner_id || '''') = $1 and e.search_text like $2' || conditions
          || ' order by e.occurred_at desc, e.seq desc limit $14'
          using p_partner_id, p_pattern, p_customer_id, p_app, p_action, p_actor_id, p_actor_type,
            p_target_type, p_target_id, p_from, p_to, p_before_at, p_before_seq, p_limit, keys;
        perform set_config('enable_indexscan', old_indexscan, true);
      end
    $f$;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table audit_events drop constraint if exists audit_events_app_word;
    alter table audit_events drop constraint if exists audit_events_target_type_word;
    drop index if exists audit_events_search_keys;
    create index audit_events_search on audit_events using gin (partner_id, search_text gin_trgm_ops);
    drop function audit_search(text, text);
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
    create or replace function audit_search_page(p_partner_id text, p_pattern text, p_customer_id text, p_app text, p_action text,
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
    drop function audit_search_keys(text, text);
    drop function audit_csv_cell(text);
  `.execute(db);
}
