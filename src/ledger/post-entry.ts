import assert from 'node:assert/strict';
import type { Trx } from '../platform/database.ts';
import { newId } from '../platform/ids.ts';
import { accountKey, CUSTOMER_ACCOUNTS, lockBalances, resolveAccounts, type AccountRef } from './accounts.ts';

export interface PostingInput extends AccountRef {
  /** Positive = debit, negative = credit. Never zero. */
  amountMicros: bigint;
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
  postings: readonly PostingInput[];
}

export interface PostedEntry {
  entryId: string;
  /** Balance of each customer account right after this entry, by `accountKey`. */
  customerBalances: Map<string, bigint>;
}

/**
 * Post one balanced journal entry inside the caller's transaction. The database checks the balance again at
 * commit and keeps account balances; this function asserts it first and records each customer account's
 * balance after the posting, under a row lock on those accounts.
 */
export async function postEntry(trx: Trx, input: EntryInput): Promise<PostedEntry> {
  assert(input.postings.length >= 2, 'an entry needs two or more postings');
  let sum = 0n;
  for (const p of input.postings) {
    assert(p.amountMicros !== 0n, 'a posting is never zero');
    sum += p.amountMicros;
  }
  assert(sum === 0n, 'entry must balance');

  const accounts = await resolveAccounts(trx, input.partnerId, input.currency, input.postings);
  const customerAccountIds = [...new Set(input.postings.filter((p) => CUSTOMER_ACCOUNTS.has(p.code)).map((p) => accounts.get(accountKey(p))!))];
  const balances = await lockBalances(trx, customerAccountIds);

  const entryId = newId('je');
  await trx
    .insertInto('journalEntries')
    .values({
      id: entryId, partnerId: input.partnerId, currency: input.currency, customerId: input.customerId, kind: input.kind,
      causeType: input.causeType, causeId: input.causeId, description: input.description.slice(0, 500),
      reversesEntryId: input.reversesEntryId ?? null, auditEventId: input.auditEventId,
    })
    .execute();

  const customerBalances = new Map<string, bigint>();
  const rows = input.postings.map((p) => {
    const accountId = accounts.get(accountKey(p))!;
    let balanceAfter: bigint | null = null;
    if (CUSTOMER_ACCOUNTS.has(p.code)) {
      balanceAfter = balances.get(accountId)! + p.amountMicros;
      balances.set(accountId, balanceAfter);
      customerBalances.set(accountKey(p), balanceAfter);
    }
    return {
      entryId, partnerId: input.partnerId, currency: input.currency, accountId,
      customerId: CUSTOMER_ACCOUNTS.has(p.code) ? (p.customerId ?? null) : null,
      amountMicros: p.amountMicros.toString(), balanceAfterMicros: balanceAfter === null ? null : balanceAfter.toString(),
    };
  });
  await trx.insertInto('postings').values(rows).execute();
  return { entryId, customerBalances };
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
    .execute();
  return postEntry(trx, {
    partnerId: entry.partnerId, currency: entry.currency, customerId: entry.customerId, kind: meta.kind,
    causeType: entry.causeType, causeId: entry.causeId, description: meta.description, auditEventId: meta.auditEventId,
    reversesEntryId: entry.id,
    postings: postings.map((p) => ({ code: p.code, ...(p.customerId ? { customerId: p.customerId } : {}), amountMicros: -BigInt(p.amountMicros) })),
  });
}
