import { sql } from 'kysely';
import type { Trx } from '../platform/database.ts';
import type { Config } from '../platform/config.ts';
import { newId, newSecret } from '../platform/ids.ts';
import { sha256Hex } from '../platform/crypto.ts';

export interface NewSession {
  sessionId: string;
  token: string;
  csrfToken: string;
  absoluteExpiresAt: Date;
}

/** A fresh session (a new token at every sign-in: the session id rotates at login). */
export async function createSession(
  trx: Trx,
  config: Config,
  user: { id: string; partnerId: string | null },
  meta: { ip: string | null; userAgent: string | null },
  authMethod: 'password' | 'password_2fa' = 'password',
): Promise<NewSession> {
  const token = newSecret(32);
  const csrfToken = newSecret(24);
  const sessionId = newId('ses');
  const row = await trx
    .insertInto('sessions')
    .values({
      id: sessionId,
      userId: user.id,
      partnerId: user.partnerId,
      tokenHash: sha256Hex(token),
      csrfToken,
      ip: meta.ip,
      userAgent: meta.userAgent?.slice(0, 500) ?? null,
      idleExpiresAt: sql`now() + make_interval(mins => ${config.sessionIdleMinutes})`,
      absoluteExpiresAt: sql`now() + make_interval(hours => ${config.sessionAbsoluteHours})`,
      revokedAt: null,
      authMethod,
    })
    .returning('absoluteExpiresAt')
    .executeTakeFirstOrThrow();
  await trx.updateTable('users').set({ lastLoginAt: sql`now()`, failedLoginCount: 0, lockedUntil: null }).where('id', '=', user.id).execute();
  return { sessionId, token, csrfToken, absoluteExpiresAt: row.absoluteExpiresAt };
}

export async function revokeSessionByToken(trx: Trx, token: string): Promise<void> {
  await trx.updateTable('sessions').set({ revokedAt: sql`now()` }).where('tokenHash', '=', sha256Hex(token)).where('revokedAt', 'is', null).execute();
}

export async function revokeAllSessions(trx: Trx, userId: string): Promise<void> {
  await trx.updateTable('sessions').set({ revokedAt: sql`now()` }).where('userId', '=', userId).where('revokedAt', 'is', null).execute();
}
