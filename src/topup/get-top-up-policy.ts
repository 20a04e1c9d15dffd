import type { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { notFound } from '../platform/errors.ts';
import { portalCaller } from '../access/caller.ts';
import { utcDay } from './dates.ts';
import { nextPolicyVersion, policyInForce, toPolicyView, topUpPolicySchema } from './top-up-policy.ts';
import { currencyOf } from './top-up-views.ts';

export const portalTopUpPolicySchema = topUpPolicySchema.extend({
  /** The next version, when the partner has already planned one: the UI can say "from 1 Dec the fee is ...". */
  upcoming: topUpPolicySchema.nullable(),
});
export type PortalTopUpPolicyView = z.infer<typeof portalTopUpPolicySchema>;

/** The top-up policy in force today for the organisation's currency, so the portal can show the fee before paying. */
export async function portalGetTopUpPolicy(ctx: Ctx, input: { day?: string } = {}): Promise<PortalTopUpPolicyView> {
  const caller = portalCaller(ctx.principal);
  const day = input.day ?? utcDay(ctx.clock.now());
  return inScope(ctx.db, { kind: 'customer', partnerId: caller.partnerId, customerId: caller.customerId }, async (trx) => {
    const customer = await trx.selectFrom('customers').select('currency').where('partnerId', '=', caller.partnerId).where('id', '=', caller.customerId).executeTakeFirst();
    if (!customer) throw notFound('Customer');
    const currency = currencyOf(customer.currency);
    const current = await policyInForce(trx, caller.partnerId, currency, day);
    const upcoming = await nextPolicyVersion(trx, caller.partnerId, currency, day);
    return { ...toPolicyView(current), upcoming: upcoming ? toPolicyView(upcoming) : null };
  });
}
