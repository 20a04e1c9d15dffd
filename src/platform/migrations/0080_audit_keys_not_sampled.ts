import { sql, type Kysely } from 'kysely';

/**
 * ANALYZE no longer computes the audit trail's search keys (docs/adr/0018, amendment of 2026-12-08). The GIN index of
 * the free-text search is on an expression (`coalesce(search_keys, audit_search_keys(partner_id, search_text))`,
 * migration 0042), and ANALYZE evaluates an expression index for every row it samples: up to 30,000 events, each a
 * `show_trgm` and a hash per trigram (0.25-0.45 ms an event), every time autovacuum analyzes the trail. In a 100,000
 * renewal run (20,000 audit events written in bulk, whose keys the index computes) pg_stat_statements counted 21,554
 * such calls beside the 20,000 of the inserts: about 9 s of one of two cores, taken from the run.
 * No query uses those statistics: the keys are read only by `audit_search` / `audit_search_page`, which turn plain index
 * scans off and name the partner so that only this index serves them; the planner's default selectivity for `@>` keeps
 * the bitmap scan (measured: bench:audit's search figures before and after). Statistics target 0 skips the column.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter index audit_events_search_keys alter column 1 set statistics 0`.execute(db);
  // Statistics gathered before stay until overwritten: drop them so the planner sees the same as after a new trail.
  await sql`
    do $$ begin
      if exists (select 1 from pg_roles where rolname = current_user and rolsuper) then
        delete from pg_statistic where starelid = 'audit_events_search_keys'::regclass;
      end if;
    end $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter index audit_events_search_keys alter column 1 set statistics -1`.execute(db);
}
