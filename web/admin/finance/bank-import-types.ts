/** The bank statement import's API shapes (type-only imports of the server's own types) and its labels. */
import type { BankLineView, BankStatementView, LineCounts } from '../../../src/bank-statements/bank-statement-views.ts';
import type { AcceptConfidentResult } from '../../../src/bank-statements/decide-line.ts';
import type { LineOpenInvoices } from '../../../src/bank-statements/line-open-invoices.ts';

export type { AcceptConfidentResult, BankLineView, BankStatementView, LineCounts, LineOpenInvoices };
export type BankStatementDetail = BankStatementView & { lines: { data: BankLineView[]; nextCursor: string | null } };

export const BANK_IMPORTS_KEY = ['bank-statements'] as const;
export const BANK_IMPORT_BASE = '/admin/finance/bank-import';
export const statementPath = (id: string, ...rest: string[]) => ['/api/v1/bank-statements', encodeURIComponent(id), ...rest.map(encodeURIComponent)].join('/');

export const LINE_STATES: { value: keyof Omit<LineCounts, 'confident'>; label: string; color: string }[] = [
  { value: 'suggested', label: 'Suggested', color: 'blue' },
  { value: 'unmatched', label: 'Unmatched', color: 'orange' },
  { value: 'accepted', label: 'Accepted', color: 'teal' },
  { value: 'rejected', label: 'Rejected', color: 'gray' },
  { value: 'ignored', label: 'Debit (ignored)', color: 'gray' },
  { value: 'duplicate', label: 'Duplicate', color: 'grape' },
];
export const lineStateLabel = (s: string) => LINE_STATES.find((x) => x.value === s)?.label ?? s;
export const lineStateColor = (s: string) => LINE_STATES.find((x) => x.value === s)?.color ?? 'gray';

export const CONFIDENCE_COLORS: Record<string, string> = { high: 'teal', medium: 'yellow', low: 'orange', none: 'gray' };
