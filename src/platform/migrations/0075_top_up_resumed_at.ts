import { sql, type Kysely } from 'kysely';

/**
 * When a portal top-up's charge was last sent to the gateway again (an Idempotency-Key retry resuming a pending top-up
 * whose answer was lost). The stale top-up settler (src/topup/settle-stale-top-ups.ts) takes "the gateway has no such
 * charge" as "never charged" only for a request sent long enough before it asked; a resume restarts that wait, as
 * `invoice_pay_attempts.resumed_at` does for invoice payments (migration 0056).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table top_ups add column resumed_at timestamptz;
    create index top_ups_stale on top_ups (gateway, created_at) where status = 'pending' and charge_ref is null and renewal_for is null;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop index top_ups_stale;
    alter table top_ups drop column resumed_at;
  `.execute(db);
}
