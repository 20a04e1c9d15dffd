import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { Trx } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { newId } from '../platform/ids.ts';
import { adjustReserved, lockWallet, type WalletKey } from './wallets.repo.ts';
import { chargeWallet, type WalletChargeInput, type WalletChargeResult } from './charge-wallet.ts';
import { moneyText } from '../money/money.ts';

export interface Reservation {
  id: string;
  amountMicros: bigint;
  expiresAt: Date;
}

/**
 * Hold `amountMicros` of usable points for a cause (a live call, a checkout). Fails with `insufficient_points` when
 * usable does not cover it. One hold per cause: holding again for the same cause returns the existing hold.
 */
export async function reservePoints(
  trx: Trx,
  input: { wallet: WalletKey; amountMicros: bigint; useCreditLimit: boolean; causeType: string; causeId: string; ttlSeconds: number },
): Promise<Reservation> {
  assert(input.amountMicros > 0n, 'a reservation is positive');
  assert(input.ttlSeconds > 0 && input.ttlSeconds <= 86_400, 'a reservation lives between 1 s and a day');
  const wallet = await lockWallet(trx, input.wallet);
  const existing = await trx
    .selectFrom('walletReservations').select(['id', 'amountMicros', 'expiresAt', 'status'])
    .where('partnerId', '=', input.wallet.partnerId).where('causeType', '=', input.causeType).where('causeId', '=', input.causeId)
    .executeTakeFirst();
  if (existing) {
    if (existing.status !== 'active') throw new DomainError('reservation_not_active', `The hold for ${input.causeType} ${input.causeId} is already ${existing.status}`);
    return { id: existing.id, amountMicros: BigInt(existing.amountMicros), expiresAt: existing.expiresAt };
  }
  const usable = input.useCreditLimit ? wallet.usableMicros : wallet.pointsMicros - wallet.reservedMicros;
  if (usable < input.amountMicros) {
    throw new DomainError('insufficient_points', `Not enough points to hold ${moneyText(input.amountMicros, input.wallet.currency)}: ${moneyText(usable > 0n ? usable : 0n, input.wallet.currency)} usable`);
  }
  const id = newId('rsv');
  const row = await trx
    .insertInto('walletReservations')
    .values({
      id, ...input.wallet, amountMicros: input.amountMicros.toString(), causeType: input.causeType, causeId: input.causeId,
      expiresAt: sql`now() + make_interval(secs => ${input.ttlSeconds})`, settledEntryId: null, closedAt: null,
    })
    .returning('expiresAt')
    .executeTakeFirstOrThrow();
  await adjustReserved(trx, input.wallet, input.amountMicros);
  return { id, amountMicros: input.amountMicros, expiresAt: row.expiresAt };
}

async function lockActiveReservation(trx: Trx, partnerId: string, reservationId: string) {
  const r = await trx
    .selectFrom('walletReservations').selectAll()
    .where('partnerId', '=', partnerId).where('id', '=', reservationId)
    .forUpdate()
    .executeTakeFirst();
  if (!r) throw new DomainError('not_found', 'Reservation not found');
  if (r.status !== 'active') throw new DomainError('reservation_not_active', `The hold is already ${r.status}`);
  return r;
}

/**
 * Settle a hold with the actual charge (the call ended): the hold is released and the charge posted in one step.
 * The charge may be above the hold if usable covers the difference, and zero (nothing posted) for an unanswered call.
 */
export async function settleReservation(
  trx: Trx,
  input: { partnerId: string; reservationId: string; charge: Omit<WalletChargeInput, 'wallet' | 'releaseReservedMicros'> | null },
): Promise<WalletChargeResult | null> {
  const wallet = await lockWallet(trx, await walletOf(trx, input.partnerId, input.reservationId));
  const r = await lockActiveReservation(trx, input.partnerId, input.reservationId);
  const held = BigInt(r.amountMicros);
  const key = { partnerId: r.partnerId, customerId: r.customerId, currency: r.currency };
  let result: WalletChargeResult | null = null;
  if (input.charge) {
    result = await chargeWallet(trx, { ...input.charge, wallet: key, releaseReservedMicros: held });
  } else {
    assert(wallet.reservedMicros >= held, 'reserved covers the hold');
    await adjustReserved(trx, key, -held);
  }
  await trx
    .updateTable('walletReservations')
    .set({ status: 'settled', closedAt: sql`now()`, settledEntryId: result?.posted.entryId ?? null })
    .where('id', '=', r.id)
    .execute();
  return result;
}

async function walletOf(trx: Trx, partnerId: string, reservationId: string): Promise<WalletKey> {
  const r = await trx.selectFrom('walletReservations').select(['partnerId', 'customerId', 'currency'])
    .where('partnerId', '=', partnerId).where('id', '=', reservationId).executeTakeFirst();
  if (!r) throw new DomainError('not_found', 'Reservation not found');
  return r;
}

/** Give a hold back untouched (the call failed). */
export async function releaseReservation(trx: Trx, input: { partnerId: string; reservationId: string }): Promise<void> {
  const key = await walletOf(trx, input.partnerId, input.reservationId);
  await lockWallet(trx, key);
  const r = await lockActiveReservation(trx, input.partnerId, input.reservationId);
  await adjustReserved(trx, key, -BigInt(r.amountMicros));
  await trx.updateTable('walletReservations').set({ status: 'released', closedAt: sql`now()` }).where('id', '=', r.id).execute();
}

/** Release holds past their expiry, oldest first, at most `batchSize` (the worker runs this periodically). */
export async function expireReservations(trx: Trx, batchSize: number): Promise<number> {
  assert(batchSize > 0 && batchSize <= 10_000, 'bounded batch');
  const due = await trx
    .selectFrom('walletReservations').select(['id', 'partnerId', 'customerId', 'currency'])
    .where('status', '=', 'active').where('expiresAt', '<=', sql<Date>`now()`)
    .orderBy('expiresAt').limit(batchSize)
    .execute();
  let expired = 0;
  for (const d of due) {
    await lockWallet(trx, d);
    const r = await trx.selectFrom('walletReservations').select(['amountMicros', 'status']).where('id', '=', d.id).forUpdate().executeTakeFirstOrThrow();
    if (r.status !== 'active') continue;
    await adjustReserved(trx, d, -BigInt(r.amountMicros));
    await trx.updateTable('walletReservations').set({ status: 'expired', closedAt: sql`now()` }).where('id', '=', d.id).execute();
    expired++;
  }
  return expired;
}
