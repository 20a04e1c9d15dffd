import type { InvoiceDetail, InvoiceLineView, InvoiceSummary } from '../../../src/invoices/invoice-view-types.ts';
import { isApiError } from '../../shared/api.ts';
import { currencyDecimals, decimalsOf, formatMicros, formatMoney, toMicros } from '../../shared/money.ts';
import { INVOICE_STATUS_COLORS, INVOICE_TYPE_COLORS } from '../../shared/invoice-colors.ts';
import type { CustomerRole } from '../../shared/types.ts';

export type { InvoiceDetail, InvoiceSummary, InvoiceLineView, InvoicePaymentView, StatementView } from '../../../src/invoices/invoice-view-types.ts';

/** Query keys: everything under `['portal', 'invoices']`, so one invalidation refreshes the list and the open detail. */
export const INVOICES_KEY = ['portal', 'invoices'] as const;
/** The points queries of the portal (wallet, transactions, top-ups): refreshed after a payment used points. */
export const POINTS_KEY = ['portal', 'points'] as const;

/** A row of `GET /api/v1/portal/invoices` (docs/contracts/invoices-api.md): the summary plus whether you may pay it. */
export interface PortalInvoice extends InvoiceSummary {
  canPay: boolean;
  cannotPayReason: string | null;
}

/** A payment made in the portal, as the invoice detail lists it (newest first). */
export interface PortalPaymentAttempt {
  id: string;
  status: 'pending' | 'succeeded' | 'failed';
  amount: string;
  pointsUsed: string;
  cardAmount: string;
  failureReason: string | null;
  createdAt: string;
  completedAt: string | null;
}

export type PortalInvoiceDetail = InvoiceDetail & { canPay: boolean; cannotPayReason: string | null; paymentAttempts: PortalPaymentAttempt[] };

export interface SavedCard {
  id: string;
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
}

/** `GET /api/v1/portal/invoices/{id}/pay-preview`. */
export interface PayPreview {
  invoiceId: string;
  number: string;
  currency: string;
  amountDue: string;
  amount: string;
  pointsAvailable: string;
  /** The points to the micro, and what of them is on hold (pointsAvailable: balance less hold, in whole minor units). */
  pointsBalance: string;
  pointsOnHold: string;
  pointsToUse: string;
  cardAmount: string;
  savedCards: SavedCard[];
  topUpSuggestion: null | { amount: string; minimum: string; shortfall: string; fee: string; total: string };
}

/** `POST /api/v1/portal/invoices/{id}/pay` (200 succeeded, 202 pending). */
export interface PayAnswer {
  invoice: PortalInvoiceDetail;
  payment: { id: string; status: 'succeeded' | 'pending'; pointsUsed: string; cardCharged: string; chargeRef: string | null };
}

export const TYPE_LABELS: Record<InvoiceSummary['type'], string> = { purchase: 'Purchase', monthly: 'Monthly', top_up: 'Top-up' };

export const STATUS_LABELS: Record<InvoiceSummary['status'], string> = {
  draft: 'Draft',
  awaiting_payment: 'Awaiting payment',
  partially_paid: 'Partially paid',
  paid: 'Paid',
  void: 'Void',
};

/** As the admin's Invoice app colours them (web/shared/invoice-colors.ts). */
export const STATUS_COLORS: Record<InvoiceSummary['status'], string> = INVOICE_STATUS_COLORS;

export const TYPE_COLORS: Record<InvoiceSummary['type'], string> = INVOICE_TYPE_COLORS;

export const PAYMENT_SOURCE_LABELS: Record<string, string> = { points: 'Points', card: 'Card', allocation: 'Credit applied' };

/** What a person calls the invoice: its number (issued invoices always have one in the portal). */
export function invoiceName(i: Pick<InvoiceSummary, 'number' | 'id'>): string {
  return i.number ?? i.id;
}

export function canRolePay(role: CustomerRole | undefined): boolean {
  return role === 'owner' || role === 'admin';
}

export const ROLE_HINT = 'Only owners and admins can pay invoices';

/** An invoice that would be payable by an owner or admin: a Purchase invoice with something due. */
export function isPayableByOwner(i: Pick<InvoiceSummary, 'type' | 'status' | 'informational' | 'amountDue'>): boolean {
  return i.type === 'purchase' && !i.informational && (i.status === 'awaiting_payment' || i.status === 'partially_paid');
}

/** The PDF of an invoice (the server names the file after the invoice number). */
export function pdfPath(id: string): string {
  return `/api/v1/portal/invoices/${encodeURIComponent(id)}/pdf`;
}

