import { sql } from 'kysely';
import type { Trx } from '../platform/database.ts';

/** A renewal 7 days before expiry (issue 4 §2): the job renews a subscription when its period end is this close. */
export const RENEWAL_LEAD_DAYS = 7;
const DAY_MS = 86_400_000;
/** Rows shown per list; the counts cover all of them. */
const SHOWN = 20;

export interface RenewalItem {
  subscriptionId: string;
  customerId: string;
  customerName: string;
  productName: string;
  variantName: string;
  currency: string;
  quantity: number;
  autoRenew: boolean;
  /** The expiry (end of the current period). */
  currentPeriodEnd: string;
  /** When the renewal runs: 7 days before the expiry. */
  renewalAt: string;
  /** Set on failed renewals. */
  failedAt: string | null;
  failureReason: string | null;
  status: string;
}

export interface RenewalsView {
  dueThisWeek: { count: number; items: RenewalItem[] };
  failed: { count: number; items: RenewalItem[] };
}

function baseQuery(trx: Trx, partnerId: string) {
  return trx
    .selectFrom('subscriptions as s')
    .innerJoin('customers as c', (j) => j.onRef('c.partnerId', '=', 's.partnerId').onRef('c.id', '=', 's.customerId'))
    .innerJoin('products as p', (j) => j.onRef('p.partnerId', '=', 's.partnerId').onRef('p.id', '=', 's.productId'))
    .innerJoin('productVariants as v', (j) => j.onRef('v.partnerId', '=', 's.partnerId').onRef('v.id', '=', 's.variantId'))
    .where('s.partnerId', '=', partnerId);
}

type Row = {
  id: string; customerId: string; customerName: string; productName: string; variantName: string; currency: string; quantity: number;
  autoRenew: boolean; currentPeriodEnd: Date | null; renewalFailedAt: Date | null; renewalFailureReason: string | null; status: string;
};

function toItem(r: Row): RenewalItem {
  const end = r.currentPeriodEnd ?? new Date(0);
  return {
    subscriptionId: r.id, customerId: r.customerId, customerName: r.customerName, productName: r.productName, variantName: r.variantName,
    currency: r.currency, quantity: r.quantity, autoRenew: r.autoRenew, status: r.status,
    currentPeriodEnd: end.toISOString(), renewalAt: new Date(end.getTime() - RENEWAL_LEAD_DAYS * DAY_MS).toISOString(),
    failedAt: r.renewalFailedAt?.toISOString() ?? null, failureReason: r.renewalFailureReason,
  };
}

const COLUMNS = [
  's.id', 's.customerId', 'c.name as customerName', 'p.name as productName', 'v.name as variantName', 's.currency', 's.quantity',
  's.autoRenew', 's.currentPeriodEnd', 's.renewalFailedAt', 's.renewalFailureReason', 's.status',
] as const;

/**
 * Renewals due this week (active, not failed, renewal time within the next 7 days: expiry within 14 days; a renewal whose
 * time has come but has not run yet counts too) and failed renewals (active or expired with a renewal failure), soonest first.
 */
export async function loadRenewals(trx: Trx, partnerId: string, now: Date): Promise<RenewalsView> {
  const horizon = new Date(now.getTime() + (RENEWAL_LEAD_DAYS + 7) * DAY_MS);
  const due = () =>
    baseQuery(trx, partnerId)
      .where('s.status', '=', 'active')
      .where('s.renewalFailedAt', 'is', null)
      .where('s.currentPeriodEnd', '>', now)
      .where('s.currentPeriodEnd', '<=', horizon);
  const failed = () => baseQuery(trx, partnerId).where('s.status', 'in', ['active', 'expired']).where('s.renewalFailedAt', 'is not', null);
  const [dueRows, dueCount, failedRows, failedCount] = await Promise.all([
    due().select(COLUMNS).orderBy('s.currentPeriodEnd').orderBy('s.id').limit(SHOWN).execute(),
    due().select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow(),
    failed().select(COLUMNS).orderBy('s.renewalFailedAt', 'desc').orderBy('s.id').limit(SHOWN).execute(),
    failed().select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow(),
  ]);
  return {
    dueThisWeek: { count: dueCount.n, items: dueRows.map(toItem) },
    failed: { count: failedCount.n, items: failedRows.map(toItem) },
  };
}
