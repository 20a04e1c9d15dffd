import { sql, type Kysely } from 'kysely';

/**
 * One account per email address counts accounts, not invitations (ADR 0042).
 *
 * `users_email_key` made every address unique across all tenants, whatever the row's status, so inviting an address
 * that another partner's user (or, from the portal, another organisation's) held was refused with a 409 naming it: anyone
 * who may invite could learn which addresses use Folio elsewhere. Now:
 * - an address holds at most one account: one user row with a password (`users_account_email_key`). Accepting an
 *   invitation sets it; inviting again (a removed member invited back) clears it. An invited person has none, and a
 *   person removed before accepting (disabled, never a password) is no account either: their address stays free;
 * - an invited person is a user row of its organisation (a partner's staff, or one customer's members) until the
 *   invitation is accepted, at most one per organisation and address (`users_pending_email_key`); several organisations
 *   may invite the same address at once, beside an account it already has;
 * - accepting sets the row's password, and the account key refuses it when the address already has an account: only
 *   the person holding the link learns that.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop index users_email_key;
    create unique index users_account_email_key on users (lower(email)) where password_hash is not null;
    create unique index users_pending_email_key on users (coalesce(partner_id, ''), coalesce(customer_id, ''), lower(email)) where status = 'invited';
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop index users_pending_email_key;
    drop index users_account_email_key;
    create unique index users_email_key on users (lower(email));
  `.execute(db);
}
