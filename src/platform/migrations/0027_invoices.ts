import { sql, type Kysely } from 'kysely';

/**
 * Invoices and customer self-pay (src/invoices; docs/adr/0012-invoices.md).
 * - Numbering: one counter per partner AND invoice type (`invoice_number_series`), reached only through
 *   `folio_next_invoice_number(partner, type)` / `folio_next_invoice_numbers(partner, type, n)`, which keep the counter row
 *   locked until the caller's transaction ends (gapless, in commit order; a rollback gives its number back). Each series
 *   starts where the old per-partner counter stood, so no number issued before this migration can repeat.
 *   The format per type is a partner setting (`partner_settings.invoice_number_formats`).
 * - Partner branding for invoices and PDFs: legal name, address, tax id, logo (PNG or JPEG, at most 256 KiB), payment
 *   instructions.
 * - `invoices` grows: amount paid, amount credited (amount due = total - paid - credited, checked; 0 once void), discount, bill-to
 *   snapshot taken at issue, notes, who created it, void reason/time, the lines of a draft (jsonb until issued: issued
 *   lines are append-only rows), the statement period of a Monthly invoice, and `informational` (a Monthly statement of
 *   charges already paid from points: never payable, no receivable).
 * - `invoice_lines` grows: product and variant, quantity as numeric (awkward quantities), gross (quantity x unit price,
 *   rounded once), line discount, tax category and rate. amount = gross - discount (pre-tax net).
 * - `invoice_payments`: what paid an invoice, one row per source (points, card, allocation), with its ledger entry.
 *   Append-only.
 * - `invoice_pay_attempts`: a portal user's payment of a Purchase invoice: points reserved, card charged outside any
 *   transaction, then completed exactly once (pending -> succeeded | failed). One pending attempt per invoice.
 * - `statements`: the monthly statement of a customer (opening and closing points, usage by category, renewals,
 *   purchases, top-ups), one per customer and month, with its Monthly invoice.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- ---- numbering per type ----
    create table invoice_number_series (
      partner_id text not null references partners(id),
      type text not null check (type in ('purchase', 'monthly', 'top_up')),
      last_value bigint not null check (last_value >= 0),
      primary key (partner_id, type)
    );
    insert into invoice_number_series (partner_id, type, last_value)
      select s.partner_id, t.type, s.last_value from invoice_number_sequences s cross join (values ('purchase'), ('monthly'), ('top_up')) as t(type);
    alter table invoice_number_series enable row level security;
    revoke all on invoice_number_series from folio_app;

    drop function folio_next_invoice_number(text);
    drop function folio_next_invoice_numbers(text, int);
    create function folio_next_invoice_numbers(p_partner_id text, p_type text, p_count int) returns bigint
      language plpgsql security definer set search_path = public as $f$
      declare
        v bigint;
      begin
        if p_partner_id is null or not folio_shared_row(p_partner_id) then
          raise exception 'invoice numbers of another partner' using errcode = '42501';
        end if;
        if p_count is null or p_count < 1 then
          raise exception 'at least one invoice number' using errcode = '22023';
        end if;
        insert into invoice_number_series as s (partner_id, type, last_value) values (p_partner_id, p_type, p_count)
          on conflict (partner_id, type) do update set last_value = s.last_value + p_count
          returning s.last_value into v;
        return v;
      end
    $f$;
    revoke all on function folio_next_invoice_numbers(text, text, int) from public;
    grant execute on function folio_next_invoice_numbers(text, text, int) to folio_app;

    -- ---- partner invoicing settings and branding ----
    alter table partner_settings
      add column invoice_number_formats jsonb not null
        default '{"purchase": "INV-{YYYY}-{seq:06}", "monthly": "STM-{YYYY}{MM}-{seq:06}", "top_up": "TOP-{YYYY}-{seq:06}"}',
      add column invoice_legal_name text check (length(invoice_legal_name) between 1 and 200),
      add column invoice_address text check (length(invoice_address) between 1 and 1000),
      add column invoice_tax_id text check (length(invoice_tax_id) between 1 and 60),
      add column invoice_email text check (length(invoice_email) between 3 and 254),
      add column invoice_payment_instructions text check (length(invoice_payment_instructions) between 1 and 2000),
      add column invoice_logo bytea check (octet_length(invoice_logo) between 1 and 262144),
      add column invoice_logo_type text check (invoice_logo_type in ('image/png', 'image/jpeg')),
      add constraint partner_settings_logo_typed check ((invoice_logo is null) = (invoice_logo_type is null));
    -- Existing partners keep their purchase numbers (INV-, the series continues from the old counter); Monthly and
    -- Top-up invoices get their own prefixes, so no new number can repeat an old one.

    -- ---- invoices ----
    alter table invoices disable trigger invoices_guard;
    alter table invoices
      add column amount_paid_micros bigint not null default 0 check (amount_paid_micros >= 0),
      add column amount_credited_micros bigint not null default 0 check (amount_credited_micros >= 0),
      add column discount_micros bigint not null default 0 check (discount_micros >= 0),
      add column informational boolean not null default false,
      add column bill_to jsonb,
      add column notes text check (length(notes) between 1 and 2000),
      add column created_by text,
      add column voided_at timestamptz,
      add column voided_by text,
      add column void_reason text check (length(void_reason) between 1 and 500),
      add column draft_lines jsonb,
      add column period_start date,
      add column period_end date;
    update invoices set amount_paid_micros = total_micros where status = 'paid';
    update invoices set amount_paid_micros = total_micros - amount_due_micros where status = 'partially_paid';
    alter table invoices
      add constraint invoices_due_is_total_less_paid_and_credited check (
        amount_due_micros = case when status = 'void' then 0 else total_micros - amount_paid_micros - amount_credited_micros end),
      add constraint invoices_void_recorded check ((status = 'void') = (voided_at is not null)),
      add constraint invoices_void_nothing_paid check (status <> 'void' or amount_paid_micros = 0),
      add constraint invoices_draft_lines_only_in_draft check (status = 'draft' or draft_lines is null),
      add constraint invoices_partially_paid check (status <> 'partially_paid' or (amount_paid_micros > 0 and amount_due_micros > 0)),
      add constraint invoices_period check ((period_start is null) = (period_end is null) and (period_start is null or period_start < period_end)),
      add constraint invoices_informational_is_monthly check (not informational or type = 'monthly');
    alter table invoices enable trigger invoices_guard;

    -- A paid or void invoice is final (corrections are credit notes), except what the Finance app records against a
    -- paid invoice later (amount credited by a credit note that refunds or gives points); a void one is final.
    create or replace function invoices_guard() returns trigger language plpgsql as $f$
      begin
        if old.status = 'void' then
          raise exception 'invoice % is void, and is never changed again', old.id using errcode = '23514';
        end if;
        if old.status = 'paid' and (new.status <> 'paid' or new.total_micros <> old.total_micros or new.amount_paid_micros < old.amount_paid_micros
          or new.subtotal_micros <> old.subtotal_micros or new.tax_micros <> old.tax_micros or new.issued_at <> old.issued_at
          or new.due_at <> old.due_at or new.paid_at <> old.paid_at or new.bill_to is distinct from old.bill_to or new.notes is distinct from old.notes) then
          raise exception 'invoice % is paid, and is never changed again', old.id using errcode = '23514';
        end if;
        if new.partner_id <> old.partner_id or new.customer_id <> old.customer_id or new.type <> old.type or new.currency <> old.currency
          or (old.number is not null and new.number is distinct from old.number) or new.informational <> old.informational then
          raise exception 'invoice % keeps its partner, customer, type, currency and number', old.id using errcode = '23514';
        end if;
        if old.status <> 'draft' and (new.subtotal_micros <> old.subtotal_micros or new.tax_micros <> old.tax_micros
          or new.total_micros <> old.total_micros or new.discount_micros <> old.discount_micros or new.issued_at <> old.issued_at
          or new.bill_to is distinct from old.bill_to or new.status = 'draft') then
          raise exception 'invoice % is issued: its lines and totals never change (a credit note corrects it)', old.id using errcode = '23514';
        end if;
        if new.amount_paid_micros < old.amount_paid_micros or new.amount_credited_micros < old.amount_credited_micros then
          raise exception 'invoice % only gains payments and credits (a reversal is recorded by the Finance app)', old.id using errcode = '23514';
        end if;
        return new;
      end
    $f$;

    create index invoices_list on invoices (partner_id, id desc);
    create index invoices_open_due on invoices (partner_id, due_at) where status in ('awaiting_payment', 'partially_paid');
    create index invoices_number_search on invoices (partner_id, lower(number) text_pattern_ops);
    create index invoices_customer_type on invoices (partner_id, customer_id, type, id desc);

    -- ---- invoice lines ----
    alter table invoice_lines drop constraint invoice_lines_check;
    alter table invoice_lines alter column quantity type numeric(18, 6);
    alter table invoice_lines
      add column product_id text references products(id),
      add column variant_id text references product_variants(id),
      add column gross_micros bigint,
      add column discount_micros bigint not null default 0 check (discount_micros >= 0),
      add column tax_category text not null default 'standard' check (tax_category in ('standard', 'zero_rated', 'exempt')),
      add column tax_rate_bps int not null default 0 check (tax_rate_bps between 0 and 10000);
    alter table invoice_lines disable trigger user;
    update invoice_lines set gross_micros = amount_micros;
    alter table invoice_lines enable trigger user;
    alter table invoice_lines
      alter column gross_micros set not null,
      add constraint invoice_lines_net check (amount_micros = gross_micros - discount_micros),
      add constraint invoice_lines_discount_within check (discount_micros <= gross_micros),
      add constraint invoice_lines_quantity check (quantity > 0);

    -- ---- what paid an invoice ----
    create table invoice_payments (
      id text primary key,
      partner_id text not null references partners(id),
      customer_id text not null,
      invoice_id text not null references invoices(id),
      source text not null check (source in ('points', 'card', 'allocation')),
      currency char(3) not null,
      amount_micros bigint not null check (amount_micros > 0),
      entry_id text not null,
      attempt_id text,
      payment_id text,
      charge_ref text,
      paid_by text,
      created_at timestamptz not null default now(),
      foreign key (partner_id, customer_id) references customers(partner_id, id)
    );
    create index invoice_payments_invoice on invoice_payments (invoice_id, id);
    alter table invoice_payments enable row level security;
    create policy tenant_wall on invoice_payments to folio_app using (folio_customer_row(partner_id, customer_id)) with check (folio_customer_row(partner_id, customer_id));
    revoke update, delete, truncate on invoice_payments from folio_app;

    create table invoice_pay_attempts (
      id text primary key,
      partner_id text not null references partners(id),
      customer_id text not null,
      invoice_id text not null references invoices(id),
      user_id text not null references users(id),
      currency char(3) not null,
      amount_micros bigint not null check (amount_micros > 0),
      points_micros bigint not null check (points_micros >= 0),
      card_micros bigint not null check (card_micros >= 0),
      reservation_id text,
      gateway text check (gateway in ('sandbox', 'stripe')),
      saved_card_id text references saved_cards(id),
      request_key text check (length(request_key) between 1 and 255),
      status text not null default 'pending' check (status in ('pending', 'succeeded', 'failed')),
      charge_ref text,
      entry_id text,
      failure_code text check (failure_code ~ '^[a-z_]+$'),
      failure_reason text check (length(failure_reason) <= 500),
      created_at timestamptz not null default now(),
      completed_at timestamptz,
      foreign key (partner_id, customer_id) references customers(partner_id, id),
      check (amount_micros = points_micros + card_micros),
      check ((card_micros > 0) = (gateway is not null)),
      check ((status = 'succeeded') = (entry_id is not null)),
      check ((status = 'failed') = (failure_code is not null)),
      check ((status = 'pending') = (completed_at is null))
    );
    create unique index invoice_pay_attempts_one_pending on invoice_pay_attempts (invoice_id) where status = 'pending';
    create unique index invoice_pay_attempts_request_key on invoice_pay_attempts (partner_id, customer_id, user_id, request_key) where request_key is not null;
    create unique index invoice_pay_attempts_charge on invoice_pay_attempts (gateway, charge_ref) where charge_ref is not null;
    create index invoice_pay_attempts_invoice on invoice_pay_attempts (invoice_id, id desc);
    create index invoice_pay_attempts_stale on invoice_pay_attempts (created_at) where status = 'pending';

    create function invoice_pay_attempts_guard() returns trigger language plpgsql as $f$
      begin
        if old.status <> 'pending' then
          raise exception 'payment attempt % is %, and is never changed again', old.id, old.status using errcode = '23514';
        end if;
        if new.id <> old.id or new.partner_id <> old.partner_id or new.customer_id <> old.customer_id or new.invoice_id <> old.invoice_id
          or new.user_id <> old.user_id or new.amount_micros <> old.amount_micros or new.points_micros <> old.points_micros
          or new.card_micros <> old.card_micros or new.request_key is distinct from old.request_key or new.currency <> old.currency then
          raise exception 'payment attempt % keeps what was asked for', old.id using errcode = '23514';
        end if;
        return new;
      end
    $f$;
    create trigger invoice_pay_attempts_guard before update on invoice_pay_attempts for each row execute function invoice_pay_attempts_guard();
    alter table invoice_pay_attempts enable row level security;
    create policy tenant_wall on invoice_pay_attempts to folio_app using (folio_customer_row(partner_id, customer_id)) with check (folio_customer_row(partner_id, customer_id));
    revoke delete, truncate on invoice_pay_attempts from folio_app;

    -- ---- monthly statements ----
    create table statements (
      id text primary key,
      partner_id text not null references partners(id),
      customer_id text not null,
      invoice_id text references invoices(id),
      currency char(3) not null,
      period_start date not null,
      period_end date not null,
      opening_points_micros bigint not null,
      closing_points_micros bigint not null,
      -- { usage: [{category, calls, seconds, amountMicros}], renewals: {count, amountMicros}, purchases: {...},
      --   topUps: {...}, credits: {...}, other: {...} } as decimal-string micros (src/invoices/statements).
      summary jsonb not null,
      created_at timestamptz not null default now(),
      foreign key (partner_id, customer_id) references customers(partner_id, id),
      unique (partner_id, customer_id, period_start),
      check (period_start < period_end)
    );
    alter table statements enable row level security;
    create policy tenant_wall on statements to folio_app using (folio_customer_row(partner_id, customer_id)) with check (folio_customer_row(partner_id, customer_id));
    revoke update, delete, truncate on statements from folio_app;
  `.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the invoices migration is not reversible');
}
