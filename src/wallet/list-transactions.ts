import type { Trx } from '../platform/database.ts';
import { formatDecimal, isCurrency } from '../money/money.ts';

/** Transaction types customers see, and the journal-entry kinds behind each. */
export const TRANSACTION_TYPES = {
  call: ['call_charge', 'call_charge_reversal'],
  subscription: ['subscription_renewal', 'subscription_purchase', 'subscription_refund'],
  top_up: ['top_up', 'top_up_reversal', 'auto_top_up'],
  purchase: ['invoice_points_payment', 'invoice_points_payment_reversal'],
  credit: ['credit_note_points', 'points_issued', 'points_taken_back'],
} as const;
export type TransactionType = keyof typeof TRANSACTION_TYPES;

const TYPE_OF_KIND = new Map<string, TransactionType>(
  Object.entries(TRANSACTION_TYPES).flatMap(([type, kinds]) => kinds.map((k) => [k, type as TransactionType] as const)),
);

export interface TransactionView {
  id: string;
  occurredAt: string;
  type: TransactionType | 'other';
  kind: string;
  description: string;
  /** Signed change of the customer's points: positive adds points, negative spends them. */
  amount: string;
  balanceAfter: string;
  currency: string;
  cause: { type: string; id: string };
}

export const MAX_PAGE = 200;

export interface TransactionRow {
  view: TransactionView;
  /** Signed change of points in micros (for totals). */
  amountMicros: bigint;
}

/** `txn_` + the posting's sequence number: opaque to clients, ordered for cursors. */
function transactionId(postingId: string): string {
  return `txn_${postingId.padStart(12, '0')}`;
}

export function parseTransactionCursor(cursor: string | undefined): string | null {
  if (!cursor) return null;
  const m = /^txn_(\d{1,19})$/.exec(cursor);
  return m ? String(BigInt(m[1]!)) : null;
}

/**
 * The customer's points transactions, newest first, straight from the ledger (visible the moment a posting commits).
 * Every posting to the points account is a transaction; postings are never zero, so zero amounts never show.
 */
export async function listTransactions(
  trx: Trx,
  input: { partnerId: string; customerId: string; currency: string; type?: TransactionType; limit: number; afterPostingId: string | null },
): Promise<{ data: TransactionRow[]; nextCursor: string | null }> {
  const account = await trx
    .selectFrom('wallets').select('pointsAccountId')
    .where('partnerId', '=', input.partnerId).where('customerId', '=', input.customerId).where('currency', '=', input.currency)
    .executeTakeFirst();
  if (!account) return { data: [], nextCursor: null };
  let query = trx
    .selectFrom('postings as p')
    .innerJoin('journalEntries as e', 'e.id', 'p.entryId')
    .select(['p.id', 'p.amountMicros', 'p.balanceAfterMicros', 'p.postedAt', 'e.kind', 'e.description', 'e.causeType', 'e.causeId'])
    .where('p.accountId', '=', account.pointsAccountId)
    .where('p.partnerId', '=', input.partnerId)
    .where('e.partnerId', '=', input.partnerId)
    .orderBy('p.id', 'desc')
    .limit(input.limit + 1);
  if (input.afterPostingId) query = query.where('p.id', '<', input.afterPostingId);
  if (input.type) query = query.where('e.kind', 'in', [...TRANSACTION_TYPES[input.type]]);
  const rows = await query.execute();
  const currency = isCurrency(input.currency) ? input.currency : 'SGD';
  const page = rows.slice(0, input.limit);
  return {
    data: page.map((r) => ({
      amountMicros: -BigInt(r.amountMicros),
      view: {
        id: transactionId(r.id),
        occurredAt: r.postedAt.toISOString(),
        type: TYPE_OF_KIND.get(r.kind) ?? 'other',
        kind: r.kind,
        description: r.description,
        amount: formatDecimal(-BigInt(r.amountMicros), currency),
        balanceAfter: formatDecimal(-BigInt(r.balanceAfterMicros ?? '0'), currency),
        currency: input.currency,
        cause: { type: r.causeType, id: r.causeId },
      },
    })),
    nextCursor: rows.length > input.limit ? transactionId(page[page.length - 1]!.id) : null,
  };
}

/** Totals by type over the transactions listed (the page shown), counted from the ledger amounts. */
export function totalsByType(rows: readonly TransactionRow[], currency: string): Array<{ type: string; count: number; total: string }> {
  const cur = isCurrency(currency) ? currency : 'SGD';
  const sums = new Map<string, { count: number; micros: bigint }>();
  for (const r of rows) {
    const s = sums.get(r.view.type) ?? { count: 0, micros: 0n };
    s.count++;
    s.micros += r.amountMicros;
    sums.set(r.view.type, s);
  }
  return [...sums.entries()].map(([type, s]) => ({ type, count: s.count, total: formatDecimal(s.micros, cur) }));
}
