import type { AddOnSubscription, AddOnView } from '../../shared/add-ons.ts';

/** The services API's shapes (src/services/service-views.ts), as the portal reads and sends them. */
export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export const WEEKDAYS: readonly { day: Weekday; label: string }[] = [
  { day: 'mon', label: 'Monday' },
  { day: 'tue', label: 'Tuesday' },
  { day: 'wed', label: 'Wednesday' },
  { day: 'thu', label: 'Thursday' },
  { day: 'fri', label: 'Friday' },
  { day: 'sat', label: 'Saturday' },
  { day: 'sun', label: 'Sunday' },
];

export type Destination =
  | { type: 'user'; userId: string }
  | { type: 'group'; name: string; memberUserIds: string[] }
  | { type: 'external'; number: string };
export type OutsideHours = { type: 'voicemail' } | Destination;

export interface BusinessHours {
  timezone: string;
  days: { day: Weekday; open: string; close: string }[];
  outsideHours: OutsideHours;
}

export interface VirtualLine {
  id: string;
  customerId: string;
  subscriptionId: string | null;
  number: string;
  name: string;
  destination: Destination;
  destinationSummary: string;
  businessHours: BusinessHours | null;
  businessHoursSummary: string;
  status: 'active' | 'removed';
  version: number;
  createdAt: string;
  updatedAt: string;
  removedAt: string | null;
}

export const WIDGETS = [
  { value: 'calls_waiting', label: 'Calls waiting' },
  { value: 'longest_wait', label: 'Longest wait' },
  { value: 'agents_available', label: 'Agents available' },
  { value: 'agents_busy', label: 'Agents busy' },
  { value: 'answered_today', label: 'Answered today' },
  { value: 'abandoned_today', label: 'Abandoned today' },
  { value: 'abandoned_rate', label: 'Abandoned rate' },
  { value: 'service_level', label: 'Service level' },
  { value: 'average_wait', label: 'Average wait' },
  { value: 'average_handle_time', label: 'Average handle time' },
] as const;

export function widgetLabel(value: string): string {
  return WIDGETS.find((w) => w.value === value)?.label ?? value;
}

export interface Wallboard {
  id: string;
  customerId: string;
  subscriptionId: string | null;
  name: string;
  queues: string[];
  widgets: string[];
  refreshIntervalSeconds: number;
  status: 'active' | 'removed';
  version: number;
  createdAt: string;
  updatedAt: string;
  removedAt: string | null;
}

/** An add-on of a subscription as the portal view gives it (src/subscriptions/subscription-views.ts, without cost). */
export type PortalAddOn = AddOnView;

/** `GET /api/v1/portal/subscriptions` (docs/contracts/catalog-subscriptions-api.md), the fields the portal shows (id, price, names, cycle, status, period end, add-ons and version: AddOnSubscription). */
export interface PortalSubscription extends AddOnSubscription {
  quantity: number;
  autoRenew: boolean;
  /** At renewal, when points do not cover the fee, the saved card tops up exactly the fee (needs a saved card to turn on). */
  renewByCard: boolean;
  currentPeriodStart: string | null;
  nextRenewalAt: string | null;
  renewalPrice: string;
  /** Last day an expired subscription can be reactivated (UTC day); null unless expired. */
  reactivatableUntil: string | null;
  /** What termination refunded into points (tax included in `total`); null when nothing was computed. */
  refund: { price: string; tax: string; total: string } | null;
  addOns: PortalAddOn[];
}

/** `GET /api/v1/portal/catalog` (src/products/portal-catalog.ts): what the organisation can buy, in its currency, without cost. */
export interface PortalCatalogItem {
  productId: string;
  sku: string;
  name: string;
  description: string | null;
  variants: Array<{ variantId: string; name: string; prices: Array<{ priceId: string; cycle: 'monthly' | 'yearly'; currency: string; price: string; activationFee: string }> }>;
}

export const SERVICES_KEY = ['portal', 'services'] as const;

/** Whether calls to a line reach `userId`: its destination, a group's member, or where calls go outside hours. */
export function lineRings(line: Pick<VirtualLine, 'destination' | 'businessHours'>, userId: string): boolean {
  const rings = (d: OutsideHours) => (d.type === 'user' && d.userId === userId) || (d.type === 'group' && d.memberUserIds.includes(userId));
  return rings(line.destination) || (line.businessHours !== null && rings(line.businessHours.outsideHours));
}
