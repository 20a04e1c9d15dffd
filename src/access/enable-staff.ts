import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from './caller.ts';
import { findStaffMember, type StaffMember } from './staff-views.ts';

/** Let a disabled staff member back in. Someone who never accepted their invitation goes back to `invited` (invite them again for a new link). */
export async function enableStaff(ctx: Ctx, input: { userId: string }): Promise<StaffMember> {
  const caller = partnerCaller(ctx.principal);
  if (input.userId === caller.userId) throw new DomainError('rule_violation', 'You cannot enable yourself');
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const before = await findStaffMember(trx, caller.partnerId, input.userId);
    if (!before) throw notFound('Staff member');
    if (before.status !== 'disabled') throw new DomainError('state_conflict', `This staff member is ${before.status}, not disabled`);
    await trx
      .updateTable('users')
      .set({ status: sql`case when password_hash is null then 'invited' else 'active' end`, failedLoginCount: 0, updatedAt: sql`now()` })
      .where('partnerId', '=', caller.partnerId)
      .where('id', '=', before.id)
      .execute();
    const after = (await findStaffMember(trx, caller.partnerId, before.id))!;
    await recordAudit(trx, ctx, {
      partnerId: caller.partnerId, app: 'access', action: 'staff.enabled', targetType: 'user', targetId: before.id,
      changes: diff({ status: before.status }, { status: after.status }),
    });
    return after;
  });
}
