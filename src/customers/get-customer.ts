import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { notFound } from '../platform/errors.ts';
import { partnerCaller } from '../access/caller.ts';
import { findCustomerDetail, type CustomerDetail } from './customer-views.ts';

/** One customer organisation of the partner, with its users. Another partner's customer is "not found". */
export async function getCustomer(ctx: Ctx, input: { customerId: string }): Promise<CustomerDetail> {
  const { partnerId } = partnerCaller(ctx.principal);
  const customer = await inScope(ctx.db, scopeOf(ctx.principal), (trx) => findCustomerDetail(trx, partnerId, input.customerId));
  if (!customer) throw notFound('Customer');
  return customer;
}
