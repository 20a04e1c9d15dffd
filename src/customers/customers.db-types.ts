import type { ColumnType } from 'kysely';

/** Customer profile columns (migration 0024_customer_profile), merged into the one Database type. */
declare module '../platform/db-types.ts' {
  interface CustomersTable {
    billingName: ColumnType<string | null, string | null | undefined, string | null>;
    billingEmail: ColumnType<string | null, string | null | undefined, string | null>;
    billingPhone: ColumnType<string | null, string | null | undefined, string | null>;
    billingAddress: ColumnType<string | null, string | null | undefined, string | null>;
    updatedAt: ColumnType<Date, Date | string | undefined, Date | string>;
  }
}
