import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { portalCaller } from '../access/caller.ts';
import { inviteUser, type InvitedUser } from '../access/invite-user.ts';

export interface InviteMemberInput {
  email: string;
  name: string;
  role: 'admin' | 'member' | 'guest';
}

/** The owner (any role but owner) or an admin (member or guest only) invites someone into their organisation. */
export async function inviteMember(ctx: Ctx, input: InviteMemberInput): Promise<InvitedUser & { role: InviteMemberInput['role'] }> {
  const caller = portalCaller(ctx.principal);
  if (caller.role !== 'owner' && caller.role !== 'admin') throw new DomainError('role_not_allowed', `Your role (${caller.role}) cannot invite members`);
  if (caller.role === 'admin' && input.role === 'admin') throw new DomainError('role_not_allowed', 'Only the owner can invite admins');
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const customer = await trx.selectFrom('customers').select('status').where('partnerId', '=', caller.partnerId).where('id', '=', caller.customerId).executeTakeFirstOrThrow();
    // A closed account takes no new people (its users keep reading its invoices and paying what is due).
    if (customer.status === 'closed') throw new DomainError('state_conflict', 'This account is closed: no one new can be invited');
    const invited = await inviteUser(trx, ctx, {
      kind: 'customer', partnerId: caller.partnerId, customerId: caller.customerId, role: input.role, email: input.email, name: input.name, invitedBy: caller.userId, throttled: true,
    });
    await recordAudit(trx, ctx, {
      partnerId: caller.partnerId, customerId: caller.customerId, app: 'portal', action: 'member.invited', targetType: 'user', targetId: invited.userId,
      changes: diff(null, { email: invited.email, name: input.name, role: input.role, invitationId: invited.invitationId, expiresAt: invited.expiresAt }),
    });
    return { ...invited, role: input.role };
  });
}
