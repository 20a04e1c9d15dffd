import { sql, type Kysely } from 'kysely';

/**
 * The issue-time snapshots (docs/adr/0046, third amendment) cost one lookup per row: the seller trigger (0076) looked up
 * the partner's settings for every invoice inserted issued, and the bill-to trigger (0077) the customer, so the renewals'
 * bulk insert of 19,000 invoices spent 8 s more in its invoices step. The two shapes are now SQL functions, written once
 * and used by the triggers and by a bulk insert that takes both in its own statement (the seller once, the customers by
 * a join):
 * - `folio_seller_now(partner_id)`: the seller jsonb and the logo hash, from the partner's name and its settings now;
 * - `folio_contact_of(customers)`: the customer's billing name (else its name), email, phone and address (an invoice's
 *   bill-to, a receipt's payer).
 * The insert trigger of the seller fires only when the statement did not give one (as the bill-to one already did); the
 * update trigger (a draft issued) and the credit-note and payment triggers are unchanged in when they fire.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function folio_seller_now(p_partner_id text, out seller jsonb, out logo_sha256 text) language sql stable as $f$
      select jsonb_build_object('name', p.name, 'legalName', s.invoice_legal_name, 'address', s.invoice_address, 'taxId', s.invoice_tax_id,
               'email', s.invoice_email, 'paymentInstructions', s.invoice_payment_instructions),
             s.invoice_logo_sha256
        from partners p left join partner_settings s on s.partner_id = p.id
       where p.id = p_partner_id
    $f$;
    create function folio_contact_of(c customers) returns jsonb language sql stable as $f$
      select jsonb_build_object('name', coalesce(c.billing_name, c.name), 'email', c.billing_email, 'phone', c.billing_phone,
                                'address', c.billing_address)
    $f$;

    create or replace function folio_seller_snapshot() returns trigger language plpgsql as $f$
      begin
        select n.seller, n.logo_sha256 into new.seller, new.seller_logo_sha256 from folio_seller_now(new.partner_id) n;
        return new;
      end
    $f$;
    create or replace function folio_bill_to_snapshot() returns trigger language plpgsql as $f$
      begin
        select folio_contact_of(c) into new.bill_to from customers c where c.partner_id = new.partner_id and c.id = new.customer_id;
        return new;
      end
    $f$;
    create or replace function folio_payer_snapshot() returns trigger language plpgsql as $f$
      begin
        if tg_op = 'UPDATE' and old.payer is not null then
          if new.payer is distinct from old.payer then
            raise exception 'payment % keeps the payer its receipt was issued to', old.id using errcode = '23514';
          end if;
          return new;
        end if;
        if new.customer_id is not null then
          select folio_contact_of(c) into new.payer from customers c where c.partner_id = new.partner_id and c.id = new.customer_id;
        end if;
        return new;
      end
    $f$;

    drop trigger invoices_seller_at_issue on invoices;
    create trigger invoices_seller_at_issue before insert on invoices
      for each row when (new.status <> 'draft' and new.seller is null) execute function folio_seller_snapshot();
  `.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the snapshot functions migration is not reversible');
}
