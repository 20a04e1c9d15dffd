import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import pg from 'pg';
import { createTestDb, wireRecordedPool, type TestDb } from '../test/harness.ts';
import { ANY_ARRAY_SIZE_MARK, inScope, openDatabase, readInScope, type Executor } from './database.ts';
import { loadConfig } from './config.ts';
import { newId } from './ids.ts';
import { pgArray } from './pg-array.ts';

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

  it('plans a batch (an array of more than 100 values) for its own values each time: never prepared, always a custom plan', async () => {
    await db.app.db.connection().execute(async (conn) => {
      const count = (ids: string[]) => sql<{ n: number }>`select count(*)::int as n from unnest(${ids}::text[]) as batch_ids(id) where id like 'b%'`.execute(conn);
      const big = Array.from({ length: 101 }, (_, i) => `b${i}`);
      expect((await count(big)).rows[0]!.n).toBe(101);
      expect((await preparedOn(conn)).some((s) => s.includes('batch_ids'))).toBe(false);
      // Each run of the batch is planned anew: PostgreSQL's generic plan (after 5 runs of a prepared statement) never applies.
      for (let i = 0; i < 6; i++) expect((await count(big)).rows[0]!.n).toBe(101);
      expect((await preparedOn(conn)).some((s) => s.includes('batch_ids'))).toBe(false);
      // The same text with a small array is prepared as usual.
      expect((await count(['b1', 'x2', 'b3'])).rows[0]!.n).toBe(2);
      expect((await preparedOn(conn)).filter((s) => s.includes('batch_ids'))).toHaveLength(1);
    });
  });

  it('the same for an array sent as a literal (pgArray): more than 100 values never prepared, a small one prepared', async () => {
    await db.app.db.connection().execute(async (conn) => {
      const count = (ids: string[]) => sql<{ n: number }>`select count(*)::int as n from unnest(${pgArray(ids)}::text[]) as literal_ids(id) where id like 'b%'`.execute(conn);
      const big = Array.from({ length: 101 }, (_, i) => `b${i}`);
      for (let i = 0; i < 7; i++) expect((await count(big)).rows[0]!.n).toBe(101);
      expect((await preparedOn(conn)).some((s) => s.includes('literal_ids'))).toBe(false);
      expect((await count(['b1', 'x2', 'b3'])).rows[0]!.n).toBe(2);
      expect((await preparedOn(conn)).filter((s) => s.includes('literal_ids'))).toHaveLength(1);
    });
  });

  it('prepares a statement that starts with ANY_ARRAY_SIZE_MARK whatever the size of its arrays, with each run’s own values', async () => {
    await db.app.db.connection().execute(async (conn) => {
      const count = (ids: string[]) => sql<{ n: number }>`${sql.raw(ANY_ARRAY_SIZE_MARK)} select count(*)::int as n from unnest(${pgArray(ids)}::text[]) as marked_ids(id) where id like 'b%'`.execute(conn);
      const big = Array.from({ length: 101 }, (_, i) => `b${i}`);
      expect((await count(big)).rows[0]!.n).toBe(101);
      expect((await preparedOn(conn)).filter((s) => s.includes('marked_ids'))).toHaveLength(1);
      expect((await count([...big, 'x1', 'b101'])).rows[0]!.n).toBe(102);
      expect((await count(['b1', 'x2'])).rows[0]!.n).toBe(1);
      expect((await preparedOn(conn)).filter((s) => s.includes('marked_ids'))).toHaveLength(1);
      // The mark only counts at the start: the same words elsewhere leave a batch unprepared, as any other.
      await sql<{ n: number }>`select count(*)::int as n from unnest(${pgArray(big)}::text[]) as unmarked_ids(id) where id <> ${ANY_ARRAY_SIZE_MARK}`.execute(conn);
      expect((await preparedOn(conn)).some((s) => s.includes('unmarked_ids'))).toBe(false);
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

  it('sorts ids as the code made them, within a millisecond too (the database’s collation orders them as JavaScript does)', async () => {
    const ids = Array.from({ length: 2_000 }, () => newId('evt'));
    expect(new Set(ids.map((id) => id.slice(4, 14))).size).toBeLessThan(ids.length);
    const shuffled = [...ids].sort(() => Math.random() - 0.5);
    const { rows } = await sql<{ id: string }>`select id from unnest(${shuffled}::text[]) as made(id) order by id`.execute(db.app.db);
    expect(rows.map((r) => r.id)).toEqual(ids);
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
      // One-round-trip reads send their statement whole: nothing prepared by SQL either.
      for (const n of [1, 2, 3, 4, 5, 6]) {
        expect(await readInScope(plain.db, { kind: 'partner', partnerId: 'ptn_plain' }, sql<{ twice: number }>`select ${n}::int * 2 as twice`)).toEqual([{ twice: n * 2 }]);
      }
      expect((await sql<{ n: number }>`select count(*)::int as n from pg_prepared_statements`.execute(plain.db)).rows[0]!.n).toBe(0);
    } finally {
      await plain.close();
    }
    expect(loadConfig({ FOLIO_DB_PREPARE_STATEMENTS: 'false' }).prepareStatements).toBe(false);
    expect(loadConfig({}).prepareStatements).toBe(true);
  });
});

describe('a unit of work’s scope is sent with its begin, in one round trip', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => db.drop());

  /** A pool whose messages are recorded as PostgreSQL gets them (one entry per round trip; `(sync)` for a prepared statement's). */
  const recordedPool = (max: number) => wireRecordedPool(db, max);
  const setting = (trx: Executor, name: string) =>
    sql<{ v: string | null }>`select current_setting(${name}, true) as v`.execute(trx).then((r) => r.rows[0]!.v);

  it('sends begin and the settings together: the unit of work costs one round trip less, and row-level security follows it', async () => {
    const { handle, sent } = recordedPool(1);
    try {
      await sql`select 1`.execute(handle.db); // the connection is open and has switched role
      const partners = await db.owner.db.selectFrom('partners').select('id').orderBy('id').limit(2).execute();
      const customer = await db.owner.db.selectFrom('customers').select(['id', 'partnerId']).where('partnerId', '=', partners[0]!.id).executeTakeFirstOrThrow();
      sent.length = 0;
      const seen = await inScope(handle.db, { kind: 'customer', partnerId: customer.partnerId, customerId: customer.id }, async (trx) => ({
        partner: await setting(trx, 'folio.partner_id'),
        customer: await setting(trx, 'folio.customer_id'),
        scope: await setting(trx, 'folio.scope'),
        visible: (await trx.selectFrom('customers').select('id').execute()).map((r) => r.id),
      }));
      expect(seen).toEqual({ partner: customer.partnerId, customer: customer.id, scope: 'customer', visible: [customer.id] });
      expect(sent[0]).toMatch(/^begin; select set_config\('folio\.scope', 'customer', true\)/);
      expect(sent.filter((t) => /set_config/.test(t))).toHaveLength(1);
      expect(sent).toHaveLength(6); // begin + scope, four reads, commit
      expect(sent.at(-1)).toBe('commit');
      // Outside the transaction nothing is left set.
      expect(await setting(handle.db, 'folio.partner_id')).toBe('');
    } finally {
      await handle.close();
    }
  });

  it('genericPlans: that transaction alone runs its statements on their generic plans, set with its begin', async () => {
    const { handle, sent } = recordedPool(1);
    try {
      await sql`select 1`.execute(handle.db);
      // A statement with an array, counted per plan kind on this connection (pg_prepared_statements is per session).
      const lookup = (trx: Executor) => sql`select count(*) as generic_probe from customers where id = any(${['cus_a', 'cus_b']}::text[])`.execute(trx);
      const plans = (trx: Executor) => sql<{ generic: number; custom: number }>`
        select generic_plans::int as generic, custom_plans::int as custom from pg_prepared_statements where statement like '%generic_probe%' and statement not like '%pg_prepared_statements%'`
        .execute(trx).then((r) => r.rows[0] ?? { generic: 0, custom: 0 });
      sent.length = 0;
      const generic = await inScope(handle.db, { kind: 'partner', partnerId: 'ptn_generic' }, async (trx) => {
        await lookup(trx);
        await lookup(trx);
        return { mode: await setting(trx, 'plan_cache_mode'), plans: await plans(trx) };
      }, { genericPlans: true });
      expect(generic).toEqual({ mode: 'force_generic_plan', plans: { generic: 2, custom: 0 } });
      expect(sent[0]).toMatch(/^begin; select set_config\('folio\.scope', 'partner', true\).*set_config\('plan_cache_mode', 'force_generic_plan', true\)$/);
      expect(sent.filter((t) => /set_config/.test(t))).toHaveLength(1);
      // The next unit of work on the same connection plans as PostgreSQL chooses: a statement's first runs get custom plans.
      const after = await inScope(handle.db, { kind: 'partner', partnerId: 'ptn_generic' }, async (trx) => {
        await lookup(trx);
        return { mode: await setting(trx, 'plan_cache_mode'), plans: await plans(trx) };
      });
      expect(after).toEqual({ mode: 'auto', plans: { generic: 2, custom: 1 } });
      // Where the scope cannot be sent with begin, the setting comes with the scope's own statement.
      const odd = await inScope(handle.db, { kind: 'partner', partnerId: "ptn_o'generic" }, (trx) => setting(trx, 'plan_cache_mode'), { genericPlans: true });
      expect(odd).toBe('force_generic_plan');
    } finally {
      await handle.close();
    }
  });

  it("sends begin with the unit of work's first statement once that statement is prepared on the connection: one round trip less", async () => {
    const { handle, sent } = recordedPool(1);
    try {
      await sql`select 1`.execute(handle.db);
      const customer = await db.owner.db.selectFrom('customers').select(['id', 'partnerId']).executeTakeFirstOrThrow();
      const work = () => inScope(handle.db, { kind: 'customer', partnerId: customer.partnerId, customerId: customer.id }, async (trx) => ({
        partner: await setting(trx, 'folio.partner_id'),
        visible: (await trx.selectFrom('customers').select('id').execute()).map((r) => r.id),
      }));
      sent.length = 0;
      expect(await work()).toEqual({ partner: customer.partnerId, visible: [customer.id] });
      expect(sent).toHaveLength(4); // begin + scope; the first statement, prepared now; the second; commit
      sent.length = 0;
      expect(await work()).toEqual({ partner: customer.partnerId, visible: [customer.id] });
      expect(sent).toHaveLength(3); // begin + scope + the first statement; the second; commit
      expect(sent[0]).toMatch(/^begin; select set_config\('folio\.scope', 'customer', true\).*; execute folio_\d+\('folio\.partner_id'\)$/);
      expect(sent.at(-1)).toBe('commit');
      expect(await setting(handle.db, 'folio.partner_id')).toBe('');
    } finally {
      await handle.close();
    }
  });

  it('writes any parameter into that script as the driver would send it: quotes, backslashes, arrays, JSON, dates, nulls', async () => {
    const { handle, sent } = recordedPool(1);
    try {
      const values = {
        text: "O'Hara \\ \"quoted\" ; select 1 -- 日本語 ✓", list: ['a,b', 'c"d', "e'f", 'g\\h', null, '{}'],
        json: JSON.stringify({ note: "it's \\ \"fine\"", n: [1, 2] }), at: new Date('2026-12-02T10:20:30.456Z'), none: null, big: 9007199254740993n,
      };
      const read = (trx: Executor) => sql<{ text: string; list: Array<string | null>; json: unknown; at: Date; none: string | null; big: string }>`
        select ${values.text}::text as text, ${values.list}::text[] as list, ${values.json}::jsonb as json, ${values.at}::timestamptz as at,
               ${values.none}::text as none, ${values.big}::bigint::text as big`.execute(trx).then((r) => r.rows[0]!);
      const scope = { kind: 'partner' as const, partnerId: 'ptn_literals' };
      const first = await inScope(handle.db, scope, read);
      sent.length = 0;
      const second = await inScope(handle.db, scope, read);
      expect(sent[0]).toMatch(/; execute folio_\d+\(/); // the script path
      expect(second).toEqual(first);
      expect(second).toEqual({ text: values.text, list: values.list, json: { note: "it's \\ \"fine\"", n: [1, 2] }, at: values.at, none: null, big: '9007199254740993' });
    } finally {
      await handle.close();
    }
  });

  it('a failure of the first statement fails the unit of work, rolls it back and leaves the connection clean', async () => {
    const { handle } = recordedPool(1);
    try {
      const scope = { kind: 'partner' as const, partnerId: 'ptn_failing' };
      const divide = (trx: Executor, by: number) => sql<{ q: number }>`select 10 / ${by}::int as q`.execute(trx).then((r) => r.rows[0]!.q);
      expect(await inScope(handle.db, scope, (trx) => divide(trx, 2))).toBe(5); // prepared now
      await expect(inScope(handle.db, scope, (trx) => divide(trx, 0))).rejects.toThrow(/division by zero/);
      // Failed before its first statement: nothing was begun.
      await expect(inScope(handle.db, scope, async () => { throw new Error('before any statement'); })).rejects.toThrow('before any statement');
      expect(await inScope(handle.db, scope, (trx) => divide(trx, 5))).toBe(2);
      // No transaction left open on the connection, no scope left set.
      await expect(sql`savepoint probe`.execute(handle.db)).rejects.toThrow(/transaction blocks/);
      expect(await setting(handle.db, 'folio.partner_id')).toBe('');
    } finally {
      await handle.close();
    }
  });

  it('an id that is not plain is never written into the script: it is sent as a parameter, as before', async () => {
    const { handle, sent } = recordedPool(1);
    try {
      const odd = "ptn_o'hara; select 1 --";
      await sql`select 1`.execute(handle.db);
      sent.length = 0;
      const seen = await inScope(handle.db, { kind: 'partner', partnerId: odd }, (trx) => setting(trx, 'folio.partner_id'));
      expect(seen).toBe(odd);
      // begin; the scope's own statement (a parameter); the read; commit.
      expect(sent).toEqual(['begin', '(sync)', '(sync)', 'commit']);
      expect(sent.some((t) => t.includes("o'hara"))).toBe(false);
    } finally {
      await handle.close();
    }
  });

  it('a transaction begun inside the unit of work (another connection) gets no scope; a nested unit of work gets its own', async () => {
    const { handle } = recordedPool(3);
    try {
      const seen = await inScope(handle.db, { kind: 'partner', partnerId: 'ptn_outer' }, async (trx) => ({
        outer: await setting(trx, 'folio.partner_id'),
        bare: await handle.db.transaction().execute((other) => setting(other, 'folio.partner_id')),
        nested: await inScope(handle.db, { kind: 'partner', partnerId: 'ptn_inner' }, (inner) => setting(inner, 'folio.partner_id')),
        outerAgain: await setting(trx, 'folio.partner_id'),
      }));
      expect(seen.outer).toBe('ptn_outer');
      expect(seen.bare ?? '').toBe('');
      expect(seen.nested).toBe('ptn_inner');
      expect(seen.outerAgain).toBe('ptn_outer');
    } finally {
      await handle.close();
    }
  });

  it('a unit of work that fails rolls back and hands back a clean connection', async () => {
    const { handle } = recordedPool(1);
    try {
      await expect(inScope(handle.db, { kind: 'partner', partnerId: 'ptn_failing' }, async (trx) => {
        await setting(trx, 'folio.partner_id');
        throw new Error('boom');
      })).rejects.toThrow('boom');
      expect(await setting(handle.db, 'folio.partner_id')).toBe('');
      expect(await inScope(handle.db, { kind: 'system' }, (trx) => setting(trx, 'folio.scope'))).toBe('system');
    } finally {
      await handle.close();
    }
  });
});

