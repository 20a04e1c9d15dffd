import { sql, type Kysely } from 'kysely';

/**
 * Payment terms of an invoice (src/invoices; docs/adr/0012-invoice-totals.md): `due_days`, the days from issue to the
 * due date chosen for it. A draft keeps what its author chose (null: the partner's `invoice_due_days` when it is
 * issued); issue records the days it used, beside the `due_at` they gave.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table invoices add column due_days int check (due_days between 0 and 365);
  `.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the invoice terms migration is not reversible');
}
