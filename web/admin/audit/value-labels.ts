/**
 * The coded values audit events record (`outcome: reduce_due`, `method: bank_transfer`), in the words the forms that
 * chose them use: the Audit app shows these, with the code kept as the value's title.
 */
import type { AuditValueLabel } from '../../shared/AuditTable.tsx';
import { OUTCOMES, REASONS, REFUND_METHODS } from '../finance/CreditNoteParts.tsx';
import { PAYMENT_METHODS, PAYMENT_STATUSES } from '../finance/finance-types.ts';

type Labels = Record<string, string>;
const of = (list: ReadonlyArray<{ value: string; label: string }>): Labels => Object.fromEntries(list.map((x) => [x.value, x.label]));

const CREDIT_NOTE: Record<string, Labels> = {
  reason: of(REASONS),
  outcome: of(OUTCOMES),
  refundMethod: of(REFUND_METHODS),
  mode: { whole: 'Whole invoice', lines: 'Chosen lines', amount: 'Custom amount' },
  status: { draft: 'Draft', issued: 'Issued', void: 'Void' },
};

const PAYMENT: Record<string, Labels> = {
  method: of(PAYMENT_METHODS),
  status: of(PAYMENT_STATUSES),
  pointsOutcome: {
    none: 'None: the payment created no points',
    covered: 'Taken back from the points',
    credit_limit: 'Taken back, partly into the credit limit',
    receivable: 'Owed on the receivable (debit note)',
  },
};

/** Points taken back: refunded by bank transfer or cheque (as Customer > Points > Take back points says). */
const POINTS: Record<string, Labels> = {
  refundMethod: { bank_transfer: 'Refunded by bank transfer', cheque: 'Refunded by cheque' },
};

function tableFor(action: string): Record<string, Labels> | null {
  // A voided credit note's reason is the words typed when voiding it, not a coded reason.
  if (action === 'credit_note.voided') return { status: CREDIT_NOTE.status! };
  if (action.startsWith('credit_note.')) return CREDIT_NOTE;
  if (action.startsWith('payment.')) return PAYMENT;
  if (action.startsWith('points.')) return POINTS;
  return null;
}

/** The labeller for one event's changes: its action says which codes its fields hold. */
export function auditValueLabel(action: string): AuditValueLabel | undefined {
  const table = tableFor(action);
  if (!table) return undefined;
  return (field, value) => (typeof value === 'string' ? table[field]?.[value] : undefined);
}
