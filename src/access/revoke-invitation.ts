import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from './caller.ts';
import { invitationColumns, invitationStatus, toStaffInvitation, type StaffInvitation } from './staff-views.ts';

/** Withdraw a pending staff invitation: its link stops working. The invited user stays `invited` and can be invited again. */
export async function revokeInvitation(ctx: Ctx, input: { invitationId: string }): Promise<StaffInvitation> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const before = await trx
      .selectFrom('invitations')
      .select(invitationColumns)
      .where('partnerId', '=', partnerId)
      .where('customerId', 'is', null)
      .where('id', '=', input.invitationId)
      .forUpdate()
      .executeTakeFirst();
    if (!before) throw notFound('Invitation');
    const status = invitationStatus(before);
    if (status !== 'pending') throw new DomainError('state_conflict', `This invitation is ${status}; only pending invitations can be revoked`);
    const after = await trx
      .updateTable('invitations')
      .set({ revokedAt: sql`now()` })
      .where('partnerId', '=', partnerId)
      .where('id', '=', input.invitationId)
      .returning(invitationColumns)
      .executeTakeFirstOrThrow();
    await recordAudit(trx, ctx, {
      partnerId, app: 'access', action: 'invitation.revoked', targetType: 'invitation', targetId: after.id,
      changes: diff({ status }, { status: invitationStatus(after) }),
    });
    return toStaffInvitation(after);
  });
}
