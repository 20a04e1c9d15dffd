import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sql } from 'kysely';
import { openDatabase } from '../platform/database.ts';
import { createEmptyTestDb, createTestDb, type TestDb } from '../test/harness.ts';
import { transactionIds, transactionIdsWith } from './transaction-ids.ts';

const MAX_POSTING_ID = 2n ** 63n - 1n;
const postingNumber = fc.bigInt({ min: 0n, max: MAX_POSTING_ID }).map(String);
const key = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');

describe('transaction ids', () => {
  it('name every posting number by an id that gives the same number back, one id per number', () => {
    const ids = transactionIdsWith(key);
    fc.assert(fc.property(fc.array(postingNumber, { minLength: 1, maxLength: 50 }), (numbers) => {
      const named = ids.idsOf(numbers);
      expect(named).toHaveLength(numbers.length);
      named.forEach((id, i) => {
        expect(id).toMatch(/^txn_[A-Za-z0-9_-]{22}$/);
        expect(ids.postingIdOf(id)).toBe(numbers[i]);
        expect(ids.idsOf([numbers[i]!])).toEqual([id]); // the same id alone as in a page
      });
      expect(new Set(named).size).toBe(new Set(numbers).size);
    }));
  });

  it('show neither the number nor the order nor the distance of postings', () => {
    const ids = transactionIdsWith(key);
    const numbers = Array.from({ length: 1_000 }, (_, i) => String(10_234_567 + i));
    const named = ids.idsOf(numbers);
    expect(named.some((id, i) => id.includes(numbers[i]!))).toBe(false);
    // Sorted as text, the ids of consecutive postings come in another order (1/1000! that they would not).
    expect([...named].sort()).not.toEqual(named);
    // Two neighbours differ all over, not in their last characters.
    const differing = [...named[0]!].filter((c, i) => named[1]![i] !== c).length;
    expect(differing).toBeGreaterThan(10);
  });

  it('refuse what they did not write: other shapes, other keys, changed characters, the old plain numbers', () => {
    const ids = transactionIdsWith(key);
    const other = transactionIdsWith(Buffer.alloc(16, 9));
    fc.assert(fc.property(postingNumber, (n) => {
      const [id] = ids.idsOf([n]);
      expect(other.postingIdOf(id!)).toBeNull();
      expect(other.idsOf([n])[0]).not.toBe(id);
    }), { numRuns: 200 });
    fc.assert(fc.property(fc.string({ maxLength: 40 }), (text) => {
      // A random text is a cursor only with a chance of 2^-64: none in these runs.
      expect(ids.postingIdOf(text)).toBeNull();
      expect(ids.postingIdOf(`txn_${text}`)).toBeNull();
    }), { numRuns: 500 });
    const [id] = ids.idsOf(['42']);
    for (let at = 4; at < id!.length; at++) {
      const changed = `${id!.slice(0, at)}${id![at] === 'A' ? 'B' : 'A'}${id!.slice(at + 1)}`;
      expect(ids.postingIdOf(changed), changed).toBeNull();
    }
    for (const old of ['txn_000000000042', 'txn_42', 'txn_9223372036854775807', '42', '']) expect(ids.postingIdOf(old)).toBeNull();
    expect(() => transactionIdsWith(Buffer.alloc(15))).toThrow();
  });
});

describe('the platform key', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => db.drop());

  it('is one per database, the same for every handle, readable by the app and written by no one but the migration', async () => {
    const ids = await transactionIds(db.app.db);
    const second = openDatabase(db.url, { appRole: true, max: 1 });
    try {
      const again = await transactionIds(second.db);
      expect(again).not.toBe(ids);
      expect(again.idsOf(['1', '2', '3'])).toEqual(ids.idsOf(['1', '2', '3']));
    } finally {
      await second.close();
    }
    const { rows } = await sql<{ n: string }>`select count(*)::text as n from platform_keys`.execute(db.owner.db);
    expect(rows[0]!.n).toBe('1');
    await expect(sql`update platform_keys set key = ${Buffer.alloc(16)}`.execute(db.app.db)).rejects.toThrow(/permission denied/);
    await expect(sql`insert into platform_keys (name, key) values ('x', ${Buffer.alloc(16)})`.execute(db.app.db)).rejects.toThrow(/permission denied/);
    await expect(sql`delete from platform_keys`.execute(db.app.db)).rejects.toThrow(/permission denied/);
  });

  it('differs between databases: each migration draws its own', async () => {
    // (Test databases are copies of one migrated template, so a fresh migration stands for another server here.)
    const other = await createEmptyTestDb('txnkey');
    try {
      expect((await transactionIds(other.app.db)).idsOf(['1'])).not.toEqual((await transactionIds(db.app.db)).idsOf(['1']));
    } finally {
      await other.drop();
    }
  });
});
