import assert from 'node:assert/strict';
import type { Trx } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { moneyText } from '../money/money.ts';
import { postEntry, type EntryInput, type PostedEntry, type PostingInput } from '../ledger/post-entry.ts';
import { lockWallet, type WalletKey, type WalletState } from './wallets.repo.ts';

export interface WalletChargeInput {
  wallet: WalletKey;
  /** What leaves the customer's points; positive. */
  amountMicros: bigint;
  /** Whether the credit limit may cover what the points do not (calls: the partner's choice; purchases: yes). */
  useCreditLimit: boolean;
  /** Also spend this much of the wallet's current reservation (a call ending): it is released in the same step. */
  releaseReservedMicros?: bigint;
  entry: Omit<EntryInput, 'partnerId' | 'currency' | 'customerId' | 'postings'>;
  /** The other side of the entry: credits (negative) summing to -amountMicros, plus any balanced extra pairs (cost of sales). */
  counterPostings: readonly PostingInput[];
}

export interface WalletChargeResult {
  posted: PostedEntry;
  before: WalletState;
  pointsAfterMicros: bigint;
}

/**
 * Spend a customer's points: lock the wallet, check usable covers the amount, post the entry — one step inside the
 * caller's transaction, so two charges at the same moment can never take usable below zero.
 */
export async function chargeWallet(trx: Trx, input: WalletChargeInput): Promise<WalletChargeResult> {
  assert(input.amountMicros > 0n, 'a wallet charge is positive');
  const release = input.releaseReservedMicros ?? 0n;
  assert(release >= 0n, 'release is not negative');
  const before = await lockWallet(trx, input.wallet);
  assert(release <= before.reservedMicros, 'cannot release more than is reserved');
  const available = before.pointsMicros - (before.reservedMicros - release) + (input.useCreditLimit ? before.creditLimitMicros : 0n);
  if (available < input.amountMicros) {
    // A charge that may not use the credit limit (a partner's rate plan that rejects calls beyond the points) says so: the
    // wallet's own "usable" counts the limit, and would otherwise contradict this answer.
    const withoutLimit = !input.useCreditLimit && before.creditLimitMicros > 0n ? ' without the credit limit, which this charge may not use' : '';
    throw new DomainError('insufficient_points', `Not enough points: ${moneyText(input.amountMicros, input.wallet.currency)} needed, ${moneyText(available > 0n ? available : 0n, input.wallet.currency)} usable${withoutLimit}`);
  }
  if (release > 0n) {
    await trx
      .updateTable('wallets')
      .set((eb) => ({ reservedMicros: eb('reservedMicros', '-', release.toString()), updatedAt: new Date() }))
      .where('partnerId', '=', input.wallet.partnerId).where('customerId', '=', input.wallet.customerId).where('currency', '=', input.wallet.currency)
      .execute();
  }
  const posted = await postEntry(trx, {
    ...input.entry,
    partnerId: input.wallet.partnerId,
    currency: input.wallet.currency,
    customerId: input.wallet.customerId,
    postings: [{ code: 'points', customerId: input.wallet.customerId, amountMicros: input.amountMicros }, ...input.counterPostings],
  });
  const pointsAfterMicros = -posted.customerBalances.get(`points|${input.wallet.customerId}`)!;
  assert(pointsAfterMicros === before.pointsMicros - input.amountMicros, 'points moved by exactly the charge');
  return { posted, before, pointsAfterMicros };
}

/** Credit a customer's points (top-up, credit note to points, goodwill): opens the wallet if needed and posts. */
export async function creditWallet(
  trx: Trx,
  input: { wallet: WalletKey; amountMicros: bigint; entry: WalletChargeInput['entry']; counterPostings: readonly PostingInput[] },
): Promise<{ posted: PostedEntry; pointsAfterMicros: bigint }> {
  assert(input.amountMicros > 0n, 'a wallet credit is positive');
  await lockWallet(trx, input.wallet);
  const posted = await postEntry(trx, {
    ...input.entry,
    partnerId: input.wallet.partnerId,
    currency: input.wallet.currency,
    customerId: input.wallet.customerId,
    postings: [...input.counterPostings, { code: 'points', customerId: input.wallet.customerId, amountMicros: -input.amountMicros }],
  });
  return { posted, pointsAfterMicros: -posted.customerBalances.get(`points|${input.wallet.customerId}`)! };
}

