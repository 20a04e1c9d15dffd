import { sql } from 'kysely';
import type { Trx } from '../platform/database.ts';
import { resolveAccounts } from '../ledger/accounts.ts';

/**
 * A customer's points wallet in one currency. Points are the `points:{c}` liability account read as a positive number.
 * Usable = points - reserved + effective credit limit (a temporary limit counts until it expires).
 */
export interface WalletState {
  partnerId: string;
  customerId: string;
  currency: string;
  pointsAccountId: string;
  pointsMicros: bigint;
  reservedMicros: bigint;
  creditLimitMicros: bigint;
  creditLimitExpiresAt: Date | null;
  usableMicros: bigint;
}

export interface WalletKey {
  partnerId: string;
  customerId: string;
  currency: string;
}

/** Open the wallet (and its points account) if it does not exist yet. */
export async function ensureWallet(trx: Trx, key: WalletKey): Promise<void> {
  const existing = await trx
    .selectFrom('wallets').select('pointsAccountId')
    .where('partnerId', '=', key.partnerId).where('customerId', '=', key.customerId).where('currency', '=', key.currency)
    .executeTakeFirst();
  if (existing) return;
  const accounts = await resolveAccounts(trx, key.partnerId, key.currency, [{ code: 'points', customerId: key.customerId }]);
  await trx
    .insertInto('wallets')
    .values({ ...key, pointsAccountId: accounts.get(`points|${key.customerId}`)!, creditLimitExpiresAt: null, updatedAt: new Date() })
    .onConflict((oc) => oc.doNothing())
    .execute();
}

function toState(row: {
  partnerId: string; customerId: string; currency: string; pointsAccountId: string; balanceMicros: string;
  reservedMicros: string; creditLimitMicros: string; creditLimitExpiresAt: Date | null;
}, now: Date): WalletState {
  const pointsMicros = -BigInt(row.balanceMicros);
  const reservedMicros = BigInt(row.reservedMicros);
  const limitActive = row.creditLimitExpiresAt === null || row.creditLimitExpiresAt > now;
  const creditLimitMicros = limitActive ? BigInt(row.creditLimitMicros) : 0n;
  return {
    partnerId: row.partnerId, customerId: row.customerId, currency: row.currency, pointsAccountId: row.pointsAccountId,
    pointsMicros, reservedMicros, creditLimitMicros, creditLimitExpiresAt: row.creditLimitExpiresAt,
    usableMicros: pointsMicros - reservedMicros + creditLimitMicros,
  };
}

function walletQuery(trx: Trx, key: WalletKey) {
  return trx
    .selectFrom('wallets as w')
    .innerJoin('ledgerAccounts as a', 'a.id', 'w.pointsAccountId')
    .select(['w.partnerId', 'w.customerId', 'w.currency', 'w.pointsAccountId', 'a.balanceMicros', 'w.reservedMicros', 'w.creditLimitMicros', 'w.creditLimitExpiresAt'])
    .where('w.partnerId', '=', key.partnerId)
    .where('w.customerId', '=', key.customerId)
    .where('w.currency', '=', key.currency);
}

/**
 * Lock the wallet and its points account for the rest of the transaction and read them: every spend, reservation
 * and limit change goes through here, so concurrent requests queue on the row and usable never goes below zero.
 */
export async function lockWallet(trx: Trx, key: WalletKey): Promise<WalletState> {
  await ensureWallet(trx, key);
  const row = await walletQuery(trx, key).forUpdate().executeTakeFirstOrThrow();
  const { rows } = await sql<{ now: Date }>`select now() as now`.execute(trx);
  return toState(row, rows[0]!.now);
}

/** Read without locking (for display). Null when the customer never had a wallet in that currency. */
export async function readWallet(trx: Trx, key: WalletKey): Promise<WalletState | null> {
  const row = await walletQuery(trx, key).executeTakeFirst();
  return row ? toState(row, new Date()) : null;
}

/** Change the reserved amount of a locked wallet by `deltaMicros` (positive to hold, negative to release). */
export async function adjustReserved(trx: Trx, key: WalletKey, deltaMicros: bigint): Promise<void> {
  await trx
    .updateTable('wallets')
    .set({ reservedMicros: sql`reserved_micros + ${deltaMicros.toString()}::bigint`, updatedAt: sql`now()` })
    .where('partnerId', '=', key.partnerId).where('customerId', '=', key.customerId).where('currency', '=', key.currency)
    .execute();
}
