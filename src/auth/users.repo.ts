import { sql } from 'kysely';
import type { Executor } from '../platform/database.ts';

/** Sign-in looks a user up by email before any tenant is known: callers run it in system scope. */
export function findUserByEmail(db: Executor, email: string) {
  return db
    .selectFrom('users')
    .selectAll()
    .where(sql`lower(email)`, '=', email.trim().toLowerCase())
    .executeTakeFirst();
}

export function findUserById(db: Executor, userId: string) {
  return db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
}
