import { sql, type Kysely } from 'kysely';

/**
 * Usage: the partner's rate plans (longest-prefix rates with price and cost per minute, billing increments,
 * minimum charge) and the calls charged against customers' points, one row per unique call id.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table rate_plans (
      id text primary key,
      partner_id text not null references partners(id),
      name text not null check (length(name) between 1 and 100),
      currency char(3) not null,
      first_increment_seconds int not null check (first_increment_seconds between 1 and 3600),
      next_increment_seconds int not null check (next_increment_seconds between 1 and 3600),
      minimum_charge_micros bigint not null default 0 check (minimum_charge_micros >= 0),
      -- When points do not cover a call: reject the record, or let the customer's credit limit cover it.
      when_insufficient text not null default 'reject' check (when_insufficient in ('reject', 'use_credit_limit')),
      is_default boolean not null default false,
      created_at timestamptz not null default now()
    );
    create unique index rate_plans_one_default on rate_plans (partner_id, currency) where is_default;

    create table rates (
      rate_plan_id text not null references rate_plans(id),
      partner_id text not null references partners(id),
      prefix text not null check (prefix ~ '^[0-9]{1,15}$'),
      description text,
      price_per_minute_micros bigint not null check (price_per_minute_micros >= 0),
      cost_per_minute_micros bigint not null check (cost_per_minute_micros >= 0),
      primary key (rate_plan_id, prefix)
    );

    create table usage_calls (
      id text primary key,
      partner_id text not null references partners(id),
      customer_id text not null references customers(id),
      call_id text not null check (length(call_id) between 1 and 100),
      from_number text not null,
      to_number text not null,
      direction text not null check (direction in ('outbound', 'inbound')),
      started_at timestamptz not null,
      duration_seconds int not null check (duration_seconds >= 0),
      billed_seconds int not null check (billed_seconds >= 0),
      prefix text,
      currency char(3) not null,
      price_micros bigint not null check (price_micros >= 0),
      cost_micros bigint not null check (cost_micros >= 0),
      entry_id text references journal_entries(id) deferrable initially deferred,
      created_at timestamptz not null default now(),
      unique (partner_id, call_id)
    );
    create index usage_calls_customer on usage_calls (partner_id, customer_id, started_at desc);

    alter table rate_plans enable row level security;
    alter table rates enable row level security;
    alter table usage_calls enable row level security;
    create policy tenant_wall on rate_plans to folio_app using (folio_shared_row(partner_id)) with check (folio_partner_row(partner_id));
    create policy tenant_wall on rates to folio_app using (folio_partner_row(partner_id)) with check (folio_partner_row(partner_id));
    create policy tenant_wall on usage_calls to folio_app using (folio_customer_row(partner_id, customer_id)) with check (folio_customer_row(partner_id, customer_id));
    revoke update, delete, truncate on usage_calls from folio_app;
  `.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the usage migration is not reversible');
}
