import type { Trx } from '../../platform/database.ts';
import { enqueueNotification } from '../../notifications/enqueue-notification.ts';
import { invoiceRecipient } from '../../invoices/issue-draft-invoice.ts';
import { formatDay } from '../../invoices/pdf/pdf-layout.ts';
import { loadReceipt, METHOD_LABEL, topUpSplit, type ReceiptView } from './receipt-view.ts';

/**
 * When the customer hears about a payment Finance recorded (kind `payment_receipt`, or `payment_reversed`), each notice
 * enqueued in the transaction of the change (so it exists only if the change committed) and logged like every notification:
 * - `received`: once, when the payment is first tied to a customer: recorded with its customer, or assigned later. An
 *   unassigned payment tells no one (nobody is known to tell).
 * - `applied`: once, by the allocation that leaves nothing of the payment unallocated (to invoices and/or points): the
 *   updated receipt with everything it paid. Partial allocations send nothing, so several allocation calls never make
 *   several mails; a payment whose rest stays as credit was already confirmed by `received`, and the allocations show
 *   on the invoices in the portal.
 * - `reversed`: once, when the payment is reversed (its invoices reopen).
 * So a payment makes at most three notices. They go to the customer's billing contact (its billing email, else its
 * owner: `invoiceRecipient`, as invoices do); a customer with neither gets none.
 */
export type ReceiptEvent = 'received' | 'applied' | 'reversed';

export async function notifyReceipt(trx: Trx, input: { partnerId: string; paymentId: string; event: ReceiptEvent }): Promise<string | null> {
  const receipt = await loadReceipt(trx, input.partnerId, input.paymentId);
  if (!receipt.payer) return null;
  const to = await invoiceRecipient(trx, input.partnerId, receipt.payer.id);
  if (!to) return null;
  const { subject, body } = receiptNotice(receipt, input.event);
  return enqueueNotification(trx, {
    partnerId: input.partnerId, customerId: receipt.payer.id, userId: to.userId, toEmail: to.email,
    kind: input.event === 'reversed' ? 'payment_reversed' : 'payment_receipt', subject, bodyText: body,
  });
}

/** The notice's subject and text: the receipt in words (the same figures as the PDF). */
export function receiptNotice(r: ReceiptView, event: ReceiptEvent): { subject: string; body: string } {
  const seller = r.seller.legalName ?? r.seller.name;
  const amount = `${r.amount} ${r.currency}`;
  const lines = r.lines.map((l) => {
    const what = l.kind === 'points' ? 'credited to your points'
      : `invoice ${l.invoiceNumber ?? l.invoiceId}${l.invoiceType === 'top_up' ? ` (top-up: ${topUpSplit(l)})` : ''}`;
    return `- ${l.amount} ${r.currency} ${l.kind === 'points' ? '' : 'to '}${what}${l.reversed ? ' (reversed)' : ''}`.replace('  ', ' ');
  });
  const payment = [
    `Receipt: ${r.number}`,
    `Amount: ${amount}`,
    `Method: ${METHOD_LABEL[r.method]}`,
    `Received on: ${formatDay(r.receivedOn)}`,
    ...(r.reference ? [`Reference: ${r.reference}`] : []),
  ];
  switch (event) {
    case 'received':
      return {
        subject: `${seller}: payment of ${amount} received (receipt ${r.number})`,
        body: [
          `${seller} has received your payment of ${amount}.`, '', ...payment, '',
          ...(lines.length > 0 ? ['Applied so far:', ...lines, ''] : []),
          'We apply it to your open invoices; what is not applied stays on your account as credit.',
        ].join('\n'),
      };
    case 'applied':
      return {
        subject: `${seller}: payment ${r.number} of ${amount} applied`,
        body: [
          `${seller} has applied your payment of ${amount}.`, '', ...payment, '', 'Applied to:', ...lines, '',
          `Applied to invoices: ${r.allocated} ${r.currency}`, `Credited to points: ${r.toPoints} ${r.currency}`,
        ].join('\n'),
      };
    case 'reversed':
      return {
        subject: `${seller}: payment ${r.number} of ${amount} reversed`,
        body: [
          `${seller} has reversed your payment of ${amount}${r.reversal ? `: ${r.reversal.reason}` : ''}.`, '', ...payment, '',
          ...(lines.length > 0 ? ['Taken back:', ...lines, '', 'The invoices it paid are open again.'] : []),
          ...(r.reversal?.debitNote ? [`Points already spent beyond your credit limit are billed on invoice ${r.reversal.debitNote.number ?? r.reversal.debitNote.id}.`] : []),
        ].join('\n'),
      };
  }
}
