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
  /** Pre-assigned id, when a row written before the entry must point to it. */
  entryId?: string;
  postings: readonly PostingInput[];
}

export interface PostedEntry {
  entryId: string;
  /** Balance of each customer account right after this entry, by `accountKey`. */
  customerBalances: Map<string, bigint>;
}

/** Rows per INSERT statement when posting in bulk. */
const CHUNK_ROWS = 2000;

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
export async function postEntries(trx: Trx, inputs: readonly EntryInput[]): Promise<PostedEntry[]> {
  if (inputs.length === 0) return [];
  const { partnerId, currency } = inputs[0]!;
  for (const input of inputs) {
    assert(input.partnerId === partnerId && input.currency === currency, 'one partner and currency per call');
    assertBalanced(input);
  }
  const accounts = await resolveAccounts(trx, partnerId, currency, inputs.flatMap((i) => i.postings));
  const customerAccountIds = new Set<string>();
  for (const input of inputs) {
    for (const p of input.postings) if (CUSTOMER_ACCOUNTS.has(p.code)) customerAccountIds.add(accounts.get(accountKey(p))!);
  }
  const balances = await lockBalances(trx, [...customerAccountIds]);

  const entryRows = [];
  const postingRows = [];
  const posted: PostedEntry[] = [];
  for (const input of inputs) {
    const entryId = input.entryId ?? newId('je');
    entryRows.push({
      id: entryId, partnerId, currency, customerId: input.customerId, kind: input.kind, causeType: input.causeType, causeId: input.causeId,
      description: input.description.slice(0, 500), reversesEntryId: input.reversesEntryId ?? null, auditEventId: input.auditEventId,
    });
    const customerBalances = new Map<string, bigint>();
    for (const p of input.postings) {
      const accountId = accounts.get(accountKey(p))!;
      const isCustomer = CUSTOMER_ACCOUNTS.has(p.code);
      let balanceAfter: bigint | null = null;
      if (isCustomer) {
        balanceAfter = balances.get(accountId)! + p.amountMicros;
        balances.set(accountId, balanceAfter);
        customerBalances.set(accountKey(p), balanceAfter);
      }
      postingRows.push({
        entryId, partnerId, currency, accountId, customerId: isCustomer ? (p.customerId ?? null) : null,
        amountMicros: p.amountMicros.toString(), balanceAfterMicros: balanceAfter === null ? null : balanceAfter.toString(),
      });
    }
    posted.push({ entryId, customerBalances });
  }
  for (let i = 0; i < entryRows.length; i += CHUNK_ROWS) await trx.insertInto('journalEntries').values(entryRows.slice(i, i + CHUNK_ROWS)).execute();
  for (let i = 0; i < postingRows.length; i += CHUNK_ROWS) await trx.insertInto('postings').values(postingRows.slice(i, i + CHUNK_ROWS)).execute();
  return posted;
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
