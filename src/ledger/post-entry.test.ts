import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDb, type TestDb } from '../test/harness.ts';
import { inScope } from '../platform/database.ts';
import { postEntries, postEntry, reverseEntry } from './post-entry.ts';
import { resolveAccounts, resolveAndLockAccounts } from './accounts.ts';
import { ensureWallets } from '../wallet/wallets.repo.ts';
import { checkLedger } from './check-ledger.ts';

let db: TestDb;
let partnerId: string;
let customerId: string;

beforeAll(async () => {
  db = await createTestDb();
  partnerId = (await db.owner.db.selectFrom('partners').select('id').where('slug', '=', 'demo-telecom').executeTakeFirstOrThrow()).id;
  customerId = (await db.owner.db.selectFrom('customers').select('id').where('name', '=', 'Acme Pte Ltd').executeTakeFirstOrThrow()).id;
});
afterAll(async () => db.drop());

const asPartner = <T>(fn: Parameters<typeof inScope<T>>[2]) => inScope(db.app.db, { kind: 'partner', partnerId }, fn);

function topUp(amountMicros: bigint, causeId = 'top_test') {
  return asPartner((trx) =>
    postEntry(trx, {
      partnerId, currency: 'SGD', customerId, kind: 'top_up', causeType: 'top_up', causeId, description: 'Card top-up', auditEventId: null,
      postings: [
        { code: 'card_clearing', amountMicros },
        { code: 'points', customerId, amountMicros: -amountMicros },
      ],
    }),
  );
}

async function balanceOf(code: string, customer: string | null) {
  const row = await db.owner.db
    .selectFrom('ledgerAccounts').select('balanceMicros')
    .where('partnerId', '=', partnerId).where('currency', '=', 'SGD').where('code', '=', code as never)
    .where('customerId', customer === null ? 'is' : '=', customer)
    .executeTakeFirstOrThrow();
  return BigInt(row.balanceMicros);
}

/** Can another connection lock this account right now? */
async function lockable(id: string): Promise<boolean> {
  try {
    await db.owner.db.transaction().execute((t) => sql`select id from ledger_accounts where id = ${id} for update nowait`.execute(t));
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === '55P03') return false;
    throw err;
  }
}

