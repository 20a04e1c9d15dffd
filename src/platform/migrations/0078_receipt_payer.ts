import { sql, type Kysely } from 'kysely';

/**
 * A receipt keeps whom it was issued to (docs/adr/0046, second amendment). Its seller (migration 0076) and an invoice's
 * bill-to (0077) are fixed at issue, but a payment's receipt showed its payer's billing contact as it is now: a receipt
 * sent again after the customer moved would carry the new address. The database takes the snapshot, `payer` (the
 * customer's billing name, else its name; email, phone, address), in the statement that gives the payment its customer:
 * recording it for a customer, or assigning an unassigned one. Once set it never changes. Payments that have a customer
 * take its current contact: the best knowledge there is.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table payments add column payer jsonb;

    alter table payments disable trigger payments_guard;
    update payments p
       set payer = jsonb_build_object('name', coalesce(c.billing_name, c.name), 'email', c.billing_email, 'phone', c.billing_phone,
                                      'address', c.billing_address)
      from customers c
     where c.partner_id = p.partner_id and c.id = p.customer_id;
    alter table payments enable trigger payments_guard;
    alter table payments add constraint payments_payer check (customer_id is null or payer is not null);

    create function folio_payer_snapshot() returns trigger language plpgsql as $f$
      begin
        if tg_op = 'UPDATE' and old.payer is not null then
          if new.payer is distinct from old.payer then
            raise exception 'payment % keeps the payer its receipt was issued to', old.id using errcode = '23514';
          end if;
          return new;
        end if;
        if new.customer_id is not null then
          select jsonb_build_object('name', coalesce(c.billing_name, c.name), 'email', c.billing_email, 'phone', c.billing_phone,
                                    'address', c.billing_address)
            into new.payer
            from customers c where c.partner_id = new.partner_id and c.id = new.customer_id;
        end if;
        return new;
      end
    $f$;
    create trigger payments_payer_at_receipt before insert or update of customer_id, payer on payments
      for each row execute function folio_payer_snapshot();
  `.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the receipt payer migration is not reversible');
}
