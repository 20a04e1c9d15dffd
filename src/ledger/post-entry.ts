import assert from 'node:assert/strict';
import { sql, type RawBuilder } from 'kysely';
import type { Trx } from '../platform/database.ts';
import { newId } from '../platform/ids.ts';
import { pgArray, type PgArray } from '../platform/pg-array.ts';
import { CUSTOMER_ACCOUNTS, resolveAndLockAccounts, type AccountRef } from './accounts.ts';

export interface PostingInput extends AccountRef {
  /** Positive = debit, negative = credit. Never zero. */
  amountMicros: bigint;
  /**
   * What the customer's transactions feed shows for this posting, when it differs from the entry's (one entry of a
   * call batch holds one points posting per call). Kept on customer postings only; defaults to the entry's.
   */
  feed?: { kind?: string; description: string; causeType: string; causeId: string };
}

export interface EntryInput {
  partnerId: string;
  currency: string;
  /** The customer organisation the entry concerns, if any. */
  customerId: string | null;
  kind: string;
  /** What caused it: a top-up, a call, a renewal, a payment, a credit note ... */
  causeType: string;
  causeId: string;
  description: string;
  auditEventId: string | null;
  reversesEntryId?: string;
  /** Pre-assigned id, when a row written before the entry must point to it. */
  entryId?: string;
  postings: readonly PostingInput[];
}

export interface PostedEntry {
  entryId: string;
  /** Balance of each customer account right after this entry, by `accountKey` (empty when `balancesAfter: false`). */
  customerBalances: Map<string, bigint>;
}

function assertBalanced(input: EntryInput): void {
  assert(input.postings.length >= 2, 'an entry needs two or more postings');
  let sum = 0n;
  for (const p of input.postings) {
    assert(p.amountMicros !== 0n, 'a posting is never zero');
    sum += p.amountMicros;
  }
  assert(sum === 0n, 'entry must balance');
}

/**
 * Post journal entries of one partner and currency inside the caller's transaction, in order. Each is asserted to
 * balance first; the database checks every entry again at commit and keeps account balances. Customer accounts are
 * locked and each of their postings records the balance right after it.
 */
export async function postEntries(trx: Trx, inputs: readonly EntryInput[], options: PostOptions = {}): Promise<PostedEntry[]> {
  if (inputs.length === 0) return [];
  const written = await entryWrites(trx, inputs, options);
  // One statement whatever the size: the entries first (a data-modifying CTE), then the postings. The CTE runs to
  // completion, and the postings' statement trigger (references, balances) runs after the whole statement and finds the entries.
  await sql`with entries as (${written.entries}) ${written.postings}`.execute(trx);
  return written.posted;
}

export interface PostOptions {
  /** Balances of customer accounts the caller has already locked in this transaction (by account id): saves the lock read. */
  lockedBalances?: ReadonlyMap<string, bigint>;
  /**
   * Ids of accounts (by `accountKey`) the caller has read in this transaction, of this partner and currency: saves
   * the accounts' lookup. The database still checks every posting's account (partner, currency) at insert.
   */
  accountIds?: ReadonlyMap<string, string>;
  /**
   * False: each posted entry's `customerBalances` is left empty, for a caller that reads none of them (a call batch's
   * entry has a points posting per call: a map of thousands of balances built for no one). The postings still record
   * each balance after.
   */
  balancesAfter?: boolean;
}

/**
 * What `postEntries` writes, as two data-modifying statements for a caller that writes them inside its own statement
 * (`with x as (...), e as (${entries}), p as (${postings}) select ...`): every check `postEntries` makes is made
 * here, or by the database at the end of that statement and at commit. Accounts are resolved (and customer accounts
 * locked) now, in the caller's transaction; nothing is written until the caller runs the statement.
 */
