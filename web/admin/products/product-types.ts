/** The Product app's API shapes (docs/contracts/catalog-subscriptions-api.md; server: src/products). */

export type ProductType = 'app_licence' | 'phone_number' | 'usage' | 'service';
export type TaxCategory = 'standard' | 'zero_rated' | 'exempt';
export type BillingCycle = 'monthly' | 'yearly';

export const PRODUCT_TYPES: Array<{ value: ProductType; label: string }> = [
  { value: 'service', label: 'Service' },
  { value: 'app_licence', label: 'App licence' },
  { value: 'phone_number', label: 'Phone number' },
  { value: 'usage', label: 'Usage' },
];
export const TAX_CATEGORIES: Array<{ value: TaxCategory; label: string }> = [
  { value: 'standard', label: 'Standard (your tax rate applies)' },
  { value: 'zero_rated', label: 'Zero-rated' },
  { value: 'exempt', label: 'Exempt' },
];
export const CYCLES: Array<{ value: BillingCycle; label: string }> = [
  { value: 'monthly', label: 'Monthly' },
  { value: 'yearly', label: 'Yearly' },
];
/** Currencies a price may be set in (the server's list, src/money/money.ts). */
export const CATALOG_CURRENCIES = ['SGD', 'MYR', 'HKD', 'AUD', 'USD', 'EUR', 'GBP', 'NZD', 'PHP', 'THB', 'IDR', 'INR', 'VND', 'JPY', 'KRW'];
/** Decimals of each currency's minor unit (whole minor units on a price list). */
export const ZERO_DECIMAL_CURRENCIES = new Set(['VND', 'JPY', 'KRW']);

export const typeLabel = (t: ProductType) => PRODUCT_TYPES.find((x) => x.value === t)?.label ?? t;
export const taxLabel = (t: TaxCategory) => ({ standard: 'Standard', zero_rated: 'Zero-rated', exempt: 'Exempt' })[t] ?? t;

export interface PriceView {
  id: string;
  variantId: string;
  cycle: BillingCycle;
  currency: string;
  price: string;
  cost: string;
  activationFee: string;
  margin: string;
  marginPercent: string | null;
  archived: boolean;
}

export interface VariantView {
  id: string;
  productId: string;
  name: string;
  position: number;
  archived: boolean;
  prices: PriceView[];
}

export interface ProductView {
  id: string;
  sku: string;
  name: string;
  description: string | null;
  type: ProductType;
  taxCategory: TaxCategory;
  archived: boolean;
  archivedAt: string | null;
  createdAt: string;
  updatedAt: string;
  variants: VariantView[];
}

export interface RatePlan {
  id: string;
  name: string;
  currency: string;
  increment: string;
  minimumCharge: string;
  whenInsufficient: 'reject' | 'use_credit_limit';
  isDefault: boolean;
  rateCount: number;
  ratesVersion: number;
  ratesUpdatedAt: string;
  createdAt: string;
}

/** A call rate's tax category (a rate is never exempt). */
export type RateTaxCategory = 'standard' | 'zero_rated';

export interface Rate {
  prefix: string;
  description: string | null;
  pricePerMinute: string;
  costPerMinute: string;
  /** The plan's currency, which both prices are in. */
  currency: string;
  /** standard: the call pays the partner's tax rate on its price; zero_rated: no tax (e.g. international calls), a 0% line on the statement. */
  taxCategory: RateTaxCategory;
}

export interface RateImportError {
  line: number;
  column: 'row' | 'prefix' | 'description' | 'pricePerMinute' | 'costPerMinute' | 'taxCategory';
  message: string;
}

export interface RateImport {
  id: string;
  ratePlanId: string;
  fileName: string;
  status: 'validated' | 'importing' | 'imported' | 'failed';
  rowCount: number;
  validCount: number;
  invalidRowCount: number;
  errorCount: number;
  errors: RateImportError[];
  onlyValidRows: boolean | null;
  rowsToImport: number;
  processedRows: number;
  failure: string | null;
  createdAt: string;
  completedAt: string | null;
}

export const PRODUCTS_KEY = ['products'] as const;
export const RATE_PLANS_KEY = ['rate-plans'] as const;
