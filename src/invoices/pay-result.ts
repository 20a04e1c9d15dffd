import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { formatDecimal } from '../money/money.ts';
import { currencyOf } from '../topup/top-up-views.ts';
import { portalGetInvoice, portalInvoiceDetailSchema } from './portal-invoices.ts';
import type { PayAttemptRow } from './pay-invoice.ts';

export const payResultSchema = z.object({
  invoice: portalInvoiceDetailSchema,
  payment: z.object({
    id: z.string(),
    status: z.enum(['pending', 'succeeded', 'failed']),
    currency: z.string(),
    amount: z.string(),
    pointsUsed: z.string(),
    cardCharged: z.string(),
    chargeRef: z.string().nullable(),
    createdAt: z.string(),
    completedAt: z.string().nullable(),
  }),
});
export type PayResult = z.infer<typeof payResultSchema>;

/** The answer to a pay: the invoice as it now stands, and the payment attempt. */
export async function payResultOf(ctx: Ctx, attempt: PayAttemptRow): Promise<PayResult> {
  const currency = currencyOf(attempt.currency);
  const fmt = (m: string) => formatDecimal(BigInt(m), currency);
  const settled = attempt.status === 'succeeded';
  return {
    invoice: await portalGetInvoice(ctx, { invoiceId: attempt.invoiceId }),
    payment: {
      id: attempt.id, status: attempt.status, currency, amount: fmt(attempt.amountMicros),
      pointsUsed: settled ? fmt(attempt.pointsMicros) : fmt('0'), cardCharged: settled ? fmt(attempt.cardMicros) : fmt('0'),
      chargeRef: attempt.chargeRef, createdAt: attempt.createdAt.toISOString(), completedAt: attempt.completedAt?.toISOString() ?? null,
    },
  };
}