describe('closing a pool', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => db.drop());

  it('returns once every connection has disconnected: a server stopped right after has no session of ours to terminate', async () => {
    for (let round = 0; round < 3; round++) {
      const handle = openDatabase(db.url, { appRole: true, max: 4 });
      // Four connections at once, each naming its backend.
      const pids = await Promise.all(Array.from({ length: 4 }, () =>
        sql<{ pid: number }>`select pg_backend_pid() as pid, pg_sleep(0.05)`.execute(handle.db).then((r) => r.rows[0]!.pid)));
      expect(new Set(pids).size).toBe(4);
      await handle.close();
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where pid = any(${pids}::int[])`.execute(db.owner.db);
      expect(rows[0]!.n).toBe(0);
    }
  });
});

describe('idle connections', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => db.drop());

  /** Four connections at once, each naming its backend; then idle long enough for the pool to close what it would. */
  async function burstThenIdle(handle: ReturnType<typeof openDatabase>): Promise<number[]> {
    const pids = await Promise.all(Array.from({ length: 4 }, () =>
      sql<{ pid: number }>`select pg_backend_pid() as pid, pg_sleep(0.05)`.execute(handle.db).then((r) => r.rows[0]!.pid)));
    expect(new Set(pids).size).toBe(4);
    await new Promise((resolve) => setTimeout(resolve, 400));
    return pids;
  }
  const backendsAlive = async (pids: number[]) =>
    (await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where pid = any(${pids}::int[])`.execute(db.owner.db)).rows[0]!.n;

  it('after a burst, the pool closes idle connections down to the warm ones, which keep their session', async () => {
    const handle = openDatabase(db.url, { appRole: true, max: 4, idleTimeoutMs: 50, warmConnections: 2 });
    try {
      const pids = await burstThenIdle(handle);
      expect(handle.pool.totalCount).toBe(2);
      expect(await backendsAlive(pids)).toBe(2);
      // The next request runs on one of the warm sessions (the app role still set): no new backend.
      const { rows } = await sql<{ pid: number; role: string }>`select pg_backend_pid() as pid, current_user as role`.execute(handle.db);
      expect(pids).toContain(rows[0]!.pid);
      expect(rows[0]!.role).toBe('folio_app');
    } finally {
      await handle.close();
    }
  });

  it('with no warm connections, every idle one closes', async () => {
    const handle = openDatabase(db.url, { appRole: true, max: 4, idleTimeoutMs: 50, warmConnections: 0 });
    try {
      const pids = await burstThenIdle(handle);
      expect(handle.pool.totalCount).toBe(0);
      expect(await backendsAlive(pids)).toBe(0);
    } finally {
      await handle.close();
    }
  });
});

