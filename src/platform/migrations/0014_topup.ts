import { sql, type Kysely } from 'kysely';

/**
 * Top-up (src/topup, src/invoices): buying points by card, once by hand in the portal or automatically.
 * - `top_up_policies`: the partner's minimum top-up policy per currency, in dated versions that are never edited; the
 *   version in force on a day is the latest `effective_from` on or before it (UTC dates). No version: the built-in
 *   default of src/topup/top-up-policy.ts.
 * - `invoices` + `invoice_lines`: the one invoice table (purchase, monthly, top-up); the Invoices issue grows it.
 *   A paid or void invoice is never changed again (trigger); lines are append-only.
 * - `invoice_number_sequences`: one row-locked counter per partner, reached only through `folio_next_invoice_number`
 *   (the app role cannot read other partners' counters, or any counter directly).
 * - `saved_cards`: a customer's cards saved at the gateway: references, brand, last 4, expiry. Never a card number.
 * - `top_ups`: every attempt, pending -> succeeded | failed, once. Amounts never change (trigger). An automatic top-up
 *   carries the day it was made for, unique per customer: at most one a day.
 * - `auto_top_up_settings`: one row per customer.
 * Amounts are bigint micros; whole minor units of the currency where money crosses the gateway.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table top_up_policies (
      partner_id text not null references partners(id),
      currency char(3) not null,
      effective_from date not null,
      minimum_micros bigint not null check (minimum_micros >= 0),
      fee_threshold_micros bigint not null check (fee_threshold_micros >= 0),
      fee_micros bigint not null check (fee_micros >= 0),
      created_by text,
      created_at timestamptz not null default now(),
      primary key (partner_id, currency, effective_from),
      check ((fee_micros = 0) or (fee_threshold_micros > 0))
    );

    create table invoice_number_sequences (
      partner_id text primary key references partners(id),
      last_value bigint not null check (last_value > 0)
    );

    create table invoices (
      id text primary key,
      partner_id text not null references partners(id),
      customer_id text not null,
      type text not null check (type in ('purchase', 'monthly', 'top_up')),
      status text not null check (status in ('draft', 'awaiting_payment', 'partially_paid', 'paid', 'void')),
      number text,
      currency char(3) not null,
      subtotal_micros bigint not null check (subtotal_micros >= 0),
      tax_micros bigint not null default 0 check (tax_micros >= 0),
      total_micros bigint not null,
      amount_due_micros bigint not null,
      issued_at timestamptz,
      due_at timestamptz,
      paid_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      foreign key (partner_id, customer_id) references customers(partner_id, id),
      unique (partner_id, number),
      check (total_micros = subtotal_micros + tax_micros),
      check (amount_due_micros >= 0 and amount_due_micros <= total_micros),
      check ((status = 'draft') = (number is null)),
      check ((status = 'draft') = (issued_at is null)),
      check ((status = 'paid') = (paid_at is not null)),
      check (status <> 'paid' or amount_due_micros = 0)
    );
    create index invoices_customer on invoices (partner_id, customer_id, id desc);

    create table invoice_lines (
      id bigint generated always as identity primary key,
      invoice_id text not null references invoices(id),
      partner_id text not null,
      customer_id text not null,
      position int not null check (position >= 1),
      kind text not null check (kind ~ '^[a-z_]+$'),
      description text not null check (length(description) between 1 and 500),
      quantity int not null default 1 check (quantity > 0),
      unit_amount_micros bigint not null,
      amount_micros bigint not null,
      tax_micros bigint not null default 0 check (tax_micros >= 0),
      unique (invoice_id, position),
      check (amount_micros = unit_amount_micros * quantity)
    );

    create table saved_cards (
      id text primary key,
      partner_id text not null references partners(id),
      customer_id text not null,
      gateway text not null check (gateway in ('sandbox', 'stripe')),
      gateway_customer_ref text not null check (gateway_customer_ref ~ '^[A-Za-z0-9_-]{1,255}$'),
      method_ref text not null check (method_ref ~ '^[A-Za-z0-9_-]{1,255}$'),
      brand text not null check (length(brand) between 1 and 40),
      last4 text not null check (last4 ~ '^[0-9]{4}$'),
      exp_month int not null check (exp_month between 1 and 12),
      exp_year int not null check (exp_year between 2000 and 2100),
      created_by text,
      created_at timestamptz not null default now(),
      removed_at timestamptz,
      foreign key (partner_id, customer_id) references customers(partner_id, id),
      unique (gateway, method_ref)
    );
    create index saved_cards_customer on saved_cards (partner_id, customer_id, id desc);

    create table top_ups (
      id text primary key,
      partner_id text not null references partners(id),
      customer_id text not null,
      -- The portal user who topped up; null for an automatic top-up.
      user_id text references users(id),
      currency char(3) not null,
      amount_micros bigint not null check (amount_micros > 0),
      fee_micros bigint not null check (fee_micros >= 0),
      status text not null default 'pending' check (status in ('pending', 'succeeded', 'failed')),
      auto boolean not null default false,
      -- The day an automatic top-up was made for (UTC): one a day per customer.
      auto_for_date date,
      -- The policy version applied (null: the built-in default).
      policy_effective_from date,
      gateway text not null check (gateway in ('sandbox', 'stripe')),
      saved_card_id text references saved_cards(id),
      -- The client's Idempotency-Key, so that a retry after a lost answer resumes this attempt instead of paying twice.
      request_key text check (length(request_key) between 1 and 255),
      charge_ref text,
      invoice_id text references invoices(id),
      entry_id text references journal_entries(id),
      failure_code text check (failure_code ~ '^[a-z_]+$'),
      failure_reason text check (length(failure_reason) <= 500),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      completed_at timestamptz,
      foreign key (partner_id, customer_id) references customers(partner_id, id),
      check (auto = (auto_for_date is not null)),
      check (auto = (user_id is null)),
      check ((status = 'succeeded') = (invoice_id is not null and entry_id is not null and charge_ref is not null)),
      check ((status = 'failed') = (failure_code is not null and failure_reason is not null)),
      check ((status = 'pending') = (completed_at is null))
    );
    create unique index top_ups_charge on top_ups (gateway, charge_ref) where charge_ref is not null;
    create unique index top_ups_auto_once_a_day on top_ups (partner_id, customer_id, auto_for_date) where auto;
    create unique index top_ups_request_key on top_ups (partner_id, customer_id, user_id, request_key) where request_key is not null;
    create index top_ups_customer on top_ups (partner_id, customer_id, id desc);
    create index top_ups_pending on top_ups (created_at) where status = 'pending';

    create table auto_top_up_settings (
      partner_id text not null references partners(id),
      customer_id text not null,
      currency char(3) not null,
      enabled boolean not null default false,
      threshold_micros bigint not null check (threshold_micros >= 0),
      amount_micros bigint not null check (amount_micros > 0),
      saved_card_id text references saved_cards(id),
      -- The last day (UTC) an automatic top-up was attempted.
      last_attempted_on date,
      updated_by text,
      updated_at timestamptz not null default now(),
      primary key (partner_id, customer_id),
      foreign key (partner_id, customer_id) references customers(partner_id, id),
      check (not enabled or saved_card_id is not null)
    );
    create index auto_top_up_settings_due on auto_top_up_settings (last_attempted_on) where enabled;

    -- A top-up moves once, from pending; what was asked for never changes.
    create function top_ups_guard() returns trigger language plpgsql as $f$
      begin
        if old.status <> 'pending' then
          raise exception 'top-up % is %, and is never changed again', old.id, old.status using errcode = '23514';
        end if;
        if new.id <> old.id or new.partner_id <> old.partner_id or new.customer_id <> old.customer_id
          or new.user_id is distinct from old.user_id or new.currency <> old.currency or new.amount_micros <> old.amount_micros
          or new.fee_micros <> old.fee_micros or new.auto <> old.auto or new.auto_for_date is distinct from old.auto_for_date
          or new.gateway <> old.gateway or new.request_key is distinct from old.request_key or new.created_at <> old.created_at
          or new.policy_effective_from is distinct from old.policy_effective_from then
          raise exception 'top-up % keeps what was asked for', old.id using errcode = '23514';
        end if;
        return new;
      end
    $f$;
    create trigger top_ups_guard before update on top_ups for each row execute function top_ups_guard();

    -- A paid or void invoice is final: corrections are credit notes.
    create function invoices_guard() returns trigger language plpgsql as $f$
      begin
        if old.status in ('paid', 'void') then
          raise exception 'invoice % is %, and is never changed again', old.id, old.status using errcode = '23514';
        end if;
        if new.partner_id <> old.partner_id or new.customer_id <> old.customer_id or new.type <> old.type or new.currency <> old.currency
          or (old.number is not null and new.number is distinct from old.number) then
          raise exception 'invoice % keeps its partner, customer, type, currency and number', old.id using errcode = '23514';
        end if;
        return new;
      end
    $f$;
    create trigger invoices_guard before update on invoices for each row execute function invoices_guard();

    -- The next invoice number of a partner: the counter row stays locked until the caller's transaction ends, so
    -- numbers are handed out in commit order without gaps (a rollback gives its number back).
    create function folio_next_invoice_number(p_partner_id text) returns bigint
      language plpgsql security definer set search_path = public as $f$
      declare
        v bigint;
      begin
        if p_partner_id is null or not folio_shared_row(p_partner_id) then
          raise exception 'invoice numbers of another partner' using errcode = '42501';
        end if;
        insert into invoice_number_sequences as s (partner_id, last_value) values (p_partner_id, 1)
          on conflict (partner_id) do update set last_value = s.last_value + 1
          returning s.last_value into v;
        return v;
      end
    $f$;
    revoke all on function folio_next_invoice_number(text) from public;
    grant execute on function folio_next_invoice_number(text) to folio_app;

    alter table top_up_policies enable row level security;
    alter table invoice_number_sequences enable row level security;
    alter table invoices enable row level security;
    alter table invoice_lines enable row level security;
    alter table saved_cards enable row level security;
    alter table top_ups enable row level security;
    alter table auto_top_up_settings enable row level security;
    -- Customers read their partner's policy (the portal shows the fee before paying); only staff add versions.
    create policy tenant_wall on top_up_policies to folio_app using (folio_shared_row(partner_id)) with check (folio_partner_row(partner_id));
    create policy tenant_wall on invoices to folio_app using (folio_customer_row(partner_id, customer_id)) with check (folio_customer_row(partner_id, customer_id));
    create policy tenant_wall on invoice_lines to folio_app using (folio_customer_row(partner_id, customer_id)) with check (folio_customer_row(partner_id, customer_id));
    create policy tenant_wall on saved_cards to folio_app using (folio_customer_row(partner_id, customer_id)) with check (folio_customer_row(partner_id, customer_id));
    create policy tenant_wall on top_ups to folio_app using (folio_customer_row(partner_id, customer_id)) with check (folio_customer_row(partner_id, customer_id));
    create policy tenant_wall on auto_top_up_settings to folio_app using (folio_customer_row(partner_id, customer_id)) with check (folio_customer_row(partner_id, customer_id));

    revoke all on invoice_number_sequences from folio_app;
    revoke update, delete, truncate on top_up_policies, invoice_lines from folio_app;
    revoke delete, truncate on invoices, saved_cards, top_ups, auto_top_up_settings from folio_app;
  `.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the top-up migration is not reversible');
}