export async function entryWrites(trx: Trx, inputs: readonly EntryInput[], options: PostOptions = {}): Promise<{
  posted: PostedEntry[]; entries: RawBuilder<unknown>; postings: RawBuilder<unknown>;
  /** The postings' balances after (null for the partner's accounts), as computed here and as sent: `param` is the very
   * parameter of `postings` that carries them, for a caller that computed them from stand-in balances and sends the
   * statement with the real ones in its place (`writeCharge` in src/usage/ingest-calls.ts). */
  balancesAfter: { param: PgArray; accountIds: readonly string[]; values: ReadonlyArray<bigint | null> };
}> {
  assert(inputs.length > 0, 'entries to write');
  const { partnerId, currency } = inputs[0]!;
  for (const input of inputs) {
    assert(input.partnerId === partnerId && input.currency === currency, 'one partner and currency per call');
    assertBalanced(input);
  }
  // The accounts' ids and the customer accounts' balances, locked: looked up and locked in one statement.
  const { ids: accounts, balances, keys } = await resolveAndLockAccounts(trx, partnerId, currency, inputs.flatMap((i) => i.postings),
    { known: options.accountIds, lockedBalances: options.lockedBalances });
  const keepBalancesAfter = options.balancesAfter !== false;
  let posting = 0;

  const entries = { id: [] as string[], customerId: [] as Array<string | null>, kind: [] as string[], causeType: [] as string[], causeId: [] as string[], description: [] as string[], reverses: [] as Array<string | null>, audit: [] as Array<string | null> };
  const rows = { entryId: [] as string[], accountId: [] as string[], customerId: [] as Array<string | null>, amount: [] as bigint[], balanceAfter: [] as Array<bigint | null>, kind: [] as Array<string | null>, description: [] as Array<string | null>, causeType: [] as Array<string | null>, causeId: [] as Array<string | null> };
  const posted: PostedEntry[] = [];
  for (const input of inputs) {
    const entryId = input.entryId ?? newId('je');
    const description = input.description.slice(0, 500);
    entries.id.push(entryId);
    entries.customerId.push(input.customerId);
    entries.kind.push(input.kind);
    entries.causeType.push(input.causeType);
    entries.causeId.push(input.causeId);
    entries.description.push(description);
    entries.reverses.push(input.reversesEntryId ?? null);
    entries.audit.push(input.auditEventId);
    const customerBalances = new Map<string, bigint>();
    for (const p of input.postings) {
      const key = keys[posting++]!;
      const accountId = accounts.get(key)!;
      const isCustomer = CUSTOMER_ACCOUNTS.has(p.code);
      rows.entryId.push(entryId);
      rows.accountId.push(accountId);
      rows.amount.push(p.amountMicros);
      if (isCustomer) {
        const balanceAfter = balances.get(accountId)! + p.amountMicros;
        balances.set(accountId, balanceAfter);
        if (keepBalancesAfter) customerBalances.set(key, balanceAfter);
        rows.customerId.push(p.customerId ?? null);
        rows.balanceAfter.push(balanceAfter);
        rows.kind.push(p.feed?.kind ?? input.kind);
        rows.description.push(p.feed ? p.feed.description.slice(0, 500) : description);
        rows.causeType.push(p.feed?.causeType ?? input.causeType);
        rows.causeId.push(p.feed?.causeId ?? input.causeId);
      } else {
        rows.customerId.push(null);
        rows.balanceAfter.push(null);
        rows.kind.push(null);
        rows.description.push(null);
        rows.causeType.push(null);
        rows.causeId.push(null);
      }
    }
    posted.push({ entryId, customerBalances });
  }
  assert(posting === keys.length, 'every posting took its own account key');
  const balanceAfterParam = pgArray(rows.balanceAfter);
  // Arrays unnested by the server (one parameter per column, not per value); postings in input order, so posting ids
  // follow the order the balances after were computed in.
  return {
    posted,
    entries: sql`
      insert into journal_entries (id, partner_id, currency, customer_id, kind, cause_type, cause_id, description, reverses_entry_id, audit_event_id)
      select id, ${partnerId}, ${currency}, customer_id, kind, cause_type, cause_id, description, reverses, audit
        from unnest(${pgArray(entries.id)}::text[], ${pgArray(entries.customerId)}::text[], ${pgArray(entries.kind)}::text[], ${pgArray(entries.causeType)}::text[],
                    ${pgArray(entries.causeId)}::text[], ${pgArray(entries.description)}::text[], ${pgArray(entries.reverses)}::text[], ${pgArray(entries.audit)}::text[])
          with ordinality as e(id, customer_id, kind, cause_type, cause_id, description, reverses, audit, ord)
        order by ord`,
    postings: sql`
      insert into postings (entry_id, partner_id, currency, account_id, customer_id, amount_micros, balance_after_micros, kind, description, cause_type, cause_id)
      select entry_id, ${partnerId}, ${currency}, account_id, customer_id, amount, balance_after, kind, description, cause_type, cause_id
        from unnest(${pgArray(rows.entryId)}::text[], ${pgArray(rows.accountId)}::text[], ${pgArray(rows.customerId)}::text[], ${pgArray(rows.amount)}::bigint[],
                    ${balanceAfterParam}::bigint[], ${pgArray(rows.kind)}::text[], ${pgArray(rows.description)}::text[], ${pgArray(rows.causeType)}::text[], ${pgArray(rows.causeId)}::text[])
          with ordinality as p(entry_id, account_id, customer_id, amount, balance_after, kind, description, cause_type, cause_id, ord)
        order by ord`,
    balancesAfter: { param: balanceAfterParam, accountIds: rows.accountId, values: rows.balanceAfter },
  };
}

/** Post one balanced journal entry inside the caller's transaction. */
export async function postEntry(trx: Trx, input: EntryInput): Promise<PostedEntry> {
  const [posted] = await postEntries(trx, [input]);
  return posted!;
}

/** The exact mirror of an entry, as a new entry pointing to it. An entry is reversed at most once. */
export async function reverseEntry(trx: Trx, entryId: string, meta: { kind: string; description: string; auditEventId: string | null }): Promise<PostedEntry> {
  const entry = await trx.selectFrom('journalEntries').selectAll().where('id', '=', entryId).executeTakeFirstOrThrow();
  const postings = await trx
    .selectFrom('postings as p')
    .innerJoin('ledgerAccounts as a', 'a.id', 'p.accountId')
    .select(['a.code', 'a.customerId', 'p.amountMicros'])
    .where('p.entryId', '=', entryId)
    .where('p.partnerId', '=', entry.partnerId)
    .orderBy('p.id')
    .execute();
  return postEntry(trx, {
    partnerId: entry.partnerId, currency: entry.currency, customerId: entry.customerId, kind: meta.kind,
    causeType: entry.causeType, causeId: entry.causeId, description: meta.description, auditEventId: meta.auditEventId,
    reversesEntryId: entry.id,
    postings: postings.map((p) => ({ code: p.code, ...(p.customerId ? { customerId: p.customerId } : {}), amountMicros: -BigInt(p.amountMicros) })),
  });
}
