import type { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { notFound } from '../platform/errors.ts';
import { partnerCaller, portalCaller } from '../access/caller.ts';
import type { Currency } from '../money/money.ts';
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

/**
 * The same for the Invoice app, in a currency (the customer's of the invoice being drafted): a Top-up invoice follows the
 * policy in force on the day it is issued (src/invoices/issue-draft-invoice.ts, docs/adr/0043), so the draft editor says
 * what issuing it today will do, and what the next version will change. Read-only: a clerk drafting invoices need not hold
 * the Portal Settings app, whose list of versions leaves out the built-in default.
 */
export async function getTopUpPolicyForInvoices(ctx: Ctx, input: { currency: Currency }): Promise<PortalTopUpPolicyView> {
  const { partnerId } = partnerCaller(ctx.principal);
  const day = utcDay(ctx.clock.now());
  return inScope(ctx.db, { kind: 'partner', partnerId }, async (trx) => {
    const current = await policyInForce(trx, partnerId, input.currency, day);
    const upcoming = await nextPolicyVersion(trx, partnerId, input.currency, day);
    return { ...toPolicyView(current), upcoming: upcoming ? toPolicyView(upcoming) : null };
  });
}
