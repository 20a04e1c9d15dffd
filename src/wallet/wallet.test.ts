import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDb, type TestDb } from '../test/harness.ts';
import { inScope, type Trx } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { checkLedger } from '../ledger/check-ledger.ts';
import { chargeWallet, creditWallet } from './charge-wallet.ts';
import { expireReservations, releaseReservation, reservePoints, settleReservation } from './reservations.ts';
import { readWallet, type WalletKey } from './wallets.repo.ts';

let db: TestDb;
let partnerId: string;
const customers: Record<string, string> = {};
const currencies: Record<string, string> = {};
const SGD = (major: number) => BigInt(Math.round(major * 100)) * 10_000n;

beforeAll(async () => {
  db = await createTestDb();
  partnerId = (await db.owner.db.selectFrom('partners').select('id').where('slug', '=', 'demo-telecom').executeTakeFirstOrThrow()).id;
  for (const c of await db.owner.db.selectFrom('customers').select(['id', 'name', 'currency']).where('partnerId', '=', partnerId).execute()) {
    customers[c.name] = c.id;
    currencies[c.name] = c.currency;
  }
});
afterAll(async () => db.drop());

const tx = <T>(fn: (trx: Trx) => Promise<T>) => inScope(db.app.db, { kind: 'partner', partnerId }, fn);
/** A customer's wallet, in its own currency (a wallet opens only in that: ensureWallet). */
const key = (name: string): WalletKey => ({ partnerId, customerId: customers[name]!, currency: currencies[name]! });

const topUp = (name: string, amountMicros: bigint) =>
  tx((trx) => creditWallet(trx, {
    wallet: key(name), amountMicros,
    entry: { kind: 'top_up', causeType: 'test', causeId: `top_${Math.random()}`, description: 'Top-up', auditEventId: null },
    counterPostings: [{ code: 'card_clearing', amountMicros }],
  }));

const spend = (name: string, amountMicros: bigint, useCreditLimit = false) =>
  tx((trx) => chargeWallet(trx, {
    wallet: key(name), amountMicros, useCreditLimit,
    entry: { kind: 'call_charge', causeType: 'test', causeId: `call_${Math.random()}`, description: 'Call', auditEventId: null },
    counterPostings: [{ code: 'revenue:usage', amountMicros: -amountMicros }, { code: 'cost:usage', amountMicros: amountMicros / 2n }, { code: 'platform_payable', amountMicros: -(amountMicros / 2n) }],
  }));

const wallet = async (name: string) => (await tx((trx) => readWallet(trx, key(name))))!;

