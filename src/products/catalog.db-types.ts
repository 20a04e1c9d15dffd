import type { ColumnType } from 'kysely';

/** Product catalog tables (migration 0020_catalog), merged into the one Database type. */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Micros = ColumnType<string, bigint | string, bigint | string>;
type OptionalMicros = ColumnType<string, bigint | string | undefined, bigint | string>;

export type ProductType = 'app_licence' | 'phone_number' | 'usage' | 'service';
export type TaxCategory = 'standard' | 'zero_rated' | 'exempt';
export type BillingCycle = 'monthly' | 'yearly';

export interface ProductsTable {
  id: string;
  partnerId: string;
  sku: string;
  name: string;
  description: string | null;
  type: ProductType;
  taxCategory: ColumnType<TaxCategory, TaxCategory | undefined, TaxCategory>;
  archivedAt: Timestamp | null;
  createdAt: CreatedAt;
  updatedAt: Timestamp;
}

export interface ProductVariantsTable {
  id: string;
  partnerId: string;
  productId: string;
  name: string;
  position: ColumnType<number, number | undefined, number>;
  archivedAt: Timestamp | null;
  createdAt: CreatedAt;
}

export interface ProductPricesTable {
  id: string;
  partnerId: string;
  variantId: string;
  cycle: BillingCycle;
  currency: string;
  priceMicros: Micros;
  costMicros: Micros;
  activationFeeMicros: OptionalMicros;
  archivedAt: Timestamp | null;
  createdAt: CreatedAt;
  updatedAt: Timestamp;
}

declare module '../platform/db-types.ts' {
  interface Database {
    products: ProductsTable;
    productVariants: ProductVariantsTable;
    productPrices: ProductPricesTable;
  }
  interface PartnerSettingsTable {
    /** Tax on sales of `standard` products, in basis points (900 = 9%). */
    taxRateBps: ColumnType<number, number | undefined, number>;
    /** Days from an invoice's issue to its due date. */
    invoiceDueDays: ColumnType<number, number | undefined, number>;
  }
}
