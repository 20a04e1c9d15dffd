import type { ColumnType } from 'kysely';
import type { BillTo, SellerColumns } from '../invoices/invoices.db-types.ts';

/** Payment tables of migrations 0031_payments, 0037_payment_receipts and 0072_allocation_fee_part, merged into the one Database type. */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type FixedMicros = ColumnType<string, bigint | string, never>;
type Micros = ColumnType<string, bigint | string | undefined, bigint | string>;
/** A `date` column (UTC day): select it as text (`col::text`); written as `YYYY-MM-DD`. */
type DateColumn = ColumnType<unknown, string, never>;

export const PAYMENT_METHODS = ['bank_transfer', 'giro', 'cheque', 'cash', 'card', 'other'] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];
export const PAYMENT_STATUSES = ['unassigned', 'unallocated', 'partially_allocated', 'allocated', 'reversed'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];
export type AllocationKind = 'invoice' | 'points';

/** `seller`, `sellerLogoSha256`: who issued its receipt, as it was when the payment was recorded (migration 0076; set by the database). */
export interface PaymentsTable extends SellerColumns {
  id: string;
  partnerId: string;
  customerId: string | null;
  method: PaymentMethod;
  currency: string;
  amountMicros: FixedMicros;
  unallocatedMicros: Micros;
  pointsMicros: Micros;
  status: PaymentStatus;
  receivedOn: DateColumn;
  reference: string | null;
  remark: string | null;
  entryId: string;
  assignEntryId: string | null;
  recordedBy: string | null;
  assignedBy: string | null;
  assignedAt: Timestamp | null;
  reversedAt: Timestamp | null;
  reversedBy: string | null;
  reversalReason: string | null;
  /** The receipt's number (`RCT-2026-000042`), from the partner's gapless receipt series; set at record, never changed. */
  receiptNumber: ColumnType<string, string, never>;
  /** The debit note (a Purchase invoice) billing points already spent beyond the credit limit, when the reversal needed one. */
  reversalInvoiceId: string | null;
  /** Whom its receipt was issued to: the customer's billing contact when the payment got its customer (migration 0078; set by the database, never changed). */
  payer: ColumnType<BillTo | null, never, never>;
  createdAt: CreatedAt;
  updatedAt: Timestamp;
}

export interface PaymentAllocationsTable {
  id: string;
  partnerId: string;
  customerId: string;
  paymentId: string;
  kind: AllocationKind;
  invoiceId: string | null;
  currency: string;
  amountMicros: FixedMicros;
  /** Of amountMicros, what paid a Top-up invoice's admin fee (migration 0072); the rest bought points. 0 elsewhere. */
  feeMicros: ColumnType<string, bigint | string | undefined, never>;
  entryId: string;
  createdBy: string | null;
  createdAt: CreatedAt;
  reversedBy: string | null;
  reversedAt: Timestamp | null;
}

declare module '../platform/db-types.ts' {
  interface Database {
    payments: PaymentsTable;
    paymentAllocations: PaymentAllocationsTable;
  }
}
