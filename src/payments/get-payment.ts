import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { partnerCaller } from '../access/caller.ts';
import { loadPaymentDetail, type PaymentDetail } from './payment-views.ts';

/** One payment of the partner with its allocations (another partner's is "not found"). */
export async function getPayment(ctx: Ctx, paymentId: string): Promise<PaymentDetail> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), (trx) => loadPaymentDetail(trx, partnerId, paymentId));
}
