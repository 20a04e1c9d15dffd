import { sql, type Kysely } from 'kysely';

/**
 * The part of an allocation that paid a Top-up invoice's admin fee (docs/adr/0043): a staff Top-up invoice issued below
 * the policy's fee threshold carries an `admin_fee` line, paid first, before any points. `fee_micros` records, on each
 * allocation, how much of its amount went to the fee (Cr revenue:fees) rather than to points, so the allocation's
 * reversal takes back exactly that (the points part, `amount_micros - fee_micros`, as points) and the fee still unpaid
 * on the invoice is its fee less the fee parts of its active allocations. Set when the allocation is written, never
 * changed (payment_allocations_guard already freezes every column but the reversal's). Rows written before paid no fee:
 * Top-up invoices issued by staff carried none until now, so 0 is what they did.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table payment_allocations add column fee_micros bigint not null default 0;
    alter table payment_allocations add constraint payment_allocations_fee_part
      check (fee_micros >= 0 and fee_micros <= amount_micros and (kind = 'invoice' or fee_micros = 0));
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table payment_allocations drop column fee_micros`.execute(db);
}
