import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type pg from 'pg';
import { createTestDb, inRolledBackOwner, partnerIdOf, type TestDb } from '../test/harness.ts';

// A transaction's queued partner balances are applied at commit by `ledger_apply_pending_balances()` (migrations 0041,
// 0043, 0047, 0058). The queue is an unlogged table whose rows live only inside their own transaction, so the planner's idea of
// its size is whatever its physical pages suggest (hundreds of rows). Planned from that, a join with the ledger's
// accounts scanned every account of every partner on each commit: milliseconds per charging transaction, while the
// partner's accounts are locked. These tests look at the plans PostgreSQL runs inside the function (auto_explain, sent
// to this client as notices) on a ledger of 5,000 more accounts, and at what the function moves.
let db: TestDb;
let partnerId: string;

beforeAll(async () => {
  db = await createTestDb();
  partnerId = await partnerIdOf(db, 'demo-telecom');
});
afterAll(async () => db.drop());

const inRolledBack = <T>(work: (client: pg.Client, notices: string[]) => Promise<T>) => inRolledBackOwner(db, work);

/** 5,000 more accounts (a partner's bank account in 5,000 made-up currencies), the statistics refreshed. */
async function manyAccounts(client: pg.Client): Promise<void> {
  await client.query(`
    insert into ledger_accounts (id, partner_id, currency, code, customer_id, kind)
      select 'la_many_' || g, $1, chr(65 + g / 676) || chr(65 + (g / 26) % 26) || chr(65 + g % 26), 'bank', null, 'asset'
        from generate_series(1000, 5999) g`, [partnerId]);
  await client.query('analyze ledger_accounts');
}

/** The queue's pages as a busy server leaves them: written and emptied by many transactions before this one. */
async function usedQueue(client: pg.Client): Promise<void> {
  await client.query(`insert into ledger_pending_balances (account_id, total_micros) select 'la_gone', 0 from generate_series(1, 3000)`);
  await client.query('delete from ledger_pending_balances');
}

/** Run one statement with the plans of every statement it runs, nested ones included, sent to the client as notices. */
async function explained(client: pg.Client, statement: string): Promise<void> {
  await client.query(`load 'auto_explain'`);
  await client.query(`set local auto_explain.log_min_duration = 0`);
  await client.query(`set local auto_explain.log_nested_statements = on`);
  await client.query(`set local auto_explain.log_level = notice`);
  await client.query(statement);
  await client.query(`set local auto_explain.log_min_duration = -1`);
}

async function queue(client: pg.Client, rows: Array<{ accountId: string; totalMicros: bigint }>): Promise<void> {
  const { rows: queued } = await client.query<{ first: string }>(
    `with q as (insert into ledger_pending_balances (account_id, total_micros) select * from unnest($1::text[], $2::bigint[]) order by 1 returning ord)
     select min(ord)::text as first from q`, [rows.map((r) => r.accountId), rows.map((r) => r.totalMicros.toString())]);
  await client.query(`select set_config('folio.pending_balances_from', $1, true)`, [queued[0]!.first]);
}

/** The partner's usage revenue and cost accounts in SGD (opened here when the ledger has not opened them yet), by code. */
async function partnerAccounts(client: pg.Client): Promise<Array<{ id: string; balanceMicros: bigint }>> {
  await client.query(`
    insert into ledger_accounts (id, partner_id, currency, code, customer_id, kind)
      values ('la_test_revenue', $1, 'SGD', 'revenue:usage', null, 'revenue'), ('la_test_cost', $1, 'SGD', 'cost:usage', null, 'expense')
      on conflict do nothing`, [partnerId]);
  const { rows } = await client.query<{ id: string; balance: string }>(
    `select id, balance_micros::text as balance from ledger_accounts
      where partner_id = $1 and currency = 'SGD' and customer_id is null and code in ('revenue:usage', 'cost:usage') order by code desc`, [partnerId]);
  expect(rows).toHaveLength(2);
  return rows.map((r) => ({ id: r.id, balanceMicros: BigInt(r.balance) }));
}

