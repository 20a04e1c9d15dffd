import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { recordAudit } from '../audit/record-audit.ts';

/**
 * Sign out everywhere else: every live session of the signed-in person ends except the one asking (a shared computer
 * left signed in, a lost phone). Sessions are the person's, not a partner's: an account is one per email. Their next
 * request answers 401. Sessions that had already expired are not counted: they were signed out already.
 */
export async function revokeOtherSessions(ctx: Ctx): Promise<{ revoked: number }> {
  const p = ctx.principal;
  // An API key is a credential, with no session of its own and no person's to end: 403, as the route's policy (signed_in)
  // answers it; 401 is for a caller with no credentials at all.
  if (p.kind === 'api_key') throw new DomainError('forbidden', 'An API key has no session: signing out of other devices needs a signed-in person');
  if (p.kind !== 'staff' && p.kind !== 'customer' && p.kind !== 'operator') throw new DomainError('not_signed_in', 'Only a signed-in person has sessions to end');
  return inScope(ctx.db, { kind: 'system' }, async (trx) => {
    const ended = await trx
      .updateTable('sessions')
      .set({ revokedAt: sql`now()` })
      .where('userId', '=', p.userId)
      .where('id', '<>', p.sessionId)
      .where('revokedAt', 'is', null)
      .where('idleExpiresAt', '>', sql<Date>`now()`)
      .where('absoluteExpiresAt', '>', sql<Date>`now()`)
      .returning('id')
      .execute();
    await recordAudit(trx, ctx, {
      partnerId: p.kind === 'operator' ? null : p.partnerId, app: 'auth', action: 'auth.other_sessions_revoked', targetType: 'user', targetId: p.userId,
      changes: { otherSessions: { before: ended.length, after: 0 } },
    });
    return { revoked: ended.length };
  });
}
