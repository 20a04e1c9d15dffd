import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sql } from 'kysely';
import { createTestDb, type TestDb } from '../test/harness.ts';
import { pgArray, type PgArray } from './pg-array.ts';

describe('pgArray: a PostgreSQL array literal PostgreSQL reads back as the same values', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => db.drop());

  const roundTrip = async (literal: PgArray, type: 'text' | 'bigint' | 'int') => {
    const { rows } = await sql<{ a: Array<string | null> }>`select ${literal}::text[]::${sql.raw(type)}[]::text[] as a`.execute(db.owner.db);
    return rows[0]!.a;
  };

  it('keeps any text, quotes, backslashes, braces, commas, spaces, empty strings, the word NULL and real NULLs', async () => {
    const tricky = ['', 'NULL', 'null', ' ', ' a ', 'a,b', '{x}', '"', '\\', '\\"', 'a"b\\c', 'é😀', '\t\n', 'Call to +65 6222 3333, 60 s', null];
    expect(await roundTrip(pgArray(tricky), 'text')).toEqual(tricky);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.option(fc.string({ unit: 'binary', maxLength: 30 }).map((s) => s.replace(/\0/g, '')), { nil: null }), { maxLength: 40 }), async (values) => {
        expect(await roundTrip(pgArray(values), 'text')).toEqual(values);
      }),
      { numRuns: 100 },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ maxLength: 12 }).filter((s) => !s.includes('"') && !s.includes('\\')), { minLength: 1, maxLength: 40 }), async (values) => {
        expect(await roundTrip(pgArray(values), 'text')).toEqual(values);
      }),
      { numRuns: 50 },
    );
  });

  it('writes numbers and bigints bare, past 2^53, and an empty array as {}', async () => {
    const big = [0n, -1n, 9_007_199_254_740_993n, -9_223_372_036_854_775_808n, 9_223_372_036_854_775_807n];
    expect(await roundTrip(pgArray(big), 'bigint')).toEqual(big.map(String));
    expect(await roundTrip(pgArray([1, -2, 86_400, null]), 'int')).toEqual(['1', '-2', '86400', null]);
    expect(pgArray([])).toMatchObject({ literal: '{}', length: 0 });
    expect(pgArray(['a', null, 1n])).toMatchObject({ literal: '{"a",NULL,1}', length: 3 });
    expect(pgArray(['a', 'b c', ''])).toMatchObject({ literal: '{"a","b c",""}', length: 3 });
    expect(pgArray([1, 2n, -3])).toMatchObject({ literal: '{1,2,-3}', length: 3 });
    expect(pgArray(['only'])).toMatchObject({ literal: '{"only"}', length: 1 });
    expect(pgArray([7n])).toMatchObject({ literal: '{7}', length: 1 });
    expect(await roundTrip(pgArray(['only']), 'text')).toEqual(['only']);
    expect(await roundTrip(pgArray([-5]), 'int')).toEqual(['-5']);
    expect(await roundTrip(pgArray(['cus_1', 'NULL', '']), 'text')).toEqual(['cus_1', 'NULL', '']);
    expect(await roundTrip(pgArray([]), 'text')).toEqual([]);
  });

  it('refuses a number that is not finite instead of sending NaN', () => {
    expect(() => pgArray([1, Number.NaN])).toThrow(/not a number/);
    expect(() => pgArray([Number.POSITIVE_INFINITY])).toThrow(/not a number/);
  });
});
