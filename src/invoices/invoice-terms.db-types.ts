import type { ColumnType } from 'kysely';

/** Columns of migration 0029_invoice_terms, merged into the one Database type. */
declare module '../platform/db-types.ts' {
  interface InvoicesTable {
    /** Days from issue to due date chosen for this invoice; null on a draft: the partner's `invoice_due_days` at issue. */
    dueDays: ColumnType<number | null, number | null | undefined, number | null>;
  }
}
