import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from '../access/caller.ts';
import { inviteUser, lockInvitations } from '../access/invite-user.ts';
import { findCustomerDetail, type CustomerDetail } from './customer-views.ts';

export interface InviteOwnerInput {
  customerId: string;
  email: string;
  name: string;
}

/**
 * (Re-)invite the owner of a customer organisation whose owner has not accepted yet (or who has none): the same address gets
 * a fresh link (old links revoked); another address replaces the pending owner, who is disabled. An organisation with an
 * active owner is a 409 `customer_has_owner` (ownership is transferred by the owner, in the portal).
 * Throttled as the organisation's other invitations (its members'): at most INVITATIONS_PER_HOUR an hour, and the same
 * pending address a new link at most once in REINVITE_AFTER_MINUTES (429 with Retry-After, nothing written): each one
 * mails a stranger a name the caller chose.
 */
export async function inviteOwner(ctx: Ctx, input: InviteOwnerInput): Promise<CustomerDetail> {
  const caller = partnerCaller(ctx.principal);
  const email = input.email.trim().toLowerCase();
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    // The invitations' lock before the customer row's (lockInvitations says why).
    await lockInvitations(trx, caller.partnerId, input.customerId);
    const customer = await trx
      .selectFrom('customers').select('id')
      .where('partnerId', '=', caller.partnerId).where('id', '=', input.customerId)
      .forUpdate()
      .executeTakeFirst();
    if (!customer) throw notFound('Customer');
    const owner = await trx
      .selectFrom('users').select(['id', 'email', 'status'])
      .where('partnerId', '=', caller.partnerId).where('customerId', '=', customer.id)
      .where('customerRole', '=', 'owner').where('status', '<>', 'disabled')
      .executeTakeFirst();
    if (owner?.status === 'active') {
      throw new DomainError('customer_has_owner', `This organisation already has an owner (${owner.email}); the owner transfers ownership in the portal`);
    }
    let replaced: string | null = null;
    if (owner && owner.email.toLowerCase() !== email) {
      await trx.updateTable('users').set({ status: 'disabled', updatedAt: sql`now()` }).where('partnerId', '=', caller.partnerId).where('id', '=', owner.id).execute();
      await trx
        .updateTable('invitations').set({ revokedAt: sql`now()` })
        .where('partnerId', '=', caller.partnerId).where('userId', '=', owner.id).where('acceptedAt', 'is', null).where('revokedAt', 'is', null)
        .execute();
      replaced = owner.email;
    }
    const invited = await inviteUser(trx, ctx, {
      kind: 'customer', partnerId: caller.partnerId, customerId: customer.id, role: 'owner', email, name: input.name, invitedBy: caller.actorId, throttled: true,
    });
    await recordAudit(trx, ctx, {
      partnerId: caller.partnerId, customerId: customer.id, app: 'customer', action: 'member.invited', targetType: 'user', targetId: invited.userId,
      changes: diff(null, { email: invited.email, name: input.name, role: 'owner', invitationId: invited.invitationId, expiresAt: invited.expiresAt, replaces: replaced }),
    });
    return (await findCustomerDetail(trx, caller.partnerId, customer.id))!;
  });
}
