import type { ColumnType } from 'kysely';

/** Bank statement import tables of migration 0033_bank_statements, merged into the one Database type. */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type FixedMicros = ColumnType<string, bigint | string, never>;
/** A `date` column (UTC day): select it as text (`col::text`); written as `YYYY-MM-DD`. */
type DateColumn = ColumnType<unknown, string, never>;

export const BANK_LINE_STATUSES = ['suggested', 'unmatched', 'accepted', 'rejected', 'ignored', 'duplicate'] as const;
export type BankLineStatus = (typeof BANK_LINE_STATUSES)[number];
export const CONFIDENCES = ['high', 'medium', 'low', 'none'] as const;
export type Confidence = (typeof CONFIDENCES)[number];
export type MatchKind = 'reference' | 'amount' | 'combination' | 'payer_name';

/** A line of the uploaded file that could not be read: its line number (1 = first line), the field, what is wrong. */
export interface BankLineError {
  line: number;
  field: 'row' | 'date' | 'amount' | 'currency' | 'reference' | 'payerName' | 'payerAccount';
  message: string;
}

export interface BankStatementsTable {
  id: string;
  partnerId: string;
  fileName: string;
  fileSha256: string;
  defaultCurrency: string;
  recordCount: number;
  errorCount: number;
  errors: ColumnType<BankLineError[], string | undefined, never>;
  warnings: ColumnType<string[], string | undefined, never>;
  uploadedBy: string | null;
  createdAt: CreatedAt;
}

export interface BankStatementLinesTable {
  id: string;
  partnerId: string;
  statementId: string;
  lineNo: number;
  bookedOn: DateColumn;
  amountMicros: FixedMicros;
  currency: string;
  reference: string | null;
  payerName: string | null;
  payerAccount: string | null;
  fingerprint: string | null;
  duplicateOf: string | null;
  status: BankLineStatus;
  confidence: ColumnType<Confidence, Confidence | undefined, Confidence>;
  reason: string | null;
  matchKind: MatchKind | null;
  suggestedCustomerId: string | null;
  suggestedInvoiceIds: ColumnType<string[], string[] | undefined, string[]>;
  paymentId: string | null;
  decidedBy: string | null;
  decidedAt: Timestamp | null;
  rejectReason: string | null;
  createdAt: CreatedAt;
}

declare module '../platform/db-types.ts' {
  interface Database {
    bankStatements: BankStatementsTable;
    bankStatementLines: BankStatementLinesTable;
  }
}