describe('a read of one statement in one round trip (readInScope)', () => {
  let db: TestDb;
  let partners: string[];
  beforeAll(async () => {
    db = await createTestDb();
    partners = (await db.owner.db.selectFrom('partners').select('id').orderBy('id').limit(2).execute()).map((r) => r.id);
  });
  afterAll(async () => db.drop());

  const wirePool = (max: number) => wireRecordedPool(db, max);
  const customersOf = (partnerId: string) => sql<{ id: string }>`select id from customers where partner_id = ${partnerId} order by id`;

  it('sends begin read only, the scope, the statement and commit as one message; prepares the statement once per connection', async () => {
    const { handle, sent } = wirePool(1);
    try {
      await sql`select 1`.execute(handle.db);
      const expected = (await db.owner.db.selectFrom('customers').select('id').where('partnerId', '=', partners[0]!).orderBy('id').execute()).map((r) => r.id);
      expect(expected.length).toBeGreaterThan(0);
      sent.length = 0;
      const first = await readInScope(handle.db, { kind: 'partner', partnerId: partners[0]! }, customersOf(partners[0]!));
      const second = await readInScope(handle.db, { kind: 'partner', partnerId: partners[0]! }, customersOf(partners[0]!));
      // Prepared too when it ends in a comment (the script's next part starts on a new line).
      const commented = await readInScope(handle.db, { kind: 'partner', partnerId: partners[0]! }, sql<{ id: string }>`select id from customers where partner_id = ${partners[0]!} order by id -- newest last`);
      expect(commented).toEqual(first);
      sent.pop();
      expect(first.map((r) => r.id)).toEqual(expected);
      expect(second).toEqual(first);
      expect(sent).toHaveLength(2);
      expect(sent[0]).toBe(`prepare folio_read_0 as select id from customers where partner_id = $1 order by id\n; begin read only; select set_config('folio.scope', 'partner', true), set_config('folio.partner_id', '${partners[0]}', true), set_config('folio.customer_id', '', true); execute folio_read_0('${partners[0]}'); commit`);
      expect(sent[1]).toBe(`begin read only; select set_config('folio.scope', 'partner', true), set_config('folio.partner_id', '${partners[0]}', true), set_config('folio.customer_id', '', true); execute folio_read_0('${partners[0]}'); commit`);
      // Nothing is left set or open on the connection.
      const after = await sql<{ partner: string }>`select current_setting('folio.partner_id', true) as partner`.execute(handle.db);
      expect(after.rows[0]).toEqual({ partner: '' });
    } finally {
      await handle.close();
    }
  });

  it('row-level security follows the scope: another partner’s rows are not there, a customer sees itself only', async () => {
    const { handle } = wirePool(1);
    try {
      const other = await readInScope(handle.db, { kind: 'partner', partnerId: partners[1]! }, customersOf(partners[0]!));
      expect(other).toEqual([]);
      const one = await db.owner.db.selectFrom('customers').select('id').where('partnerId', '=', partners[0]!).orderBy('id').executeTakeFirstOrThrow();
      const own = await readInScope(handle.db, { kind: 'customer', partnerId: partners[0]!, customerId: one.id }, customersOf(partners[0]!));
      expect(own).toEqual([{ id: one.id }]);
    } finally {
      await handle.close();
    }
  });

  it('refuses writes, and a failing read hands back a clean connection that prepares again under a new name', async () => {
    const { handle, sent } = wirePool(1);
    try {
      const scope = { kind: 'partner' as const, partnerId: partners[0]! };
      await expect(readInScope(handle.db, scope, sql`insert into customers (id, partner_id, name, currency, status) values (${'cus_readonly'}, ${partners[0]!}, ${'Nope'}, ${'SGD'}, ${'active'}) returning id`))
        .rejects.toMatchObject({ code: '25006' }); // read_only_sql_transaction
      expect(await db.owner.db.selectFrom('customers').select('id').where('id', '=', 'cus_readonly').executeTakeFirst()).toBeUndefined();
      // Fails after its `prepare` ran (division by zero at execute): that name stays taken on the connection.
      const divide = (n: number) => sql<{ v: number }>`select 10 / ${n}::int as v`;
      await expect(readInScope(handle.db, scope, divide(0))).rejects.toMatchObject({ code: '22012' });
      expect(await readInScope(handle.db, scope, divide(5))).toEqual([{ v: 2 }]);
      expect(sent.at(-1)).toMatch(/^prepare folio_read_2 as select 10 \/ \$1::int as v\n; begin read only; .*execute folio_read_2\(5\); commit$/);
      const state = await sql<{ partner: string }>`select current_setting('folio.partner_id', true) as partner`.execute(handle.db);
      expect(state.rows[0]).toEqual({ partner: '' });
    } finally {
      await handle.close();
    }
  });

  it('a value that is not an id or an integer is never written into a script: the read goes the usual way, same answer', async () => {
    const { handle, sent } = wirePool(1);
    try {
      await sql`select 1`.execute(handle.db);
      sent.length = 0;
      const odd = "O'Brien'); drop table customers; --";
      const rows = await readInScope(handle.db, { kind: 'partner', partnerId: partners[0]! }, sql<{ v: string; n: number }>`select ${odd}::text as v, ${7}::int as n`);
      expect(rows).toEqual([{ v: odd, n: 7 }]);
      expect(sent.some((t) => t.includes('Brien'))).toBe(false);
      expect(sent.filter((t) => t !== '(sync)')).toEqual([expect.stringMatching(/^begin; select set_config/), 'commit']);
      // An id with a quote in the scope: the same.
      const scoped = await readInScope(handle.db, { kind: 'partner', partnerId: "ptn_o'hara" }, sql<{ p: string }>`select current_setting('folio.partner_id') as p`);
      expect(scoped).toEqual([{ p: "ptn_o'hara" }]);
      expect(sent.some((t) => t.includes("o'hara"))).toBe(false);
    } finally {
      await handle.close();
    }
  });

  it('keeps at most 32 statements prepared per connection; later ones are sent with their values written in', async () => {
    const { handle, sent } = wirePool(1);
    try {
      const scope = { kind: 'partner' as const, partnerId: partners[0]! };
      for (let i = 0; i < 33; i++) {
        expect(await readInScope(handle.db, scope, sql<{ v: number }>`select ${i}::int + ${sql.lit(i)} as v`)).toEqual([{ v: 2 * i }]);
      }
      expect(sent.at(-2)).toMatch(/^prepare folio_read_31 as /);
      expect(sent.at(-1)).toMatch(/^begin read only; select set_config\(.*\); select 32::int \+ 32 as v\n; commit$/);
      // A negative value written right after a minus stays a number, not the start of a comment.
      expect(await readInScope(handle.db, scope, sql<{ v: number }>`select 1 -${-5}::int as v, ${-2n}::bigint::text as w`)).toEqual([{ v: 6, w: '-2' }]);
      // A statement that ends in a comment does not swallow the rest of the script.
      expect(await readInScope(handle.db, scope, sql<{ v: number }>`select ${7}::int as v -- the last line`)).toEqual([{ v: 7 }]);
      expect(sent.at(-1)).toMatch(/^begin read only; .*; select 7::int as v -- the last line\n; commit$/);
    } finally {
      await handle.close();
    }
  });
});

