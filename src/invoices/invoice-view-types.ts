import type { InvoiceStatus, InvoiceType } from '../platform/db-types.ts';
import type { InvoicePaymentSource, SellerSnapshot } from './invoices.db-types.ts';

/**
 * What an invoice looks like to a person: the same figures on the screen (admin and portal JSON) and in the PDF.
 * Amounts are decimal strings in the invoice's currency (docs/contracts/invoices-api.md).
 */
export interface InvoiceSummary {
  id: string;
  number: string | null;
  type: InvoiceType;
  status: InvoiceStatus;
  overdue: boolean;
  informational: boolean;
  customer: { id: string; name: string };
  currency: string;
  subtotal: string;
  discount: string;
  tax: string;
  total: string;
  amountPaid: string;
  /** Credit notes with outcome `reduce_due`: the amount due fell by it. */
  amountCredited: string;
  /** Issued credit notes with outcome `refund` (card, bank transfer, cheque), whatever the refund's progress. */
  amountRefunded: string;
  /** Issued credit notes with outcome `points`. */
  amountCreditedToPoints: string;
  amountDue: string;
  issuedAt: string | null;
  dueAt: string | null;
  paidAt: string | null;
  voidedAt: string | null;
  createdAt: string;
  periodStart: string | null;
  periodEnd: string | null;
}

export interface InvoiceLineView {
  position: number;
  kind: string;
  description: string;
  productId: string | null;
  variantId: string | null;
  /** Decimal, trailing zeros dropped (`"1"`, `"1.5"`). */
  quantity: string;
  /** Pre-tax unit price, up to 6 decimals. */
  unitPrice: string;
  gross: string;
  discount: string;
  /** Pre-tax net: gross - discount. */
  amount: string;
  taxCategory: 'standard' | 'zero_rated' | 'exempt';
  taxRateBps: number;
  tax: string;
}

export interface InvoicePaymentView {
  id: string;
  source: InvoicePaymentSource;
  amount: string;
  paidAt: string;
  /** What the customer can match: a Finance payment's receipt number, the card charge, or the id. */
  reference: string | null;
  /** The Finance payment (source allocation), for staff to open. */
  paymentId: string | null;
}

export interface StatementView {
  periodStart: string;
  periodEnd: string;
  openingPoints: string;
  closingPoints: string;
  /** `amount`: what the points paid for the category's calls, tax included; `tax`: the tax included in it (ADR 0032). */
  usage: { category: string; label: string; calls: number; seconds: number; amount: string; tax: string }[];
  renewals: { count: number; amount: string };
  purchases: { count: number; amount: string };
  topUps: { count: number; amount: string };
  credits: { count: number; amount: string };
  /** Points spent on anything the other figures do not name (negative: points it added). */
  other: { count: number; amount: string };
}

/** Who issued a document, as the screen and PDF show it: its seller snapshot (or the current settings) and whether it has a logo. */
export interface SellerView extends SellerSnapshot {
  hasLogo: boolean;
}

export interface InvoiceDetail extends InvoiceSummary {
  lines: InvoiceLineView[];
  payments: InvoicePaymentView[];
  billTo: { name: string; email: string | null; phone: string | null; address: string | null };
  notes: string | null;
  voidReason: string | null;
  createdBy: string | null;
  seller: SellerView;
  statement: StatementView | null;
}

/** The partner's logo as stored (PNG or JPEG), for the PDF. */
export interface InvoiceLogo {
  data: Buffer;
  type: 'image/png' | 'image/jpeg';
}
