import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import type { AppName } from '../platform/db-types.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { partnerCaller, refuseAppsNotHeld } from './caller.ts';
import { findStaffMember, type StaffMember } from './staff-views.ts';
import { forgetPartnerApiKeys } from '../auth/resolve-principal.ts';

/**
 * Give a staff member one more app; the API keys they made may use it again if they were given it (src/auth/resolve-principal.ts).
 * Finance is refused (422, as when inviting someone with it): only the operator grants it, by approving an access request.
 * Any other app the caller does not hold itself is refused too (403 app_not_held, docs/adr/0039): holding Access Control
 * does not make one a holder of every app.
 */
export async function grantApp(ctx: Ctx, input: { userId: string; app: AppName }): Promise<StaffMember> {
  const caller = partnerCaller(ctx.principal);
  if (input.app === 'finance') {
    throw new DomainError('rule_violation', 'Only the platform operator grants the Finance app; the staff member can request it', [
      { path: 'app', message: 'the Finance app is granted by the platform operator, on request' },
    ]);
  }
  refuseAppsNotHeld(caller, [{ app: input.app, path: 'app' }]);
  const granted = await inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
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
  forgetPartnerApiKeys(ctx.db, caller.partnerId);
  return granted;
}
