import { sql, type Kysely } from 'kysely';

/**
 * The portal's invoice list (src/invoices/portal-invoices.ts) is a customer's issued invoices, newest issued first
 * (issued_at desc, id desc), a page at a time from a cursor: this index serves that order and the cursor's row
 * comparison without sorting every invoice the customer has (a customer billed monthly for years, or paying per
 * purchase, holds thousands). Drafts have no issue date and are never listed there.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index invoices_customer_issued on invoices (partner_id, customer_id, issued_at desc, id desc) where status <> 'draft'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index invoices_customer_issued`.execute(db);
}
