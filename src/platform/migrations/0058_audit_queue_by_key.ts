import { sql, type Kysely } from 'kysely';

/**
 * `audit_event_queue_seal()` (migrations 0041, 0042) moves a transaction's queued audit events into the trail at commit
 * with `delete from audit_event_queue where ord >= <the first one>`. The queue is an unlogged table whose rows live only
 * inside their own transaction: its pages are mostly dead rows, and what the planner makes of its size depends on when
 * it looks. PL/pgSQL plans that statement once per connection; planned while the table looked small (a fresh server,
 * or just after a vacuum emptied it), the plan is a sequential scan, kept while the table fills with dead rows again:
 * every commit then read every page of the queue (~700 buffers per charging transaction in bench:money at 4 clients,
 * inside the section where the partner's accounts and audit chain head are locked).
 *
 * `ledger_apply_pending_balances()` (migration 0047) reads and empties its own unlogged queue the same way
 * (`ord >= <the transaction's first>`), and can be planned the same way.
 *
 * Both functions now run with sequential scans off, as migration 0051 turned joins off for the postings trigger: their
 * statements reach the queues, the trail, the chain head and the accounts by their keys whatever the statistics say.
 * The setting is each function's own (restored when it returns).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter function audit_event_queue_seal() set enable_seqscan = off`.execute(db);
  await sql`alter function ledger_apply_pending_balances() set enable_seqscan = off`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter function audit_event_queue_seal() reset enable_seqscan`.execute(db);
  await sql`alter function ledger_apply_pending_balances() reset enable_seqscan`.execute(db);
}
