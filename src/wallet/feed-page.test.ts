import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDb, type TestDb } from '../test/harness.ts';
import { inScope } from '../platform/database.ts';
import { formatDecimal, type Currency } from '../money/money.ts';
import { chargeWallet, creditWallet } from './charge-wallet.ts';
import { ensureWallet } from './wallets.repo.ts';
import { feedPage, listTransactions, TRANSACTION_TYPES, type TransactionType, type TransactionView } from './list-transactions.ts';
import { feedSchema } from './wallet.routes.ts';
import { transactionIds, type TransactionIds } from './transaction-ids.ts';

// The feed reads its page, the customer's account and the totals in one statement (feedPage); the CSV export reads
// plain pages (listTransactions). Both must say the same thing about every transaction, and the totals must be what
// every row of the history adds up to.

let db: TestDb;
let ids: TransactionIds;
let partnerId: string;
let sgdCustomer: string;
const vndCustomer = 'cus_feedvnd000000000000';
const noWalletCustomer = 'cus_feednowallet0000000';

interface FeedJson {
  data: TransactionView[];
  nextCursor: string | null;
  totals: Array<{ type: string; count: number; total: string }>;
}

/** Amounts with every shape of decimals: sub-cent call charges, whole cents, whole units, one micro. */
const AMOUNTS = [205_440n, 1n, 10_000n, 1_234_567n, 3_000_000n, 99_999n, 500_000n, 7n, 1_010_000n, 60_000n];
const KINDS = ['call_charge', 'subscription_renewal', 'invoice_payment', 'mystery_adjustment'];

beforeAll(async () => {
  db = await createTestDb();
  ids = await transactionIds(db.app.db);
  const o = db.owner.db;
  partnerId = (await o.selectFrom('partners').select('id').where('slug', '=', 'demo-telecom').executeTakeFirstOrThrow()).id;
  sgdCustomer = (await o.selectFrom('customers').select('id').where('name', '=', 'Acme Pte Ltd').executeTakeFirstOrThrow()).id;
  await o.insertInto('customers').values([
    { id: vndCustomer, partnerId, name: 'Hanoi Lines', currency: 'VND' },
    { id: noWalletCustomer, partnerId, name: 'No Wallet Yet', currency: 'SGD' },
  ]).execute();
  for (const [customerId, currency, unit] of [[sgdCustomer, 'SGD', 1n], [vndCustomer, 'VND', 1_000n]] as const) {
    const wallet = { partnerId, customerId, currency };
    await inScope(db.app.db, { kind: 'partner', partnerId }, async (trx) => {
      await ensureWallet(trx, wallet);
      await creditWallet(trx, {
        wallet, amountMicros: 500_000_000n * unit,
        entry: { kind: 'top_up', causeType: 'top_up', causeId: 'top_feed', description: 'Card top-up', auditEventId: null },
        counterPostings: [{ code: 'card_clearing', amountMicros: 500_000_000n * unit }],
      });
      await creditWallet(trx, {
        wallet, amountMicros: 1_500_000n * unit,
        entry: { kind: 'points_issued', causeType: 'points_grant', causeId: 'grant_1', description: 'Goodwill "points" \\ for you', auditEventId: null },
        counterPostings: [{ code: 'revenue:usage', amountMicros: 1_500_000n * unit }],
      });
    });
    for (let i = 0; i < 37; i++) {
      const amountMicros = AMOUNTS[i % AMOUNTS.length]! * unit;
      await inScope(db.app.db, { kind: 'partner', partnerId }, (trx) => chargeWallet(trx, {
        wallet, amountMicros, useCreditLimit: false,
        entry: { kind: KINDS[i % KINDS.length]!, causeType: 'test', causeId: `cause_${i}`, description: `Charge ${i}: café ☕ <b>&</b>`, auditEventId: null },
        counterPostings: [{ code: 'revenue:usage', amountMicros: -amountMicros }],
      }));
    }
  }
});
afterAll(async () => db.drop());

/** The answer as the API sends it, checked to be exactly the documented shape (the route writes it without zod). */
function asJson(page: NonNullable<Awaited<ReturnType<typeof feedPage>>>): FeedJson {
  return feedSchema.parse(JSON.parse(JSON.stringify({ data: page.data.map((r) => r.view), nextCursor: page.nextCursor, totals: page.totals }))) as FeedJson;
}

async function bothWays(customerId: string, currency: Currency, limit: number, type: TransactionType | undefined, afterPostingId: string | null) {
  return inScope(db.app.db, { kind: 'partner', partnerId }, async (trx) => {
    const page = await feedPage(trx, { partnerId, customerId, limit, afterPostingId, ids, ...(type ? { type } : {}) });
    const rows = await listTransactions(trx, { partnerId, customerId, currency, limit, afterPostingId, ids, ...(type ? { type } : {}) });
    const all = await listTransactions(trx, { partnerId, customerId, currency, limit: 10_000, afterPostingId: null, ids, ...(type ? { type } : {}) });
    return { page, rows, all };
  });
}

