import { sql, type Kysely } from 'kysely';

/**
 * An issued document keeps the seller it was issued by (docs/adr/0046): invoices, credit notes and payments (whose
 * receipt is numbered as the payment is recorded) carry `seller`, the partner's invoicing details as they were at issue
 * (jsonb `{ name, legalName, address, taxId, email, paymentInstructions }`: the partner's name and its Portal Settings >
 * Invoicing texts), and `seller_logo_sha256`, the logo it was issued with (null: none). Changing the settings later
 * changes new documents and drafts only.
 * - `invoice_logo_versions` keeps every logo a partner ever uploaded, by content hash (append-only for the app role):
 *   `partner_settings.invoice_logo_sha256` (generated from the logo) names the current one, and a trigger on
 *   `partner_settings` adds each new logo as it is stored. A document names its version by (partner, hash), a foreign
 *   key, so the picture it was issued with can always be found.
 * - The snapshot is taken by the database, in the statement that issues: a trigger fills both columns from the current
 *   settings when an invoice is inserted issued or leaves draft (a draft voided is numbered and issued at once, so it
 *   too), when a credit note becomes `issued`, and when a payment is recorded. Whatever code path issues (a draft issued,
 *   an invoice issued unpaid or paid, renewals in bulk, monthly statements, top-ups, debit notes) cannot forget it; the
 *   app never writes the columns. Check constraints say an issued document has one.
 * - Once issued it never changes: `invoices_guard` (last replaced by 0031) is replaced with the same rules naming the
 *   two columns beside `bill_to`; `payments_guard` (last replaced by 0037) likewise beside the receipt number.
 *   `credit_notes_guard` (0032) already freezes every column of an issued credit note.
 * - Rows issued before this migration take the current settings and logo: the best knowledge there is.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- ---- logo versions ----
    alter table partner_settings
      add column invoice_logo_sha256 text generated always as (encode(sha256(invoice_logo), 'hex')) stored;
    create table invoice_logo_versions (
      partner_id text not null references partners(id),
      sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
      data bytea not null check (octet_length(data) between 1 and 262144),
      type text not null check (type in ('image/png', 'image/jpeg')),
      created_at timestamptz not null default now(),
      primary key (partner_id, sha256),
      check (sha256 = encode(sha256(data), 'hex'))
    );
    alter table invoice_logo_versions enable row level security;
    -- Read as the partner's settings are (its staff and its customers' portal: a document's logo); written by its staff
    -- (through the trigger below). The scope read once per statement (ADR 0026).
    create policy tenant_wall on invoice_logo_versions to folio_app
      using (coalesce((select current_setting('folio.scope', true)), '') = 'system'
             or partner_id = nullif((select current_setting('folio.partner_id', true)), ''))
      with check (coalesce((select current_setting('folio.scope', true)), '') = 'system'
             or (partner_id = nullif((select current_setting('folio.partner_id', true)), '')
                 and coalesce((select current_setting('folio.customer_id', true)), '') = ''));
    grant select, insert on invoice_logo_versions to folio_app;
    revoke update, delete, truncate on invoice_logo_versions from folio_app;
    insert into invoice_logo_versions (partner_id, sha256, data, type)
      select partner_id, invoice_logo_sha256, invoice_logo, invoice_logo_type from partner_settings where invoice_logo is not null;

    create function partner_settings_logo_version() returns trigger language plpgsql as $f$
      begin
        insert into invoice_logo_versions (partner_id, sha256, data, type)
          values (new.partner_id, new.invoice_logo_sha256, new.invoice_logo, new.invoice_logo_type)
          on conflict (partner_id, sha256) do nothing;
        return null;
      end
    $f$;
    create trigger partner_settings_logo_version after insert or update of invoice_logo on partner_settings
      for each row when (new.invoice_logo is not null) execute function partner_settings_logo_version();

    -- ---- the seller of a document, as the settings say now ----
    create function folio_seller_snapshot() returns trigger language plpgsql as $f$
      begin
        select jsonb_build_object('name', p.name, 'legalName', s.invoice_legal_name, 'address', s.invoice_address, 'taxId', s.invoice_tax_id,
                 'email', s.invoice_email, 'paymentInstructions', s.invoice_payment_instructions),
               s.invoice_logo_sha256
          into new.seller, new.seller_logo_sha256
          from partners p left join partner_settings s on s.partner_id = p.id
          where p.id = new.partner_id;
        return new;
      end
    $f$;

    alter table invoices
      add column seller jsonb,
      add column seller_logo_sha256 text,
      add constraint invoices_seller_logo foreign key (partner_id, seller_logo_sha256) references invoice_logo_versions (partner_id, sha256);
    alter table credit_notes
      add column seller jsonb,
      add column seller_logo_sha256 text,
      add constraint credit_notes_seller_logo foreign key (partner_id, seller_logo_sha256) references invoice_logo_versions (partner_id, sha256);
    alter table payments
      add column seller jsonb,
      add column seller_logo_sha256 text,
      add constraint payments_seller_logo foreign key (partner_id, seller_logo_sha256) references invoice_logo_versions (partner_id, sha256);
  `.execute(db);
  await snapshotIssuedSellers(db);
  await sql`
    alter table invoices add constraint invoices_issued_seller check (status = 'draft' or seller is not null);
    alter table credit_notes add constraint credit_notes_issued_seller check (status <> 'issued' or seller is not null);
    alter table payments alter column seller set not null;

    create trigger invoices_seller_at_issue before insert on invoices
      for each row when (new.status <> 'draft') execute function folio_seller_snapshot();
    create trigger invoices_seller_at_issue_update before update on invoices
      for each row when (old.status = 'draft' and new.status <> 'draft') execute function folio_seller_snapshot();
    create trigger credit_notes_seller_at_issue before insert on credit_notes
      for each row when (new.status = 'issued') execute function folio_seller_snapshot();
    create trigger credit_notes_seller_at_issue_update before update on credit_notes
      for each row when (old.status = 'draft' and new.status = 'issued') execute function folio_seller_snapshot();
    create trigger payments_seller_at_receipt before insert on payments
      for each row execute function folio_seller_snapshot();

    -- ---- issued documents keep their seller (0031's invoices_guard, with seller and seller_logo_sha256 beside bill_to) ----
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
            or new.seller is distinct from old.seller or new.seller_logo_sha256 is distinct from old.seller_logo_sha256
            or new.notes is distinct from old.notes or new.amount_paid_micros >= old.amount_paid_micros then
            raise exception 'invoice % is reopened by a payment reversal only', old.id using errcode = '23514';
          end if;
        elsif old.status = 'paid' and (new.status <> 'paid' or new.total_micros <> old.total_micros or new.amount_paid_micros < old.amount_paid_micros
          or new.subtotal_micros <> old.subtotal_micros or new.tax_micros <> old.tax_micros or new.issued_at <> old.issued_at
          or new.due_at <> old.due_at or new.paid_at <> old.paid_at or new.bill_to is distinct from old.bill_to
          or new.seller is distinct from old.seller or new.seller_logo_sha256 is distinct from old.seller_logo_sha256
          or new.notes is distinct from old.notes) then
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
        if old.status <> 'draft' and (new.seller is distinct from old.seller or new.seller_logo_sha256 is distinct from old.seller_logo_sha256) then
          raise exception 'invoice % is issued: it keeps the seller it was issued by', old.id using errcode = '23514';
        end if;
        if (new.amount_paid_micros < old.amount_paid_micros and not reopening) or new.amount_credited_micros < old.amount_credited_micros then
          raise exception 'invoice % only gains payments and credits (a reversal is recorded by the Finance app)', old.id using errcode = '23514';
        end if;
        return new;
      end
    $f$;

    -- ---- a receipt keeps its seller (0037's payments_guard, with seller and seller_logo_sha256 beside the receipt number) ----
    create or replace function payments_guard() returns trigger language plpgsql as $f$
      begin
        if old.status = 'reversed' then
          raise exception 'payment % is reversed, and is never changed again', old.id using errcode = '23514';
        end if;
        if new.id <> old.id or new.partner_id <> old.partner_id or new.method <> old.method or new.currency <> old.currency
          or new.amount_micros <> old.amount_micros or new.received_on <> old.received_on or new.entry_id <> old.entry_id
          or new.reference is distinct from old.reference or new.created_at <> old.created_at
          or (old.customer_id is not null and new.customer_id is distinct from old.customer_id)
          or new.points_micros < old.points_micros or new.receipt_number is distinct from old.receipt_number
          or new.seller is distinct from old.seller or new.seller_logo_sha256 is distinct from old.seller_logo_sha256 then
          raise exception 'payment % keeps its amount, method, day, reference, receipt number, seller and customer', old.id using errcode = '23514';
        end if;
        if new.reversal_invoice_id is not null and new.status <> 'reversed' then
          raise exception 'payment % names a reversal invoice only when reversed', old.id using errcode = '23514';
        end if;
        return new;
      end
    $f$;
  `.execute(db);
}

/**
 * What was issued before this migration takes the partner's current settings and logo (the best knowledge there is):
 * invoices that are not drafts, issued credit notes, every payment. The guards refuse any change to a void invoice, an
 * issued credit note or a reversed payment, hence disabled for these updates only. Exported for its test.
 */