describe('points wallet', () => {
  it('spends what is usable and refuses more, writing nothing', async () => {
    await topUp('Acme Pte Ltd', SGD(10));
    const spent = await spend('Acme Pte Ltd', 205_440n);
    expect(spent.pointsAfterMicros).toBe(SGD(10) - 205_440n);
    const entriesBefore = await db.owner.db.selectFrom('journalEntries').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow();
    // Told in points a customer reads (a call's six decimals kept), never in micros.
    await expect(spend('Acme Pte Ltd', SGD(10))).rejects.toMatchObject({ code: 'insufficient_points', message: 'Not enough points: 10.00 SGD needed, 9.79456 SGD usable' });
    const entriesAfter = await db.owner.db.selectFrom('journalEntries').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow();
    expect(entriesAfter.n).toBe(entriesBefore.n);
    expect((await wallet('Acme Pte Ltd')).usableMicros).toBe(SGD(10) - 205_440n);
  });

  it('never goes below zero with 40 charges racing over 8 connections', async () => {
    await topUp('Globex Sdn Bhd', SGD(100));
    const outcomes: Array<'ok' | 'refused'> = [];
    const queue = Array.from({ length: 40 }, () => SGD(7));
    await Promise.all(Array.from({ length: 8 }, async () => {
      for (let amount = queue.pop(); amount !== undefined; amount = queue.pop()) {
        try {
          await spend('Globex Sdn Bhd', amount);
          outcomes.push('ok');
        } catch (err) {
          if (!(err instanceof DomainError) || err.code !== 'insufficient_points') throw err;
          outcomes.push('refused');
        }
      }
    }));
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(14); // 14 x 7 = 98 <= 100 < 105
    const w = await wallet('Globex Sdn Bhd');
    expect(w.pointsMicros).toBe(SGD(2));
    expect(w.usableMicros >= 0n).toBe(true);
    expect(await checkLedger(db.owner.db)).toEqual([]);
  });

  it('a credit limit covers spending only while it lasts', async () => {
    await topUp('Initech Pte Ltd', SGD(1));
    await db.owner.db.updateTable('wallets').set({ creditLimitMicros: SGD(5).toString(), creditLimitExpiresAt: null }).where('customerId', '=', customers['Initech Pte Ltd']!).execute();
    await expect(spend('Initech Pte Ltd', SGD(3))).rejects.toMatchObject({
      code: 'insufficient_points', message: 'Not enough points: 3.00 SGD needed, 1.00 SGD usable without the credit limit, which this charge may not use',
    });
    const used = await spend('Initech Pte Ltd', SGD(3), true);
    expect(used.pointsAfterMicros).toBe(-SGD(2));
    expect((await wallet('Initech Pte Ltd')).usableMicros).toBe(SGD(3));
    await db.owner.db.updateTable('wallets').set({ creditLimitExpiresAt: new Date(Date.now() - 1000) }).where('customerId', '=', customers['Initech Pte Ltd']!).execute();
    await expect(spend('Initech Pte Ltd', 10_000n, true)).rejects.toMatchObject({ code: 'insufficient_points' });
  });

  it('holds points during a call, settles the actual charge, releases or expires holds', async () => {
    const name = 'Acme Pte Ltd';
    const start = (await wallet(name)).pointsMicros;
    const hold = await tx((trx) => reservePoints(trx, { wallet: key(name), amountMicros: SGD(6), useCreditLimit: false, causeType: 'call', causeId: 'call-1', ttlSeconds: 600 }));
    expect((await wallet(name)).usableMicros).toBe(start - SGD(6));
    await expect(spend(name, start - SGD(5))).rejects.toMatchObject({ code: 'insufficient_points' });
    const again = await tx((trx) => reservePoints(trx, { wallet: key(name), amountMicros: SGD(6), useCreditLimit: false, causeType: 'call', causeId: 'call-1', ttlSeconds: 600 }));
    expect(again.id).toBe(hold.id);

    await tx((trx) => settleReservation(trx, {
      partnerId, reservationId: hold.id,
      charge: { amountMicros: 1_234_560n, useCreditLimit: false, entry: { kind: 'call_charge', causeType: 'call', causeId: 'call-1', description: 'Call', auditEventId: null }, counterPostings: [{ code: 'revenue:usage', amountMicros: -1_234_560n }] },
    }));
    let w = await wallet(name);
    expect(w.reservedMicros).toBe(0n);
    expect(w.pointsMicros).toBe(start - 1_234_560n);
    await expect(tx((trx) => releaseReservation(trx, { partnerId, reservationId: hold.id }))).rejects.toMatchObject({ code: 'reservation_not_active' });

    const failed = await tx((trx) => reservePoints(trx, { wallet: key(name), amountMicros: SGD(1), useCreditLimit: false, causeType: 'call', causeId: 'call-2', ttlSeconds: 600 }));
    await tx((trx) => releaseReservation(trx, { partnerId, reservationId: failed.id }));
    const stale = await tx((trx) => reservePoints(trx, { wallet: key(name), amountMicros: SGD(1), useCreditLimit: false, causeType: 'call', causeId: 'call-3', ttlSeconds: 1 }));
    await db.owner.db.updateTable('walletReservations').set({ expiresAt: new Date(Date.now() - 1000) }).where('id', '=', stale.id).execute();
    expect(await tx((trx) => expireReservations(trx, 100))).toBe(1);
    w = await wallet(name);
    expect(w.reservedMicros).toBe(0n);
    expect(w.usableMicros).toBe(start - 1_234_560n);
    expect(await checkLedger(db.owner.db)).toEqual([]);
  });
});
