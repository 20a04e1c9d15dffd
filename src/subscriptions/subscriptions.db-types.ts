import type { ColumnType, Generated } from 'kysely';
import type { BillingCycle } from '../products/catalog.db-types.ts';

/** Subscription tables (migration 0021_subscriptions; read its comment for the states and rules), merged into the one Database type. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Micros = ColumnType<string, bigint | string, bigint | string>;
type OptionalMicros = ColumnType<string, bigint | string | undefined, bigint | string>;
type NullableMicros = ColumnType<string | null, bigint | string | null | undefined, bigint | string | null>;
type Nullable<T> = ColumnType<T | null, T | null | undefined, T | null>;

export type SubscriptionStatus = 'pending_payment' | 'active' | 'expired' | 'terminated';
export type TerminationKind = 'request' | 'automatic';
export type SubscriptionChargeKind = 'purchase' | 'renewal' | 'reactivation' | 'add_on';
/** Period charges: at most one per subscription and period_start (unique index). */
export const PERIOD_CHARGE_KINDS: readonly SubscriptionChargeKind[] = ['purchase', 'renewal', 'reactivation'];

export interface SubscriptionsTable {
  id: string;
  partnerId: string;
  customerId: string;
  productId: string;
  variantId: string;
  priceId: string;
  currency: string;
  cycle: BillingCycle;
  quantity: number;
  status: SubscriptionStatus;
  autoRenew: ColumnType<boolean, boolean | undefined, boolean>;
  renewByCard: ColumnType<boolean, boolean | undefined, boolean>;
  /** UTC midnight; periods follow it (src/subscriptions/periods.ts). Null while pending_payment. */
  anchorAt: NullableTimestamp;
  currentPeriodStart: NullableTimestamp;
  /** The expiry (exclusive end of the current period), UTC midnight. */
  currentPeriodEnd: NullableTimestamp;
  activatedAt: NullableTimestamp;
  lastRenewedAt: NullableTimestamp;
  expiredAt: NullableTimestamp;
  terminatedAt: NullableTimestamp;
  terminationKind: Nullable<TerminationKind>;
  terminationReason: Nullable<string>;
  renewalFailedAt: NullableTimestamp;
  renewalFailureReason: Nullable<string>;
  /** The period end whose "renewal coming" notice went out. */
  renewalNoticeFor: NullableTimestamp;
  pendingInvoiceId: Nullable<string>;
  refundPriceMicros: NullableMicros;
  refundTaxMicros: NullableMicros;
  refundCostMicros: NullableMicros;
  refundEntryId: Nullable<string>;
  createdBy: Nullable<string>;
  createdAt: ColumnType<Date, Date | string, never>;
  updatedAt: Timestamp;
  /** Bumped by a trigger whenever the row changes (migration 0068): the subscription's ETag. Never written by the code. */
  version: ColumnType<number, never, never>;
}

export interface SubscriptionAddOnsTable {
  id: string;
  partnerId: string;
  customerId: string;
  subscriptionId: string;
  productId: string;
  variantId: string;
  priceId: string;
  quantity: number;
  /** Lower than quantity (0 = remove): applied by the next renewal. */
  pendingQuantity: Nullable<number>;
  removedAt: NullableTimestamp;
  createdAt: ColumnType<Date, Date | string, never>;
  updatedAt: Timestamp;
}

export interface SubscriptionChargesTable {
  id: string;
  partnerId: string;
  customerId: string;
  subscriptionId: string;
  addOnId: Nullable<string>;
  kind: SubscriptionChargeKind;
  periodStart: NullableTimestamp;
  periodEnd: NullableTimestamp;
  currency: string;
  quantity: number;
  /** Pre-tax price of what the charge covers (a period charge: main x quantity + add-ons). */
  priceMicros: Micros;
  activationFeeMicros: OptionalMicros;
  taxMicros: OptionalMicros;
  costMicros: OptionalMicros;
  invoiceId: Nullable<string>;
  entryId: Nullable<string>;
  chargedAt: ColumnType<Date, Date | string, never>;
}

/** What a termination refund gave back against an invoice that billed the refunded charges (migration 0065). */
export interface SubscriptionRefundInvoicesTable {
  partnerId: string;
  customerId: string;
  subscriptionId: string;
  invoiceId: string;
  amountMicros: ColumnType<string, bigint | string, never>;
  entryId: string;
  createdAt: ColumnType<Date, Date | string, never>;
}

export interface SubscriptionEventsTable {
  id: Generated<string>;
  partnerId: string;
  customerId: string;
  subscriptionId: string;
  kind: string;
  /** Positive: charged (tax included); negative: refunded. */
  amountMicros: NullableMicros;
  currency: string;
  invoiceId: Nullable<string>;
  detail: Nullable<string>;
  data: ColumnType<Record<string, unknown>, string | undefined, never>;
  /** A user id, or `system:<job>`. */
  actor: string;
  auditEventId: Nullable<string>;
  occurredAt: ColumnType<Date, Date | string, never>;
}

declare module '../platform/db-types.ts' {
  interface Database {
    subscriptions: SubscriptionsTable;
    subscriptionAddOns: SubscriptionAddOnsTable;
    subscriptionCharges: SubscriptionChargesTable;
    subscriptionRefundInvoices: SubscriptionRefundInvoicesTable;
    subscriptionEvents: SubscriptionEventsTable;
  }
}
