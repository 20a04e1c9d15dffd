import { sql, type Kysely } from 'kysely';

/**
 * Discounts (the Discount app, src/discounts; docs/adr/0016-discount-precedence.md).
 * A discount targets one customer (`customer_id`) or every customer of the partner (null), and a scope in the catalog:
 * all products of a type, all variants of a product, all billing cycles of a variant, or one billing cycle (a price).
 * The row keeps the whole catalog path of its scope (a variant discount also names its product and type), so matching a
 * charge line is a comparison of columns. Percent (basis points, 0 < bps <= 10000) or a fixed amount per unit (micros,
 * in the price's currency, only on one billing cycle). In force from `starts_on` to `ends_on`, both UTC days, both
 * inclusive; `ends_on` null: unlimited. Ending a discount moves `ends_on` (to the day before a withdrawn discount's start:
 * never in force). Rows are never deleted: the invoices that carried a discount keep their own figures.
 *
 * Two discounts of the same target and the same scope may not be in force on the same day: an exclusion constraint
 * (btree_gist, shipped with PostgreSQL's contrib and trusted since PostgreSQL 13) refuses the overlap even between
 * concurrent transactions. Row-level security: the partner's staff read and write them; in a customer's scope (the portal
 * shows renewal prices after discount) only that customer's own and those for every customer are visible.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create extension if not exists btree_gist;

    create table discounts (
      id text primary key,
      partner_id text not null references partners(id),
      customer_id text,
      name text not null check (length(name) between 1 and 120),
      scope text not null check (scope in ('product_type', 'product', 'variant', 'price')),
      product_type text not null check (product_type in ('app_licence', 'phone_number', 'usage', 'service')),
      product_id text,
      variant_id text,
      price_id text,
      kind text not null check (kind in ('percent', 'fixed')),
      percent_bps integer check (percent_bps > 0 and percent_bps <= 10000),
      amount_micros bigint check (amount_micros > 0),
      currency char(3),
      starts_on date not null,
      ends_on date,
      ended_at timestamptz,
      ended_by text,
      created_by text not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      foreign key (partner_id, customer_id) references customers(partner_id, id),
      foreign key (partner_id, product_id) references products(partner_id, id),
      foreign key (partner_id, variant_id) references product_variants(partner_id, id),
      foreign key (partner_id, price_id) references product_prices(partner_id, id),
      check ((scope = 'product_type' and product_id is null and variant_id is null and price_id is null)
        or (scope = 'product' and product_id is not null and variant_id is null and price_id is null)
        or (scope = 'variant' and product_id is not null and variant_id is not null and price_id is null)
        or (scope = 'price' and product_id is not null and variant_id is not null and price_id is not null)),
      check ((kind = 'percent') = (percent_bps is not null)),
      check ((kind = 'fixed') = (amount_micros is not null and currency is not null)),
      check (kind = 'percent' or scope = 'price'),
      check (ends_on is null or ends_on >= starts_on - 1),
      constraint discounts_no_overlap exclude using gist (
        partner_id with =, (coalesce(customer_id, '*')) with =, scope with =,
        (coalesce(price_id, variant_id, product_id, product_type)) with =,
        (daterange(starts_on, ends_on + 1, '[)')) with &&
      )
    );
    create index discounts_list on discounts (partner_id, id desc);
    create index discounts_customer on discounts (partner_id, customer_id, id desc);
    create index discounts_type on discounts (partner_id, product_type);
    alter table discounts enable row level security;
    -- Staff write them; a customer's own scope (the portal's renewal prices) reads its own and those for every customer, never another's.
    create policy tenant_wall on discounts to folio_app
      using (folio_customer_row(partner_id, customer_id) or (customer_id is null and folio_shared_row(partner_id)))
      with check (folio_partner_row(partner_id));
    revoke delete, truncate on discounts from folio_app;

    alter table invoice_lines add column discount_id text;
  `.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the discounts migration is not reversible');
}
