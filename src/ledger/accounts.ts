
import type { Trx } from '../platform/database.ts';
import type { AccountCode, AccountKind } from '../platform/db-types.ts';
import { newId } from '../platform/ids.ts';

/** The chart of accounts (../shared/ledger-design.md). Customer accounts exist once per customer organisation. */
export const ACCOUNT_KIND: Record<AccountCode, AccountKind> = {
  bank: 'asset',
  card_clearing: 'asset',
  receivable: 'asset',
  points: 'liability',
  unapplied: 'liability',
  unassigned: 'liability',
  tax_payable: 'liability',
  platform_payable: 'liability',
  refunds_payable: 'liability',
  'revenue:usage': 'revenue',
  'revenue:subscription': 'revenue',
  'revenue:one_time': 'revenue',
  'revenue:fees': 'revenue',
  sales_returns: 'contra_revenue',
  'cost:usage': 'expense',
  'cost:subscription': 'expense',
};

export const CUSTOMER_ACCOUNTS: ReadonlySet<AccountCode> = new Set<AccountCode>(['receivable', 'points', 'unapplied']);

export interface AccountRef {
  code: AccountCode;
  /** Required for customer accounts (receivable, points, unapplied), absent for the partner's own. */
  customerId?: string;
}

export function accountKey(ref: AccountRef): string {
  return `${ref.code}|${ref.customerId ?? ''}`;
}

/** Find or open the accounts of one partner and currency; returns their ids by `accountKey`. */
export async function resolveAccounts(trx: Trx, partnerId: string, currency: string, refs: readonly AccountRef[]): Promise<Map<string, string>> {
  const unique = new Map<string, AccountRef>();
  for (const ref of refs) {
    if (CUSTOMER_ACCOUNTS.has(ref.code) !== (ref.customerId !== undefined)) {
      throw new Error(`account ${ref.code} ${ref.customerId ? 'takes no' : 'needs a'} customer`);
    }
    unique.set(accountKey(ref), ref);
  }
  const wanted = [...unique.values()];
  const found = await findAccounts(trx, partnerId, currency, wanted);
  const missing = wanted.filter((r) => !found.has(accountKey(r)));
  if (missing.length > 0) {
    await trx
      .insertInto('ledgerAccounts')
      .values(missing.map((r) => ({ id: newId('acc'), partnerId, currency, code: r.code, customerId: r.customerId ?? null, kind: ACCOUNT_KIND[r.code] })))
      .onConflict((oc) => oc.doNothing())
      .execute();
    for (const [key, id] of await findAccounts(trx, partnerId, currency, missing)) found.set(key, id);
  }
  return found;
}

async function findAccounts(trx: Trx, partnerId: string, currency: string, refs: readonly AccountRef[]): Promise<Map<string, string>> {
  if (refs.length === 0) return new Map();
  const rows = await trx
    .selectFrom('ledgerAccounts')
    .select(['id', 'code', 'customerId'])
    .where('partnerId', '=', partnerId)
    .where('currency', '=', currency)
    .where((eb) =>
      eb.or(refs.map((r) => eb.and([eb('code', '=', r.code), r.customerId ? eb('customerId', '=', r.customerId) : eb('customerId', 'is', null)]))),
    )
    .execute();
  return new Map(rows.map((r) => [accountKey({ code: r.code, ...(r.customerId ? { customerId: r.customerId } : {}) }), r.id]));
}

/** Balances (debit-positive micros) of accounts, locking them for the rest of the transaction. */
export async function lockBalances(trx: Trx, accountIds: readonly string[]): Promise<Map<string, bigint>> {
  if (accountIds.length === 0) return new Map();
  const rows = await trx
    .selectFrom('ledgerAccounts')
    .select(['id', 'balanceMicros'])
    .where('id', 'in', [...accountIds].sort())
    .orderBy('id')
    .forUpdate()
    .execute();
  return new Map(rows.map((r) => [r.id, BigInt(r.balanceMicros)]));
}

