import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import type { AppName } from '../platform/db-types.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from './caller.ts';
import { findStaffMember, type StaffMember } from './staff-views.ts';

/** Give a staff member one more app. Finance is refused: only the operator grants it, by approving an access request. */
export async function grantApp(ctx: Ctx, input: { userId: string; app: AppName }): Promise<StaffMember> {
  const caller = partnerCaller(ctx.principal);
  if (input.app === 'finance') {
    throw new DomainError('forbidden', 'Only the platform operator grants the Finance app; the staff member can request it');
  }
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const before = await findStaffMember(trx, caller.partnerId, input.userId);
    if (!before) throw notFound('Staff member');
    if (before.apps.includes(input.app)) return before;
    await trx.insertInto('appGrants').values({ partnerId: caller.partnerId, userId: before.id, app: input.app, grantedBy: caller.actorId }).execute();
    const after = (await findStaffMember(trx, caller.partnerId, before.id))!;
    await recordAudit(trx, ctx, {
      partnerId: caller.partnerId, app: 'access', action: 'app.granted', targetType: 'user', targetId: before.id,
      changes: diff({ apps: before.apps }, { apps: after.apps }),
    });
    return after;
  });
}
