import type { Ctx } from '../../platform/context.ts';
import { scopeOf } from '../../platform/context.ts';
import { inScope } from '../../platform/database.ts';
import { partnerCaller } from '../../access/caller.ts';
import { loadReceipt } from './receipt-view.ts';
import { renderReceiptPdf } from './render-receipt-pdf.ts';

/** A payment's receipt as a PDF, named after its number (another partner's payment is 404). */
export async function getReceiptPdf(ctx: Ctx, paymentId: string): Promise<{ filename: string; pdf: Buffer }> {
  const { partnerId } = partnerCaller(ctx.principal);
  const receipt = await inScope(ctx.db, scopeOf(ctx.principal), (trx) => loadReceipt(trx, partnerId, paymentId));
  const pdf = await renderReceiptPdf(receipt, { generatedAt: ctx.clock.now() });
  return { filename: `${receipt.number.replace(/[^A-Za-z0-9._-]/g, '_')}.pdf`, pdf };
}
