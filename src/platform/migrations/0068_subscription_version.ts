import { sql, type Kysely } from 'kysely';

/**
 * A subscription's version: its ETag (api-conventions, Writes; src/platform/etag.ts `versionEtag`), which an update's
 * If-Match must name (412 otherwise, nothing written). Its GET view (history, renewal price) is larger than what its
 * updates answer, so a digest of a view would not serve both; a counter of the row does. Every change to the row bumps
 * it, whoever writes it (the staff and portal routes, a paid invoice activating it, the renewal job's set-based
 * updates): a row trigger on every update of the row, so no writer can forget it. Add-on changes touch the row
 * (updated_at), so they bump it too, even when the clock has not moved.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table subscriptions add column version int not null default 1 check (version >= 1);

    create function subscriptions_bump_version() returns trigger language plpgsql as $$
    begin
      new.version := old.version + 1;
      return new;
    end
    $$;

    create trigger subscriptions_version before update on subscriptions
      for each row execute function subscriptions_bump_version();
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop trigger subscriptions_version on subscriptions;
    drop function subscriptions_bump_version();
    alter table subscriptions drop column version;
  `.execute(db);
}
