import type { ColumnType, Generated } from 'kysely';
import type { SellerColumns } from '../invoices/invoices.db-types.ts';

/** Credit note tables of migration 0032_credit_notes, merged into the one Database type. */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Micros = ColumnType<string, bigint | string, bigint | string>;
type NullableMicros = ColumnType<string | null, bigint | string | null | undefined, bigint | string | null>;

export const CREDIT_NOTE_STATUSES = ['draft', 'issued', 'void'] as const;
export type CreditNoteStatus = (typeof CREDIT_NOTE_STATUSES)[number];
export const CREDIT_NOTE_MODES = ['whole', 'lines', 'amount'] as const;
export type CreditNoteMode = (typeof CREDIT_NOTE_MODES)[number];
export const CREDIT_NOTE_REASONS = ['cancellation', 'downgrade', 'service_issue', 'billing_error', 'write_off', 'other'] as const;
export type CreditNoteReason = (typeof CREDIT_NOTE_REASONS)[number];
export const CREDIT_NOTE_OUTCOMES = ['reduce_due', 'points', 'refund'] as const;
export type CreditNoteOutcome = (typeof CREDIT_NOTE_OUTCOMES)[number];
export const REFUND_METHODS = ['card', 'bank_transfer', 'cheque'] as const;
export type RefundMethod = (typeof REFUND_METHODS)[number];
export const REFUND_STATUSES = ['pending', 'refunded', 'failed'] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

/** One credited line as stored (jsonb): amounts are decimal-string micros; null where it does not apply. */
export interface StoredCreditLine {
  /** The invoice line's position; null for a custom amount. */
  invoiceLinePosition: number | null;
  description: string;
  /** Quantity credited (decimal string), null when credited by amount or a custom amount. */
  quantity: string | null;
  amountMicros: string;
  taxMicros: string;
  /** What the credited part cost the partner (unit cost x quantity, or its share); null when no cost is known. */
  costMicros: string | null;
}

/** `seller`, `sellerLogoSha256`: who issued it, as it was then (migration 0076; set by the database at issue). */
export interface CreditNotesTable extends SellerColumns {
  id: string;
  partnerId: string;
  customerId: string;
  invoiceId: string;
  status: ColumnType<CreditNoteStatus, CreditNoteStatus | undefined, CreditNoteStatus>;
  number: string | null;
  currency: string;
  mode: CreditNoteMode;
  reason: CreditNoteReason;
  memo: string | null;
  outcome: CreditNoteOutcome | null;
  refundMethod: RefundMethod | null;
  refundReference: string | null;
  refundStatus: RefundStatus | null;
  lines: ColumnType<StoredCreditLine[], string, string>;
  requestedAmountMicros: NullableMicros;
  subtotalMicros: Micros;
  taxMicros: Micros;
  totalMicros: Micros;
  costMicros: NullableMicros;
  entryId: string | null;
  issuedAt: Timestamp | null;
  issuedBy: string | null;
  voidedAt: Timestamp | null;
  voidedBy: string | null;
  voidReason: string | null;
  createdBy: string | null;
  createdAt: CreatedAt;
  updatedAt: Timestamp;
}

export type CardRefundStatus = 'pending' | 'succeeded' | 'failed';

export interface CreditNoteRefundsTable {
  id: Generated<string>;
  partnerId: string;
  customerId: string;
  creditNoteId: string;
  gateway: 'sandbox' | 'stripe';
  chargeRef: string;
  currency: string;
  amountMicros: ColumnType<string, bigint | string, never>;
  status: ColumnType<CardRefundStatus, CardRefundStatus | undefined, CardRefundStatus>;
  refundRef: string | null;
  failureReason: string | null;
  failureEntryId: string | null;
  createdAt: CreatedAt;
  completedAt: Timestamp | null;
}

declare module '../platform/db-types.ts' {
  interface Database {
    creditNotes: CreditNotesTable;
    creditNoteRefunds: CreditNoteRefundsTable;
  }
}
