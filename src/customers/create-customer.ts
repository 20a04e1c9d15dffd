import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { newId } from '../platform/ids.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from '../access/caller.ts';
import { inviteUser } from '../access/invite-user.ts';
import { findCustomerDetail, type CustomerDetail } from './customer-views.ts';
import { billingColumns, type BillingContactInput } from './billing-contact.ts';

export interface CreateCustomerInput {
  name: string;
  currency: string;
  ownerEmail: string;
  ownerName: string;
  billingContact?: BillingContactInput | undefined;
}

/** A new customer organisation, and an invitation for its owner. If the owner's address is taken, nothing is created (409). */
export async function createCustomer(ctx: Ctx, input: CreateCustomerInput): Promise<CustomerDetail> {
  const caller = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const customerId = newId('cus');
    const billing = billingColumns(input.billingContact ?? {}, null);
    await trx.insertInto('customers').values({ id: customerId, partnerId: caller.partnerId, name: input.name, currency: input.currency, ...billing }).execute();
    await recordAudit(trx, ctx, {
      partnerId: caller.partnerId, customerId, app: 'customer', action: 'customer.created', targetType: 'customer', targetId: customerId,
      changes: diff(null, { name: input.name, currency: input.currency, ...billing }),
    });
    const owner = await inviteUser(trx, ctx, {
      kind: 'customer', partnerId: caller.partnerId, customerId, role: 'owner', email: input.ownerEmail, name: input.ownerName, invitedBy: caller.actorId,
    });
    await recordAudit(trx, ctx, {
      partnerId: caller.partnerId, customerId, app: 'customer', action: 'member.invited', targetType: 'user', targetId: owner.userId,
      changes: diff(null, { email: owner.email, name: input.ownerName, role: 'owner', invitationId: owner.invitationId, expiresAt: owner.expiresAt }),
    });
    return (await findCustomerDetail(trx, caller.partnerId, customerId))!;
  });
}
