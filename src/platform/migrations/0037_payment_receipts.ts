import { sql, type Kysely } from 'kysely';

/**
 * Payment receipts (src/payments/receipts) and the reversal's debit note (src/payments/reverse-payment.ts).
 * - Every payment has a receipt number from its own gapless per-partner series: the `receipt` series of
 *   `invoice_number_series`, taken through the same `folio_next_invoice_numbers(partner, 'receipt', n)` (the counter row
 *   stays locked until commit: numbers in commit order, a rolled-back payment gives its number back). Format
 *   `RCT-{YYYY}-{seq:06}` (the year the payment was recorded). Payments recorded before this migration are numbered now,
 *   per partner in id (recording) order, so every payment has one; the number never changes afterwards.
 * - `reversal_invoice_id`: when a reversed payment had created points that were already spent beyond the credit limit,
 *   the shortfall is billed on a Purchase invoice (a debit note) and the payment names it.
 * `payments_guard` is replaced with the same rules plus: the receipt number is set once and never changes, and
 * `reversal_invoice_id` is set only together with the reversal.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table invoice_number_series drop constraint invoice_number_series_type_check;
    alter table invoice_number_series add constraint invoice_number_series_type_check check (type in ('purchase', 'monthly', 'top_up', 'receipt'));

    alter table payments
      add column receipt_number text check (receipt_number ~ '^[A-Za-z0-9_./#-]{1,60}$'),
      add column reversal_invoice_id text references invoices(id);

    alter table payments disable trigger payments_guard;
    with numbered as (
      select p.id, p.partner_id, p.created_at,
        coalesce((select s.last_value from invoice_number_series s where s.partner_id = p.partner_id and s.type = 'receipt'), 0)
          + row_number() over (partition by p.partner_id order by p.id) as seq
      from payments p
    )
    update payments p set receipt_number = 'RCT-' || extract(year from n.created_at at time zone 'UTC')::int::text || '-' || lpad(n.seq::text, 6, '0')
    from numbered n where n.id = p.id;
    insert into invoice_number_series (partner_id, type, last_value)
      select partner_id, 'receipt', count(*) from payments group by partner_id
      on conflict (partner_id, type) do update set last_value = invoice_number_series.last_value + excluded.last_value;
    alter table payments enable trigger payments_guard;

    alter table payments alter column receipt_number set not null;
    create unique index payments_receipt_number on payments (partner_id, receipt_number);

    create or replace function payments_guard() returns trigger language plpgsql as $f$
      begin
        if old.status = 'reversed' then
          raise exception 'payment % is reversed, and is never changed again', old.id using errcode = '23514';
        end if;
        if new.id <> old.id or new.partner_id <> old.partner_id or new.method <> old.method or new.currency <> old.currency
          or new.amount_micros <> old.amount_micros or new.received_on <> old.received_on or new.entry_id <> old.entry_id
          or new.reference is distinct from old.reference or new.created_at <> old.created_at
          or (old.customer_id is not null and new.customer_id is distinct from old.customer_id)
          or new.points_micros < old.points_micros or new.receipt_number is distinct from old.receipt_number then
          raise exception 'payment % keeps its amount, method, day, reference, receipt number and customer', old.id using errcode = '23514';
        end if;
        if new.reversal_invoice_id is not null and new.status <> 'reversed' then
          raise exception 'payment % names a reversal invoice only when reversed', old.id using errcode = '23514';
        end if;
        return new;
      end
    $f$;
  `.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the payment receipts migration is not reversible');
}
