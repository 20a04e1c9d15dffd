import { sql, type Kysely } from 'kysely';

/**
 * An account's code and kind are checked against a table of the codes, not by check constraints (ADR 0018, decision
 * 32).
 *
 * `ledger_accounts` checked its `code` against a list of sixteen codes and its `kind` against five kinds (migration
 * 0010). PostgreSQL reads a table's check constraints from their stored form and prepares them again for every
 * statement that writes the table, and checks every row an UPDATE writes whatever columns it sets. A charging
 * transaction updates `ledger_accounts` twice (the customers' points accounts as the postings go in, the partner's
 * accounts at commit), for balances only: perf put reading the check constraints' stored form in those two updates at
 * ~2% of a one-call transaction's backend CPU; bench:paired without the two checks measured 51 µs less per 16-request
 * transaction (median; quartiles -210 .. 89).
 *
 * Now `ledger_account_codes` lists each code with its kind and whether its accounts belong to a customer, and the
 * accounts reference it by (code, kind): a foreign key is checked when an account is inserted or its code or kind
 * changes, never when a balance moves. It also holds more than the lists did: a code's kind is the one kind of that
 * code (as `ACCOUNT_KIND` in src/ledger/accounts.ts says; before, a bank account of kind revenue passed). The check that
 * exactly the customer codes name a customer stays as it was (it reads `customer_id`). Existing accounts are checked
 * by the foreign key as it is added: a migration that finds one that does not match fails, and writes nothing.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table ledger_account_codes (
      code text primary key,
      kind text not null check (kind in ('asset', 'liability', 'revenue', 'contra_revenue', 'expense')),
      per_customer boolean not null,
      unique (code, kind)
    );
    insert into ledger_account_codes (code, kind, per_customer) values
      ('bank', 'asset', false), ('card_clearing', 'asset', false), ('receivable', 'asset', true),
      ('points', 'liability', true), ('unapplied', 'liability', true), ('unassigned', 'liability', false),
      ('tax_payable', 'liability', false), ('platform_payable', 'liability', false), ('refunds_payable', 'liability', false),
      ('revenue:usage', 'revenue', false), ('revenue:subscription', 'revenue', false), ('revenue:one_time', 'revenue', false),
      ('revenue:fees', 'revenue', false), ('sales_returns', 'contra_revenue', false),
      ('cost:usage', 'expense', false), ('cost:subscription', 'expense', false);
    -- Read-only for the app (the schema's default privileges gave it writes too); nothing of a tenant in it.
    revoke all on ledger_account_codes from public, folio_app;
    grant select on ledger_account_codes to folio_app;

    alter table ledger_accounts
      add constraint ledger_accounts_code_kind_fkey foreign key (code, kind) references ledger_account_codes (code, kind),
      drop constraint ledger_accounts_code_check,
      drop constraint ledger_accounts_kind_check;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table ledger_accounts
      drop constraint ledger_accounts_code_kind_fkey,
      add constraint ledger_accounts_code_check check (code in (
        'bank', 'card_clearing', 'receivable', 'points', 'unapplied', 'unassigned', 'tax_payable', 'platform_payable',
        'revenue:usage', 'revenue:subscription', 'revenue:one_time', 'revenue:fees', 'sales_returns',
        'cost:usage', 'cost:subscription', 'refunds_payable')),
      add constraint ledger_accounts_kind_check check (kind in ('asset', 'liability', 'revenue', 'contra_revenue', 'expense'));
    drop table ledger_account_codes;
  `.execute(db);
}
