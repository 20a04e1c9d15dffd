import { sql, type Kysely } from 'kysely';

/**
 * What a subscription's termination refund gave back against each invoice that billed the refunded charges
 * (src/subscriptions/terminate-subscription.ts). Credit notes count these as given back (points or refund) on the invoice,
 * and a termination counts what credit notes already gave back: together they never give back more than was paid on it
 * (ledger-design invariant 7). One row per terminated subscription and invoice; append-only.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table subscription_refund_invoices (
      partner_id text not null references partners(id),
      customer_id text not null,
      subscription_id text not null,
      invoice_id text not null references invoices(id),
      amount_micros bigint not null check (amount_micros > 0),
      entry_id text not null references journal_entries(id),
      created_at timestamptz not null,
      primary key (partner_id, subscription_id, invoice_id),
      foreign key (partner_id, customer_id) references customers(partner_id, id),
      foreign key (partner_id, subscription_id) references subscriptions(partner_id, id)
    );
    create index subscription_refund_invoices_invoice on subscription_refund_invoices (partner_id, invoice_id);

    alter table subscription_refund_invoices enable row level security;
    create policy tenant_wall on subscription_refund_invoices to folio_app
      using (coalesce((select current_setting('folio.scope', true)), '') = 'system'
             or (partner_id = nullif((select current_setting('folio.partner_id', true)), '')
                 and (coalesce((select current_setting('folio.customer_id', true)), '') = ''
                      or customer_id = (select current_setting('folio.customer_id', true)))))
      with check (coalesce((select current_setting('folio.scope', true)), '') = 'system'
             or (partner_id = nullif((select current_setting('folio.partner_id', true)), '')
                 and (coalesce((select current_setting('folio.customer_id', true)), '') = ''
                      or customer_id = (select current_setting('folio.customer_id', true)))));
    grant select, insert on subscription_refund_invoices to folio_app;
    revoke update, delete, truncate on subscription_refund_invoices from folio_app;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table subscription_refund_invoices`.execute(db);
}
