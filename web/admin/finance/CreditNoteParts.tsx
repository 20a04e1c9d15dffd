import { Badge, Text, type MantineSize } from '@mantine/core';
import { formatMoney } from '../../shared/money.ts';

/** Shapes of the credit note API (src/credit-notes/credit-note-views.ts) and small pieces shared by the credit note screens. */
export const CREDIT_NOTES_KEY = ['credit-notes'] as const;

export type CreditNoteStatus = 'draft' | 'issued' | 'void';
export type CreditNoteMode = 'whole' | 'lines' | 'amount';
export type CreditNoteReason = 'cancellation' | 'downgrade' | 'service_issue' | 'billing_error' | 'write_off' | 'other';
export type CreditNoteOutcome = 'reduce_due' | 'points' | 'refund';
export type RefundMethod = 'card' | 'bank_transfer' | 'cheque';

export const REASONS: Array<{ value: CreditNoteReason; label: string }> = [
  { value: 'cancellation', label: 'Cancellation' },
  { value: 'downgrade', label: 'Downgrade' },
  { value: 'service_issue', label: 'Service issue' },
  { value: 'billing_error', label: 'Billing error' },
  { value: 'write_off', label: 'Write-off' },
  { value: 'other', label: 'Other' },
];
export const OUTCOMES: Array<{ value: CreditNoteOutcome; label: string }> = [
  { value: 'reduce_due', label: 'Reduce the amount due' },
  { value: 'points', label: 'Credit points' },
  { value: 'refund', label: 'Refund' },
];
export const REFUND_METHODS: Array<{ value: RefundMethod; label: string }> = [
  { value: 'card', label: 'To the card (gateway)' },
  { value: 'bank_transfer', label: 'Bank transfer (recorded)' },
  { value: 'cheque', label: 'Cheque (recorded)' },
];

export interface CreditLine {
  invoiceLinePosition: number | null;
  description: string;
  quantity: string | null;
  amount: string;
  tax: string;
  total: string;
  cost: string | null;
  margin: string | null;
}

export interface CreditNoteSummary {
  id: string;
  number: string | null;
  status: CreditNoteStatus;
  mode: CreditNoteMode;
  reason: CreditNoteReason;
  outcome: CreditNoteOutcome | null;
  refundMethod: RefundMethod | null;
  refundStatus: 'pending' | 'refunded' | 'failed' | null;
  currency: string;
  subtotal: string;
  tax: string;
  total: string;
  customer: { id: string; name: string };
  invoice: { id: string; number: string | null };
  createdAt: string;
  issuedAt: string | null;
}

export interface CreditNoteDetail extends Omit<CreditNoteSummary, 'invoice'> {
  memo: string | null;
  refundReference: string | null;
  requestedAmount: string | null;
  invoice: { id: string; number: string | null; type: string; status: string; total: string; amountPaid: string; amountCredited: string; amountDue: string };
  lines: CreditLine[];
  cost: string | null;
  costKnown: 'all' | 'some' | 'none';
  margin: string | null;
  refunds: Array<{ chargeRef: string; amount: string; status: 'pending' | 'succeeded' | 'failed'; refundRef: string | null; failureReason: string | null; completedAt: string | null }>;
  entryId: string | null;
  voidedAt: string | null;
  voidReason: string | null;
}

export interface Creditable {
  invoice: { id: string; number: string | null; type: string; status: string; currency: string; customer: { id: string; name: string }; total: string; amountPaid: string; amountDue: string };
  creditable: { notCreditableReason: string | null; total: string; reduceDue: string; pointsOrRefund: string; card: string };
  lines: Array<{ position: number; description: string; quantity: string; amount: string; tax: string; creditableQuantity: string; creditableAmount: string; creditableTax: string; unitCost: string | null }>;
  preview: { lines: CreditLine[]; subtotal: string; tax: string; total: string; cost: string | null; costKnown: 'all' | 'some' | 'none'; margin: string | null } | null;
}

export interface CreditableInvoice {
  id: string;
  number: string | null;
  type: string;
  status: string;
  currency: string;
  customer: { id: string; name: string };
  total: string;
  amountDue: string;
  issuedAt: string | null;
}

const STATUS_COLORS: Record<CreditNoteStatus, string> = { draft: 'gray', issued: 'teal', void: 'dark' };

export function CreditNoteStatusBadge({ status, size = 'sm' }: { status: CreditNoteStatus; size?: MantineSize }) {
  return (
    <Badge color={STATUS_COLORS[status]} variant="light" radius="sm" size={size} tt="none" data-testid="credit-note-status">
      {status === 'draft' ? 'Draft' : status === 'issued' ? 'Issued' : 'Void'}
    </Badge>
  );
}

export function outcomeLabel(n: Pick<CreditNoteSummary, 'outcome' | 'refundMethod' | 'refundStatus'>): string {
  if (n.outcome === null) return 'Not chosen';
  if (n.outcome === 'reduce_due') return 'Reduces the amount due';
  if (n.outcome === 'points') return 'Credited to points';
  const method = n.refundMethod === 'card' ? 'card' : n.refundMethod === 'cheque' ? 'cheque' : 'bank transfer';
  const state = n.refundStatus === 'pending' ? ' (refund pending)' : n.refundStatus === 'failed' ? ' (refund failed)' : n.refundStatus === 'refunded' ? ' (refunded)' : '';
  return `Refund by ${method}${state}`;
}

export function reasonLabel(reason: CreditNoteReason): string {
  return REASONS.find((r) => r.value === reason)?.label ?? reason;
}

/** Price against cost of the credited lines: the margin given back, or "no cost known". */
export function MarginText({ margin, cost, costKnown, currency }: { margin: string | null; cost: string | null; costKnown: 'all' | 'some' | 'none'; currency: string }) {
  if (costKnown === 'none' || margin === null) {
    return <Text size="sm" c="dimmed" data-testid="credit-margin">No cost known</Text>;
  }
  return (
    <Text size="sm" data-testid="credit-margin">
      Margin given back {formatMoney(margin, currency)} (cost {formatMoney(cost ?? '0', currency)}){costKnown === 'some' ? ' — lines without a known cost left out' : ''}
    </Text>
  );
}