export async function snapshotIssuedSellers<DB>(db: Kysely<DB>): Promise<void> {
  await sql`
    alter table invoices disable trigger invoices_guard;
    alter table credit_notes disable trigger credit_notes_guard;
    alter table payments disable trigger payments_guard;
    create temporary table seller_now as
      select p.id as partner_id,
             jsonb_build_object('name', p.name, 'legalName', s.invoice_legal_name, 'address', s.invoice_address, 'taxId', s.invoice_tax_id,
               'email', s.invoice_email, 'paymentInstructions', s.invoice_payment_instructions) as seller,
             s.invoice_logo_sha256 as logo
        from partners p left join partner_settings s on s.partner_id = p.id;
    update invoices i set seller = n.seller, seller_logo_sha256 = n.logo from seller_now n where n.partner_id = i.partner_id and i.status <> 'draft';
    update credit_notes c set seller = n.seller, seller_logo_sha256 = n.logo from seller_now n where n.partner_id = c.partner_id and c.status = 'issued';
    update payments p set seller = n.seller, seller_logo_sha256 = n.logo from seller_now n where n.partner_id = p.partner_id;
    drop table seller_now;
    alter table invoices enable trigger invoices_guard;
    alter table credit_notes enable trigger credit_notes_guard;
    alter table payments enable trigger payments_guard;
  `.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the issued seller migration is not reversible');
}
