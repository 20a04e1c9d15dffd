import type { Trx } from '../platform/database.ts';
import { plannedInvoiceNumbers } from '../invoices/invoice-numbers.ts';

/**
 * The number the partner's next Top-up invoice would take, when an issued document already carries it (a top-up number
 * format changed before formats were checked against the numbers issued, docs/adr/0041), with the day it was issued;
 * else null. Asked before a card is charged: a charge whose paid invoice could not be numbered would leave the money
 * taken and the top-up pending. The counter row stays locked until the caller's transaction ends (a short one here).
 */
export async function takenTopUpNumber(trx: Trx, partnerId: string, at: Date): Promise<{ number: string; issuedOn: string } | null> {
  const { taken } = await plannedInvoiceNumbers(trx, partnerId, 'top_up', at, 1);
  return taken ? { number: taken.number, issuedOn: taken.issuedAt.toISOString().slice(0, 10) } : null;
}
