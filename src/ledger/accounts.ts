
import { sql } from 'kysely';
import type { Trx } from '../platform/database.ts';
import type { AccountCode, AccountKind } from '../platform/db-types.ts';
import { newId } from '../platform/ids.ts';
import { pgArray } from '../platform/pg-array.ts';

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

/** The distinct accounts asked for (checked: customer accounts name a customer, the partner's own do not), split into
 * those whose ids the caller knows (`ids`, by `accountKey`) and the others; `keys` is each ref's `accountKey`, in order. */
function splitRefs(refs: readonly AccountRef[], known: ReadonlyMap<string, string> | undefined) {
  const unique = new Map<string, AccountRef>();
  const keys = new Array<string>(refs.length);
  for (let i = 0; i < refs.length; i++) {
    const ref = refs[i]!;
    if (CUSTOMER_ACCOUNTS.has(ref.code) !== (ref.customerId !== undefined)) {
      throw new Error(`account ${ref.code} ${ref.customerId ? 'takes no' : 'needs a'} customer`);
    }
    const key = accountKey(ref);
    keys[i] = key;
    unique.set(key, ref);
  }
  const ids = new Map<string, string>();
  const unknown: AccountRef[] = [];
  for (const [key, ref] of unique) {
    const id = known?.get(key);
    if (id === undefined) unknown.push(ref);
    else ids.set(key, id);
  }
  return { unique, ids, unknown, keys };
}

/**
 * Find or open the accounts of one partner and currency; returns their ids by `accountKey`. `known` are ids the caller
 * has already read in this transaction (accounts are never deleted or re-keyed): only the others are looked up.
 */
export async function resolveAccounts(trx: Trx, partnerId: string, currency: string, refs: readonly AccountRef[], known?: ReadonlyMap<string, string>): Promise<Map<string, string>> {
  const { ids: found, unknown } = splitRefs(refs, known);
  for (const [key, id] of await findAccounts(trx, partnerId, currency, unknown)) found.set(key, id);
  const missing = unknown.filter((r) => !found.has(accountKey(r)));
  if (missing.length > 0) {
    await sql`
      insert into ledger_accounts (id, partner_id, currency, code, customer_id, kind)
      select id, ${partnerId}, ${currency}, code, customer_id, kind
        from unnest(${missing.map(() => newId('acc'))}::text[], ${missing.map((r) => r.code)}::text[],
                    ${missing.map((r) => r.customerId ?? null)}::text[], ${missing.map((r) => ACCOUNT_KIND[r.code])}::text[])
          as a(id, code, customer_id, kind)
      on conflict do nothing`.execute(trx);
    for (const [key, id] of await findAccounts(trx, partnerId, currency, missing)) found.set(key, id);
  }
  return found;
}

/** One query, whatever the number of accounts: the partner's own by code, the customers' by id and code. */
async function findAccounts(trx: Trx, partnerId: string, currency: string, refs: readonly AccountRef[]): Promise<Map<string, string>> {
  if (refs.length === 0) return new Map();
  const partnerCodes = [...new Set(refs.filter((r) => !r.customerId).map((r) => r.code))];
  const customerIds = [...new Set(refs.filter((r) => r.customerId).map((r) => r.customerId!))];
  const customerCodes = [...new Set(refs.filter((r) => r.customerId).map((r) => r.code))];
  const rows = await trx
    .selectFrom('ledgerAccounts')
    .select(['id', 'code', 'customerId'])
    .where('partnerId', '=', partnerId)
    .where('currency', '=', currency)
    .where((eb) => {
      const branches = [];
      if (partnerCodes.length > 0) branches.push(eb.and([eb('customerId', 'is', null), eb('code', 'in', partnerCodes)]));
      if (customerIds.length > 0) {
        branches.push(eb.and([eb('code', 'in', customerCodes), sql<boolean>`customer_id = any(${customerIds}::text[])`]));
      }
      return eb.or(branches);
    })
    .execute();
  const wanted = new Set(refs.map(accountKey));
  const found = new Map<string, string>();
  for (const r of rows) {
    const key = accountKey({ code: r.code, ...(r.customerId ? { customerId: r.customerId } : {}) });
    if (wanted.has(key)) found.set(key, r.id);
  }
  return found;
}