describe('how queries are handed to node-postgres (ADR 0025)', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => db.drop());

  it('every query of every path goes with its callback, never as a query whose callback is set after it was made', async () => {
    const seen: Array<{ text: string; callback: boolean }> = [];
    const proto = pg.Client.prototype as unknown as { query: (this: pg.Client, ...args: unknown[]) => unknown };
    const original = proto.query;
    proto.query = function (this: pg.Client, config: unknown, values?: unknown, callback?: unknown) {
      const text = typeof config === 'string' ? config : String((config as { text?: unknown }).text);
      seen.push({ text, callback: typeof callback === 'function' || typeof values === 'function' });
      return original.call(this, config, values, callback);
    };
    const handle = openDatabase(db.url, { appRole: true, max: 1 });
    try {
      const partnerId = newId('ptn');
      for (let i = 0; i < 2; i++) {
        // Plain and prepared statements, a scoped unit of work (its begin goes with the first statement the second
        // time), and a read in one round trip.
        await sql`select 1 as one`.execute(handle.db);
        await sql`select ${i}::int as n`.execute(handle.db);
        await inScope(handle.db, { kind: 'partner', partnerId }, async (trx) => sql`select ${partnerId}::text as p`.execute(trx));
        await readInScope(handle.db, { kind: 'partner', partnerId }, sql`select ${partnerId}::text as p`);
      }
      // Later runs go by name or inside a script with their begin: what matters is that every one of them was seen.
      expect(seen.filter((q) => q.text.includes('as one')).length).toBe(2);
      expect(seen.filter((q) => q.text.includes('execute folio_')).length).toBeGreaterThanOrEqual(2);
      expect(seen.filter((q) => !q.callback)).toEqual([]);
    } finally {
      proto.query = original;
      await handle.close();
    }
  });

  it('a failing statement’s error leads back to the code that sent it, not to the socket’s read', async () => {
    const err = await inScope(db.app.db, { kind: 'system' }, async (trx) => sql`select 1 / ${0}::int`.execute(trx)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe('division by zero');
    const firstFrame = (err as Error).stack!.split('\n').find((l) => l.trim().startsWith('at '))!;
    expect(firstFrame).not.toMatch(/pg-protocol|Socket/);
    expect(firstFrame).toMatch(/database\.ts/);
  });
});
