import { sql, type Kysely } from 'kysely';

/**
 * The customer's services (src/services), managed by the organisation's owners and admins in the user portal:
 * - `virtual_lines`: a phone number (E.164) with a name, where its calls go (`destination`: a user of the organisation, a group
 *   of its users, or an external number) and optional business hours (a timezone, per-weekday open/close times, and where calls
 *   go outside them: voicemail or another destination). Destinations and hours are JSON checked by the use cases; their type
 *   fields are checked here too.
 * - `wallboards`: a call-centre display: name, the queues it shows, its widgets (from a fixed set), its refresh interval.
 * Both may name the customer's subscription they come from (`subscription_id`, plain text: the subscriptions table is not
 * referenced here). Removing one sets `status = 'removed'`: rows are kept for the audit trail, never deleted.
 * `version` counts edits (optimistic concurrency: a stale edit is refused).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table virtual_lines (
      id text primary key,
      partner_id text not null references partners(id),
      customer_id text not null,
      subscription_id text check (subscription_id ~ '^sub_[0-9a-z]{10,40}$'),
      number text not null check (number ~ '^\\+[1-9][0-9]{6,14}$'),
      name text not null check (length(name) between 1 and 100),
      destination jsonb not null check (destination->>'type' in ('user', 'group', 'external')),
      business_hours jsonb check (business_hours is null or (business_hours->'outsideHours'->>'type') in ('voicemail', 'user', 'group', 'external')),
      status text not null default 'active' check (status in ('active', 'removed')),
      version int not null default 1 check (version >= 1),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      removed_at timestamptz,
      check ((status = 'removed') = (removed_at is not null)),
      foreign key (partner_id, customer_id) references customers(partner_id, id)
    );
    -- A number rings one active line of the partner.
    create unique index virtual_lines_number on virtual_lines (partner_id, number) where status = 'active';
    create index virtual_lines_customer on virtual_lines (partner_id, customer_id, id desc);

    create table wallboards (
      id text primary key,
      partner_id text not null references partners(id),
      customer_id text not null,
      subscription_id text check (subscription_id ~ '^sub_[0-9a-z]{10,40}$'),
      name text not null check (length(name) between 1 and 100),
      queues text[] not null check (cardinality(queues) between 1 and 20),
      widgets text[] not null check (cardinality(widgets) between 1 and 12),
      refresh_interval_seconds int not null check (refresh_interval_seconds between 5 and 3600),
      status text not null default 'active' check (status in ('active', 'removed')),
      version int not null default 1 check (version >= 1),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      removed_at timestamptz,
      check ((status = 'removed') = (removed_at is not null)),
      foreign key (partner_id, customer_id) references customers(partner_id, id)
    );
    create index wallboards_customer on wallboards (partner_id, customer_id, id desc);

    alter table virtual_lines enable row level security;
    alter table wallboards enable row level security;
    create policy tenant_wall on virtual_lines to folio_app using (folio_customer_row(partner_id, customer_id)) with check (folio_customer_row(partner_id, customer_id));
    create policy tenant_wall on wallboards to folio_app using (folio_customer_row(partner_id, customer_id)) with check (folio_customer_row(partner_id, customer_id));
    -- Removed means status 'removed': the rows stay for the audit trail.
    revoke delete, truncate on virtual_lines, wallboards from folio_app;
  `.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the services migration is not reversible');
}
