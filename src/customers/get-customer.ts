import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { notFound } from '../platform/errors.ts';
import { partnerCaller } from '../access/caller.ts';
import { customerEtag, customerVersion, findCustomerDetail, type CustomerDetail } from './customer-views.ts';

/** One customer organisation of the partner, with its users, and its ETag. Another partner's customer is "not found". */
export async function getCustomer(ctx: Ctx, input: { customerId: string }): Promise<{ customer: CustomerDetail; etag: string }> {
  const { partnerId } = partnerCaller(ctx.principal);
  const found = await inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const customer = await findCustomerDetail(trx, partnerId, input.customerId);
    if (!customer) return undefined;
    return { customer, etag: customerEtag(input.customerId, (await customerVersion(trx, partnerId, input.customerId, { lock: false }))!) };
  });
  if (!found) throw notFound('Customer');
  return found;
}
