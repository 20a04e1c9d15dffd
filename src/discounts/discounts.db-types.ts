import type { ColumnType } from 'kysely';
import type { ProductType } from '../products/catalog.db-types.ts';

/** The discounts table (migration 0035_discounts), merged into the one Database type. */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
/** A `date` column (UTC day): select it as text (`col::text`); written as `YYYY-MM-DD`. */
type DayColumn = ColumnType<unknown, string, string>;
type NullableDayColumn = ColumnType<unknown, string | null | undefined, string | null>;

export type DiscountScope = 'product_type' | 'product' | 'variant' | 'price';
export type DiscountKind = 'percent' | 'fixed';

export interface DiscountsTable {
  id: string;
  partnerId: string;
  /** null: every customer of the partner. */
  customerId: string | null;
  name: string;
  scope: DiscountScope;
  productType: ProductType;
  productId: string | null;
  variantId: string | null;
  priceId: string | null;
  kind: DiscountKind;
  percentBps: number | null;
  amountMicros: ColumnType<string | null, bigint | string | null | undefined, bigint | string | null>;
  currency: string | null;
  startsOn: DayColumn;
  endsOn: NullableDayColumn;
  endedAt: Timestamp | null;
  endedBy: string | null;
  createdBy: string;
  createdAt: CreatedAt;
  updatedAt: Timestamp;
}

declare module '../platform/db-types.ts' {
  interface Database {
    discounts: DiscountsTable;
  }
  interface InvoiceLinesTable {
    /** The discount that made the line's discount, when a Discount-app discount applied (migration 0035). */
    discountId: ColumnType<string | null, string | null | undefined, never>;
  }
}
