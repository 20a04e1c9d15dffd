import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from './caller.ts';
import { findStaffMember, type StaffMember } from './staff-views.ts';

/** Disable a staff member: they are signed out everywhere, cannot sign in, and their pending invitation stops working. */
export async function disableStaff(ctx: Ctx, input: { userId: string }): Promise<StaffMember> {
  const caller = partnerCaller(ctx.principal);
  if (input.userId === caller.userId) throw new DomainError('rule_violation', 'You cannot disable yourself');
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const before = await findStaffMember(trx, caller.partnerId, input.userId);
    if (!before) throw notFound('Staff member');
    if (before.status === 'disabled') throw new DomainError('state_conflict', 'This staff member is already disabled');
    await trx.updateTable('users').set({ status: 'disabled', updatedAt: sql`now()` }).where('partnerId', '=', caller.partnerId).where('id', '=', before.id).execute();
    await trx.updateTable('sessions').set({ revokedAt: sql`now()` }).where('partnerId', '=', caller.partnerId).where('userId', '=', before.id).where('revokedAt', 'is', null).execute();
    await trx
      .updateTable('invitations')
      .set({ revokedAt: sql`now()` })
      .where('partnerId', '=', caller.partnerId)
      .where('userId', '=', before.id)
      .where('acceptedAt', 'is', null)
      .where('revokedAt', 'is', null)
      .execute();
    const after = (await findStaffMember(trx, caller.partnerId, before.id))!;
    await recordAudit(trx, ctx, {
      partnerId: caller.partnerId, app: 'access', action: 'staff.disabled', targetType: 'user', targetId: before.id,
      changes: diff({ status: before.status }, { status: after.status }),
    });
    return after;
  });
}
