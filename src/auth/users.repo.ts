import { sql } from 'kysely';
import type { Executor } from '../platform/database.ts';

/**
 * The account an address holds (a user with a password, active or disabled; at most one: `users_account_email_key`),
 * looked up before any tenant is known: callers run it in system scope. People only invited are not accounts: several
 * organisations may have invited the same address, and none of those rows can sign in or reset a password (ADR 0042).
 */
export function findUserByEmail(db: Executor, email: string) {
  return db
    .selectFrom('users')
    .selectAll()
    .where(sql`lower(email)`, '=', email.trim().toLowerCase())
    .where('passwordHash', 'is not', null)
    .executeTakeFirst();
}

export function findUserById(db: Executor, userId: string) {
  return db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
}
