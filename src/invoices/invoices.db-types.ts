import type { ColumnType, Generated } from 'kysely';
import type { InvoiceType } from '../platform/db-types.ts';

/** Invoice tables and columns of migration 0027_invoices, merged into the one Database type. */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type OptionalMicros = ColumnType<string, bigint | string | undefined, bigint | string>;
type FixedMicros = ColumnType<string, bigint | string, never>;
/** A `date` column (UTC day): select it as text (`col::text`); written as `YYYY-MM-DD`. */
type DateColumn = ColumnType<unknown, string | null | undefined, string | null>;

export type InvoicePaymentSource = 'points' | 'card' | 'allocation';
export type PayAttemptStatus = 'pending' | 'succeeded' | 'failed';

/** Who an issued invoice is addressed to, as it was when issued (the customer's billing contact may change later). */
export interface BillTo {
  name: string;
  email: string | null;
  phone: string | null;
  address: string | null;
}

/**
 * Who issued a document, as it was when issued (`seller` of invoices, credit notes and payments: migration 0076; the
 * partner's name and its Portal Settings > Invoicing texts may change later). Written by the database at issue, never by the app.
 */
export interface SellerSnapshot {
  name: string;
  legalName: string | null;
  address: string | null;
  taxId: string | null;
  email: string | null;
  paymentInstructions: string | null;
}

/** The snapshot columns of an issued document (migration 0076): filled by a trigger at issue, frozen after. */
export interface SellerColumns {
  seller: ColumnType<SellerSnapshot | null, never, never>;
  /** The logo it was issued with: a row of `invoice_logo_versions` (null: none). */
  sellerLogoSha256: ColumnType<string | null, never, never>;
}

/** Every logo a partner uploaded, by content hash (migration 0076): append-only, written by a trigger on partner_settings. */
export interface InvoiceLogoVersionsTable {
  partnerId: string;
  sha256: string;
  data: Buffer;
  type: 'image/png' | 'image/jpeg';
  createdAt: CreatedAt;
}

/** A line of a draft, before issue (jsonb; issued lines are rows of `invoice_lines`). Amounts are decimal-string micros. */
export interface DraftLine {
  kind: string;
  description: string;
  productId: string | null;
  variantId: string | null;
  quantity: string;
  unitAmountMicros: string;
  discountMicros: string;
  taxCategory: 'standard' | 'zero_rated' | 'exempt';
}

export interface InvoicePaymentsTable {
  id: string;
  partnerId: string;
  customerId: string;
  invoiceId: string;
  source: InvoicePaymentSource;
  currency: string;
  amountMicros: FixedMicros;
  entryId: string;
  attemptId: string | null;
  paymentId: string | null;
  chargeRef: string | null;
  /** The receipt number of the Finance payment (source allocation), copied at allocation (migration 0066). */
  receiptNumber: ColumnType<string | null, string | null | undefined, never>;
  paidBy: string | null;
  createdAt: CreatedAt;
}

export interface InvoicePayAttemptsTable {
  id: string;
  partnerId: string;
  customerId: string;
  invoiceId: string;
  userId: string;
  currency: string;
  amountMicros: FixedMicros;
  pointsMicros: FixedMicros;
  cardMicros: FixedMicros;
  reservationId: string | null;
  gateway: 'sandbox' | 'stripe' | null;
  savedCardId: string | null;
  requestKey: string | null;
  status: ColumnType<PayAttemptStatus, PayAttemptStatus | undefined, PayAttemptStatus>;
  chargeRef: string | null;
  entryId: string | null;
  failureCode: string | null;
  failureReason: string | null;
  createdAt: CreatedAt;
  completedAt: Timestamp | null;
  /** When a pay last sent this attempt's charge again (migration 0056); null: never. */
  resumedAt: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface StatementsTable {
  id: string;
  partnerId: string;
  customerId: string;
  invoiceId: string | null;
  currency: string;
  periodStart: ColumnType<unknown, string, never>;
  periodEnd: ColumnType<unknown, string, never>;
  openingPointsMicros: FixedMicros;
  closingPointsMicros: FixedMicros;
  summary: ColumnType<unknown, string, never>;
  createdAt: CreatedAt;
}

export interface InvoiceNumberSeriesTable {
  partnerId: string;
  type: InvoiceType;
  lastValue: Generated<string>;
}

declare module '../platform/db-types.ts' {
  interface Database {
    invoicePayments: InvoicePaymentsTable;
    invoicePayAttempts: InvoicePayAttemptsTable;
    statements: StatementsTable;
    invoiceLogoVersions: InvoiceLogoVersionsTable;
  }
  interface InvoicesTable extends SellerColumns {
    amountPaidMicros: OptionalMicros;
    amountCreditedMicros: OptionalMicros;
    discountMicros: OptionalMicros;
    informational: ColumnType<boolean, boolean | undefined, never>;
    billTo: ColumnType<BillTo | null, string | null | undefined, string | null>;
    notes: string | null;
    createdBy: string | null;
    voidedAt: Timestamp | null;
    voidedBy: string | null;
    voidReason: string | null;
    draftLines: ColumnType<DraftLine[] | null, string | null | undefined, string | null>;
    periodStart: DateColumn;
    periodEnd: DateColumn;
  }
  interface InvoiceLinesTable {
    productId: ColumnType<string | null, string | null | undefined, never>;
    variantId: ColumnType<string | null, string | null | undefined, never>;
    grossMicros: FixedMicros;
    discountMicros: ColumnType<string, bigint | string | undefined, never>;
    taxCategory: ColumnType<'standard' | 'zero_rated' | 'exempt', 'standard' | 'zero_rated' | 'exempt' | undefined, never>;
    taxRateBps: ColumnType<number, number | undefined, never>;
  }
  interface PartnerSettingsTable {
    /**
     * Number format per invoice type, and of credit notes (`credit_note`): src/invoices/invoice-numbers.ts. Read it as
     * text (`storedFormatsText`): selected as a column, its keys come back camelCased.
     */
    invoiceNumberFormats: ColumnType<Partial<Record<InvoiceType | 'credit_note', string>>, string | undefined, string>;
    invoiceLegalName: string | null;
    invoiceAddress: string | null;
    invoiceTaxId: string | null;
    invoiceEmail: string | null;
    invoicePaymentInstructions: string | null;
    invoiceLogo: Buffer | null;
    invoiceLogoType: 'image/png' | 'image/jpeg' | null;
    /** The logo's sha256 (hex), generated from it (migration 0076). */
    invoiceLogoSha256: ColumnType<string | null, never, never>;
  }
}
