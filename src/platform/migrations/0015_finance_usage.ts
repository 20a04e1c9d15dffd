import { sql, type Kysely } from 'kysely';

/**
 * Finance and usage, second part (src/finance, src/products, src/usage/live-calls*):
 * - `rate_plans` gain a rates version: a plan's rates are replaced as a whole, atomically, and each replacement bumps the
 *   version (the ETag of the rate table). Calls keep the price they were charged at (`usage_calls`), and a live call keeps
 *   the rate it started with (`live_calls`), so a replacement never changes a call already rated or running.
 * - `live_calls`: a call in progress, one row per call id of the partner. It holds an estimate of the call on the customer's
 *   points (`wallet_reservations`, cause `live_call`) and a snapshot of its rate; ending it charges the actual call (and writes
 *   the `usage_calls` row, same call-id namespace as the batch), failing it releases the hold. Never deleted.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table rate_plans
      add column rates_version int not null default 1 check (rates_version >= 1),
      add column rates_updated_at timestamptz not null default now(),
      add constraint rate_plans_partner_id_key unique (partner_id, id);

    create table live_calls (
      id text primary key,
      partner_id text not null references partners(id),
      customer_id text not null,
      call_id text not null check (length(call_id) between 1 and 100),
      from_number text not null,
      to_number text not null,
      direction text not null check (direction in ('outbound', 'inbound')),
      started_at timestamptz not null,
      currency char(3) not null,
      -- The rate the call started with: a later replacement of the plan's rates does not change it.
      rate_plan_id text not null,
      prefix text,
      price_per_minute_micros bigint not null check (price_per_minute_micros >= 0),
      cost_per_minute_micros bigint not null check (cost_per_minute_micros >= 0),
      first_increment_seconds int not null check (first_increment_seconds between 1 and 3600),
      next_increment_seconds int not null check (next_increment_seconds between 1 and 3600),
      minimum_charge_micros bigint not null check (minimum_charge_micros >= 0),
      use_credit_limit boolean not null,
      -- What the switch asked for, and what the hold covers (the switch cuts the call there).
      max_seconds int not null check (max_seconds between 1 and 14400),
      covered_seconds int not null check (covered_seconds between 1 and max_seconds),
      hold_micros bigint not null check (hold_micros >= 0),
      reservation_id text references wallet_reservations(id),
      status text not null default 'active' check (status in ('active', 'ended', 'failed')),
      duration_seconds int check (duration_seconds between 0 and 86400),
      billed_seconds int check (billed_seconds >= 0),
      price_micros bigint check (price_micros >= 0),
      cost_micros bigint check (cost_micros >= 0),
      -- Ended, but the call id had been charged already (by the batch): the hold was released, nothing charged here.
      charged_elsewhere boolean not null default false,
      entry_id text references journal_entries(id) deferrable initially deferred,
      created_at timestamptz not null default now(),
      closed_at timestamptz,
      unique (partner_id, call_id),
      foreign key (partner_id, customer_id) references customers(partner_id, id),
      foreign key (partner_id, rate_plan_id) references rate_plans(partner_id, id),
      check ((status = 'active') = (closed_at is null)),
      check ((hold_micros > 0) = (reservation_id is not null)),
      check (status <> 'ended' or charged_elsewhere or (duration_seconds is not null and billed_seconds is not null and price_micros is not null and cost_micros is not null))
    );
    create index live_calls_customer on live_calls (partner_id, customer_id, created_at desc);

    alter table live_calls enable row level security;
    create policy tenant_wall on live_calls to folio_app using (folio_customer_row(partner_id, customer_id)) with check (folio_customer_row(partner_id, customer_id));
    revoke delete, truncate on live_calls from folio_app;
  `.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the finance and usage migration is not reversible');
}
