import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { formatDecimal, microsPerMinorUnit, parseAmount, spendableMinorUnits } from '../money/money.ts';
import { portalCaller } from '../access/caller.ts';
import { MAX_CHARGE_MINOR, type Gateway } from '../gateway/gateway.ts';
import { readWallet } from '../wallet/wallets.repo.ts';
import { listSavedCards, savedCardSchema, toSavedCardView } from '../topup/saved-cards.ts';
import { feeFor, policyInForce } from '../topup/top-up-policy.ts';
import { currencyOf } from '../topup/top-up-views.ts';
import { utcDay } from '../topup/dates.ts';
import { notPayableReason, rolePayReason } from './pay-invoice.ts';

export const payPreviewSchema = z.object({
  invoiceId: z.string(),
  number: z.string(),
  currency: z.string(),
  amountDue: z.string(),
  /** What this payment would pay (the amount asked, or all that is due). */
  amount: z.string(),
  /** Points that can pay (whole minor units of points not on hold; the credit limit does not pay invoices). */
  pointsAvailable: z.string(),
  /**
   * The customer's points, to the micro (calls charge sub-cent amounts: 47.0788), and of them what is on hold: the
   * dialog can say why fewer can pay (pointsAvailable is balance less hold, cut to whole minor units: spendableMinorUnits).
   */
  pointsBalance: z.string(),
  pointsOnHold: z.string(),
  pointsToUse: z.string(),
  cardAmount: z.string(),
  savedCards: z.array(savedCardSchema),
  /**
   * When points fall short: a top-up of the shortfall, or the partner's minimum top-up if higher, with the admin fee the
   * policy adds to it and what the card is charged. Null when no single top-up can carry it (above what one card payment
   * carries).
   */
  topUpSuggestion: z.object({ amount: z.string(), minimum: z.string(), shortfall: z.string(), fee: z.string(), total: z.string() }).nullable(),
});
export type PayPreview = z.infer<typeof payPreviewSchema>;

/**
 * What paying an invoice would take, before paying: points first, the rest by card, and the top-up that would let
 * points pay it all. Read-only; the pay itself re-checks everything under locks.
 */
export async function portalPreviewInvoicePayment(ctx: Ctx & { gateway: Gateway }, input: { invoiceId: string; amount?: string | undefined }): Promise<PayPreview> {
  const caller = portalCaller(ctx.principal);
  const roleReason = rolePayReason(caller.role);
  if (roleReason) throw new DomainError('forbidden', roleReason);
  const key = { partnerId: caller.partnerId, customerId: caller.customerId };
  return inScope(ctx.db, { kind: 'customer', ...key }, async (trx) => {
    const invoice = await trx.selectFrom('invoices').selectAll().where('partnerId', '=', key.partnerId).where('customerId', '=', key.customerId)
      .where('id', '=', input.invoiceId).where('status', '<>', 'draft').executeTakeFirst();
    if (!invoice) throw notFound('Invoice');
    const reason = notPayableReason(invoice);
    if (reason) throw new DomainError('invoice_not_payable', `${invoice.number}: ${reason}`);
    const currency = currencyOf(invoice.currency);
    const due = BigInt(invoice.amountDueMicros);
    const amount = input.amount === undefined ? due : parseAmount(input.amount, currency, 'amount');
    if (amount <= 0n) throw new DomainError('rule_violation', 'amount must be more than zero', [{ path: 'amount', message: 'more than zero' }]);
    if (amount > due) throw new DomainError('amount_exceeds_due', `More than the ${formatDecimal(due, currency)} ${currency} due`, [{ path: 'amount', message: `at most ${formatDecimal(due, currency)}` }]);
    const wallet = await readWallet(trx, { ...key, currency });
    const available = wallet ? spendableMinorUnits(wallet.pointsMicros - wallet.reservedMicros, currency) : 0n;
    const points = amount < available ? amount : available;
    const card = amount - points;
    let topUpSuggestion: PayPreview['topUpSuggestion'] = null;
    if (card > 0n) {
      const policy = await policyInForce(trx, key.partnerId, currency, utcDay(ctx.clock.now()));
      const suggested = card > policy.minimumMicros ? card : policy.minimumMicros;
      const fee = feeFor(policy, suggested);
      if ((suggested + fee) / microsPerMinorUnit(currency) <= MAX_CHARGE_MINOR) {
        topUpSuggestion = {
          amount: formatDecimal(suggested, currency), minimum: formatDecimal(policy.minimumMicros, currency), shortfall: formatDecimal(card, currency),
          fee: formatDecimal(fee, currency), total: formatDecimal(suggested + fee, currency),
        };
      }
    }
    const cards = await listSavedCards(trx, key, ctx.gateway.name);
    return {
      invoiceId: invoice.id, number: invoice.number!, currency, amountDue: formatDecimal(due, currency), amount: formatDecimal(amount, currency),
      pointsAvailable: formatDecimal(available, currency),
      pointsBalance: formatDecimal(wallet?.pointsMicros ?? 0n, currency), pointsOnHold: formatDecimal(wallet?.reservedMicros ?? 0n, currency), pointsToUse: formatDecimal(points, currency), cardAmount: formatDecimal(card, currency),
      savedCards: cards.map(toSavedCardView), topUpSuggestion,
    };
  });
}
