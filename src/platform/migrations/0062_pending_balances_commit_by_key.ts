import { sql, type Kysely } from 'kysely';

/**
 * The commit trigger of the partner balances' queue finds its row by key (ADR 0018, decision 31).
 *
 * Every row queued in `ledger_pending_balances` (migration 0041: a partner account's total, moved at commit) has a
 * deferred constraint trigger, `ledger_pending_balances_commit()`, that asks whether its row is still queued, applies the
 * queue if so (`ledger_apply_pending_balances()`) and asks again (migration 0043). The queue's rows live only inside
 * their transaction, so an analyze finds it empty and the planner prices a sequential scan of it as nearly free; but the
 * heap keeps the pages of every row written and deleted since the last vacuum, which no insert reuses (only a vacuum
 * tells the free space map about them): a charging transaction queues about four rows, so after a minute of charging at
 * a few hundred transactions a second each of those questions (one or two per queued row) reads a few hundred pages
 * of dead rows. Measured with `npm run bench:paired` (16 one-call requests per transaction, 100 rounds of 40 transactions,
 * the queue growing from empty as it does between two vacuums): 34-104 µs less PostgreSQL CPU per transaction (medians
 * of the paired differences, two runs; 1-3%).
 *
 * Migration 0058 turned sequential scans off for the two functions that read this queue and the audit events' queue by
 * `ord`, for this reason (a plan made while the queue looked small, kept while it filled with dead rows); this third
 * reader was missed. It now runs with sequential scans off too: the question is one lookup in the queue's primary key,
 * whatever the statistics say. `src/ledger/pending-balances.test.ts` reads the plan made after a vacuum, once the queue
 * has grown.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter function ledger_pending_balances_commit() set enable_seqscan = off`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter function ledger_pending_balances_commit() reset enable_seqscan`.execute(db);
}
