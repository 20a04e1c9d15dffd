import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { portalCaller } from '../access/caller.ts';
import { findMember, type Member } from './member-views.ts';

/**
 * Remove someone from the organisation: their user is disabled, and any pending invitation stops working. Their sessions
 * stop working at once (sessions resolve only for active users; the portal cannot see the staff-only sessions table, and
 * accepting a later invitation revokes them for good). Never the owner; admins remove members and guests only.
 */
export async function removeMember(ctx: Ctx, input: { userId: string }): Promise<Member> {
  const caller = portalCaller(ctx.principal);
  if (caller.role !== 'owner' && caller.role !== 'admin') throw new DomainError('role_not_allowed', `Your role (${caller.role}) cannot remove members`);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const before = await findMember(trx, caller, input.userId);
    if (!before) throw notFound('Member');
    if (before.role === 'owner') throw new DomainError('rule_violation', 'The owner cannot be removed; transfer ownership first');
    if (caller.role === 'admin' && before.role === 'admin') throw new DomainError('role_not_allowed', 'Only the owner can remove admins');
    if (before.status === 'disabled') throw new DomainError('state_conflict', 'This member has already been removed');
    const org = { partnerId: caller.partnerId, customerId: caller.customerId };
    await trx.updateTable('users').set({ status: 'disabled', updatedAt: sql`now()` }).where('partnerId', '=', org.partnerId).where('customerId', '=', org.customerId).where('id', '=', before.id).execute();
    await trx
      .updateTable('invitations')
      .set({ revokedAt: sql`now()` })
      .where('partnerId', '=', org.partnerId)
      .where('customerId', '=', org.customerId)
      .where('userId', '=', before.id)
      .where('acceptedAt', 'is', null)
      .where('revokedAt', 'is', null)
      .execute();
    const after = (await findMember(trx, caller, before.id))!;
    await recordAudit(trx, ctx, {
      partnerId: org.partnerId, customerId: org.customerId, app: 'portal', action: 'member.removed', targetType: 'user', targetId: before.id,
      changes: diff({ status: before.status }, { status: after.status }),
    });
    return after;
  });
}
