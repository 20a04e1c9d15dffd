import { sql, type Kysely } from 'kysely';

/**
 * Product catalog (src/products): what a partner sells on subscription.
 * - `products`: SKU (unique per partner), name, type, tax category. Archived, never deleted, once anything refers to them.
 * - `product_variants`: a product's plans ("Basic", "Pro"), each sold on one or more billing cycles.
 * - `product_prices`: per variant, billing cycle and currency: the pre-tax price the customer pays, the cost the platform charges
 *   the partner, and a one-time activation fee. Bigint micros; catalog prices are whole minor units (checked in code).
 * - `partner_settings.tax_rate_bps`: the partner's tax on sales (e.g. 900 = 9% GST), applied to products of the `standard` tax
 *   category; `zero_rated` and `exempt` products carry no tax. `invoice_due_days`: days from issue to due.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table partner_settings
      add column tax_rate_bps int not null default 0 check (tax_rate_bps between 0 and 10000),
      add column invoice_due_days int not null default 14 check (invoice_due_days between 0 and 365);

    create table products (
      id text primary key,
      partner_id text not null references partners(id),
      sku text not null check (sku ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
      name text not null check (length(name) between 1 and 200),
      description text check (length(description) <= 2000),
      type text not null check (type in ('app_licence', 'phone_number', 'usage', 'service')),
      tax_category text not null default 'standard' check (tax_category in ('standard', 'zero_rated', 'exempt')),
      archived_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (partner_id, id)
    );
    create unique index products_sku on products (partner_id, lower(sku));
    create index products_partner on products (partner_id, created_at desc);

    create table product_variants (
      id text primary key,
      partner_id text not null references partners(id),
      product_id text not null,
      name text not null check (length(name) between 1 and 200),
      position int not null default 1 check (position >= 1),
      archived_at timestamptz,
      created_at timestamptz not null default now(),
      foreign key (partner_id, product_id) references products(partner_id, id),
      unique (partner_id, id)
    );
    create unique index product_variants_name on product_variants (product_id, lower(name));

    create table product_prices (
      id text primary key,
      partner_id text not null references partners(id),
      variant_id text not null,
      cycle text not null check (cycle in ('monthly', 'yearly')),
      currency char(3) not null,
      price_micros bigint not null check (price_micros >= 0),
      cost_micros bigint not null check (cost_micros >= 0),
      activation_fee_micros bigint not null default 0 check (activation_fee_micros >= 0),
      archived_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      foreign key (partner_id, variant_id) references product_variants(partner_id, id),
      unique (partner_id, id)
    );
    create unique index product_prices_one on product_prices (variant_id, cycle, currency);

    alter table products enable row level security;
    alter table product_variants enable row level security;
    alter table product_prices enable row level security;
    -- Customers read the catalog (to buy in the portal); only the partner's staff write it.
    create policy tenant_wall on products to folio_app using (folio_shared_row(partner_id)) with check (folio_partner_row(partner_id));
    create policy tenant_wall on product_variants to folio_app using (folio_shared_row(partner_id)) with check (folio_partner_row(partner_id));
    create policy tenant_wall on product_prices to folio_app using (folio_shared_row(partner_id)) with check (folio_partner_row(partner_id));
    revoke delete, truncate on products, product_variants, product_prices from folio_app;
  `.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the catalog migration is not reversible');
}
