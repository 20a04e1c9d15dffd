import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDb, type TestDb } from '../../test/harness.ts';
import { checkLedger } from '../../ledger/check-ledger.ts';
import { readFeedPage } from '../../wallet/list-transactions.ts';
import { inScope } from '../database.ts';
import { postEntries } from '../../ledger/post-entry.ts';
import { ensureWallet } from '../../wallet/wallets.repo.ts';
import { moveCallTotals } from './0050_call_totals_on_accounts.ts';
import { transactionIds } from '../../wallet/transaction-ids.ts';

// Migration 0050 moves the calls' feed totals from points_feed_totals onto their accounts. Calls of two customers are
// charged, put back the way the earlier migrations kept their totals, and moved again.

let db: TestDb;
let partnerId: string;
let customerId: string;

beforeAll(async () => {
  db = await createTestDb();
  partnerId = (await db.owner.db.selectFrom('partners').select('id').where('slug', '=', 'demo-telecom').executeTakeFirstOrThrow()).id;
  customerId = (await db.owner.db.selectFrom('customers').select('id').where('name', '=', 'Acme Pte Ltd').executeTakeFirstOrThrow()).id;
  const other = (await db.owner.db.selectFrom('customers').select('id').where('partnerId', '=', partnerId).where('currency', '=', 'SGD')
    .where('id', '<>', customerId).orderBy('id').executeTakeFirstOrThrow()).id;
  const entry = (customer: string, kind: string, causeId: string, amountMicros: bigint) => ({
    partnerId, currency: 'SGD', customerId: customer, kind, causeType: 'test', causeId, description: causeId, auditEventId: null,
    postings: [{ code: 'points' as const, customerId: customer, amountMicros }, { code: 'revenue:usage' as const, amountMicros: -amountMicros }],
  });
  await inScope(db.app.db, { kind: 'partner', partnerId }, async (trx) => {
    for (const c of [customerId, other]) await ensureWallet(trx, { partnerId, customerId: c, currency: 'SGD' });
  });
  await inScope(db.app.db, { kind: 'partner', partnerId }, (trx) => postEntries(trx, [
    entry(customerId, 'top_up', 'top_0050', -50_000_000n), entry(other, 'top_up', 'top_0050_b', -50_000_000n),
    entry(customerId, 'call_charge', 'cal_0050_1', 205_440n), entry(customerId, 'call_charge', 'cal_0050_2', 1_000_000n),
    entry(other, 'call_charge', 'cal_0050_3', 7n), entry(customerId, 'subscription_renewal', 'ren_0050', 3_000_000n),
  ]));
});
afterAll(async () => db.drop());

const feedTotals = async () => (await readFeedPage(db.app.db, { kind: 'partner', partnerId }, { partnerId, customerId, limit: 1, afterPostingId: null, ids: await transactionIds(db.app.db) }))!.totals;

describe('migration 0050: the calls totals move onto their accounts', () => {
  it('moves every kept calls total, adds it to what the account holds, and the feed says the same before and after', async () => {
    const o = db.owner.db;
    const withCalls = await sql<{ id: string; calls: string; total: string }>`
      select id, call_postings::text as calls, call_total_micros::text as total from ledger_accounts where call_postings <> 0 order by id`.execute(o);
    expect(withCalls.rows.length).toBeGreaterThan(0);
    const totalsBefore = await feedTotals();
    expect(totalsBefore.find((t) => t.type === 'call')?.count).toBeGreaterThan(0);

    // The state before 0050, for every account: calls in points_feed_totals, none on the account (one account keeps a
    // part on its row, to show that the move adds).
    const [first] = withCalls.rows;
    await sql`alter table points_feed_totals drop constraint points_feed_totals_not_calls`.execute(o);
    await sql`insert into points_feed_totals (account_id, feed_type, partner_id, customer_id, postings, total_micros)
      select id, 'call', partner_id, customer_id, case when id = ${first!.id} then call_postings - 1 else call_postings end,
             case when id = ${first!.id} then call_total_micros - 1 else call_total_micros end
        from ledger_accounts where call_postings <> 0`.execute(o);
    await sql`update ledger_accounts set call_postings = case when id = ${first!.id} then 1 else 0 end,
                                         call_total_micros = case when id = ${first!.id} then 1 else 0 end
               where call_postings <> 0`.execute(o);
    // Split between the two places, checkLedger adds them up.
    expect(await checkLedger(o)).toEqual([]);

    await moveCallTotals(o);
    const after = await sql<{ id: string; calls: string; total: string }>`
      select id, call_postings::text as calls, call_total_micros::text as total from ledger_accounts where call_postings <> 0 order by id`.execute(o);
    expect(after.rows).toEqual(withCalls.rows);
    expect(await o.selectFrom('pointsFeedTotals').select('accountId').where('feedType', '=', 'call').execute()).toEqual([]);
    expect(await checkLedger(o)).toEqual([]);
    expect(await feedTotals()).toEqual(totalsBefore);

    // Run again: nothing left to move, nothing changes.
    await moveCallTotals(o);
    expect((await sql<{ id: string; calls: string; total: string }>`
      select id, call_postings::text as calls, call_total_micros::text as total from ledger_accounts where call_postings <> 0 order by id`.execute(o)).rows).toEqual(withCalls.rows);
    await sql`alter table points_feed_totals add constraint points_feed_totals_not_calls check (feed_type <> 'call')`.execute(o);
  });
});
