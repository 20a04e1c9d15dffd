import { sql, type Kysely } from 'kysely';

/**
 * The books (../shared/ledger-design.md, docs/adr/0009-ledger.md): accounts per partner and currency, immutable
 * journal entries of two or more postings that sum to zero, checked by the database at commit; account balances
 * kept on the account rows by trigger in the same transaction; points wallets with reservations and credit limits.
 * Convention: a posting's amount_micros is positive for a debit, negative for a credit.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table ledger_accounts (
      id text primary key,
      partner_id text not null references partners(id),
      currency char(3) not null,
      code text not null check (code in (
        'bank', 'card_clearing', 'receivable', 'points', 'unapplied', 'unassigned', 'tax_payable', 'platform_payable',
        'revenue:usage', 'revenue:subscription', 'revenue:one_time', 'revenue:fees', 'sales_returns',
        'cost:usage', 'cost:subscription', 'refunds_payable')),
      customer_id text references customers(id),
      kind text not null check (kind in ('asset', 'liability', 'revenue', 'contra_revenue', 'expense')),
      balance_micros bigint not null default 0,
      created_at timestamptz not null default now(),
      check ((code in ('receivable', 'points', 'unapplied')) = (customer_id is not null))
    );
    create unique index ledger_accounts_key on ledger_accounts (partner_id, currency, code, customer_id) nulls not distinct;

    create table journal_entries (
      id text primary key,
      partner_id text not null references partners(id),
      currency char(3) not null,
      customer_id text references customers(id),
      kind text not null check (kind ~ '^[a-z_]+$'),
      cause_type text not null,
      cause_id text not null,
      description text not null,
      reverses_entry_id text unique references journal_entries(id),
      audit_event_id text,
      posted_at timestamptz not null default now()
    );
    create index journal_entries_cause on journal_entries (partner_id, cause_type, cause_id);
    create index journal_entries_customer on journal_entries (partner_id, customer_id, posted_at desc);

    create table postings (
      id bigint generated always as identity primary key,
      entry_id text not null references journal_entries(id),
      partner_id text not null,
      currency char(3) not null,
      account_id text not null references ledger_accounts(id),
      customer_id text,
      amount_micros bigint not null check (amount_micros <> 0),
      -- Set only for customer accounts (points, receivable, unapplied), so a portal user never sees the partner's side.
      -- For those accounts: the account's balance right after this posting (the transactions feed shows it).
      balance_after_micros bigint,
      posted_at timestamptz not null default now()
    );
    create index postings_entry on postings (entry_id);
    create index postings_account on postings (account_id, id desc);

    -- Points wallet: one per customer and currency. Usable = -(points balance) - reserved + effective credit limit.
    create table wallets (
      partner_id text not null references partners(id),
      customer_id text not null references customers(id),
      currency char(3) not null,
      points_account_id text not null references ledger_accounts(id),
      reserved_micros bigint not null default 0 check (reserved_micros >= 0),
      credit_limit_micros bigint not null default 0 check (credit_limit_micros >= 0),
      credit_limit_expires_at timestamptz,
      updated_at timestamptz not null default now(),
      primary key (partner_id, customer_id, currency)
    );

    -- Holds on usable points while a call runs (or a checkout completes). Active holds add up to wallets.reserved_micros.
    create table wallet_reservations (
      id text primary key,
      partner_id text not null references partners(id),
      customer_id text not null references customers(id),
      currency char(3) not null,
      amount_micros bigint not null check (amount_micros > 0),
      cause_type text not null,
      cause_id text not null,
      status text not null default 'active' check (status in ('active', 'settled', 'released', 'expired')),
      expires_at timestamptz not null,
      settled_entry_id text references journal_entries(id),
      created_at timestamptz not null default now(),
      closed_at timestamptz,
      unique (partner_id, cause_type, cause_id)
    );
    create index wallet_reservations_expiry on wallet_reservations (expires_at) where status = 'active';
    create index wallet_reservations_wallet on wallet_reservations (partner_id, customer_id, currency) where status = 'active';

    -- Account balances follow their postings, in the same statement, one update per account.
    create function ledger_apply_postings() returns trigger language plpgsql security definer set search_path = public as $f$
      begin
        update ledger_accounts a set balance_micros = a.balance_micros + s.total
          from (select account_id, sum(amount_micros) as total from new_postings group by account_id) s
          where a.id = s.account_id;
        return null;
      end
    $f$;
    create trigger postings_apply after insert on postings referencing new table as new_postings
      for each statement execute function ledger_apply_postings();

    -- Every entry balances, per currency, with at least two postings: checked once per entry at commit.
    create function ledger_check_entry() returns trigger language plpgsql as $f$
      declare
        n int;
        total numeric;
        foreign_currency int;
      begin
        select count(*), coalesce(sum(amount_micros), 0), count(*) filter (where currency <> new.currency or partner_id <> new.partner_id)
          into n, total, foreign_currency
          from postings where entry_id = new.id;
        if n < 2 or total <> 0 or foreign_currency > 0 then
          raise exception 'journal entry % does not balance (% postings, sum %, % foreign)', new.id, n, total, foreign_currency
            using errcode = '23514';
        end if;
        return null;
      end
    $f$;
    create constraint trigger journal_entries_balanced after insert on journal_entries
      deferrable initially deferred for each row execute function ledger_check_entry();

    -- The ledger is append-only: a correction is a reversing entry.
    create function ledger_append_only() returns trigger language plpgsql as $f$
      begin
        raise exception '% is append-only: post a reversing entry instead', tg_table_name using errcode = '42501';
      end
    $f$;
    create trigger journal_entries_append_only before update or delete on journal_entries
      for each row execute function ledger_append_only();
    create trigger postings_append_only before update or delete on postings
      for each row execute function ledger_append_only();
    create trigger journal_entries_no_truncate before truncate on journal_entries
      for each statement execute function ledger_append_only();
    create trigger postings_no_truncate before truncate on postings
      for each statement execute function ledger_append_only();

    alter table ledger_accounts enable row level security;
    alter table journal_entries enable row level security;
    alter table postings enable row level security;
    alter table wallets enable row level security;
    alter table wallet_reservations enable row level security;
    create policy tenant_wall on wallet_reservations to folio_app using (folio_customer_row(partner_id, customer_id)) with check (folio_customer_row(partner_id, customer_id));
    create policy tenant_wall on ledger_accounts to folio_app using (folio_customer_row(partner_id, customer_id)) with check (folio_customer_row(partner_id, customer_id));
    create policy tenant_wall on journal_entries to folio_app using (folio_customer_row(partner_id, customer_id)) with check (folio_customer_row(partner_id, customer_id));
    create policy tenant_wall on postings to folio_app using (folio_customer_row(partner_id, customer_id)) with check (folio_customer_row(partner_id, customer_id));
    create policy tenant_wall on wallets to folio_app using (folio_customer_row(partner_id, customer_id)) with check (folio_customer_row(partner_id, customer_id));

    revoke update, delete, truncate on journal_entries, postings from folio_app;
    -- Balances move only through postings (the trigger above runs as the owner). The app role keeps the UPDATE
    -- privilege only so that it can lock account rows (SELECT ... FOR UPDATE); it cannot change them.
    create function ledger_accounts_guard() returns trigger language plpgsql as $f$
      begin
        if current_user = 'folio_app' then
          raise exception 'ledger accounts change only through postings' using errcode = '42501';
        end if;
        return new;
      end
    $f$;
    create trigger ledger_accounts_guard before update on ledger_accounts
      for each row execute function ledger_accounts_guard();
    revoke delete, truncate on ledger_accounts from folio_app;
    revoke delete, truncate on wallets, wallet_reservations from folio_app;
  `.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('the ledger migration is not reversible');
}
