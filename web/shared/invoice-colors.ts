/**
 * The colours of an invoice's type and status badges, one set for the admin's Invoice app and the portal: each had its
 * own, and a Monthly statement was cyan for staff and purple for its customer (a Top-up the other way round).
 */
export const INVOICE_TYPE_COLORS: Record<'purchase' | 'monthly' | 'top_up', string> = { purchase: 'indigo', monthly: 'cyan', top_up: 'grape' };

export const INVOICE_STATUS_COLORS: Record<'draft' | 'awaiting_payment' | 'partially_paid' | 'paid' | 'void', string> = {
  draft: 'gray',
  awaiting_payment: 'yellow',
  partially_paid: 'orange',
  paid: 'teal',
  void: 'dark',
};
