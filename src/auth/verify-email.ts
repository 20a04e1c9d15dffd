import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { inScope, type Trx } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { enqueueNotification } from '../notifications/enqueue-notification.ts';
import { findUserById } from './users.repo.ts';
import { consumeUserToken, issueUserToken } from './user-tokens.ts';

export const VERIFICATION_TTL_MINUTES = 60 * 24 * 3;

/** Send a verification link to a user's address (new users, changed addresses, or on request). */
export async function sendVerificationEmail(trx: Trx, user: { id: string; partnerId: string | null; customerId: string | null; email: string }, publicUrl: string): Promise<void> {
  const token = await issueUserToken(trx, user, 'email_verification', VERIFICATION_TTL_MINUTES);
  await enqueueNotification(trx, {
    partnerId: user.partnerId, customerId: user.customerId, userId: user.id, toEmail: user.email, kind: 'email_verification',
    subject: 'Verify your email address for Folio',
    bodyText: `Confirm that ${user.email} is your address: ${publicUrl}/verify-email?token=${encodeURIComponent(token)}`,
  });
}

export async function resendVerification(ctx: Ctx, userId: string): Promise<void> {
  await inScope(ctx.db, { kind: 'system' }, async (trx) => {
    const user = await findUserById(trx, userId);
    if (!user) throw new DomainError('not_found', 'User not found');
    if (user.emailVerifiedAt) throw new DomainError('state_conflict', 'Your email address is already verified');
    await sendVerificationEmail(trx, user, ctx.config.publicUrl);
    await recordAudit(trx, ctx, { partnerId: user.partnerId, customerId: user.customerId, app: 'auth', action: 'auth.verification_sent', targetType: 'user', targetId: user.id });
  });
}

export async function verifyEmail(ctx: Ctx, input: { token: string }): Promise<void> {
  await inScope(ctx.db, { kind: 'system' }, async (trx) => {
    const userId = await consumeUserToken(trx, input.token, 'email_verification');
    if (!userId) throw new DomainError('token_invalid', 'This verification link is invalid, used or expired');
    const user = await findUserById(trx, userId);
    if (!user) throw new DomainError('token_invalid', 'This verification link is invalid');
    await trx.updateTable('users').set({ emailVerifiedAt: sql`now()`, updatedAt: sql`now()` }).where('id', '=', userId).execute();
    await recordAudit(trx, ctx, {
      partnerId: user.partnerId, customerId: user.customerId, app: 'auth', action: 'user.email_verified', targetType: 'user', targetId: userId,
      changes: { emailVerified: { before: user.emailVerifiedAt !== null, after: true } },
      actor: { actorType: user.kind === 'operator' ? 'operator' : 'user', actorId: user.id, actorLabel: user.email },
    });
  });
}
