import { sql, type Kysely } from 'kysely';

/**
 * `invoice_pay_attempts.resumed_at`: when a portal pay last sent a pending attempt's card charge again (a retry under
 * the same Idempotency-Key, or the resume of a stale attempt; src/invoices/pay-invoice.ts), written in the pay's
 * first transaction, under the wallet lock, before the charge is sent. The worker that settles stale attempts from what
 * the gateway knows (src/invoices/settle-stale-pay-attempts.ts) reads it: a gateway that has no charge under the
 * attempt's key proves nothing was charged only if no request was sent since long enough before it was asked. Null:
 * never sent again. No new table: the row's existing policy covers the column.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table invoice_pay_attempts add column resumed_at timestamptz`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table invoice_pay_attempts drop column if exists resumed_at`.execute(db);
}
