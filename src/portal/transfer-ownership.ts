import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { portalCaller } from '../access/caller.ts';
import { findMember } from './member-views.ts';

/** The owner hands the organisation to another active member, and becomes an admin. */
export async function transferOwnership(ctx: Ctx, input: { userId: string }): Promise<void> {
  const caller = portalCaller(ctx.principal);
  if (caller.role !== 'owner') throw new DomainError('role_not_allowed', 'Only the owner can transfer ownership');
  if (input.userId === caller.userId) throw new DomainError('rule_violation', 'You are already the owner');
  await inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const target = await findMember(trx, caller, input.userId);
    if (!target) throw notFound('Member');
    if (target.status !== 'active') throw new DomainError('rule_violation', `Ownership can go only to an active member; this one is ${target.status}`);
    const setRole = (userId: string, role: 'owner' | 'admin') =>
      trx
        .updateTable('users')
        .set({ customerRole: role, updatedAt: sql`now()` })
        .where('partnerId', '=', caller.partnerId)
        .where('customerId', '=', caller.customerId)
        .where('id', '=', userId)
        .execute();
    // One owner at a time (a unique index): step down first.
    await setRole(caller.userId, 'admin');
    await setRole(target.id, 'owner');
    await recordAudit(trx, ctx, {
      partnerId: caller.partnerId, customerId: caller.customerId, app: 'portal', action: 'ownership.transferred', targetType: 'customer', targetId: caller.customerId,
      changes: diff({ ownerId: caller.userId, newOwnerRole: target.role }, { ownerId: target.id, newOwnerRole: 'owner' }),
    });
  });
}
