import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDb, partnerIdOf, type TestDb } from '../test/harness.ts';
import { inScope } from '../platform/database.ts';
import { checkLedger } from './check-ledger.ts';

// The postings' trigger moves the customer accounts of a statement in account id order, taking each row's lock as it
// reaches it (migration 0051): two statements sharing accounts then queue on the first one they share, never in a
// circle. Held here: an account in the middle of a statement's accounts is locked by another connection; while the
// statement waits for it, the accounts before it (in id order) are locked and the ones after it are still free,
// whatever order the statement listed them in and the table holds them in. (The plan that gives this order is the one
// the planner takes for tables of any real size; the application's own paths lock their customer accounts before they
// post in any case: ADR 0029's amendment.)

let db: TestDb;
let partnerId: string;
let cardClearing: string;
const ACCOUNTS = 1_200;

beforeAll(async () => {
  db = await createTestDb();
  partnerId = await partnerIdOf(db, 'demo-telecom');
  const o = db.owner.db;
  await sql`insert into customers (id, partner_id, name, currency, status)
    select 'cus_lockorder' || lpad(g::text, 6, '0'), ${partnerId}, 'Lock order ' || g, 'SGD', 'active' from generate_series(1, ${ACCOUNTS}::int) g`.execute(o);
  // Written in a shuffled order: the table's physical order is not the id order.
  await sql`insert into ledger_accounts (id, partner_id, currency, code, customer_id, kind)
    select 'acc_lockorder' || lpad(g::text, 6, '0'), ${partnerId}, 'SGD', 'points', 'cus_lockorder' || lpad(g::text, 6, '0'), 'liability'
      from generate_series(1, ${ACCOUNTS}::int) g order by md5(g::text)`.execute(o);
  await sql`insert into ledger_accounts (id, partner_id, currency, code, customer_id, kind)
    values ('acc_lockorder_card', ${partnerId}, 'SGD', 'card_clearing', null, 'asset') on conflict do nothing`.execute(o);
  cardClearing = (await o.selectFrom('ledgerAccounts').select('id').where('partnerId', '=', partnerId).where('currency', '=', 'SGD')
    .where('code', '=', 'card_clearing').where('customerId', 'is', null).executeTakeFirstOrThrow()).id;
  await sql`analyze ledger_accounts`.execute(o);
});
afterAll(async () => db.drop());

const accountId = (n: number) => `acc_lockorder${String(n).padStart(6, '0')}`;

/** Can another connection take this account's row right now? */
async function free(id: string): Promise<boolean> {
  try {
    await db.owner.db.transaction().execute((t) => sql`select id from ledger_accounts where id = ${id} for share nowait`.execute(t));
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === '55P03') return false;
    throw err;
  }
}

/** One entry crediting each account 1 point (card clearing on the other side), its postings listed in `order`. */
async function postInOrder(entryId: string, order: number[]) {
  const amount = 1_000_000n;
  await inScope(db.app.db, { kind: 'partner', partnerId }, async (trx) => {
    await sql`insert into journal_entries (id, partner_id, currency, kind, cause_type, cause_id, description)
      values (${entryId}, ${partnerId}, 'SGD', 'points_issued', 'test', ${entryId}, 'Lock order')`.execute(trx);
    await sql`insert into postings (entry_id, partner_id, currency, account_id, customer_id, amount_micros, balance_after_micros, kind, description, cause_type, cause_id)
      (select ${entryId}, ${partnerId}, 'SGD', a.id, a.customer_id, ${-amount}::bigint, a.balance_micros - ${amount}::bigint, 'points_issued', 'Lock order', 'test', ${entryId}
         from unnest(${order.map(accountId)}::text[]) with ordinality as o(id, k) join ledger_accounts a on a.id = o.id
        order by o.k)
      union all
      select ${entryId}, ${partnerId}, 'SGD', ${cardClearing}, null, ${amount * BigInt(order.length)}::bigint, null, null, null, null, null`.execute(trx);
  });
}

describe('the postings trigger locks customer accounts in id order', () => {
  for (const shape of ['ascending', 'descending', 'shuffled'] as const) {
    it(`a statement of ${ACCOUNTS} accounts listed ${shape} waits at the held account with only the ones before it locked`, async () => {
      const numbers = Array.from({ length: ACCOUNTS }, (_, i) => i + 1);
      const order = shape === 'ascending' ? numbers : shape === 'descending' ? [...numbers].reverse()
        : numbers.map((n) => [n, (n * 7_919) % 1_201] as const).sort((a, b) => a[1] - b[1]).map(([n]) => n);
      const held = 600;
      const holder = await db.owner.pool.connect();
      let posting: Promise<void> | null = null;
      try {
        await holder.query('begin');
        await holder.query('select id from ledger_accounts where id = $1 for update', [accountId(held)]);
        posting = postInOrder(`je_lockorder_${shape}`, order);
        // Wait until the statement is blocked on the held row.
        let waiting = false;
        for (let i = 0; i < 400 && !waiting; i++) {
          const found = await sql<{ n: string }>`select count(*)::text as n from pg_stat_activity
            where wait_event_type = 'Lock' and query like '%insert into postings%' and datname = current_database()`.execute(db.owner.db);
          waiting = found.rows[0]!.n !== '0';
          if (!waiting) await new Promise((r) => setTimeout(r, 25));
        }
        expect(waiting, 'the statement waits for the held account').toBe(true);
        for (const n of [1, 2, held - 1]) expect(await free(accountId(n)), `account ${n}`).toBe(false);
        for (const n of [held + 1, held + 2, ACCOUNTS - 1, ACCOUNTS]) expect(await free(accountId(n)), `account ${n}`).toBe(true);
      } finally {
        await holder.query('rollback');
        holder.release();
        await posting;
      }
      const moved = await sql<{ n: string }>`select count(*)::text as n from postings where entry_id = ${`je_lockorder_${shape}`}`.execute(db.owner.db);
      expect(moved.rows[0]!.n).toBe(String(ACCOUNTS + 1));
      expect(await checkLedger(db.owner.db)).toEqual([]);
    });
  }

  it('two statements over the same accounts listed in opposite orders both commit, and the books balance', async () => {
    const numbers = Array.from({ length: ACCOUNTS }, (_, i) => i + 1);
    await Promise.all([
      postInOrder('je_lockorder_up', numbers),
      postInOrder('je_lockorder_down', [...numbers].reverse()),
      postInOrder('je_lockorder_up2', numbers),
      postInOrder('je_lockorder_down2', [...numbers].reverse()),
    ]);
    // Every balance is its postings (each statement's balance-after figures were read before it waited: not checked here).
    expect((await checkLedger(db.owner.db)).filter((p) => p.invariant !== 'balance_after_chain')).toEqual([]);
  });
});
