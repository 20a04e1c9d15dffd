import { sql, type Kysely } from 'kysely';

/**
 * Every issued invoice keeps whom it was addressed to (docs/adr/0046, amendment). A draft issued from the Invoice app
 * wrote its bill-to (`issueDraftInvoice`), but an invoice issued at once (a purchase, a renewal, a top-up, a statement, a
 * debit note: `issueInvoice`, `issuePaidInvoice`, the renewals' bulk writes) had none, and its page, PDF and resend
 * followed the customer's billing contact as it is now. As for the seller (migration 0076), the database takes the
 * snapshot in the statement that issues, when the app did not: the customer's billing name (else its name), email, phone
 * and address. Issued invoices without one take the customer's current contact: the best knowledge there is.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function folio_bill_to_snapshot() returns trigger language plpgsql as $f$
      begin
        select jsonb_build_object('name', coalesce(c.billing_name, c.name), 'email', c.billing_email, 'phone', c.billing_phone,
                                  'address', c.billing_address)
          into new.bill_to
          from customers c where c.partner_id = new.partner_id and c.id = new.customer_id;
        return new;
      end
    $f$;
    create trigger invoices_bill_to_at_issue before insert on invoices
      for each row when (new.status <> 'draft' and new.bill_to is null) execute function folio_bill_to_snapshot();
    create trigger invoices_bill_to_at_issue_update before update on invoices
      for each row when (old.status = 'draft' and new.status <> 'draft' and new.bill_to is null) execute function folio_bill_to_snapshot();

    alter table invoices disable trigger invoices_guard;
    update invoices i
       set bill_to = jsonb_build_object('name', coalesce(c.billing_name, c.name), 'email', c.billing_email, 'phone', c.billing_phone,
                                        'address', c.billing_address)
      from customers c
     where c.partner_id = i.partner_id and c.id = i.customer_id and i.status <> 'draft' and i.bill_to is null;
    alter table invoices enable trigger invoices_guard;
    alter table invoices add constraint invoices_issued_bill_to check (status = 'draft' or bill_to is not null);
  `.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the bill-to snapshot migration is not reversible');
}
