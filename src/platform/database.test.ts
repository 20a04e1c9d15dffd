import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDb, type TestDb } from '../test/harness.ts';
import { inScope, openDatabase, type Executor } from './database.ts';
import { loadConfig } from './config.ts';

/** The statements this connection holds prepared (pg_prepared_statements is per session). */
async function preparedOn(conn: Executor): Promise<string[]> {
  const { rows } = await sql<{ statement: string }>`select statement from pg_prepared_statements where from_sql = false order by prepare_time`.execute(conn);
  return rows.map((r) => r.statement);
}

describe('statements with parameters are prepared once per connection', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => db.drop());

  it('runs the same text again without preparing it again, with each call’s own values', async () => {
    await db.app.db.connection().execute(async (conn) => {
      const answers: number[] = [];
      for (const n of [1, 2, 3, 40]) {
        const { rows } = await sql<{ twice: number }>`select ${n}::int * 2 as twice`.execute(conn);
        answers.push(rows[0]!.twice);
      }
      expect(answers).toEqual([2, 4, 6, 80]);
      const prepared = await preparedOn(conn);
      expect(prepared.filter((s) => s.includes('* 2 as twice'))).toHaveLength(1);
      // Without parameters a statement stays on the simple protocol (begin, commit, scripts).
      await sql`select 'no parameters' as plain`.execute(conn);
      expect((await preparedOn(conn)).some((s) => s.includes('no parameters'))).toBe(false);
    });
  });

  it('keeps at most 256 prepared per connection; later statements still run (unprepared) and answer right', async () => {
    await db.app.db.connection().execute(async (conn) => {
      for (let i = 0; i < 300; i++) {
        const { rows } = await sql<{ v: string }>`select ${i}::text || ${sql.lit(`-${i}`)} as v`.execute(conn);
        expect(rows[0]!.v).toBe(`${i}-${i}`);
      }
      const prepared = await preparedOn(conn);
      expect(prepared.length).toBeLessThanOrEqual(256);
      expect(prepared.length).toBeGreaterThan(200);
    });
  });

  it('a failing prepared statement fails its transaction only; the next one with good values succeeds', async () => {
    const divide = (trx: Executor, by: number) =>
      sql<{ q: number }>`select 10 / ${by}::int as q`.execute(trx);
    await db.app.db.connection().execute(async (conn) => {
      expect((await divide(conn, 5)).rows[0]!.q).toBe(2);
      await expect(conn.transaction().execute((trx) => divide(trx, 0))).rejects.toThrow(/division by zero/);
      expect((await divide(conn, 2)).rows[0]!.q).toBe(5);
      // A statement PostgreSQL refuses to prepare reports its error each time and leaves the connection usable.
      await expect(sql`select nosuchcolumn from partners where id = ${'x'}`.execute(conn)).rejects.toThrow(/nosuchcolumn/);
      await expect(sql`select nosuchcolumn from partners where id = ${'x'}`.execute(conn)).rejects.toThrow(/nosuchcolumn/);
      expect((await divide(conn, 1)).rows[0]!.q).toBe(10);
    });
  });

  it('row-level security still follows each transaction’s scope when the plan is reused', async () => {
    const partners = await db.owner.db.selectFrom('partners').select('id').orderBy('id').limit(2).execute();
    expect(partners.length).toBe(2);
    const seen: string[][] = [];
    for (let round = 0; round < 8; round++) {
      // Alternate partners many times on the same pool: a generic plan must not carry one partner's rows to another.
      const partnerId = partners[round % 2]!.id;
      const ids: string[] = await inScope(db.app.db, { kind: 'partner', partnerId }, async (trx) =>
        (await trx.selectFrom('customers').select('partnerId').where('partnerId', 'in', [partners[0]!.id, partners[1]!.id]).execute()).map((r) => r.partnerId));
      seen.push([...new Set(ids)]);
    }
    // Each round saw its own partner's customers, and only those.
    expect(seen).toEqual(Array.from({ length: 8 }, (_, round) => [partners[round % 2]!.id]));
  });
});

describe('prepareStatements: false (behind a transaction-pooling proxy)', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => db.drop());

  it('prepares nothing and answers the same', async () => {
    const plain = openDatabase(db.url, { appRole: true, max: 1, prepareStatements: false });
    try {
      await plain.db.connection().execute(async (conn) => {
        for (const n of [1, 2, 3, 4, 5, 6]) expect((await sql<{ twice: number }>`select ${n}::int * 2 as twice`.execute(conn)).rows[0]!.twice).toBe(n * 2);
        expect(await preparedOn(conn)).toEqual([]);
      });
    } finally {
      await plain.close();
    }
    expect(loadConfig({ FOLIO_DB_PREPARE_STATEMENTS: 'false' }).prepareStatements).toBe(false);
    expect(loadConfig({}).prepareStatements).toBe(true);
  });
});
