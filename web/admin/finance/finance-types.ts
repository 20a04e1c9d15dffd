/**
 * The Finance app's API shapes: the server's own types (type-only imports: nothing of the server is bundled), and the
 * labels the screens show for them.
 */
import type { PaymentDetail, PaymentSummary } from '../../../src/payments/payment-views.ts';
import type { Reversal, PointsOutcome } from '../../../src/payments/reverse-payment.ts';
import type { PaymentOpenInvoices } from '../../../src/payments/payment-open-invoices.ts';
import type { PaymentMethod, PaymentStatus } from '../../../src/payments/payments.db-types.ts';
import type { ArAging } from '../../../src/finance/reports/ar-aging.ts';
import type { TrialBalance } from '../../../src/finance/reports/trial-balance.ts';

export type { ArAging, PaymentDetail, PaymentMethod, PaymentOpenInvoices, PaymentStatus, PaymentSummary, PointsOutcome, Reversal, TrialBalance };

export const PAYMENTS_KEY = ['payments'] as const;
export const REPORTS_KEY = ['finance-reports'] as const;

/** The currencies a payment can be recorded in (those Folio bills in). */
export const PAYMENT_CURRENCIES = ['SGD', 'MYR', 'HKD', 'AUD', 'USD', 'VND'];

export const PAYMENT_METHODS: { value: PaymentMethod; label: string }[] = [
  { value: 'bank_transfer', label: 'Bank transfer' },
  { value: 'giro', label: 'GIRO' },
  { value: 'cheque', label: 'Cheque' },
  { value: 'cash', label: 'Cash' },
  { value: 'card', label: 'Card (gateway)' },
  { value: 'other', label: 'Other' },
];

export const PAYMENT_STATUSES: { value: PaymentStatus; label: string; color: string }[] = [
  { value: 'unassigned', label: 'Unassigned', color: 'orange' },
  { value: 'unallocated', label: 'Unallocated', color: 'yellow' },
  { value: 'partially_allocated', label: 'Partially allocated', color: 'blue' },
  { value: 'allocated', label: 'Allocated', color: 'teal' },
  { value: 'reversed', label: 'Reversed', color: 'red' },
];

export const methodLabel = (m: string): string => PAYMENT_METHODS.find((x) => x.value === m)?.label ?? m;
export const paymentStatusLabel = (s: string): string => PAYMENT_STATUSES.find((x) => x.value === s)?.label ?? s;
export const paymentStatusColor = (s: string): string => PAYMENT_STATUSES.find((x) => x.value === s)?.color ?? 'gray';

export function paymentPath(id: string, action?: string): string {
  return `/api/v1/payments/${encodeURIComponent(id)}${action ? `/${action}` : ''}`;
}

/** Where the Finance app shows one payment. */
export function paymentUrl(id: string): string {
  return `/admin/finance/payments/${encodeURIComponent(id)}`;
}

/** Today as YYYY-MM-DD (UTC, as the server counts received days). */
export function todayIso(): string {
  return new Date().toISOString().slice(0, 10);
}

/** What reversing did to the customer's points, in sentences a finance person acts on (from the reversal the API answered). */
export function pointsOutcomeLines(r: Reversal, currency: string): string[] {
  const money = (a: string) => `${currency} ${a}`;
  const after = r.pointsAfter !== null ? ` Points now ${money(r.pointsAfter)}.` : '';
  switch (r.pointsOutcome) {
    case 'none':
      return ['The payment had created no points: nothing was taken back.'];
    case 'covered':
      return [`${money(r.pointsTakenBack)} of points it created were taken back; the customer still had them.${after}`];
    case 'credit_limit':
      return [
        `${money(r.pointsTakenBack)} of points were taken back. They were already spent: ${money(r.intoCreditLimit)} of it went into the customer's credit limit (points below zero).${after}`,
      ];
    case 'receivable':
      return [
        `${money(r.pointsCreated)} of points it created were already spent beyond the credit limit: ${money(r.pointsTakenBack)} taken back from the points${r.intoCreditLimit !== '0' && !/^0(\.0+)?$/.test(r.intoCreditLimit) ? ` (${money(r.intoCreditLimit)} into the credit limit)` : ''}, and ${money(r.toReceivable)} is now owed on the receivable.`,
        ...(r.debitNote ? [`Debit note ${r.debitNote.number} bills the ${money(r.debitNote.amount)} to the customer.`] : []),
        ...(/^0(\.0+)?$/.test(r.roundingToPoints) ? [] : [`The debit note is in whole cents: the ${money(r.roundingToPoints)} above what was spent stays on the customer's points.${after}`]),
      ];
  }
}

/** GET /api/v1/finance/ledger-check: the books as the worker's nightly check found them (src/ledger/get-ledger-check.ts). */
export interface LedgerCheck {
  status: 'sound' | 'problems' | 'not_checked_yet';
  checkedAt: string | null;
  durationMs: number | null;
  problemCount: number;
  problems: Array<{ invariant: string; subject: string; detail: string }>;
  detectedAt: string | null;
  alertedAt: string | null;
  schedule: string;
  stale: boolean;
}
