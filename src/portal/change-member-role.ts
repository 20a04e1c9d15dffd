import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { portalCaller } from '../access/caller.ts';
import { findMember, type Member } from './member-views.ts';

/** The owner changes another member's role (admin, member, guest). Ownership moves only by transfer. Effective at the member's next request. */
export async function changeMemberRole(ctx: Ctx, input: { userId: string; role: 'admin' | 'member' | 'guest' }): Promise<Member> {
  const caller = portalCaller(ctx.principal);
  if (caller.role !== 'owner') throw new DomainError('role_not_allowed', 'Only the owner can change roles');
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const before = await findMember(trx, caller, input.userId);
    if (!before) throw notFound('Member');
    if (before.role === 'owner') throw new DomainError('rule_violation', 'The owner\'s role changes only by transferring ownership');
    if (before.status === 'disabled') throw new DomainError('state_conflict', 'This member has been removed');
    if (before.role === input.role) return before;
    await trx
      .updateTable('users')
      .set({ customerRole: input.role, updatedAt: sql`now()` })
      .where('partnerId', '=', caller.partnerId)
      .where('customerId', '=', caller.customerId)
      .where('id', '=', before.id)
      .execute();
    const after = (await findMember(trx, caller, before.id))!;
    await recordAudit(trx, ctx, {
      partnerId: caller.partnerId, customerId: caller.customerId, app: 'portal', action: 'member.role_changed', targetType: 'user', targetId: before.id,
      changes: diff({ role: before.role }, { role: after.role }),
    });
    return after;
  });
}
