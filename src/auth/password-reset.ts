import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { hashPassword } from '../platform/crypto.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { enqueueNotification } from '../notifications/enqueue-notification.ts';
import { findUserByEmail, findUserById } from './users.repo.ts';
import { consumeUserToken, issueUserToken } from './user-tokens.ts';
import { revokeAllSessions } from './sessions.ts';
import { realTiming, withTimeFloor, type Timing } from './time-floor.ts';

export const PASSWORD_RESET_TTL_MINUTES = 60;
/** The least time a reset request takes, known email or not (as a refused sign-in: login.ts's FAILED_SIGN_IN_FLOOR_MS). */
export const PASSWORD_RESET_FLOOR_MS = 300;
/** Reset emails sent to one account within an hour; asking again beyond it sends nothing (and says nothing of it). */
export const RESET_EMAILS_PER_HOUR = 3;

/**
 * Always answers the same way, whether or not the email exists, and in no less than PASSWORD_RESET_FLOOR_MS, so neither
 * the answer nor its time tells which addresses have an account. At most RESET_EMAILS_PER_HOUR links an hour go to one
 * account (counted on the links issued, under a lock on the account): a stranger cannot flood someone's inbox.
 */
export async function requestPasswordReset(ctx: Ctx, input: { email: string }, timing: Timing = realTiming): Promise<void> {
  await withTimeFloor(PASSWORD_RESET_FLOOR_MS, () => inScope(ctx.db, { kind: 'system' }, async (trx) => {
    const user = await findUserByEmail(trx, input.email);
    if (!user || user.status !== 'active') return;
    await sql`select pg_advisory_xact_lock(hashtextextended(${`password_reset:${user.id}`}, 0))`.execute(trx);
    const sent = await trx.selectFrom('userTokens').select((eb) => eb.fn.countAll<string>().as('n'))
      .where('userId', '=', user.id).where('purpose', '=', 'password_reset').where('createdAt', '>', sql<Date>`now() - interval '1 hour'`)
      .executeTakeFirstOrThrow();
    if (Number(sent.n) >= RESET_EMAILS_PER_HOUR) return;
    const token = await issueUserToken(trx, user, 'password_reset', PASSWORD_RESET_TTL_MINUTES);
    const link = `${ctx.config.publicUrl}/reset-password?token=${encodeURIComponent(token)}`;
    await enqueueNotification(trx, {
      partnerId: user.partnerId, customerId: user.customerId, userId: user.id, toEmail: user.email, kind: 'password_reset',
      subject: 'Reset your Folio password',
      bodyText: `Someone asked to reset the password of ${user.email}.\nChoose a new one here (valid ${PASSWORD_RESET_TTL_MINUTES} minutes): ${link}\nIf it was not you, ignore this email.`,
    });
    await recordAudit(trx, ctx, {
      partnerId: user.partnerId, customerId: user.customerId, app: 'auth', action: 'auth.password_reset_requested', targetType: 'user', targetId: user.id,
    });
  }), timing);
}

/**
 * Set a new password from a reset link; every session of the user is signed out, every other reset link ends, and the
 * failed sign-ins counted so far no longer lock the account (login.ts).
 */
export async function resetPassword(ctx: Ctx, input: { token: string; password: string }): Promise<void> {
  const passwordHash = await hashPassword(input.password);
  await inScope(ctx.db, { kind: 'system' }, async (trx) => {
    const userId = await consumeUserToken(trx, input.token, 'password_reset');
    if (!userId) throw new DomainError('token_invalid', 'This reset link is invalid, used or expired; ask for a new one');
    const user = await findUserById(trx, userId);
    if (!user) throw new DomainError('token_invalid', 'This reset link is invalid');
    await trx.updateTable('users').set({ passwordHash, updatedAt: sql`now()`, failedLoginCount: 0, lockedUntil: null }).where('id', '=', userId).execute();
    // Every other reset link sent before this one ends now: one of them must not set the password again later.
    await trx.updateTable('userTokens').set({ expiresAt: sql`now()` })
      .where('userId', '=', userId).where('purpose', '=', 'password_reset').where('usedAt', 'is', null).where('expiresAt', '>', sql<Date>`now()`).execute();
    await revokeAllSessions(trx, userId);
    await recordAudit(trx, ctx, {
      partnerId: user.partnerId, customerId: user.customerId, app: 'auth', action: 'user.password_reset', targetType: 'user', targetId: userId,
      changes: { password: { before: '[redacted]', after: '[redacted]' } },
      actor: { actorType: user.kind === 'operator' ? 'operator' : 'user', actorId: user.id, actorLabel: user.email },
    });
  });
}
