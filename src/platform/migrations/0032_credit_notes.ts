import { sql, type Kysely } from 'kysely';

/**
 * Credit notes (src/credit-notes; docs/adr/0015-credit-notes.md): the Finance app corrects an issued invoice.
 * - `credit_notes`: draft -> issued (immutable) ; draft -> void. Against one issued Purchase or Monthly invoice of the same
 *   partner, customer and currency. Mode `whole` (what is left of every line), `lines` (chosen lines, by quantity or
 *   amount) or `amount` (a custom amount, tax split by the invoice's own tax share). The credited lines are kept as jsonb
 *   (`lines`: decimal-string micros; their cost when the invoice line's variant has one). Outcome chosen by issue time:
 *   `reduce_due` (the invoice's amount credited grows, its amount due falls), `points`, or `refund` (card through the
 *   gateway, after commit, by a job: `refund_status` pending -> refunded | failed; or a recorded bank transfer / cheque).
 *   Numbers come from the partner's own counter (`credit_note_number_series`, through `folio_next_credit_note_number`,
 *   which keeps the row locked until the caller commits: gapless, in commit order), in the partner's format
 *   (`invoice_number_formats.credit_note`, default CN-{YYYY}-{seq:06}).
 *   Once issued or void a credit note never changes again, except a card refund's status moving on once from pending.
 * - `credit_note_refunds`: one row per card charge refunded for a credit note (a credit note may span the invoice's card
 *   payments), pending -> succeeded | failed once, with the gateway's refund reference.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- ---- numbering: one counter per partner, like invoice_number_series (0027), reached only through the function ----
    create table credit_note_number_series (
      partner_id text primary key references partners(id),
      last_value bigint not null check (last_value >= 0)
    );
    alter table credit_note_number_series enable row level security;
    revoke all on credit_note_number_series from folio_app;
    create function folio_next_credit_note_number(p_partner_id text) returns bigint
      language plpgsql security definer set search_path = public as $f$
      declare
        v bigint;
      begin
        if p_partner_id is null or not folio_shared_row(p_partner_id) then
          raise exception 'credit note numbers of another partner' using errcode = '42501';
        end if;
        insert into credit_note_number_series as s (partner_id, last_value) values (p_partner_id, 1)
          on conflict (partner_id) do update set last_value = s.last_value + 1
          returning s.last_value into v;
        return v;
      end
    $f$;
    revoke all on function folio_next_credit_note_number(text) from public;
    grant execute on function folio_next_credit_note_number(text) to folio_app;

    create table credit_notes (
      id text primary key,
      partner_id text not null references partners(id),
      customer_id text not null,
      invoice_id text not null references invoices(id),
      status text not null default 'draft' check (status in ('draft', 'issued', 'void')),
      number text,
      currency char(3) not null,
      mode text not null check (mode in ('whole', 'lines', 'amount')),
      reason text not null check (reason in ('cancellation', 'downgrade', 'service_issue', 'billing_error', 'write_off', 'other')),
      memo text check (length(memo) between 1 and 2000),
      outcome text check (outcome in ('reduce_due', 'points', 'refund')),
      refund_method text check (refund_method in ('card', 'bank_transfer', 'cheque')),
      refund_reference text check (length(refund_reference) between 1 and 200),
      refund_status text check (refund_status in ('pending', 'refunded', 'failed')),
      lines jsonb not null default '[]',
      requested_amount_micros bigint check (requested_amount_micros > 0),
      subtotal_micros bigint not null check (subtotal_micros >= 0),
      tax_micros bigint not null check (tax_micros >= 0),
      total_micros bigint not null check (total_micros > 0),
      cost_micros bigint check (cost_micros >= 0),
      entry_id text,
      issued_at timestamptz,
      issued_by text,
      voided_at timestamptz,
      voided_by text,
      void_reason text check (length(void_reason) between 1 and 500),
      created_by text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      foreign key (partner_id, customer_id) references customers(partner_id, id),
      unique (partner_id, number),
      check (total_micros = subtotal_micros + tax_micros),
      check ((status = 'issued') = (number is not null)),
      check ((status = 'issued') = (issued_at is not null)),
      check ((status = 'issued') = (entry_id is not null)),
      check ((status = 'void') = (voided_at is not null)),
      check (status <> 'issued' or outcome is not null),
      check (refund_method is null or outcome = 'refund'),
      check (status <> 'issued' or outcome <> 'refund' or refund_method is not null),
      check ((refund_status is not null) = (status = 'issued' and refund_method = 'card')),
      check ((mode = 'amount') = (requested_amount_micros is not null))
    );
    create index credit_notes_list on credit_notes (partner_id, id desc);
    create index credit_notes_invoice on credit_notes (invoice_id, id);
    create index credit_notes_customer on credit_notes (partner_id, customer_id, id desc);

    create function credit_notes_guard() returns trigger language plpgsql as $f$
      begin
        if new.id <> old.id or new.partner_id <> old.partner_id or new.customer_id <> old.customer_id or new.invoice_id <> old.invoice_id
          or new.currency <> old.currency or new.created_at <> old.created_at then
          raise exception 'credit note % keeps its partner, customer, invoice and currency', old.id using errcode = '23514';
        end if;
        if old.status <> 'draft' then
          if (to_jsonb(new) - 'refund_status' - 'updated_at') <> (to_jsonb(old) - 'refund_status' - 'updated_at')
            or (new.refund_status is distinct from old.refund_status and (old.refund_status <> 'pending' or new.refund_status = 'pending')) then
            raise exception 'credit note % is %, and is never changed again (a card refund only settles once)', old.id, old.status using errcode = '23514';
          end if;
        end if;
        return new;
      end
    $f$;
    create trigger credit_notes_guard before update on credit_notes for each row execute function credit_notes_guard();
    alter table credit_notes enable row level security;
    create policy tenant_wall on credit_notes to folio_app using (folio_customer_row(partner_id, customer_id)) with check (folio_customer_row(partner_id, customer_id));
    revoke delete, truncate on credit_notes from folio_app;

    create table credit_note_refunds (
      id bigint generated always as identity primary key,
      partner_id text not null references partners(id),
      customer_id text not null,
      credit_note_id text not null references credit_notes(id),
      gateway text not null check (gateway in ('sandbox', 'stripe')),
      charge_ref text not null check (length(charge_ref) between 1 and 255),
      currency char(3) not null,
      amount_micros bigint not null check (amount_micros > 0),
      status text not null default 'pending' check (status in ('pending', 'succeeded', 'failed')),
      refund_ref text check (length(refund_ref) between 1 and 255),
      failure_reason text check (length(failure_reason) between 1 and 500),
      failure_entry_id text,
      created_at timestamptz not null default now(),
      completed_at timestamptz,
      foreign key (partner_id, customer_id) references customers(partner_id, id),
      check ((status = 'pending') = (completed_at is null)),
      check ((status = 'failed') = (failure_reason is not null))
    );
    create index credit_note_refunds_note on credit_note_refunds (credit_note_id, id);
    create index credit_note_refunds_charge on credit_note_refunds (charge_ref);

    create function credit_note_refunds_guard() returns trigger language plpgsql as $f$
      begin
        if old.status <> 'pending' or new.status = 'pending'
          or (to_jsonb(new) - 'status' - 'refund_ref' - 'failure_reason' - 'failure_entry_id' - 'completed_at')
             <> (to_jsonb(old) - 'status' - 'refund_ref' - 'failure_reason' - 'failure_entry_id' - 'completed_at') then
          raise exception 'card refund % settles once, from pending', old.id using errcode = '23514';
        end if;
        return new;
      end
    $f$;
    create trigger credit_note_refunds_guard before update on credit_note_refunds for each row execute function credit_note_refunds_guard();
    alter table credit_note_refunds enable row level security;
    create policy tenant_wall on credit_note_refunds to folio_app using (folio_customer_row(partner_id, customer_id)) with check (folio_customer_row(partner_id, customer_id));
    revoke delete, truncate on credit_note_refunds from folio_app;
  `.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the credit notes migration is not reversible');
}
