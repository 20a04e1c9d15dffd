import type { Executor } from '../platform/database.ts';
import { inScope } from '../platform/database.ts';
import { sql } from 'kysely';
import { sha256Hex } from '../platform/crypto.ts';

export { SESSION_COOKIE } from './resolve-principal.ts';

/** Revoke the session behind a cookie value (sign-out, or the old session replaced at sign-in). */
export async function revokeSessionByTokenFor(db: Executor, token: string): Promise<void> {
  const run = (ex: Executor) =>
    ex.updateTable('sessions').set({ revokedAt: sql`now()` }).where('tokenHash', '=', sha256Hex(token)).where('revokedAt', 'is', null).execute();
  if ('isTransaction' in db && db.isTransaction) {
    await run(db);
    return;
  }
  await inScope(db, { kind: 'system' }, run);
}
