import { sql, type Kysely } from 'kysely';

/**
 * Payments received outside the portal (src/payments; ../shared/ledger-design.md): bank transfers, GIRO, cheques, cash,
 * card terminals. A payment is recorded once and never deleted; its amount, method, currency and day never change. It may
 * wait without a customer (`unassigned`), is assigned once, allocated to invoices or turned into points, and reversed at
 * most once (status `reversed`). What is still free to allocate is `unallocated_micros` (0 <= unallocated <= amount).
 * `payment_allocations` record each allocation (to an invoice, or the leftover to points); an allocation is only ever
 * marked reversed (`reversed_by`: the reversing journal entry), never changed otherwise or deleted.
 *
 * Reopening an invoice when a payment is reversed: `invoices_guard` (0027) lets an invoice only gain payments, and keeps a
 * paid invoice paid. We replace it with the same rules plus ONE narrow exception, active only while the transaction-local
 * setting `folio.payment_reversal` is 'on' (set with `set_config(..., true)` by src/payments/reverse-payment.ts around its
 * update and reset right after): the amount paid may decrease, and a paid invoice may go back to awaiting_payment or
 * partially_paid (paid_at cleared), with every other column still frozen. A setting rather than a security-definer
 * function: the update stays under the caller's row-level security and partner filter (a definer function would run
 * as the owner and need its own tenancy checks), and the check constraints (due = total - paid - credited) still apply.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table payments (
      id text primary key,
      partner_id text not null references partners(id),
      customer_id text,
      method text not null check (method in ('bank_transfer', 'giro', 'cheque', 'cash', 'card', 'other')),
      currency char(3) not null,
      amount_micros bigint not null check (amount_micros > 0),
      unallocated_micros bigint not null,
      points_micros bigint not null default 0 check (points_micros >= 0),
      status text not null check (status in ('unassigned', 'unallocated', 'partially_allocated', 'allocated', 'reversed')),
      received_on date not null,
      reference text check (length(reference) between 1 and 200),
      remark text check (length(remark) between 1 and 1000),
      entry_id text not null,
      assign_entry_id text,
      recorded_by text,
      assigned_by text,
      assigned_at timestamptz,
      reversed_at timestamptz,
      reversed_by text,
      reversal_reason text check (length(reversal_reason) between 1 and 500),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      foreign key (partner_id, customer_id) references customers(partner_id, id),
      check (unallocated_micros >= 0 and unallocated_micros <= amount_micros),
      check (points_micros <= amount_micros),
      check (customer_id is not null or status in ('unassigned', 'reversed')),
      check (status <> 'unassigned' or customer_id is null),
      check ((status = 'reversed') = (reversed_at is not null)),
      check ((status = 'reversed') = (reversal_reason is not null))
    );
    create index payments_list on payments (partner_id, id desc);
    create index payments_customer on payments (partner_id, customer_id, id desc);
    create index payments_reference on payments (partner_id, lower(reference) text_pattern_ops);

    create function payments_guard() returns trigger language plpgsql as $f$
      begin
        if old.status = 'reversed' then
          raise exception 'payment % is reversed, and is never changed again', old.id using errcode = '23514';
        end if;
        if new.id <> old.id or new.partner_id <> old.partner_id or new.method <> old.method or new.currency <> old.currency
          or new.amount_micros <> old.amount_micros or new.received_on <> old.received_on or new.entry_id <> old.entry_id
          or new.reference is distinct from old.reference or new.created_at <> old.created_at
          or (old.customer_id is not null and new.customer_id is distinct from old.customer_id)
          or new.points_micros < old.points_micros then
          raise exception 'payment % keeps its amount, method, day, reference and customer', old.id using errcode = '23514';
        end if;
        return new;
      end
    $f$;
    create trigger payments_guard before update on payments for each row execute function payments_guard();
    alter table payments enable row level security;
    create policy tenant_wall on payments to folio_app using (folio_partner_row(partner_id)) with check (folio_partner_row(partner_id));
    revoke delete, truncate on payments from folio_app;

    create table payment_allocations (
      id text primary key,
      partner_id text not null references partners(id),
      customer_id text not null,
      payment_id text not null references payments(id),
      kind text not null check (kind in ('invoice', 'points')),
      invoice_id text references invoices(id),
      currency char(3) not null,
      amount_micros bigint not null check (amount_micros > 0),
      entry_id text not null,
      created_by text,
      created_at timestamptz not null default now(),
      reversed_by text,
      reversed_at timestamptz,
      foreign key (partner_id, customer_id) references customers(partner_id, id),
      check ((kind = 'invoice') = (invoice_id is not null)),
      check ((reversed_by is null) = (reversed_at is null))
    );
    create index payment_allocations_payment on payment_allocations (payment_id, id);
    create index payment_allocations_invoice on payment_allocations (invoice_id) where invoice_id is not null;

    create function payment_allocations_guard() returns trigger language plpgsql as $f$
      begin
        if old.reversed_by is not null or new.reversed_by is null
          or (to_jsonb(new) - 'reversed_by' - 'reversed_at') <> (to_jsonb(old) - 'reversed_by' - 'reversed_at') then
          raise exception 'allocation % is only ever marked reversed, once', old.id using errcode = '23514';
        end if;
        return new;
      end
    $f$;
    create trigger payment_allocations_guard before update on payment_allocations for each row execute function payment_allocations_guard();
    alter table payment_allocations enable row level security;
    create policy tenant_wall on payment_allocations to folio_app using (folio_partner_row(partner_id)) with check (folio_partner_row(partner_id));
    revoke delete, truncate on payment_allocations from folio_app;

    create or replace function invoices_guard() returns trigger language plpgsql as $f$
      declare
        reopening boolean := coalesce(current_setting('folio.payment_reversal', true), '') = 'on';
      begin
        if old.status = 'void' then
          raise exception 'invoice % is void, and is never changed again', old.id using errcode = '23514';
        end if;
        if reopening and old.status = 'paid' and new.status in ('awaiting_payment', 'partially_paid') then
          -- A reversed payment reopens a paid invoice: only its amount paid/due, status, paid_at and updated_at change.
          if new.total_micros <> old.total_micros or new.subtotal_micros <> old.subtotal_micros or new.tax_micros <> old.tax_micros
            or new.issued_at <> old.issued_at or new.due_at <> old.due_at or new.bill_to is distinct from old.bill_to
            or new.notes is distinct from old.notes or new.amount_paid_micros >= old.amount_paid_micros then
            raise exception 'invoice % is reopened by a payment reversal only', old.id using errcode = '23514';
          end if;
        elsif old.status = 'paid' and (new.status <> 'paid' or new.total_micros <> old.total_micros or new.amount_paid_micros < old.amount_paid_micros
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
        if (new.amount_paid_micros < old.amount_paid_micros and not reopening) or new.amount_credited_micros < old.amount_credited_micros then
          raise exception 'invoice % only gains payments and credits (a reversal is recorded by the Finance app)', old.id using errcode = '23514';
        end if;
        return new;
      end
    $f$;
  `.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the payments migration is not reversible');
}
