import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import type { AppName } from '../platform/db-types.ts';
import { DomainError } from '../platform/errors.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { partnerCaller, refuseAppsNotHeld } from './caller.ts';
import { inviteUser, type InvitedUser } from './invite-user.ts';

export interface InviteStaffInput {
  email: string;
  name: string;
  apps: readonly AppName[];
}

/**
 * Invite a staff member of the caller's partner with a set of apps (never Finance: only the operator grants it), each held
 * by the caller itself (403 app_not_held naming `apps.N`, docs/adr/0039): an invitation to an address the caller reads
 * would otherwise give them any app.
 */
export async function inviteStaff(ctx: Ctx, input: InviteStaffInput): Promise<InvitedUser> {
  const caller = partnerCaller(ctx.principal);
  if (input.apps.includes('finance')) {
    throw new DomainError('rule_violation', 'The Finance app is granted only by the platform operator, through an access request', [
      { path: 'apps', message: 'finance cannot be granted here' },
    ]);
  }
  refuseAppsNotHeld(caller, input.apps.map((app, i) => ({ app, path: `apps.${i}` })));
  const apps = [...new Set(input.apps)];
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const invited = await inviteUser(trx, ctx, { kind: 'staff', partnerId: caller.partnerId, email: input.email, name: input.name, apps, invitedBy: caller.actorId, throttled: true });
    await recordAudit(trx, ctx, {
      partnerId: caller.partnerId, app: 'access', action: 'staff.invited', targetType: 'user', targetId: invited.userId,
      changes: diff(null, { email: invited.email, name: input.name, apps, invitationId: invited.invitationId, expiresAt: invited.expiresAt }),
    });
    return invited;
  });
}