describe('queued partner balances at commit', () => {
  it('moves each queued account by its total, reading the accounts by key, never every account of the ledger', async () => {
    await inRolledBack(async (client, notices) => {
      await manyAccounts(client);
      await usedQueue(client);
      const [revenue, cost] = (await partnerAccounts(client)) as [{ id: string; balanceMicros: bigint }, { id: string; balanceMicros: bigint }];
      await queue(client, [
        { accountId: revenue.id, totalMicros: -1_500_000n }, { accountId: cost.id, totalMicros: 400_000n }, { accountId: revenue.id, totalMicros: -250_000n },
      ]);
      await explained(client, 'select ledger_apply_pending_balances()');

      const plans = notices.filter((n) => n.includes('ledger_accounts'));
      expect(plans.length).toBeGreaterThan(0);
      expect(plans.filter((p) => /Seq Scan on ledger_accounts/.test(p))).toEqual([]);
      // One UPDATE for every queued account (a statement per account prepared the table's checks again each time:
      // migration 0060), reaching each account by its key, after one statement locked them in id order.
      const updates = plans.filter((p) => /Update on ledger_accounts/.test(p));
      expect(updates).toHaveLength(1);
      expect(updates[0]).toMatch(/Index Scan using ledger_accounts_pkey on ledger_accounts a\s+\(.*\)\s+Index Cond: \(id = q\.account_id\)/);
      // The lock's rows in id order (sorted, or read in the primary key's order, which the planner knows is sorted),
      // taken before the UPDATE runs.
      const locks = plans.filter((p) => /LockRows/.test(p) && (/Sort Key: a\.id/.test(p) || /Index Scan using ledger_accounts_pkey/.test(p)));
      expect(locks).toHaveLength(1);
      expect(plans.indexOf(locks[0]!)).toBeLessThan(plans.indexOf(updates[0]!));
      // Nor every page of the queue, mostly dead rows (migration 0058).
      const queuePlans = notices.filter((n) => n.includes('on ledger_pending_balances'));
      expect(queuePlans.length).toBeGreaterThan(0);
      expect(queuePlans.filter((p) => /Seq Scan on ledger_pending_balances/.test(p))).toEqual([]);
      expect((await partnerAccounts(client)).map((a) => a.balanceMicros)).toEqual([revenue.balanceMicros - 1_750_000n, cost.balanceMicros + 400_000n]);
      // Applied once: the queue is empty and the function has nothing left to do.
      expect((await client.query('select count(*)::int as n from ledger_pending_balances')).rows[0].n).toBe(0);
      await client.query('select ledger_apply_pending_balances()');
      expect((await partnerAccounts(client)).map((a) => a.balanceMicros)).toEqual([revenue.balanceMicros - 1_750_000n, cost.balanceMicros + 400_000n]);
    });
  });

  it('at commit, each queued row\'s trigger finds its row by key, not by reading the queue\'s pages of dead rows', async () => {
    await sql`vacuum ledger_pending_balances`.execute(db.owner.db);
    await inRolledBack(async (client, notices) => {
      // A connection's plans are made while the queue is small (a page), just vacuumed (statistics: no rows), and kept:
      // PL/pgSQL keeps a function's plans for the life of the connection, and only an analyze of the queue plans again.
      const fireCommitTriggers = async () => {
        await client.query('set constraints ledger_pending_balances_commit immediate');
        await client.query('set constraints ledger_pending_balances_commit deferred');
      };
      await client.query(`insert into ledger_pending_balances (account_id, total_micros) select 'la_gone', 0 from generate_series(1, 50)`);
      await client.query('delete from ledger_pending_balances');
      await fireCommitTriggers();
      await client.query('analyze ledger_pending_balances');
      const [revenue, cost] = (await partnerAccounts(client)) as [{ id: string; balanceMicros: bigint }, { id: string; balanceMicros: bigint }];
      for (let i = 0; i < 8; i++) {
        await queue(client, [{ accountId: revenue.id, totalMicros: 0n }]);
        await fireCommitTriggers();
      }
      // Then a busy server's rows, written and deleted by other transactions since (their triggers fired as they committed).
      await usedQueue(client);
      await fireCommitTriggers();
      await queue(client, [{ accountId: revenue.id, totalMicros: -700_000n }, { accountId: cost.id, totalMicros: 300_000n }]);
      // The deferred commit triggers, fired now as a commit fires them.
      await explained(client, 'set constraints ledger_pending_balances_commit immediate');

      const questions = notices.filter((n) => n.includes('exists (select 1 from ledger_pending_balances p where p.ord = new.ord)'));
      // Two rows: the first row's trigger asks, applies the queue and asks again; the second asks once.
      expect(questions).toHaveLength(3);
      for (const plan of questions) {
        expect(plan).not.toMatch(/Seq Scan on ledger_pending_balances/);
        expect(plan).toMatch(/Index (Only )?Scan using ledger_pending_balances_pkey on ledger_pending_balances p\s+\(.*\)\s+Index Cond: \(ord = /);
      }
      expect((await partnerAccounts(client)).map((a) => a.balanceMicros)).toEqual([revenue.balanceMicros - 700_000n, cost.balanceMicros + 300_000n]);
      expect((await client.query('select count(*)::int as n from ledger_pending_balances')).rows[0].n).toBe(0);
    });
  });

  it('stops the commit when a queued balance names an account that does not exist', async () => {
    await inRolledBack(async (client) => {
      const [account] = await partnerAccounts(client);
      await queue(client, [{ accountId: account!.id, totalMicros: 1n }, { accountId: 'la_does_not_exist', totalMicros: 1n }]);
      await expect(client.query('select ledger_apply_pending_balances()')).rejects.toThrow(/queued partner balance names an account that does not exist \(la_does_not_exist\)/);
    });
  });
});
