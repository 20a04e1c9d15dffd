/** The Discount app's API shapes (src/discounts/discount-views.ts, preview-discount.ts, discount-lookups.ts). */
import { formatDate } from '../../shared/format.ts';
import { formatMoney } from '../../shared/money.ts';

export type DiscountScope = 'product_type' | 'product' | 'variant' | 'price';
export type DiscountStatus = 'scheduled' | 'active' | 'ended';

export interface DiscountView {
  id: string;
  name: string;
  target: 'customer' | 'all';
  customer: { id: string; name: string } | null;
  scope: DiscountScope;
  scopeLabel: string;
  productType: string;
  product: { id: string; name: string; sku: string } | null;
  variant: { id: string; name: string } | null;
  price: { id: string; cycle: string; currency: string; price: string } | null;
  kind: 'percent' | 'fixed';
  percentOff: string | null;
  amountOff: { amount: string; currency: string } | null;
  startsOn: string;
  endsOn: string | null;
  status: DiscountStatus;
  specificity: number;
  endedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface PreviewRow {
  subscriptionId: string;
  customer: { id: string; name: string };
  productName: string;
  variantName: string;
  cycle: string;
  quantity: number;
  currency: string;
  renewsOn: string;
  currentRenewalPrice: string;
  renewalPrice: string;
  renewalCost: string;
  margin: string;
  marginPercent: string | null;
  applies: boolean;
  belowCost: boolean;
}

export interface DiscountPreview {
  data: PreviewRow[];
  total: number;
  belowCostCount: number;
  warning: string | null;
}

export interface HistoryItem {
  id: string;
  action: 'discount.created' | 'discount.changed' | 'discount.ended';
  at: string;
  actor: string | null;
  changes: Record<string, { before?: unknown; after?: unknown }>;
}

export interface CatalogPrice {
  id: string;
  cycle: string;
  currency: string;
  price: string;
  cost: string;
  archived: boolean;
}
export interface CatalogProduct {
  id: string;
  sku: string;
  name: string;
  type: string;
  archived: boolean;
  variants: { id: string; name: string; archived: boolean; prices: CatalogPrice[] }[];
}

export const DISCOUNTS_KEY = ['discounts'] as const;

export const PRODUCT_TYPES = [
  { value: 'service', label: 'Services' },
  { value: 'phone_number', label: 'Phone numbers' },
  { value: 'app_licence', label: 'App licences' },
  { value: 'usage', label: 'Usage products' },
];

export const SCOPES: { value: DiscountScope; label: string }[] = [
  { value: 'product_type', label: 'All products of a type' },
  { value: 'product', label: 'All variants of a product' },
  { value: 'variant', label: 'All billing cycles of a variant' },
  { value: 'price', label: 'One billing cycle' },
];

export function rateOf(d: Pick<DiscountView, 'percentOff' | 'amountOff'>): string {
  if (d.percentOff !== null) return `${d.percentOff}% off`;
  if (d.amountOff) return `${formatMoney(d.amountOff.amount, d.amountOff.currency)} off`;
  return '—';
}

/**
 * The days a discount is in force, first and last, written as every other date of the app ("7 Dec 2026"): the API's
 * `2026-12-07` was shown as it came, beside "Created 7 Dec 2026, 08:19".
 */
export function periodOf(d: Pick<DiscountView, 'startsOn' | 'endsOn'>): string {
  return d.endsOn ? `${formatDate(d.startsOn)} – ${formatDate(d.endsOn)}` : `From ${formatDate(d.startsOn)}, unlimited`;
}