describe('the feed in one statement', () => {
  it('says what the plain pages say, page after page, for every type filter, in SGD and VND', async () => {
    for (const [customerId, currency] of [[sgdCustomer, 'SGD'], [vndCustomer, 'VND']] as const) {
      for (const type of [undefined, ...TRANSACTION_TYPES]) {
        for (const limit of [1, 7, 200]) {
          let cursor: string | null = null;
          let pages = 0;
          do {
            const { page, rows, all } = await bothWays(customerId, currency, limit, type, cursor);
            expect(page).not.toBeNull();
            const got = asJson(page!);
            expect(page!.currency).toBe(currency);
            expect(got.data.every((d) => d.currency === currency)).toBe(true);
            expect(got.data).toEqual(rows.data.map((r) => r.view));
            expect(got.nextCursor).toBe(rows.nextCursor);
            // Totals by type over the whole history (of the filtered type), summed here from every row.
            const sums = new Map<string, { count: number; micros: bigint }>();
            for (const r of all.data) {
              const s = sums.get(r.view.type) ?? { count: 0, micros: 0n };
              sums.set(r.view.type, { count: s.count + 1, micros: s.micros + r.amountMicros });
            }
            expect(got.totals).toEqual([...sums.entries()].sort(([a], [b]) => (a < b ? -1 : 1))
              .map(([t, s]) => ({ type: t, count: s.count, total: formatDecimal(s.micros, currency) })));
            cursor = got.nextCursor === null ? null : ids.postingIdOf(got.nextCursor);
            if (got.nextCursor !== null) expect(cursor).not.toBeNull();
            pages++;
          } while (cursor !== null && pages < 100);
          expect(cursor).toBeNull();
        }
      }
    }
  });

  it('shows sub-cent charges exactly, VND without decimals, and every kind of transaction', async () => {
    const sgd = asJson((await bothWays(sgdCustomer, 'SGD', 200, undefined, null)).page!);
    expect(sgd.data).toHaveLength(39);
    expect(sgd.data.map((d) => d.amount)).toEqual(expect.arrayContaining(['-0.20544', '-0.000001', '-0.01', '-1.234567', '500.00', '1.50']));
    expect(new Set(sgd.data.map((d) => d.type))).toEqual(new Set(['call', 'subscription', 'purchase', 'other', 'top_up', 'credit']));
    expect(sgd.data[0]!.id).toMatch(/^txn_[A-Za-z0-9_-]{22}$/);
    expect(sgd.data[0]!.occurredAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // Each time is the posting's, in UTC, to the millisecond (cut, as a Date keeps it), whatever the session's zone.
    const postingIds = sgd.data.map((d) => ids.postingIdOf(d.id)!);
    const { rows: times } = await sql<{ id: string; ms: string }>`
      select id::text, floor(extract(epoch from posted_at) * 1000)::bigint::text as ms from postings where id = any(${postingIds}::bigint[])`.execute(db.owner.db);
    const msById = new Map(times.map((r) => [r.id, Number(r.ms)]));
    expect(sgd.data.map((d) => Date.parse(d.occurredAt))).toEqual(postingIds.map((id) => msById.get(id)));
    const zoned = await inScope(db.app.db, { kind: 'partner', partnerId }, async (trx) => {
      await sql`set local time zone 'Pacific/Chatham'`.execute(trx);
      return feedPage(trx, { partnerId, customerId: sgdCustomer, limit: 200, afterPostingId: null, ids });
    });
    expect(asJson(zoned!)).toEqual(sgd);
    expect(sgd.data.find((d) => d.type === 'credit')!.description).toBe('Goodwill "points" \\ for you');
    const vnd = asJson((await bothWays(vndCustomer, 'VND', 200, undefined, null)).page!);
    expect(vnd.data.map((d) => d.amount)).toEqual(expect.arrayContaining(['-205.44', '-1234.567', '-3000', '500000']));
  });

  it('an unknown customer is null (404); a customer without a wallet has an empty feed', async () => {
    await inScope(db.app.db, { kind: 'partner', partnerId }, async (trx) => {
      expect(await feedPage(trx, { partnerId, customerId: 'cus_nosuchcustomer00000', limit: 100, afterPostingId: null, ids })).toBeNull();
      const empty = await feedPage(trx, { partnerId, customerId: noWalletCustomer, limit: 100, afterPostingId: null, ids });
      expect(asJson(empty!)).toEqual({ data: [], nextCursor: null, totals: [] });
    });
    // Another partner's scope sees no such customer.
    const other = (await db.owner.db.selectFrom('partners').select('id').where('id', '<>', partnerId).executeTakeFirstOrThrow()).id;
    expect(await inScope(db.app.db, { kind: 'partner', partnerId: other }, (trx) =>
      feedPage(trx, { partnerId, customerId: sgdCustomer, limit: 100, afterPostingId: null, ids }))).toBeNull();
  });
});
