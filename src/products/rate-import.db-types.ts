import type { ColumnType } from 'kysely';

/** Rate table CSV imports (migration 0023_catalog_import), merged into the one Database type. */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

export type RateImportStatus = 'validated' | 'importing' | 'imported' | 'failed';

/** One bad cell or row of an uploaded file: its line in the file (1 = first line), the column, what is wrong. */
export interface RateImportError {
  line: number;
  column: 'row' | 'prefix' | 'description' | 'pricePerMinute' | 'costPerMinute' | 'taxCategory';
  message: string;
}

export interface RateImportsTable {
  id: string;
  partnerId: string;
  ratePlanId: string;
  fileName: string;
  csv: string | null;
  status: RateImportStatus;
  rowCount: number;
  validCount: number;
  errorCount: number;
  errors: ColumnType<RateImportError[], string | undefined, string>;
  onlyValidRows: boolean | null;
  processedRows: ColumnType<number, number | undefined, number>;
  failure: string | null;
  createdBy: string;
  createdAt: CreatedAt;
  updatedAt: Timestamp;
  completedAt: Timestamp | null;
}

declare module '../platform/db-types.ts' {
  interface Database {
    rateImports: RateImportsTable;
  }
}
