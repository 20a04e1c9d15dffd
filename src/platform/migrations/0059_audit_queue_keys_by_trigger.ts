import { sql, type Kysely } from 'kysely';

/**
 * `audit_event_queue.search_keys` (migration 0042) was a stored generated column. PostgreSQL prepares a table's
 * generation expressions again for every statement that inserts into it (`ExecInitGenerated` plans the expression,
 * which inlines `audit_search_text` and looks into `audit_search_keys`, parsing both functions' bodies), so every
 * transaction that queued one audit event paid that planning once more: 7.4% of PostgreSQL's backend CPU in a
 * single-record charging run at 4 clients (perf, call graphs), a fixed cost of every charging transaction.
 *
 * The keys are now computed by a row trigger before the insert, from the same functions over the same values; PL/pgSQL
 * plans that expression once per connection. What the column guaranteed stays guaranteed:
 * - the trigger always writes the column, over whatever an insert or update said;
 * - the app role may insert every other column only (as for `audit_events`, migration 0042), so an insert naming the
 *   keys is refused outright, not silently corrected.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function audit_event_queue_keys() returns trigger
      language plpgsql set search_path = public as $f$
      begin
        new.search_keys := audit_search_keys(new.partner_id, audit_search_text(new.action, new.actor_label, new.actor_id, new.target_type,
                                                                              new.target_id, new.customer_id, new.request_id, new.ip, new.changes));
        return new;
      end
    $f$;
    alter table audit_event_queue alter column search_keys drop expression;
    create trigger audit_event_queue_keys before insert or update on audit_event_queue for each row execute function audit_event_queue_keys();
    revoke insert on audit_event_queue from folio_app;
    grant insert (id, partner_id, customer_id, actor_type, actor_id, actor_label, app, action, target_type, target_id, changes,
                  request_id, ip, user_agent, auth_method) on audit_event_queue to folio_app;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop trigger audit_event_queue_keys on audit_event_queue;
    drop function audit_event_queue_keys();
    alter table audit_event_queue drop column search_keys;
    alter table audit_event_queue add column search_keys bigint[] generated always as (
      audit_search_keys(partner_id, audit_search_text(action, actor_label, actor_id, target_type, target_id, customer_id, request_id, ip, changes))) stored;
    revoke insert on audit_event_queue from folio_app;
    grant insert on audit_event_queue to folio_app;
  `.execute(db);
}
