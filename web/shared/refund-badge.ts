import { toMicros } from './money.ts';

/**
 * The second badge of an invoice that credit notes gave money back on (outcome refund: by card, bank transfer or cheque;
 * outcome points): its status stays what was paid ("Paid"), so the badge says the money went back. The admin's Invoice
 * app and the portal show the same (web/admin/invoices/invoice-ui.tsx InvoiceBadges, web/portal/invoices/InvoiceBadges.tsx).
 */
export interface RefundBadge {
  label: 'Refunded' | 'Partly refunded';
  /** How much went back and how, for the badge's title: `18.15 SGD refunded, 5.00 SGD to points`. */
  title: string;
}

/** The same colour in both apps, apart from every status's (web/shared/invoice-colors.ts). */
export const REFUND_BADGE_COLOR = 'blue';

/** The figures of an invoice's summary the badge reads (decimal strings of the API, in the invoice's currency). */
export interface GivenBack {
  currency: string;
  amountPaid: string;
  amountRefunded: string;
  amountCreditedToPoints: string;
}

/**
 * "Refunded" when what went back (refunded + credited to points) is all that was paid, "Partly refunded" when it is less,
 * null when nothing went back. Compared in micro-units, never as floating point.
 */
export function refundBadge(inv: GivenBack): RefundBadge | null {
  const refunded = toMicros(inv.amountRefunded) ?? 0n;
  const toPoints = toMicros(inv.amountCreditedToPoints) ?? 0n;
  const back = refunded + toPoints;
  if (back <= 0n) return null;
  const paid = toMicros(inv.amountPaid) ?? 0n;
  const how = [
    ...(refunded > 0n ? [`${inv.amountRefunded} ${inv.currency} refunded`] : []),
    ...(toPoints > 0n ? [`${inv.amountCreditedToPoints} ${inv.currency} to points`] : []),
  ];
  // A credit note cannot give back more than was paid (the server's limit); should it, the invoice is still all given back.
  return { label: back >= paid ? 'Refunded' : 'Partly refunded', title: how.join(', ') };
}
