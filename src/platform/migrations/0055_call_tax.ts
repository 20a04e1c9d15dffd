import { sql, type Kysely } from 'kysely';

/**
 * Tax on calls, charged with each call (ADR 0032): a call's price is before tax, as every price (domain: prices are
 * pre-tax), and the partner's tax rate (`partner_settings.tax_rate_bps`) is added to what the customer's points pay.
 * - `usage_calls.tax_micros`: the tax charged with the call, to the micro like its price, and `usage_calls.tax_rate_bps`
 *   the rate it was charged at (0 for calls charged before, and for partners without a rate). The call's points posting
 *   is price + tax; its entry credits the price to `revenue:usage` and the tax to `tax_payable`. A Monthly invoice
 *   names each usage line's rate from these, not from the partner's rate on the day it is made.
 * - `live_calls.tax_rate_bps`: the rate in force when the call started, copied with its price (the hold covers price
 *   and tax, and the end charges at the same rate); `live_calls.tax_micros`: the tax charged when it ended.
 *
 * Deploying: adding a column with a constant default rewrites no table (PostgreSQL 11+), and the checks are added
 * NOT VALID, so `usage_calls` (the largest table after postings) is not read while it is locked: every row written
 * before has the default, which passes them; every row written after is checked. Calls of live calls started before
 * the deploy, and calls charged by servers still running the old code during a rolling deploy, carry no tax.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table usage_calls
      add column tax_micros bigint not null default 0,
      add column tax_rate_bps int not null default 0,
      add constraint usage_calls_tax_not_negative check (tax_micros >= 0) not valid,
      add constraint usage_calls_tax_rate_bps_range check (tax_rate_bps between 0 and 10000) not valid`.execute(db);
  await sql`
    alter table live_calls
      add column tax_rate_bps int not null default 0,
      add column tax_micros bigint,
      add constraint live_calls_tax_rate_bps_range check (tax_rate_bps between 0 and 10000) not valid`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table live_calls drop column if exists tax_micros, drop column if exists tax_rate_bps`.execute(db);
  await sql`alter table usage_calls drop column if exists tax_rate_bps, drop column if exists tax_micros`.execute(db);
}
