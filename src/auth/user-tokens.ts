import { sql } from 'kysely';
import type { Trx } from '../platform/database.ts';
import { newId, newSecret } from '../platform/ids.ts';
import { sha256Hex } from '../platform/crypto.ts';

export type TokenPurpose = 'password_reset' | 'email_verification';

/** A single-use link token; only its hash is stored. */
export async function issueUserToken(trx: Trx, user: { id: string; partnerId: string | null }, purpose: TokenPurpose, ttlMinutes: number): Promise<string> {
  const token = newSecret(32);
  await trx
    .insertInto('userTokens')
    .values({
      id: newId('utk'), partnerId: user.partnerId, userId: user.id, purpose, tokenHash: sha256Hex(token),
      expiresAt: sql`now() + make_interval(mins => ${ttlMinutes})`, usedAt: null,
    })
    .execute();
  return token;
}

/** Consume a token: valid, unused, unexpired, for this purpose. Returns the user id, or null. */
export async function consumeUserToken(trx: Trx, token: string, purpose: TokenPurpose): Promise<string | null> {
  const row = await trx
    .updateTable('userTokens')
    .set({ usedAt: sql`now()` })
    .where('tokenHash', '=', sha256Hex(token))
    .where('purpose', '=', purpose)
    .where('usedAt', 'is', null)
    .where('expiresAt', '>', sql<Date>`now()`)
    .returning('userId')
    .executeTakeFirst();
  return row?.userId ?? null;
}
