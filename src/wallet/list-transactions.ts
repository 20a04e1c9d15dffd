import { sql } from 'kysely';
import type { Trx } from '../platform/database.ts';
import { formatDecimal, isCurrency } from '../money/money.ts';

/**
 * Transaction types customers see. A posting's type is derived by the database from its kind's prefix
 * (`folio_feed_type`, migration 0016): call_* -> call, subscription_* -> subscription, top_up_* / auto_top_up -> top_up,
 * invoice_* -> purchase, credit_* / points_* -> credit, anything else -> other.
 */
export const TRANSACTION_TYPES = ['call', 'subscription', 'top_up', 'purchase', 'credit'] as const;
export type TransactionType = (typeof TRANSACTION_TYPES)[number];
const KNOWN_TYPES = new Set<string>(TRANSACTION_TYPES);

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
 * Where a customer's feed lives: its currency and points account, in one read. Also steers the planner to walk the
 * `(account_id, id desc)` index for the rest of the transaction (a bitmap scan would read the account's whole history
 * to return its newest 100 rows).
 */
export async function feedAccount(trx: Trx, input: { partnerId: string; customerId: string }): Promise<{ currency: string; pointsAccountId: string | null } | null> {
  const { rows } = await sql<{ currency: string; pointsAccountId: string | null }>`
    select c.currency, w.points_account_id, set_config('enable_bitmapscan', 'off', true) as planner
      from customers c
      left join wallets w on w.partner_id = c.partner_id and w.customer_id = c.id and w.currency = c.currency
     where c.partner_id = ${input.partnerId} and c.id = ${input.customerId}`.execute(trx);
  return rows[0] ?? null;
}

/**
 * The customer's points transactions, newest first, straight from the ledger (visible the moment a posting commits):
 * one index range of the points account's postings, which carry their own kind, type, description and cause — read
 * from the index alone (postings_customer_feed, migration 0039) where the table is vacuumed.
 * Postings are never zero, so zero amounts never show.
 */
export async function listTransactions(
  trx: Trx,
  input: { partnerId: string; customerId: string; currency: string; pointsAccountId?: string | null; type?: TransactionType; limit: number; afterPostingId: string | null },
): Promise<{ data: TransactionRow[]; nextCursor: string | null }> {
  let accountId = input.pointsAccountId;
  if (accountId === undefined) {
    const account = await trx
      .selectFrom('wallets').select('pointsAccountId')
      .where('partnerId', '=', input.partnerId).where('customerId', '=', input.customerId).where('currency', '=', input.currency)
      .executeTakeFirst();
    accountId = account?.pointsAccountId ?? null;
  }
  if (!accountId) return { data: [], nextCursor: null };
  let query = trx
    .selectFrom('postings as p')
    .select(['p.id', 'p.amountMicros', 'p.balanceAfterMicros', 'p.postedAt', 'p.kind', 'p.feedType', 'p.description', 'p.causeType', 'p.causeId'])
    .where('p.accountId', '=', accountId)
    .where('p.partnerId', '=', input.partnerId)
    .where('p.customerId', '=', input.customerId) // also what lets postings_customer_feed (customer postings only) serve it
    .orderBy('p.id', 'desc')
    .limit(input.limit + 1);
  if (input.afterPostingId) query = query.where('p.id', '<', input.afterPostingId);
  if (input.type) query = query.where('p.feedType', '=', input.type);
  const rows = await query.execute();
  const currency = isCurrency(input.currency) ? input.currency : 'SGD';
  const page = rows.slice(0, input.limit);
  return {
    data: page.map((r) => ({
      amountMicros: -BigInt(r.amountMicros),
      view: {
        id: transactionId(r.id),
        occurredAt: r.postedAt.toISOString(),
        type: r.feedType && KNOWN_TYPES.has(r.feedType) ? (r.feedType as TransactionType) : 'other',
        kind: r.kind ?? 'other',
        description: r.description ?? '',
        amount: formatDecimal(-BigInt(r.amountMicros), currency),
        balanceAfter: formatDecimal(-BigInt(r.balanceAfterMicros ?? '0'), currency),
        currency: input.currency,
        cause: { type: r.causeType ?? '', id: r.causeId ?? '' },
      },
    })),
    nextCursor: rows.length > input.limit ? transactionId(page[page.length - 1]!.id) : null,
  };
}

/**
 * Totals by type over the customer's whole history (or one type), signed as the feed shows them: kept per account and
 * type by the ledger's balance trigger, so this is one small read however long the history is.
 */
export async function feedTotals(
  trx: Trx,
  input: { partnerId: string; pointsAccountId: string | null; currency: string; type?: TransactionType },
): Promise<Array<{ type: string; count: number; total: string }>> {
  if (!input.pointsAccountId) return [];
  const cur = isCurrency(input.currency) ? input.currency : 'SGD';
  let query = trx
    .selectFrom('pointsFeedTotals')
    .select(['feedType', 'postings', 'totalMicros'])
    .where('partnerId', '=', input.partnerId)
    .where('accountId', '=', input.pointsAccountId)
    .orderBy('feedType');
  if (input.type) query = query.where('feedType', '=', input.type);
  const rows = await query.execute();
  return rows
    .filter((r) => r.postings !== '0')
    .map((r) => ({ type: r.feedType, count: Number(r.postings), total: formatDecimal(-BigInt(r.totalMicros), cur) }));
}
