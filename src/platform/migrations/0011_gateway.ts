import { sql, type Kysely } from 'kysely';

/**
 * The sandbox card gateway's own storage (src/gateway/sandbox.ts, docs/test-cards.md). These tables stand for the
 * card processor's systems, not for Folio's books: they hold gateway references, test-card outcomes, minor-unit
 * amounts and the webhook events still to deliver; never a card number (only the brand and last 4, as a gateway
 * shows them). They are not tenant rows (a gateway customer is only a reference), so they have no row-level security.
 * The API server charges and refunds through them; the worker settles delayed charges and delivers events.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- One row per idempotency key: the first answer, replayed for the same request, refused for another one.
    create table gateway_sandbox_requests (
      idempotency_key text primary key check (length(idempotency_key) between 1 and 255),
      operation text not null check (operation in ('create_customer', 'save_card', 'charge', 'refund')),
      request_hash text not null check (request_hash ~ '^[0-9a-f]{64}$'),
      response jsonb not null,
      created_at timestamptz not null default now()
    );

    create table gateway_sandbox_customers (
      id text primary key,
      reference text not null,
      created_at timestamptz not null default now()
    );

    create table gateway_sandbox_cards (
      id text primary key,
      customer_id text not null references gateway_sandbox_customers(id),
      outcome text not null check (outcome in ('success', 'declined', 'insufficient_funds', 'delayed', 'delayed_insufficient_funds')),
      brand text not null,
      last4 text not null check (last4 ~ '^[0-9]{4}$'),
      exp_month int not null check (exp_month between 1 and 12),
      exp_year int not null check (exp_year between 2000 and 2100),
      created_at timestamptz not null default now()
    );
    create index gateway_sandbox_cards_customer on gateway_sandbox_cards (customer_id);

    create table gateway_sandbox_charges (
      id text primary key,
      customer_id text references gateway_sandbox_customers(id),
      card_id text references gateway_sandbox_cards(id),
      outcome text not null check (outcome in ('success', 'declined', 'insufficient_funds', 'delayed', 'delayed_insufficient_funds')),
      status text not null check (status in ('succeeded', 'declined', 'insufficient_funds', 'pending')),
      failure_reason text,
      amount_minor bigint not null check (amount_minor > 0),
      currency char(3) not null,
      refunded_minor bigint not null default 0 check (refunded_minor >= 0 and refunded_minor <= amount_minor),
      description text not null,
      metadata jsonb not null default '{}',
      -- When a pending charge settles (the worker's deliverDueEvents).
      settle_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      check ((status in ('declined', 'insufficient_funds')) = (failure_reason is not null)),
      check (status <> 'pending' or settle_at is not null),
      check (refunded_minor = 0 or status = 'succeeded')
    );
    create index gateway_sandbox_charges_due on gateway_sandbox_charges (settle_at) where status = 'pending';

    create table gateway_sandbox_refunds (
      id text primary key,
      charge_id text not null references gateway_sandbox_charges(id),
      amount_minor bigint not null check (amount_minor > 0),
      currency char(3) not null,
      status text not null check (status in ('succeeded')),
      created_at timestamptz not null default now()
    );
    create index gateway_sandbox_refunds_charge on gateway_sandbox_refunds (charge_id);

    -- Webhook events waiting to be delivered, with the exact JSON body (signed when delivered).
    create table gateway_sandbox_events (
      seq bigint generated always as identity primary key,
      id text not null unique,
      type text not null check (type in ('charge.succeeded', 'charge.failed', 'refund.succeeded')),
      payload text not null,
      deliver_after timestamptz not null,
      delivered_at timestamptz,
      attempts int not null default 0,
      last_error text,
      created_at timestamptz not null default now()
    );
    create index gateway_sandbox_events_due on gateway_sandbox_events (deliver_after, seq) where delivered_at is null;

    -- The simulator's history is kept; the app role never deletes it.
    revoke delete, truncate on gateway_sandbox_requests, gateway_sandbox_customers, gateway_sandbox_cards,
      gateway_sandbox_charges, gateway_sandbox_refunds, gateway_sandbox_events from folio_app;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table gateway_sandbox_events;
    drop table gateway_sandbox_refunds;
    drop table gateway_sandbox_charges;
    drop table gateway_sandbox_cards;
    drop table gateway_sandbox_customers;
    drop table gateway_sandbox_requests;
  `.execute(db);
}
