import { sql, type Kysely } from 'kysely';

/**
 * Any app can be asked of the platform operator (docs/adr/0039, amendment of 2026-12-07), no longer only Finance: a
 * partner caller gives only apps it holds, so an app nobody at a partner holds any more could otherwise never be given
 * again. An access request names any of the apps a grant may name (the list of `app_grants.app`, migration 0001); one
 * pending request per user and app stays the unique index `access_requests_one_pending`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table access_requests drop constraint access_requests_app_check;
    alter table access_requests add constraint access_requests_app_check
      check (app in ('customer', 'product', 'invoice', 'finance', 'audit', 'discount', 'settings', 'access'));
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table access_requests drop constraint access_requests_app_check;
    alter table access_requests add constraint access_requests_app_check check (app in ('finance'));
  `.execute(db);
}
