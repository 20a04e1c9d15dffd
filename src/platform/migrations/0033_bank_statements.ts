import { sql, type Kysely } from 'kysely';

/**
 * Bank statement import (Finance app, src/bank-statements). A finance person uploads a bank statement as CSV; every
 * readable line is kept as a `bank_statement_lines` row: a credit line is `suggested` (a proposed customer and invoices,
 * with a confidence and the reason) or `unmatched`; a debit line is `ignored`; a line already imported earlier (same day,
 * amount, currency and reference, n-th occurrence) is `duplicate`. Lines that could not be read are not rows: they are
 * listed in `bank_statements.errors` (line number, field, message). A suggested or unmatched line is decided once:
 * `accepted` (it then names the ordinary payment it became) or `rejected`; a decided line never changes again.
 * `fingerprint` (a sha-256 of the line's day, currency, amount, normalised reference and occurrence) is unique per partner
 * among non-duplicate lines: the same statement imported twice never yields two payments.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table bank_statements (
      id text primary key,
      partner_id text not null references partners(id),
      file_name text not null check (length(file_name) between 1 and 255),
      file_sha256 text not null check (file_sha256 ~ '^[0-9a-f]{64}$'),
      default_currency char(3) not null,
      record_count int not null check (record_count >= 0),
      error_count int not null check (error_count >= 0),
      errors jsonb not null default '[]',
      warnings jsonb not null default '[]',
      uploaded_by text,
      created_at timestamptz not null default now()
    );
    create index bank_statements_list on bank_statements (partner_id, id desc);
    create index bank_statements_file on bank_statements (partner_id, file_sha256);
    alter table bank_statements enable row level security;
    create policy tenant_wall on bank_statements to folio_app using (folio_partner_row(partner_id)) with check (folio_partner_row(partner_id));
    revoke update, delete, truncate on bank_statements from folio_app;

    create table bank_statement_lines (
      id text primary key,
      partner_id text not null references partners(id),
      statement_id text not null references bank_statements(id),
      line_no int not null check (line_no >= 1),
      booked_on date not null,
      amount_micros bigint not null check (amount_micros <> 0),
      currency char(3) not null,
      reference text check (length(reference) between 1 and 500),
      payer_name text check (length(payer_name) between 1 and 200),
      payer_account text check (length(payer_account) between 1 and 100),
      fingerprint text,
      duplicate_of text references bank_statement_lines(id),
      status text not null check (status in ('suggested', 'unmatched', 'accepted', 'rejected', 'ignored', 'duplicate')),
      confidence text not null default 'none' check (confidence in ('high', 'medium', 'low', 'none')),
      reason text,
      match_kind text check (match_kind in ('reference', 'amount', 'combination', 'payer_name')),
      suggested_customer_id text,
      suggested_invoice_ids text[] not null default '{}',
      payment_id text references payments(id),
      decided_by text,
      decided_at timestamptz,
      reject_reason text check (length(reject_reason) between 1 and 500),
      created_at timestamptz not null default now(),
      unique (statement_id, line_no),
      foreign key (partner_id, suggested_customer_id) references customers(partner_id, id),
      check ((status = 'ignored') = (amount_micros < 0)),
      check ((status = 'duplicate') = (duplicate_of is not null)),
      check ((status = 'accepted') = (payment_id is not null)),
      check ((status in ('accepted', 'rejected')) = (decided_at is not null)),
      check (status = 'rejected' or reject_reason is null),
      check (amount_micros < 0 or fingerprint is not null)
    );
    create index bank_statement_lines_statement on bank_statement_lines (statement_id, line_no);
    create index bank_statement_lines_status on bank_statement_lines (statement_id, status);
    create unique index bank_statement_lines_fingerprint on bank_statement_lines (partner_id, fingerprint)
      where fingerprint is not null and status <> 'duplicate';
    create index bank_statement_lines_payment on bank_statement_lines (payment_id) where payment_id is not null;

    create function bank_statement_lines_guard() returns trigger language plpgsql as $f$
      begin
        if old.status in ('accepted', 'rejected', 'ignored', 'duplicate') then
          raise exception 'bank statement line % is %, and is never changed again', old.id, old.status using errcode = '23514';
        end if;
        if new.id <> old.id or new.partner_id <> old.partner_id or new.statement_id <> old.statement_id or new.line_no <> old.line_no
          or new.booked_on <> old.booked_on or new.amount_micros <> old.amount_micros or new.currency <> old.currency
          or new.reference is distinct from old.reference or new.fingerprint is distinct from old.fingerprint then
          raise exception 'bank statement line % keeps its day, amount, currency and reference', old.id using errcode = '23514';
        end if;
        return new;
      end
    $f$;
    create trigger bank_statement_lines_guard before update on bank_statement_lines for each row execute function bank_statement_lines_guard();
    alter table bank_statement_lines enable row level security;
    create policy tenant_wall on bank_statement_lines to folio_app using (folio_partner_row(partner_id)) with check (folio_partner_row(partner_id));
    revoke delete, truncate on bank_statement_lines from folio_app;
  `.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the bank statements migration is not reversible');
}
