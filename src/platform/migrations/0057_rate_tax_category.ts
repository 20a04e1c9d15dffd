import { sql, type Kysely } from 'kysely';

/**
 * Zero-rated calls (ADR 0032, amendment of 2026-12-05).
 * - `rates.tax_category`: what a call to the rate's prefix pays in tax. `standard`: the partner's tax rate on the price,
 *   as every call did since migration 0055. `zero_rated`: a taxable supply at 0% (many jurisdictions zero-rate
 *   international telecommunication services): the call pays its price only. Existing rates stay standard.
 * - `usage_calls.zero_rated` and `live_calls.zero_rated`: the call was rated on a zero-rated rate (its `tax_rate_bps` is
 *   then 0). The Monthly statement puts such calls on a zero-rated line, apart from calls charged at rate 0 for another
 *   reason (a partner without a tax rate, calls charged before migration 0055). A live call copies it at start, as its
 *   price and tax rate. Booleans with a constant default: no rewrite or scan of the (large) calls table. The database
 *   refuses a zero-rated call with a rate or a tax.
 * No new table: each row's existing policy covers its new column.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // The checks are NOT VALID: every existing row holds the default, which satisfies them, and no table is read under
  // its lock (as in migration 0055); every row written from now on is checked.
  await sql`alter table rates add column tax_category text not null default 'standard'`.execute(db);
  await sql`alter table rates add constraint rates_tax_category check (tax_category in ('standard', 'zero_rated')) not valid`.execute(db);
  await sql`alter table usage_calls add column zero_rated boolean not null default false`.execute(db);
  await sql`alter table usage_calls add constraint usage_calls_zero_rated_untaxed check (not zero_rated or (tax_rate_bps = 0 and tax_micros = 0)) not valid`.execute(db);
  await sql`alter table live_calls add column zero_rated boolean not null default false`.execute(db);
  await sql`alter table live_calls add constraint live_calls_zero_rated_untaxed check (not zero_rated or (tax_rate_bps = 0 and coalesce(tax_micros, 0) = 0)) not valid`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table live_calls drop column if exists zero_rated`.execute(db);
  await sql`alter table usage_calls drop column if exists zero_rated`.execute(db);
  await sql`alter table rates drop column if exists tax_category`.execute(db);
}