describe('journal entries', () => {
  it('posts a balanced entry, keeps account balances and the balance after each customer posting', async () => {
    const posted = await topUp(100_000_000n);
    expect(posted.customerBalances.get(`points|${customerId}`)).toBe(-100_000_000n);
    expect(await balanceOf('card_clearing', null)).toBe(100_000_000n);
    expect(await balanceOf('points', customerId)).toBe(-100_000_000n);
    expect(await checkLedger(db.owner.db)).toEqual([]);
  });

  it('without the balances after in its answer (balancesAfter: false), each customer posting still records its own', async () => {
    await topUp(5_000_000n, 'top_no_balances');
    const before = await balanceOf('points', customerId);
    const spend = (causeId: string, amounts: bigint[]) => ({
      partnerId, currency: 'SGD', customerId, kind: 'call_charge', causeType: 'test', causeId, description: 'Calls', auditEventId: null,
      postings: [
        ...amounts.map((amountMicros, i) => ({ code: 'points' as const, customerId, amountMicros, feed: { description: `Call ${i + 1}`, causeType: 'call', causeId: `${causeId}_${i + 1}` } })),
        { code: 'revenue:usage' as const, amountMicros: -amounts.reduce((a, b) => a + b, 0n) },
      ],
    });
    const posted = await asPartner((trx) => postEntries(trx, [spend('no_bal_1', [100_000n, 200_000n]), spend('no_bal_2', [300_000n])], { balancesAfter: false }));
    expect(posted.map((p) => p.customerBalances.size)).toEqual([0, 0]);
    const rows = await db.owner.db.selectFrom('postings').select(['amountMicros', 'balanceAfterMicros', 'causeId'])
      .where('entryId', 'in', posted.map((p) => p.entryId)).where('customerId', '=', customerId).orderBy('id').execute();
    expect(rows.map((r) => [r.causeId, BigInt(r.amountMicros), BigInt(r.balanceAfterMicros!)])).toEqual([
      ['no_bal_1_1', 100_000n, before + 100_000n], ['no_bal_1_2', 200_000n, before + 300_000n], ['no_bal_2_1', 300_000n, before + 600_000n],
    ]);
    expect(await balanceOf('points', customerId)).toBe(before + 600_000n);
    // The same entries with their balances after (the default) answer them by account.
    const withBalances = await asPartner((trx) => postEntries(trx, [spend('bal_1', [100_000n]), spend('bal_2', [200_000n])]));
    expect(withBalances.map((p) => p.customerBalances.get(`points|${customerId}`))).toEqual([before + 700_000n, before + 900_000n]);
    expect(await checkLedger(db.owner.db)).toEqual([]);
  });

  it('the database refuses an unbalanced entry at commit, even written around the code', async () => {
    const attempt = asPartner(async (trx) => {
      await trx.insertInto('journalEntries').values({ id: 'je_unbalanced0000000000', partnerId, currency: 'SGD', customerId: null, kind: 'test', causeType: 'test', causeId: 'x', description: 'bad', reversesEntryId: null, auditEventId: null }).execute();
      const account = (await trx.selectFrom('ledgerAccounts').select('id').where('partnerId', '=', partnerId).where('code', '=', 'card_clearing').executeTakeFirstOrThrow()).id;
      await trx.insertInto('postings').values({ entryId: 'je_unbalanced0000000000', partnerId, currency: 'SGD', accountId: account, customerId: null, amountMicros: '5', balanceAfterMicros: null }).execute();
    });
    await expect(attempt).rejects.toThrow(/does not balance/);
    expect(await db.owner.db.selectFrom('journalEntries').select('id').where('id', '=', 'je_unbalanced0000000000').execute()).toEqual([]);
  });

  it('asserts before writing: no zero postings, no single-sided entries', async () => {
    await expect(asPartner((trx) => postEntry(trx, {
      partnerId, currency: 'SGD', customerId, kind: 'x', causeType: 'x', causeId: 'x', description: 'x', auditEventId: null,
      postings: [{ code: 'card_clearing', amountMicros: 1n }, { code: 'points', customerId, amountMicros: -2n }],
    }))).rejects.toThrow(/entry must balance/);
  });

  it('entries and postings can be neither updated nor deleted, by the app or by the owner', async () => {
    await topUp(1_000_000n, 'top_immutable');
    await expect(asPartner((trx) => trx.updateTable('postings').set({ amountMicros: '1' }).where('partnerId', '=', partnerId).execute())).rejects.toThrow(/permission denied/);
    await expect(asPartner((trx) => trx.deleteFrom('journalEntries').where('partnerId', '=', partnerId).execute())).rejects.toThrow(/permission denied/);
    await expect(asPartner((trx) => trx.updateTable('ledgerAccounts').set({ code: 'bank' }).where('partnerId', '=', partnerId).execute())).rejects.toThrow(/only through postings/);
    await expect(db.owner.db.updateTable('postings').set({ amountMicros: '1' }).execute()).rejects.toThrow(/append-only/);
    await expect(db.owner.db.deleteFrom('journalEntries').execute()).rejects.toThrow(/append-only/);
    await expect(sql`truncate postings cascade`.execute(db.owner.db)).rejects.toThrow(/append-only/);
  });

  it('a reversal is the exact mirror, nets to zero, and happens once', async () => {
    const before = await balanceOf('points', customerId);
    const posted = await topUp(7_500_000n, 'top_reverse');
    const reversal = await asPartner((trx) => reverseEntry(trx, posted.entryId, { kind: 'top_up_reversal', description: 'Reversed', auditEventId: null }));
    expect(reversal.customerBalances.get(`points|${customerId}`)).toBe(before);
    expect(await balanceOf('points', customerId)).toBe(before);
    await expect(asPartner((trx) => reverseEntry(trx, posted.entryId, { kind: 'top_up_reversal', description: 'Again', auditEventId: null }))).rejects.toThrow(/duplicate key/);
    expect(await checkLedger(db.owner.db)).toEqual([]);
  });

  it('keeps exact balances under 8 parallel connections', async () => {
    const before = await balanceOf('points', customerId);
    const amounts = Array.from({ length: 64 }, (_, i) => BigInt(i + 1) * 205_440n);
    const workers = Array.from({ length: 8 }, (_, w) => (async () => {
      for (let i = w; i < amounts.length; i += 8) await topUp(amounts[i]!, `top_parallel_${i}`);
    })());
    await Promise.all(workers);
    const total = amounts.reduce((a, b) => a + b, 0n);
    expect(await balanceOf('points', customerId)).toBe(before - total);
    expect(await checkLedger(db.owner.db)).toEqual([]);
  });

  it('keeps the feed totals: a first posting of a type adds its row, later ones move it, two transactions at once add up', async () => {
    await topUp(10_000_000n, 'top_totals');
    const points = (await db.owner.db.selectFrom('ledgerAccounts').select('id').where('partnerId', '=', partnerId).where('currency', '=', 'SGD')
      .where('code', '=', 'points').where('customerId', '=', customerId).executeTakeFirstOrThrow()).id;
    const totalsOf = async (feedType: string) => {
      const row = await db.owner.db.selectFrom('pointsFeedTotals').select(['postings', 'totalMicros']).where('accountId', '=', points).where('feedType', '=', feedType).executeTakeFirst();
      return row ? [Number(row.postings), BigInt(row.totalMicros)] : null;
    };
    const entry = (kind: string, causeId: string, amountMicros: bigint, other: 'revenue:subscription' | 'card_clearing') => ({
      partnerId, currency: 'SGD', customerId, kind, causeType: 'test', causeId, description: causeId, auditEventId: null,
      postings: [{ code: 'points' as const, customerId, amountMicros }, { code: other, amountMicros: -amountMicros }],
    });
    expect(await totalsOf('subscription')).toBeNull();
    // Two entries in one statement: the row is inserted once, with both.
    await asPartner((trx) => postEntries(trx, [entry('subscription_renewal', 'tot_r1', 100_000n, 'revenue:subscription'), entry('subscription_renewal', 'tot_r2', 200_000n, 'revenue:subscription')]));
    expect(await totalsOf('subscription')).toEqual([2, 300_000n]);
    await asPartner((trx) => postEntries(trx, [entry('subscription_renewal', 'tot_r3', 50_000n, 'revenue:subscription')]));
    expect(await totalsOf('subscription')).toEqual([3, 350_000n]);
    // Two transactions at once, each the first of its type for the account as it began.
    expect(await totalsOf('credit')).toBeNull();
    await Promise.all([1, 2].map((n) => asPartner((trx) => postEntries(trx, [entry('points_goodwill', `tot_c${n}`, -1_000n * BigInt(n), 'card_clearing')]))));
    expect(await totalsOf('credit')).toEqual([2, -3_000n]);
    expect(await checkLedger(db.owner.db)).toEqual([]);
    // A total changed around the trigger is named.
    await sql`update points_feed_totals set total_micros = total_micros + 1 where account_id = ${points} and feed_type = 'subscription'`.execute(db.owner.db);
    const problems = await checkLedger(db.owner.db);
    expect(problems).toEqual([{ invariant: 'feed_totals_match_postings', partnerId, subject: `feed totals ${points} subscription`, detail: `account ${points} subscription: totals keep 3 postings, 350001, postings are 3 postings, 350000` }]);
    await sql`update points_feed_totals set total_micros = total_micros - 1 where account_id = ${points} and feed_type = 'subscription'`.execute(db.owner.db);
    expect(await checkLedger(db.owner.db)).toEqual([]);
  });

  it("keeps the calls' total on the account's own row, with its balance: none in points_feed_totals; two transactions at once add up", async () => {
    await topUp(10_000_000n, 'top_call_totals');
    const points = (await db.owner.db.selectFrom('ledgerAccounts').select('id').where('partnerId', '=', partnerId).where('currency', '=', 'SGD')
      .where('code', '=', 'points').where('customerId', '=', customerId).executeTakeFirstOrThrow()).id;
    const account = async () => {
      const row = await db.owner.db.selectFrom('ledgerAccounts').select(['callPostings', 'callTotalMicros', 'balanceMicros']).where('id', '=', points).executeTakeFirstOrThrow();
      return { calls: Number(row.callPostings), callsMicros: BigInt(row.callTotalMicros), balanceMicros: BigInt(row.balanceMicros) };
    };
    const summedCalls = async () => {
      const row = await sql<{ n: string; total: string | null }>`select count(*)::text as n, sum(amount_micros)::text as total from postings where account_id = ${points} and feed_type = 'call'`.execute(db.owner.db);
      return { calls: Number(row.rows[0]!.n), callsMicros: BigInt(row.rows[0]!.total ?? '0') };
    };
    const call = (causeId: string, amountMicros: bigint) => ({
      partnerId, currency: 'SGD', customerId, kind: 'call_charge', causeType: 'call', causeId, description: causeId, auditEventId: null,
      postings: [{ code: 'points' as const, customerId, amountMicros }, { code: 'revenue:usage' as const, amountMicros: -amountMicros }],
    });
    const before = await account();
    expect(before).toMatchObject(await summedCalls());
    // Two calls in one statement, and a top-up beside them: only the calls count.
    await asPartner((trx) => postEntries(trx, [call('cal_tot_1', 120_000n), call('cal_tot_2', 205_440n)]));
    await topUp(1_000_000n, 'top_call_totals_2');
    expect(await account()).toEqual({ calls: before.calls + 2, callsMicros: before.callsMicros + 325_440n, balanceMicros: before.balanceMicros + 325_440n - 1_000_000n });
    // Two transactions at once.
    await Promise.all([1n, 2n].map((n) => asPartner((trx) => postEntries(trx, [call(`cal_tot_p${n}`, 1_000n * n)]))));
    const after = await account();
    expect(after.calls).toBe(before.calls + 4);
    expect(after.callsMicros).toBe(before.callsMicros + 328_440n);
    expect(after).toMatchObject(await summedCalls());
    const kept = await db.owner.db.selectFrom('pointsFeedTotals').select('feedType').where('accountId', '=', points).where('feedType', '=', 'call').execute();
    expect(kept).toEqual([]);
    expect(await checkLedger(db.owner.db)).toEqual([]);
    // A calls total changed around the trigger is named (as the owner: the app role cannot change an account row).
    await sql`update ledger_accounts set call_postings = call_postings - 1 where id = ${points}`.execute(db.owner.db);
    expect(await checkLedger(db.owner.db)).toEqual([{ invariant: 'feed_totals_match_postings', partnerId, subject: `feed totals ${points} call`, detail: `account ${points} call: totals keep ${after.calls - 1} postings, ${after.callsMicros}, postings are ${after.calls} postings, ${after.callsMicros}` }]);
    await sql`update ledger_accounts set call_postings = call_postings + 1 where id = ${points}`.execute(db.owner.db);
    // A 'call' row in points_feed_totals would count the calls twice: the database refuses it, even from the owner.
    const second = sql`insert into points_feed_totals (account_id, feed_type, partner_id, customer_id, postings, total_micros) values (${points}, 'call', ${partnerId}, ${customerId}, 1, 1)`.execute(db.owner.db);
    await expect(second).rejects.toMatchObject({ code: '23514', constraint: 'points_feed_totals_not_calls' });
    expect(await checkLedger(db.owner.db)).toEqual([]);
  });

  it('the checker names a balance that no longer matches its postings', async () => {
    const account = await db.owner.db.selectFrom('ledgerAccounts').select('id').where('code', '=', 'card_clearing').where('partnerId', '=', partnerId).executeTakeFirstOrThrow();
    await sql`update ledger_accounts set balance_micros = balance_micros + 1 where id = ${account.id}`.execute(db.owner.db);
    const problems = await checkLedger(db.owner.db);
    expect(problems.map((p) => p.invariant)).toEqual(expect.arrayContaining(['account_balance_matches_postings', 'trial_balance_zero']));
    expect(problems.find((p) => p.invariant === 'account_balance_matches_postings')?.detail).toContain(account.id);
    await sql`update ledger_accounts set balance_micros = balance_micros - 1 where id = ${account.id}`.execute(db.owner.db);
  });
});