/**
 * `resolveAccounts` and `lockBalances` of the customer accounts among them, in one round trip when any account must be
 * looked up: the lookup and the lock are one statement (the customer accounts locked in id order, as `lockBalances`
 * does; the partner's own accounts are found, never locked here). `lockedBalances` are customer accounts the caller
 * holds already (by id): not locked again. Accounts that do not exist yet are opened and then locked as before. `keys`
 * is each ref's `accountKey`, in the order of `refs` (made once here, for the caller too).
 */
export async function resolveAndLockAccounts(
  trx: Trx, partnerId: string, currency: string, refs: readonly AccountRef[],
  options: { known?: ReadonlyMap<string, string> | undefined; lockedBalances?: ReadonlyMap<string, bigint> | undefined } = {},
): Promise<{ ids: Map<string, string>; balances: Map<string, bigint>; keys: string[] }> {
  const { unique, ids, unknown, keys } = splitRefs(refs, options.known);
  const held = options.lockedBalances;
  const toLock = (id: string, ref: AccountRef) => ref.customerId !== undefined && !held?.has(id);
  const balances = new Map<string, bigint>();
  if (unknown.length > 0) {
    const partnerCodes = [...new Set(unknown.filter((r) => !r.customerId).map((r) => r.code))];
    const wanted = unknown.filter((r) => r.customerId);
    const knownToLock = [...ids].filter(([key, id]) => toLock(id, unique.get(key)!)).map(([, id]) => id);
    const { rows } = await sql<{ id: string; code: AccountCode; customerId: string | null; balanceMicros: string | null }>`
      with found as (
        select a.id, a.code, a.customer_id from ledger_accounts a
         where a.partner_id = ${partnerId} and a.currency = ${currency} and a.customer_id is null and a.code = any(${partnerCodes}::text[])
        union all
        select a.id, a.code, a.customer_id from ledger_accounts a
          join unnest(${pgArray(wanted.map((r) => r.code))}::text[], ${pgArray(wanted.map((r) => r.customerId!))}::text[]) as w(code, customer_id)
            on a.code = w.code and a.customer_id = w.customer_id
         where a.partner_id = ${partnerId} and a.currency = ${currency}
      ), locked as (
        select l.id, l.balance_micros from ledger_accounts l
         where l.id in (select f.id from found f where f.customer_id is not null and not (f.id = any(${pgArray([...(held?.keys() ?? [])])}::text[])))
            or l.id = any(${pgArray(knownToLock)}::text[])
         order by l.id for update
      )
      select f.id, f.code, f.customer_id, l.balance_micros::text as balance_micros from found f left join locked l on l.id = f.id
      union all
      select l.id, null, null, l.balance_micros::text from locked l where not exists (select 1 from found f where f.id = l.id)`.execute(trx);
    for (const r of rows) {
      if (r.code !== null) ids.set(accountKey({ code: r.code, ...(r.customerId ? { customerId: r.customerId } : {}) }), r.id);
      if (r.balanceMicros !== null) balances.set(r.id, BigInt(r.balanceMicros));
    }
    const missing = unknown.filter((r) => !ids.has(accountKey(r)));
    if (missing.length > 0) {
      for (const [key, id] of await resolveAccounts(trx, partnerId, currency, missing)) ids.set(key, id);
      const opened = missing.filter((r) => r.customerId).map((r) => ids.get(accountKey(r))!);
      for (const [id, balance] of await lockBalances(trx, opened)) balances.set(id, balance);
    }
  } else {
    const lock = [...ids].filter(([key, id]) => toLock(id, unique.get(key)!)).map(([, id]) => id);
    for (const [id, balance] of await lockBalances(trx, lock)) balances.set(id, balance);
  }
  for (const [key, ref] of unique) {
    const id = ids.get(key)!;
    if (ref.customerId !== undefined && held?.has(id)) balances.set(id, held.get(id)!);
  }
  return { ids, balances, keys };
}

/** Balances (debit-positive micros) of accounts, locking them for the rest of the transaction. */
export async function lockBalances(trx: Trx, accountIds: readonly string[]): Promise<Map<string, bigint>> {
  if (accountIds.length === 0) return new Map();
  const rows = await trx
    .selectFrom('ledgerAccounts')
    .select(['id', 'balanceMicros'])
    .where(sql<boolean>`id = any(${[...accountIds]}::text[])`)
    .orderBy('id')
    .forUpdate()
    .execute();
  return new Map(rows.map((r) => [r.id, BigInt(r.balanceMicros)]));
}

