import type { CustomerRole } from '../../shared/types.ts';

/** The Customer app's API shapes (src/customers, src/dashboard, and the subscriptions plan in docs/contracts). */

export interface BillingContact {
  name: string | null;
  email: string | null;
  phone: string | null;
  address: string | null;
}

export type CustomerStatus = 'active' | 'suspended' | 'closed';

export interface CustomerRow {
  id: string;
  name: string;
  currency: string;
  status: CustomerStatus;
  userCount: number;
  billingContact: BillingContact;
  points: string;
  usable: string;
  lowPoints: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface CustomerMember {
  id: string;
  email: string;
  name: string;
  role: CustomerRole;
  status: string;
  emailVerified: boolean;
  lastLoginAt: string | null;
}

export interface CustomerFull extends CustomerRow {
  users: CustomerMember[];
  /** Money has moved: the currency is fixed. */
  currencyLocked: boolean;
  /** Issued invoices still due, and what they still ask for. */
  openInvoices: { count: number; amountDue: string };
  /** Active subscriptions (closing the customer does not end them). */
  activeSubscriptions: number;
}

export type Cycle = 'monthly' | 'yearly';

export interface PriceView {
  id: string;
  variantId: string;
  cycle: Cycle;
  currency: string;
  price: string;
  cost: string;
  activationFee: string;
  margin: string;
  marginPercent: string | null;
  archived: boolean;
}

export interface ProductView {
  id: string;
  sku: string;
  name: string;
  description: string | null;
  type: string;
  archived: boolean;
  variants: { id: string; name: string; position: number; archived: boolean; prices: PriceView[] }[];
}

export type SubscriptionStatus = 'pending_payment' | 'active' | 'expired' | 'terminated';

export interface SubscriptionView {
  id: string;
  customerId: string;
  productId: string;
  productName: string;
  sku: string;
  productType: string;
  variantId: string;
  variantName: string;
  priceId: string;
  cycle: Cycle;
  currency: string;
  quantity: number;
  status: SubscriptionStatus;
  autoRenew: boolean;
  renewByCard: boolean;
  startedAt: string | null;
  currentPeriodStart: string | null;
  currentPeriodEnd: string | null;
  nextRenewalAt: string | null;
  renewalPrice: string;
  renewalCost: string;
  margin: string;
  marginPercent: string | null;
  addOns: { id: string; productName: string; variantName: string; priceId: string; quantity: number; pendingQuantity: number | null; renewalPrice: string; renewalCost: string }[];
  lastRenewalFailure: { at: string; reason: string } | null;
  createdAt: string;
  /** Bumped by every change to it: its ETag (`versionEtag`) is the If-Match of an action on what the page shows. */
  version: number;
}

export interface DashboardData {
  currency: string;
  from: string;
  to: string;
  granularity: 'day' | 'month';
  series: { period: string; revenue: string; cost: string; margin: string }[];
  totals: { revenue: string; cost: string; margin: string; marginPercent: string | null; byAccount: { account: string; amount: string }[] };
  lowPoints: { threshold: string; count: number; customers: { id: string; name: string; status: string; points: string; usable: string }[] };
  renewals: {
    dueThisWeek: { count: number; items: RenewalItem[] };
    failed: { count: number; items: RenewalItem[] };
  } | null;
}

export interface RenewalItem {
  subscriptionId: string;
  customerId: string;
  customerName: string;
  productName: string;
  variantName: string;
  currency: string;
  quantity: number;
  autoRenew: boolean;
  status: string;
  currentPeriodEnd: string;
  renewalAt: string;
  failedAt: string | null;
  failureReason: string | null;
}

export const CUSTOMER_STATUSES: CustomerStatus[] = ['active', 'suspended', 'closed'];
