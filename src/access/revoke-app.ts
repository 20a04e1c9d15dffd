import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import type { AppName } from '../platform/db-types.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from './caller.ts';
import { findStaffMember, type StaffMember } from './staff-views.ts';
import { forgetPartnerApiKeys } from '../auth/resolve-principal.ts';

/**
 * Take an app away from a staff member; effective at their next request, and for the API keys they made (which use only
 * apps their maker holds). Nobody removes their own Access Control app.
 */
export async function revokeApp(ctx: Ctx, input: { userId: string; app: AppName }): Promise<StaffMember> {
  const caller = partnerCaller(ctx.principal);
  if (input.app === 'access' && input.userId === caller.userId) {
    throw new DomainError('rule_violation', 'You cannot remove your own Access Control app; ask another administrator');
  }
  const revoked = await inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const before = await findStaffMember(trx, caller.partnerId, input.userId);
    if (!before) throw notFound('Staff member');
    if (!before.apps.includes(input.app)) return before;
    await trx.deleteFrom('appGrants').where('partnerId', '=', caller.partnerId).where('userId', '=', before.id).where('app', '=', input.app).execute();
    const after = (await findStaffMember(trx, caller.partnerId, before.id))!;
    await recordAudit(trx, ctx, {
      partnerId: caller.partnerId, app: 'access', action: 'app.revoked', targetType: 'user', targetId: before.id,
      changes: diff({ apps: before.apps }, { apps: after.apps }),
    });
    return after;
  });
  forgetPartnerApiKeys(ctx.db, caller.partnerId);
  return revoked;
}
