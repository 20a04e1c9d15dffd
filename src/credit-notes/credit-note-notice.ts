import type { CreditNoteOutcome, RefundMethod } from './credit-notes.db-types.ts';

/** The customer's notice of an issued credit note (notification `credit_note_issued`): subject and plain-text body. */
export function creditNoteNotice(n: {
  seller: string; number: string; invoiceNumber: string; total: string; outcome: CreditNoteOutcome; refundMethod: RefundMethod | null;
  memo: string | null; link: string;
}): { subject: string; bodyText: string } {
  const what = n.outcome === 'reduce_due' ? `It lowers what invoice ${n.invoiceNumber} asks you to pay by ${n.total}.`
    : n.outcome === 'points' ? `${n.total} has been added to your points.`
      : n.refundMethod === 'card' ? `${n.total} is being refunded to the card that paid invoice ${n.invoiceNumber}; your bank may take a few days to show it.`
        : `${n.total} is refunded to you by ${n.refundMethod === 'cheque' ? 'cheque' : 'bank transfer'}.`;
  return {
    subject: `Credit note ${n.number} from ${n.seller}: ${n.total} on invoice ${n.invoiceNumber}`,
    bodyText: [
      `${n.seller} has issued credit note ${n.number} on invoice ${n.invoiceNumber}.`,
      '',
      `Credited: ${n.total}`,
      what,
      ...(n.memo ? ['', n.memo] : []),
      '',
      `See the invoice and its credit notes in your portal: ${n.link}`,
    ].join('\n'),
  };
}
