import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { hashPassword, verifyPassword } from '../platform/crypto.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { throttle } from './login.ts';
import { findUserById } from './users.repo.ts';

/**
 * A signed-in person changes their own password, giving the current one: a session left open on a shared computer
 * cannot take the account over. A wrong current password counts as a failed sign-in of the account (the same limit:
 * five in 15 minutes, then 429 `account_locked` until they leave the window or a reset), and is on the account's trail.
 * Every other session of the person ends (the one asking stays signed in); pending reset links stop working. The new
 * password follows the same rules as at sign-up (the route's schema) and must differ from the current one.
 */
export async function changePassword(ctx: Ctx, input: { currentPassword: string; newPassword: string }): Promise<{ otherSessionsEnded: number }> {
  const p = ctx.principal;
  if (p.kind === 'api_key') throw new DomainError('forbidden', 'An API key has no password: changing one needs a signed-in person');
  if (p.kind !== 'staff' && p.kind !== 'customer' && p.kind !== 'operator') throw new DomainError('not_signed_in', 'Only a signed-in person has a password to change');
  const ip = ctx.ip ?? 'unknown';
  const user = await inScope(ctx.db, { kind: 'system' }, async (trx) => {
    const found = await findUserById(trx, p.userId);
    if (!found?.passwordHash || found.status !== 'active') throw new DomainError('not_signed_in', 'This account cannot sign in');
    await throttle(trx, found.email.toLowerCase(), ip);
    return { ...found, passwordHash: found.passwordHash };
  });
  const actor = { actorType: user.kind === 'operator' ? ('operator' as const) : ('user' as const), actorId: user.id, actorLabel: user.email };
  const partnerId = user.kind === 'operator' ? null : user.partnerId;
  if (!(await verifyPassword(user.passwordHash, input.currentPassword))) {
    await inScope(ctx.db, { kind: 'system' }, async (trx) => {
      await trx.insertInto('loginAttempts').values({ email: user.email.toLowerCase(), ip, succeeded: false }).execute();
      await trx.updateTable('users').set({ failedLoginCount: sql`failed_login_count + 1` }).where('id', '=', user.id).execute();
      await recordAudit(trx, ctx, {
        partnerId, customerId: user.customerId, app: 'auth', action: 'auth.sign_in_failed', targetType: 'user', targetId: user.id, actor,
        changes: { reason: { after: 'wrong current password when changing it' } },
      });
    });
    throw new DomainError('rule_violation', 'Your current password is not right', [{ path: 'currentPassword', message: 'not your current password' }]);
  }
  if (input.newPassword === input.currentPassword) {
    throw new DomainError('rule_violation', 'Choose a new password that differs from the current one', [{ path: 'newPassword', message: 'the same as the current one' }]);
  }
  const passwordHash = await hashPassword(input.newPassword);
  return inScope(ctx.db, { kind: 'system' }, async (trx) => {
    // Changed meanwhile (another tab, a reset link): this request's check was of a password that no longer holds.
    const changed = await trx.updateTable('users').set({ passwordHash, failedLoginCount: 0, lockedUntil: null, updatedAt: sql`now()` })
      .where('id', '=', user.id).where('passwordHash', '=', user.passwordHash).where('status', '=', 'active')
      .executeTakeFirst();
    if (Number(changed.numUpdatedRows) !== 1) throw new DomainError('state_conflict', 'Your password was changed meanwhile; sign in again if needed and try again');
    await trx.updateTable('userTokens').set({ expiresAt: sql`now()` })
      .where('userId', '=', user.id).where('purpose', '=', 'password_reset').where('usedAt', 'is', null).where('expiresAt', '>', sql<Date>`now()`).execute();
    const ended = await trx.updateTable('sessions').set({ revokedAt: sql`now()` })
      .where('userId', '=', user.id).where('id', '<>', p.sessionId).where('revokedAt', 'is', null)
      .returning('id').execute();
    await recordAudit(trx, ctx, {
      partnerId, customerId: user.customerId, app: 'auth', action: 'user.password_changed', targetType: 'user', targetId: user.id, actor,
      changes: { password: { before: '[redacted]', after: '[redacted]' }, otherSessions: { before: ended.length, after: 0 } },
    });
    return { otherSessionsEnded: ended.length };
  });
}
