import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { hashPassword } from '../platform/crypto.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { findUsableInvitation } from './get-invitation.ts';

/**
 * Accept an invitation from its link: the person chooses their name and password; the user becomes active and their email
 * counts as verified (they clicked the link sent to it). The link works once; any older session of the user is revoked.
 */
export async function acceptInvitation(ctx: Ctx, input: { token: string; name: string; password: string }): Promise<void> {
  const passwordHash = await hashPassword(input.password);
  await inScope(ctx.db, { kind: 'system' }, async (trx) => {
    const invitation = await findUsableInvitation(trx, input.token, { lock: true });
    if (!invitation) throw new DomainError('token_invalid', 'This invitation link is invalid, used, revoked or expired; ask for a new one');
    await trx
      .updateTable('invitations')
      .set({ acceptedAt: sql`now()` })
      .where('partnerId', '=', invitation.partnerId)
      .where('id', '=', invitation.id)
      .execute();
    await trx
      .updateTable('users')
      .set({ name: input.name, passwordHash, status: 'active', emailVerifiedAt: sql`now()`, failedLoginCount: 0, updatedAt: sql`now()` })
      .where('partnerId', '=', invitation.partnerId)
      .where('id', '=', invitation.userId)
      .execute();
    // A fresh start: sessions from before (a removed member invited back) never come back to life.
    await trx
      .updateTable('sessions')
      .set({ revokedAt: sql`now()` })
      .where('partnerId', '=', invitation.partnerId)
      .where('userId', '=', invitation.userId)
      .where('revokedAt', 'is', null)
      .execute();
    await recordAudit(trx, ctx, {
      partnerId: invitation.partnerId, customerId: invitation.customerId,
      app: invitation.kind === 'customer' ? 'portal' : 'access', action: 'invitation.accepted', targetType: 'user', targetId: invitation.userId,
      changes: diff(
        { name: invitation.name, status: 'invited', emailVerified: false, password: null },
        { name: input.name, status: 'active', emailVerified: true, password: 'set' },
      ),
      actor: { actorType: 'user', actorId: invitation.userId, actorLabel: invitation.email },
    });
  });
}