describe('references are checked by the database, per statement', () => {
  it('a posting naming a missing entry, a missing account, or an account of another partner or currency is refused', async () => {
    await topUp(1_000_000n, 'top_refs');
    const sgdCard = (await db.owner.db.selectFrom('ledgerAccounts').select('id').where('partnerId', '=', partnerId).where('currency', '=', 'SGD').where('code', '=', 'card_clearing').executeTakeFirstOrThrow()).id;
    const north = (await db.owner.db.selectFrom('partners').select('id').where('slug', '=', 'northwind').executeTakeFirstOrThrow()).id;
    await db.owner.db.insertInto('ledgerAccounts').values({ id: 'acc_refs_other_partner000', partnerId: north, currency: 'SGD', code: 'card_clearing', customerId: null, kind: 'asset' }).onConflict((oc) => oc.doNothing()).execute();
    const attempt = (entryId: string, accountId: string) => db.owner.db.transaction().execute(async (trx) => {
      await sql`insert into journal_entries (id, partner_id, currency, kind, cause_type, cause_id, description) values ('je_refs_ok', ${partnerId}, 'SGD', 'test', 'test', 'x', 'x')`.execute(trx);
      await sql`insert into postings (entry_id, partner_id, currency, account_id, amount_micros) values (${entryId}, ${partnerId}, 'SGD', ${accountId}, 5), (${entryId}, ${partnerId}, 'SGD', ${sgdCard}, -5)`.execute(trx);
    });
    const codeOf = async (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string }) => e.code);
    expect(await codeOf(attempt('je_refs_missing', sgdCard))).toBe('23503');
    expect(await codeOf(attempt('je_refs_ok', 'acc_does_not_exist'))).toBe('23503');
    expect(await codeOf(attempt('je_refs_ok', 'acc_refs_other_partner000'))).toBe('23503');
    const call = (customer: string) => sql`insert into usage_calls (id, partner_id, customer_id, call_id, from_number, to_number, direction, started_at,
        duration_seconds, billed_seconds, currency, price_micros, cost_micros) values ('cal_refs_' || ${customer}, ${partnerId}, ${customer}, 'refs-' || ${customer},
        '6561234567', '6567778888', 'outbound', now(), 1, 1, 'SGD', 0, 0)`.execute(db.owner.db);
    expect(await codeOf(call('cus_does_not_exist'))).toBe('23503');
    const wombat = (await db.owner.db.selectFrom('customers').select('id').where('name', '=', 'Wombat Pty Ltd').executeTakeFirstOrThrow()).id;
    expect(await codeOf(call(wombat))).toBe('23503');
    expect(await codeOf(call(customerId))).toBe('ok');
    // A call's journal entry: checked when its statement ends (migration 0045), of its partner and currency.
    const charged = (id: string, entryId: string, currency = 'SGD') => db.owner.db.transaction().execute(async (trx) => {
      if (entryId === 'je_refs_call') {
        await sql`insert into journal_entries (id, partner_id, currency, kind, cause_type, cause_id, description) values ('je_refs_call', ${partnerId}, 'SGD', 'call_charge', 'call', ${id}, 'x')`.execute(trx);
        await sql`insert into postings (entry_id, partner_id, currency, account_id, amount_micros) values ('je_refs_call', ${partnerId}, 'SGD', ${sgdCard}, 5), ('je_refs_call', ${partnerId}, 'SGD', ${sgdCard}, -5)`.execute(trx);
      }
      if (entryId === 'je_refs_north') {
        // Another partner's entry (its balance is checked at commit, which this transaction never reaches).
        await sql`insert into journal_entries (id, partner_id, currency, kind, cause_type, cause_id, description) values ('je_refs_north', ${north}, 'SGD', 'call_charge', 'call', ${id}, 'x')`.execute(trx);
      }
      await sql`insert into usage_calls (id, partner_id, customer_id, call_id, from_number, to_number, direction, started_at, duration_seconds,
          billed_seconds, currency, price_micros, cost_micros, entry_id) values (${id}, ${partnerId}, ${customerId}, ${id}, '6561234567', '6567778888',
          'outbound', now(), 1, 1, ${currency}, 0, 0, ${entryId})`.execute(trx);
    });
    expect(await codeOf(charged('cal_refs_no_entry', 'je_does_not_exist'))).toBe('23503');
    expect(await codeOf(charged('cal_refs_wrong_currency', 'je_refs_call', 'MYR'))).toBe('23503');
    expect(await codeOf(charged('cal_refs_other_partner', 'je_refs_north'))).toBe('23503');
    expect(await codeOf(charged('cal_refs_entry', 'je_refs_call'))).toBe('ok');
    expect((await db.owner.db.selectFrom('usageCalls').select('callId').where('callId', 'like', 'cal_refs_%').orderBy('callId').execute()).map((c) => c.callId)).toEqual(['cal_refs_entry']);
    expect(await checkLedger(db.owner.db)).toEqual([]);
  });
  it("refuses a posting that does not name its account's customer: another customer, none on a customer's account, one on the partner's", async () => {
    await topUp(1_000_000n, 'top_named');
    const accountOf = async (code: string, customer: string | null) => (await db.owner.db.selectFrom('ledgerAccounts').select('id')
      .where('partnerId', '=', partnerId).where('currency', '=', 'SGD').where('code', '=', code as never)
      .where('customerId', customer === null ? 'is' : '=', customer).executeTakeFirstOrThrow()).id;
    const points = await accountOf('points', customerId);
    const card = await accountOf('card_clearing', null);
    const other = (await db.owner.db.selectFrom('customers').select('id').where('partnerId', '=', partnerId).where('id', '<>', customerId)
      .where('currency', '=', 'SGD').orderBy('id').executeTakeFirstOrThrow()).id;
    const before = { points: await balanceOf('points', customerId), card: await balanceOf('card_clearing', null) };
    // A call charge on Acme's points, as a direct writer would post it: the two postings name the customers given here.
    const post = (entryId: string, pointsNames: string | null, cardNames: string | null) => db.owner.db.transaction().execute(async (trx) => {
      await sql`insert into journal_entries (id, partner_id, currency, customer_id, kind, cause_type, cause_id, description)
        values (${entryId}, ${partnerId}, 'SGD', ${customerId}, 'call_charge', 'call', ${entryId}, 'x')`.execute(trx);
      await sql`insert into postings (entry_id, partner_id, currency, account_id, customer_id, amount_micros, balance_after_micros, kind, description, cause_type, cause_id)
        values (${entryId}, ${partnerId}, 'SGD', ${points}, ${pointsNames}, 5, ${before.points + 5n}, 'call_charge', 'Call', 'call', ${entryId}),
               (${entryId}, ${partnerId}, 'SGD', ${card}, ${cardNames}, -5, null, null, null, null, null)`.execute(trx);
    });
    const outcome = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string; message?: string }) => `${e.code}: ${e.message}`);
    const refused = '23503: a posting names an account that does not exist, or of another partner, currency or customer';
    expect(await outcome(post('je_named_other', other, null))).toBe(refused);
    expect(await outcome(post('je_named_none', null, null))).toBe(refused);
    expect(await outcome(post('je_named_partner', customerId, customerId))).toBe(refused);
    // Two postings on Acme's points in one statement, one naming Acme and one naming no one: refused as a whole.
    const mixed = db.owner.db.transaction().execute(async (trx) => {
      await sql`insert into journal_entries (id, partner_id, currency, customer_id, kind, cause_type, cause_id, description)
        values ('je_named_mixed', ${partnerId}, 'SGD', ${customerId}, 'call_charge', 'call', 'je_named_mixed', 'x')`.execute(trx);
      await sql`insert into postings (entry_id, partner_id, currency, account_id, customer_id, amount_micros, balance_after_micros, kind)
        values ('je_named_mixed', ${partnerId}, 'SGD', ${points}, ${customerId}, 5, ${before.points + 5n}, 'call_charge'),
               ('je_named_mixed', ${partnerId}, 'SGD', ${points}, null, 5, null, null),
               ('je_named_mixed', ${partnerId}, 'SGD', ${card}, null, -10, null, null)`.execute(trx);
    });
    expect(await outcome(mixed)).toBe(refused);
    // Another customer's points account passed as Acme's to postEntries (account ids the caller read): refused too.
    await asPartner((trx) => ensureWallets(trx, partnerId, [{ customerId: other, currency: 'SGD' }]));
    const othersPoints = await accountOf('points', other);
    const othersBefore = await balanceOf('points', other);
    const passed = asPartner((trx) => postEntries(trx, [{
      partnerId, currency: 'SGD', customerId, kind: 'top_up', causeType: 'top_up', causeId: 'top_named_passed', description: 'Known accounts', auditEventId: null,
      postings: [{ code: 'card_clearing', amountMicros: 300_000n }, { code: 'points', customerId, amountMicros: -300_000n }],
    }], { accountIds: new Map([[`points|${customerId}`, othersPoints], ['card_clearing|', card]]) }));
    expect(await outcome(passed)).toBe(refused);
    expect(await balanceOf('points', other)).toBe(othersBefore);
    expect(await db.owner.db.selectFrom('journalEntries').select('id').where('id', 'like', 'je_named_%').execute()).toEqual([]);
    expect({ points: await balanceOf('points', customerId), card: await balanceOf('card_clearing', null) }).toEqual(before);
    // The same postings naming the account's own customer, and none on the partner's account, are written.
    expect(await outcome(post('je_named_right', customerId, null))).toBe('ok');
    expect(await balanceOf('points', customerId)).toBe(before.points + 5n);
    expect(await checkLedger(db.owner.db)).toEqual([]);
  });

  it("the checker names a posting written before the database checked whose customer it names", async () => {
    const points = (await db.owner.db.selectFrom('ledgerAccounts').select('id').where('partnerId', '=', partnerId).where('currency', '=', 'SGD')
      .where('code', '=', 'points').where('customerId', '=', customerId).executeTakeFirstOrThrow()).id;
    const other = (await db.owner.db.selectFrom('customers').select('id').where('partnerId', '=', partnerId).where('id', '<>', customerId)
      .where('currency', '=', 'SGD').orderBy('id').executeTakeFirstOrThrow()).id;
    // Written with the triggers off (as a copy of older data would be): +5 and -5 on Acme's points, one naming another
    // customer; the balance and the entry's sum are untouched, so only this check can see it. Taken away afterwards.
    const withTriggersOff = (statement: ReturnType<typeof sql>) => db.owner.db.transaction().execute(async (trx) => {
      await sql`set local session_replication_role = replica`.execute(trx);
      await statement.execute(trx);
    });
    await withTriggersOff(sql`with e as (insert into journal_entries (id, partner_id, currency, customer_id, kind, cause_type, cause_id, description)
        values ('je_misnamed', ${partnerId}, 'SGD', ${customerId}, 'test', 'test', 'x', 'x'))
      insert into postings (entry_id, partner_id, currency, account_id, customer_id, amount_micros)
        values ('je_misnamed', ${partnerId}, 'SGD', ${points}, ${customerId}, 5), ('je_misnamed', ${partnerId}, 'SGD', ${points}, ${other}, -5)`);
    try {
      const misnamed = (await db.owner.db.selectFrom('postings').select('id').where('entryId', '=', 'je_misnamed').where('customerId', '=', other).executeTakeFirstOrThrow()).id;
      expect(await checkLedger(db.owner.db)).toEqual([
        { invariant: 'posting_customer_matches_account', partnerId, subject: `posting ${misnamed}`, detail: `posting ${misnamed} on ${points}: names customer ${other}, the account's is ${customerId}` },
      ]);
      expect(await checkLedger(db.owner.db, partnerId)).toHaveLength(1);
      const north = (await db.owner.db.selectFrom('partners').select('id').where('slug', '=', 'northwind').executeTakeFirstOrThrow()).id;
      expect(await checkLedger(db.owner.db, north)).toEqual([]);
    } finally {
      await withTriggersOff(sql`with p as (delete from postings where entry_id = 'je_misnamed') delete from journal_entries where id = 'je_misnamed'`);
    }
    expect(await checkLedger(db.owner.db)).toEqual([]);
  });

  it("takes account ids the caller already read, and the database still refuses one of another partner or currency", async () => {
    await topUp(2_000_000n, 'top_known');
    const idOf = async (code: string, currency: string, customer: string | null) => (await db.owner.db.selectFrom('ledgerAccounts').select('id')
      .where('partnerId', '=', partnerId).where('currency', '=', currency).where('code', '=', code as never)
      .where('customerId', customer === null ? 'is' : '=', customer).executeTakeFirstOrThrow()).id;
    const points = await idOf('points', 'SGD', customerId);
    const card = await idOf('card_clearing', 'SGD', null);
    const entry = (causeId: string) => ({
      partnerId, currency: 'SGD', customerId, kind: 'top_up', causeType: 'top_up', causeId, description: 'Known accounts', auditEventId: null,
      postings: [{ code: 'card_clearing' as const, amountMicros: 300_000n }, { code: 'points' as const, customerId, amountMicros: -300_000n }],
    });
    const before = await balanceOf('points', customerId);
    await asPartner((trx) => postEntries(trx, [entry('top_known_ok')], { accountIds: new Map([[`points|${customerId}`, points], ['card_clearing|', card]]) }));
    expect(await balanceOf('points', customerId)).toBe(before - 300_000n);
    // A points account of another currency passed as this customer's SGD points: the posting's check refuses it.
    // (Opened straight in the ledger: a wallet opens only in the customer's own currency.)
    await asPartner((trx) => resolveAccounts(trx, partnerId, 'MYR', [{ code: 'points', customerId }]));
    const myrPoints = await idOf('points', 'MYR', customerId);
    const wrong = asPartner((trx) => postEntries(trx, [entry('top_known_wrong')], { accountIds: new Map([[`points|${customerId}`, myrPoints], ['card_clearing|', card]]) }));
    await expect(wrong).rejects.toMatchObject({ code: '23503' });
    expect(await db.owner.db.selectFrom('journalEntries').select('id').where('causeId', '=', 'top_known_wrong').execute()).toEqual([]);
    expect(await balanceOf('points', customerId)).toBe(before - 300_000n);
    expect(await checkLedger(db.owner.db)).toEqual([]);
  });

  it('looks accounts up and locks exactly the customer accounts asked for, never the partner\'s own; opens missing ones', async () => {
    await topUp(1_000_000n, 'top_lock');
    const other = (await db.owner.db.selectFrom('customers').select('id').where('partnerId', '=', partnerId).where('id', '<>', customerId)
      .where('currency', '=', 'SGD').orderBy('id').executeTakeFirstOrThrow()).id;
    await asPartner((trx) => ensureWallets(trx, partnerId, [{ customerId: other, currency: 'SGD' }]));
    const accountId = async (code: string, customer: string | null) => (await db.owner.db.selectFrom('ledgerAccounts').select('id')
      .where('partnerId', '=', partnerId).where('currency', '=', 'SGD').where('code', '=', code as never)
      .where('customerId', customer === null ? 'is' : '=', customer).executeTakeFirst())?.id ?? null;
    // Opens both customers' receivables (reversed at the end: no invoice stands behind them).
    const opened = await asPartner((trx) => postEntry(trx, {
      partnerId, currency: 'SGD', customerId: other, kind: 'test', causeType: 'test', causeId: 'open_receivable', description: 'Opens the receivable', auditEventId: null,
      postings: [
        { code: 'receivable', customerId: other, amountMicros: 100_000n }, { code: 'receivable', customerId, amountMicros: 100_000n },
        { code: 'revenue:one_time', amountMicros: -200_000n },
      ],
    }));
    const otherReceivable = (await accountId('receivable', other))!;
    expect(await accountId('unapplied', customerId)).toBeNull();
    await asPartner(async (trx) => {
      const got = await resolveAndLockAccounts(trx, partnerId, 'SGD', [
        { code: 'card_clearing' }, { code: 'points', customerId }, { code: 'points', customerId: other }, { code: 'receivable', customerId },
        { code: 'unapplied', customerId },
      ]);
      const points = (await accountId('points', customerId))!;
      const otherPoints = (await accountId('points', other))!;
      const card = (await accountId('card_clearing', null))!;
      expect(got.keys).toEqual(['card_clearing|', `points|${customerId}`, `points|${other}`, `receivable|${customerId}`, `unapplied|${customerId}`]);
      expect(got.ids.get(`points|${customerId}`)).toBe(points);
      expect(got.ids.get(`points|${other}`)).toBe(otherPoints);
      expect(got.ids.get('card_clearing|')).toBe(card);
      const receivable = got.ids.get(`receivable|${customerId}`)!;
      const unapplied = got.ids.get(`unapplied|${customerId}`)!;
      expect(unapplied).toMatch(/^acc_/); // opened in this transaction
      expect(got.balances).toEqual(new Map([
        [points, await balanceOf('points', customerId)], [otherPoints, await balanceOf('points', other)],
        [receivable, await balanceOf('receivable', customerId)], [unapplied, 0n],
      ]));
      expect(await lockable(points)).toBe(false);
      expect(await lockable(otherPoints)).toBe(false);
      expect(await lockable(receivable)).toBe(false);
      expect(await lockable(card)).toBe(true);
      // Only the pairs asked for: the other customer's receivable exists, matches the codes and customers asked for
      // (receivable, other), but was not asked for as a pair, and is not locked.
      expect(await lockable(otherReceivable)).toBe(true);
    });
    expect(await accountId('unapplied', customerId)).not.toBeNull();
    await asPartner((trx) => reverseEntry(trx, opened.entryId, { kind: 'test_reversal', description: 'Reverses the test entry', auditEventId: null }));
    expect(await checkLedger(db.owner.db)).toEqual([]);
  });

  it("moves a partner account's balance at commit, without locking it before; a customer account's at once, locked", async () => {
    await topUp(1_000_000n, 'top_commit_first');
    const idOf = async (code: string, customer: string | null) => (await db.owner.db.selectFrom('ledgerAccounts').select('id')
      .where('partnerId', '=', partnerId).where('currency', '=', 'SGD').where('code', '=', code as never)
      .where('customerId', customer === null ? 'is' : '=', customer).executeTakeFirstOrThrow()).id;
    const card = await idOf('card_clearing', null);
    const points = await idOf('points', customerId);
    const cardBefore = await balanceOf('card_clearing', null);
    const pointsBefore = await balanceOf('points', customerId);
    const entry = (causeId: string) => ({
      partnerId, currency: 'SGD', customerId, kind: 'top_up', causeType: 'top_up', causeId, description: 'At commit', auditEventId: null,
      postings: [{ code: 'card_clearing' as const, amountMicros: 700_000n }, { code: 'points' as const, customerId, amountMicros: -700_000n }],
    });
    const pending = async () => Number((await sql<{ n: string }>`select count(*)::text as n from ledger_pending_balances`.execute(db.owner.db)).rows[0]!.n);

    await asPartner(async (trx) => {
      const posted = await postEntry(trx, entry('top_commit'));
      expect(posted.customerBalances.get(`points|${customerId}`)).toBe(pointsBefore - 700_000n);
      // Another change of this partner can still post to card clearing: it is locked only while this one commits.
      expect(await lockable(card)).toBe(true);
      expect(await lockable(points)).toBe(false);
      // Inside the transaction the customer's balance has moved; the partner's moves with the commit.
      const rows = await trx.selectFrom('ledgerAccounts').select(['id', 'balanceMicros']).where('id', 'in', [card, points]).execute();
      expect(new Map(rows.map((r) => [r.id, BigInt(r.balanceMicros)]))).toEqual(new Map([[card, cardBefore], [points, pointsBefore - 700_000n]]));
    });
    expect(await balanceOf('card_clearing', null)).toBe(cardBefore + 700_000n);
    expect(await balanceOf('points', customerId)).toBe(pointsBefore - 700_000n);
    expect(await pending()).toBe(0);

    await expect(asPartner(async (trx) => {
      await postEntry(trx, entry('top_commit_rolled_back'));
      throw new Error('refused');
    })).rejects.toThrow('refused');
    expect(await balanceOf('card_clearing', null)).toBe(cardBefore + 700_000n);
    expect(await pending()).toBe(0);
    expect(await checkLedger(db.owner.db)).toEqual([]);
  });

  it('applies at commit exactly the queued balances a transaction kept: across savepoints, early applies and later entries', async () => {
    await topUp(5_000_000n, 'top_savepoints_first');
    const cardBefore = await balanceOf('card_clearing', null);
    const entry = (causeId: string, micros: bigint) => ({
      partnerId, currency: 'SGD', customerId, kind: 'top_up', causeType: 'top_up', causeId, description: 'Savepoints', auditEventId: null,
      postings: [{ code: 'card_clearing' as const, amountMicros: micros }, { code: 'points' as const, customerId, amountMicros: -micros }],
    });
    await asPartner(async (trx) => {
      await postEntry(trx, entry('sp_kept_1', 100_000n));
      // An entry under a savepoint that is rolled back: its queued balance goes with it.
      await sql`savepoint sp_a`.execute(trx);
      await postEntry(trx, entry('sp_dropped_1', 20_000n));
      await sql`rollback to savepoint sp_a`.execute(trx);
      // Applied early (a bulk job writing its events straight into the trail), then more entries, one of them dropped again.
      await sql`select ledger_apply_pending_balances()`.execute(trx);
      await sql`savepoint sp_b`.execute(trx);
      await postEntry(trx, entry('sp_dropped_2', 3_000n));
      await sql`rollback to savepoint sp_b`.execute(trx);
      await postEntry(trx, entry('sp_kept_2', 400n));
      await sql`savepoint sp_c`.execute(trx);
      await postEntry(trx, entry('sp_kept_3', 5n));
      await sql`release savepoint sp_c`.execute(trx);
    });
    expect(await balanceOf('card_clearing', null)).toBe(cardBefore + 100_405n);
    expect(Number((await sql<{ n: string }>`select count(*)::text as n from ledger_pending_balances`.execute(db.owner.db)).rows[0]!.n)).toBe(0);
    expect(await checkLedger(db.owner.db)).toEqual([]);
  });
});
