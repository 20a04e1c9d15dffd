/**
 * The Invoice app's API shapes (docs/contracts/invoices-api.md). The JSON views are the server's own types
 * (src/invoices/invoice-view-types.ts, type-only imports: nothing of the server is bundled).
 */
import type { InvoiceStatus, InvoiceType } from '../../../src/platform/db-types.ts';
import type {
  InvoiceDetail, InvoiceLineView, InvoicePaymentView, InvoiceSummary, SellerView, StatementView,
} from '../../../src/invoices/invoice-view-types.ts';

export type { InvoiceDetail, InvoiceLineView, InvoicePaymentView, InvoiceStatus, InvoiceSummary, InvoiceType, SellerView, StatementView };

export type TaxCategory = InvoiceLineView['taxCategory'];

export const INVOICES_KEY = ['invoices'] as const;

export const INVOICE_TYPES: { value: InvoiceType; label: string }[] = [
  { value: 'purchase', label: 'Purchase' },
  { value: 'monthly', label: 'Monthly' },
  { value: 'top_up', label: 'Top-up' },
];

export const INVOICE_STATUSES: { value: InvoiceStatus; label: string }[] = [
  { value: 'draft', label: 'Draft' },
  { value: 'awaiting_payment', label: 'Awaiting payment' },
  { value: 'partially_paid', label: 'Partially paid' },
  { value: 'paid', label: 'Paid' },
  { value: 'void', label: 'Void' },
];

export const TAX_CATEGORY_OPTIONS: { value: TaxCategory; label: string }[] = [
  { value: 'standard', label: 'Standard' },
  { value: 'zero_rated', label: 'Zero-rated' },
  { value: 'exempt', label: 'Exempt' },
];

export const typeLabel = (t: string): string => INVOICE_TYPES.find((x) => x.value === t)?.label ?? t;
export const statusLabel = (s: string): string => INVOICE_STATUSES.find((x) => x.value === s)?.label ?? s;
export const taxCategoryLabel = (c: string): string => TAX_CATEGORY_OPTIONS.find((x) => x.value === c)?.label ?? c;

/** The number formats of GET /api/v1/settings/invoicing: each invoice type's and the credit notes'. */
export interface NumberFormats {
  purchase: string;
  monthly: string;
  topUp: string;
  creditNote: string;
  /** Deprecated: the same as topUp (docs/adr/0040). */
  top_up: string;
}

/** GET/PUT /api/v1/settings/invoicing. */
export interface InvoicingSettings {
  numberFormats: NumberFormats;
  dueDays: number;
  taxRateBps: number;
  legalName: string | null;
  address: string | null;
  taxId: string | null;
  email: string | null;
  paymentInstructions: string | null;
  hasLogo: boolean;
}

/** The body of POST /api/v1/invoices (and, without customerId/type, PATCH). */
export interface InvoiceLineInput {
  description?: string;
  quantity?: string;
  unitPrice?: string;
  discount?: string;
  productId?: string;
  variantId?: string;
  taxCategory?: TaxCategory;
}

export function invoicePath(id: string, action?: string): string {
  return `/api/v1/invoices/${encodeURIComponent(id)}${action ? `/${action}` : ''}`;
}

/** What a person calls an invoice: its number, or "Draft" until it is issued. */
export function invoiceName(inv: Pick<InvoiceSummary, 'number' | 'type'>): string {
  return inv.number ?? `Draft ${typeLabel(inv.type).toLowerCase()} invoice`;
}