/** The receipt of a payment Finance recorded (bank transfer, cheque, cash), listed on the invoice it paid. */
export function receiptPath(invoiceId: string, invoicePaymentId: string): string {
  return `/api/v1/portal/invoices/${encodeURIComponent(invoiceId)}/payments/${encodeURIComponent(invoicePaymentId)}/receipt.pdf`;
}

/** True when the partner hid the Invoices tab (the API refuses with 403). */
export function isTabHidden(e: unknown): boolean {
  return isApiError(e) && e.status === 403 && (e.code === 'tab_hidden' || e.code === 'portal_tab_hidden');
}

/**
 * Why fewer points can pay an invoice than the customer has, in one sentence, or null when all of them can: the server
 * pays invoices in whole minor units of the points not on hold (src/money/money.ts spendableMinorUnits), so 47.0788
 * points pay 47.07, and a hold (a payment in progress) pays nothing.
 */
export function pointsAvailableNote(p: Pick<PayPreview, 'currency' | 'pointsAvailable' | 'pointsBalance' | 'pointsOnHold'>): string | null {
  const available = toMicros(p.pointsAvailable) ?? 0n;
  const balance = toMicros(p.pointsBalance) ?? 0n;
  const hold = toMicros(p.pointsOnHold) ?? 0n;
  if (balance <= 0n || available === balance) return null;
  const unit = 10n ** BigInt(6 - currencyDecimals(p.currency));
  const free = balance - hold;
  const why = [
    ...(hold > 0n ? [`${formatMoney(p.pointsOnHold, p.currency)} is on hold`] : []),
    ...(free > 0n && free % unit !== 0n ? [`invoices are paid in whole ${currencyDecimals(p.currency) === 0 ? p.currency : 'cents'}`] : []),
  ];
  return `${formatMoney(p.pointsAvailable, p.currency)} of your ${formatMoney(p.pointsBalance, p.currency)} points can pay this invoice${why.length > 0 ? ` (${why.join('; ')})` : ''}.`;
}

/** One figure of an invoice's totals, as the dialog lists them. */
export interface TotalsRow {
  label: string;
  /** With its currency: `SGD 21.60`, `−SGD 2.40` for the discount. */
  value: string;
  strong?: boolean;
  testId?: string;
}

/** `"Tax 9%"` when every taxed line has the same rate, else `"Tax"`: the PDF's label (src/invoices/pdf/render-invoice-pdf.ts taxLabel). */
export function taxLabel(lines: readonly Pick<InvoiceLineView, 'taxRateBps'>[]): string {
  let rate: number | null = null;
  for (const line of lines) {
    if (line.taxRateBps <= 0) continue;
    if (rate === null) rate = line.taxRateBps;
    else if (rate !== line.taxRateBps) return 'Tax';
  }
  return rate === null ? 'Tax' : `Tax ${rate / 100}%`;
}

/**
 * An invoice's totals down to its total, in the PDF's words and order (src/invoices/pdf/render-invoice-pdf.ts
 * drawTotals): with a discount, what the lines came to before it, the discount, then the subtotal it leaves, so the
 * discount is read once (the API's subtotal is already after it).
 */
export function invoiceTotalsRows(inv: Pick<InvoiceDetail, 'currency' | 'subtotal' | 'discount' | 'tax' | 'total'> & { lines: readonly Pick<InvoiceLineView, 'taxRateBps'>[] }): TotalsRow[] {
  const money = (a: string) => formatMoney(a, inv.currency);
  const discount = toMicros(inv.discount) ?? 0n;
  const rows: TotalsRow[] = [];
  if (discount !== 0n) {
    const before = (toMicros(inv.subtotal) ?? 0n) + discount;
    rows.push({ label: 'Before discounts', value: money(formatMicros(before, Math.max(decimalsOf(inv.subtotal), decimalsOf(inv.discount)))), testId: 'invoice-before-discounts' });
    rows.push({ label: 'Discount', value: `−${money(formatMicros(discount < 0n ? -discount : discount, decimalsOf(inv.discount)))}`, testId: 'invoice-discount' });
  }
  rows.push({ label: 'Subtotal (excl. tax)', value: money(inv.subtotal), testId: 'invoice-subtotal' });
  rows.push({ label: taxLabel(inv.lines), value: money(inv.tax), testId: 'invoice-tax' });
  rows.push({ label: 'Total', value: money(inv.total), strong: true, testId: 'invoice-total' });
  return rows;
}
