import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { api, createTestApp, partnerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';
import { LEDGER_CHECK_CRONTAB, LEDGER_CHECK_TASK, runLedgerCheck } from './scheduled-ledger-check.ts';
import { checkLedger, LISTED_PER_PARTNER } from './check-ledger.ts';
import { inScope } from '../platform/database.ts';

/**
 * The nightly ledger check: one row per partner with what it found, shown in the Finance app; a new finding alerts the
 * partner's Finance holders once, and only that partner's; sound books clear it.
 */
let t: TestApp;
let finance: Session;
let admin: Session;
let northwindAdmin: Session;
let customerOwner: Session;
let demo: string;
let northwind: string;
const driftAccount = 'acc_sched_check_card0000000';
const secondAccount = 'acc_sched_check_bank0000000';
const northwindAccount = 'acc_sched_check_nw_card0000';

const deps = () => ({ db: t.db.app.db, ownerDb: t.db.owner.db, log: t.app.log });

async function ledgerCheck(who: Session = finance) {
  const res = await api(t, who, 'GET', '/api/v1/finance/ledger-check');
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

async function alerts(partnerId: string) {
  return t.db.owner.db.selectFrom('notifications').select(['toEmail', 'subject', 'bodyText']).where('kind', '=', 'ledger_check_failed').where('partnerId', '=', partnerId).execute();
}

async function moveStoredBalance(byMicros: number, account = driftAccount) {
  await sql`update ledger_accounts set balance_micros = balance_micros + ${byMicros} where id = ${account}`.execute(t.db.owner.db);
}

async function putRight() {
  await sql`update ledger_accounts set balance_micros = 0 where id in (${driftAccount}, ${secondAccount}, ${northwindAccount})`.execute(t.db.owner.db);
}

/** As the owner with triggers off: rows the application could never write. */
async function withTriggersOff(statement: ReturnType<typeof sql>) {
  await t.db.owner.db.transaction().execute(async (trx) => {
    await sql`set local session_replication_role = replica`.execute(trx);
    await statement.execute(trx);
  });
}

beforeAll(async () => {
  t = await createTestApp();
  [demo, northwind] = await Promise.all([partnerIdOf(t.db, 'demo-telecom'), partnerIdOf(t.db, 'northwind')]);
  [finance, admin, northwindAdmin, customerOwner] = await Promise.all([
    signIn(t, 'finance@demo.test'), signIn(t, 'admin@demo.test'), signIn(t, 'admin@northwind.test'), signIn(t, 'owner@acme.test'),
  ]);
  await t.db.owner.db.insertInto('ledgerAccounts').values([
    { id: driftAccount, partnerId: demo, currency: 'SGD', code: 'card_clearing', customerId: null, kind: 'asset' },
    { id: secondAccount, partnerId: demo, currency: 'USD', code: 'card_clearing', customerId: null, kind: 'asset' },
    { id: northwindAccount, partnerId: northwind, currency: 'SGD', code: 'card_clearing', customerId: null, kind: 'asset' },
  ]).onConflict((oc) => oc.doNothing()).execute();
});
afterAll(async () => t.close());

describe('the nightly ledger check', () => {
  it('runs every night from the worker', () => {
    expect(LEDGER_CHECK_CRONTAB).toMatch(new RegExp(`^\\d+ \\d+ \\* \\* \\* ${LEDGER_CHECK_TASK} `));
  });

  it('says "not checked yet" before its first run, then "sound" with when it ran and how long it took', async () => {
    expect(await ledgerCheck()).toMatchObject({ status: 'not_checked_yet', checkedAt: null, problemCount: 0, problems: [], schedule: '20 3 * * *' });
    const outcome = await runLedgerCheck(deps());
    expect(outcome).toMatchObject({ problems: 0, alerted: [] });
    expect(outcome.partners).toBeGreaterThanOrEqual(2);
    const check = await ledgerCheck();
    expect(check).toMatchObject({ status: 'sound', problemCount: 0, problems: [], detectedAt: null, alertedAt: null });
    expect(Date.parse(check.checkedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(check.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('names a drifted balance in its partner\'s result, alerts that partner\'s Finance holders once, and no other partner', async () => {
    await moveStoredBalance(1);
    try {
      const outcome = await runLedgerCheck(deps());
      expect(outcome.alerted).toEqual([demo]);
      const check = await ledgerCheck();
      expect(check.status).toBe('problems');
      expect(check.problemCount).toBe(2);
      expect(check.problems).toEqual(expect.arrayContaining([
        { invariant: 'account_balance_matches_postings', subject: `account ${driftAccount}`, detail: `account ${driftAccount}: stored 1, postings sum to 0` },
        expect.objectContaining({ invariant: 'trial_balance_zero', subject: 'trial balance SGD' }),
      ]));
      expect(Date.parse(check.detectedAt)).toBeGreaterThan(Date.now() - 60_000);
      expect(check.alertedAt).not.toBeNull();
      const sent = await alerts(demo);
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatchObject({ toEmail: 'finance@demo.test', subject: 'Ledger check: 2 problems in your books' });
      expect(sent[0]!.bodyText).toContain(driftAccount);
      expect(await alerts(northwind)).toEqual([]);
      // The other partner's books are sound, in its own row.
      const rows = await sql<{ count: number }>`select problem_count as count from ledger_checks where partner_id = ${northwind}`.execute(t.db.owner.db);
      expect(rows.rows).toEqual([{ count: 0 }]);

      // The next night finds the same thing wrong (the stored balance moved again, the same account): no second alert.
      await moveStoredBalance(1);
      const again = await runLedgerCheck(deps());
      expect(again.alerted).toEqual([]);
      const still = await ledgerCheck();
      expect(still).toMatchObject({ status: 'problems', problemCount: 2, detectedAt: check.detectedAt, alertedAt: check.alertedAt });
      expect(still.problems).toEqual(expect.arrayContaining([expect.objectContaining({ detail: `account ${driftAccount}: stored 2, postings sum to 0` })]));
      expect(await alerts(demo)).toHaveLength(1);
    } finally {
      await putRight();
    }
    // Put right: sound again, the finding cleared.
    await runLedgerCheck(deps());
    expect(await ledgerCheck()).toMatchObject({ status: 'sound', problemCount: 0, problems: [], detectedAt: null, alertedAt: null });
  });

  it('alerts nobody again when fewer of the same things are wrong; the finding keeps when it was first seen', async () => {
    await moveStoredBalance(1);
    await moveStoredBalance(1, secondAccount);
    try {
      expect((await runLedgerCheck(deps())).alerted).toEqual([demo]);
      const first = await ledgerCheck();
      expect(first.problemCount).toBe(4); // two accounts and the trial balances of their currencies
      await moveStoredBalance(-1, secondAccount);
      expect((await runLedgerCheck(deps())).alerted).toEqual([]);
      const fewer = await ledgerCheck();
      expect(fewer).toMatchObject({ status: 'problems', problemCount: 2, detectedAt: first.detectedAt, alertedAt: first.alertedAt });
      // A subject not on record the night before is news, though the finding goes on.
      await moveStoredBalance(1, secondAccount);
      expect((await runLedgerCheck(deps())).alerted).toEqual([demo]);
      const more = await ledgerCheck();
      expect(more.detectedAt).toBe(first.detectedAt);
      expect(Date.parse(more.alertedAt)).toBeGreaterThan(Date.parse(first.alertedAt));
    } finally {
      await putRight();
    }
    await runLedgerCheck(deps());
    expect((await ledgerCheck()).status).toBe('sound');
  });

  it('tells a partner with no Finance holder once it has one, and says nobody was emailed until then', async () => {
    await moveStoredBalance(3, northwindAccount);
    try {
      expect((await runLedgerCheck(deps())).alerted).toEqual([]);
      const row = async () => (await sql<{ count: number; alerted: Date | null; detected: Date | null }>`
        select problem_count as count, problem_alerted_at as alerted, problem_detected_at as detected from ledger_checks where partner_id = ${northwind}`.execute(t.db.owner.db)).rows[0]!;
      expect(await row()).toMatchObject({ count: 2, alerted: null });
      expect(await alerts(northwind)).toEqual([]);
      const nora = await t.db.owner.db.selectFrom('users').select('id').where('email', '=', 'admin@northwind.test').executeTakeFirstOrThrow();
      await t.db.owner.db.insertInto('appGrants').values({ partnerId: northwind, userId: nora.id, app: 'finance', grantedBy: null }).execute();
      expect((await runLedgerCheck(deps())).alerted).toEqual([northwind]);
      expect((await alerts(northwind)).map((a) => a.toEmail)).toEqual(['admin@northwind.test']);
      expect((await row()).alerted).not.toBeNull();
      expect((await runLedgerCheck(deps())).alerted).toEqual([]);
      await t.db.owner.db.deleteFrom('appGrants').where('userId', '=', nora.id).where('app', '=', 'finance').execute();
    } finally {
      await putRight();
    }
    await runLedgerCheck(deps());
  });

  it("lists at most LISTED_PER_PARTNER of one check per partner, so one partner's many never hide another's", async () => {
    const ids = Array.from({ length: LISTED_PER_PARTNER + 5 }, (_, i) => `je_sched_demo_${String(i).padStart(4, '0')}`);
    await withTriggersOff(sql`
      insert into journal_entries (id, partner_id, currency, customer_id, kind, cause_type, cause_id, description)
      select id, ${demo}, 'SGD', null, 'test', 'test', 'x', 'no postings' from unnest(${ids}::text[]) as id
      union all select 'je_sched_northwind_0001', ${northwind}, 'SGD', null, 'test', 'test', 'x', 'no postings'`);
    try {
      const problems = (await checkLedger(t.db.owner.db)).filter((p) => p.invariant === 'entry_balances');
      expect(problems.filter((p) => p.partnerId === demo).map((p) => p.subject)).toEqual(ids.slice(0, LISTED_PER_PARTNER).map((id) => `entry ${id}`));
      expect(problems.filter((p) => p.partnerId === northwind).map((p) => p.subject)).toEqual(['entry je_sched_northwind_0001']);
      await runLedgerCheck(deps());
      const check = await ledgerCheck();
      expect(check.problemCount).toBe(LISTED_PER_PARTNER);
      expect(check.problems).toHaveLength(20);
      const nw = await sql<{ count: number }>`select problem_count as count from ledger_checks where partner_id = ${northwind}`.execute(t.db.owner.db);
      expect(nw.rows).toEqual([{ count: 1 }]);
    } finally {
      await withTriggersOff(sql`delete from journal_entries where id like 'je_sched_%'`);
    }
    await runLedgerCheck(deps());
    expect((await ledgerCheck()).status).toBe('sound');
  });

  it('says when its last result is out of date (the nightly check has not run since)', async () => {
    await runLedgerCheck(deps());
    expect((await ledgerCheck()).stale).toBe(false);
    await sql`update ledger_checks set checked_at = now() - interval '27 hours' where partner_id = ${demo}`.execute(t.db.owner.db);
    expect(await ledgerCheck()).toMatchObject({ status: 'sound', stale: true });
    await runLedgerCheck(deps());
    expect((await ledgerCheck()).stale).toBe(false);
  });

  it('alerts again when the books go wrong again after they were put right', async () => {
    const before = (await alerts(demo)).length;
    await moveStoredBalance(-5);
    try {
      expect((await runLedgerCheck(deps())).alerted).toEqual([demo]);
      expect(await alerts(demo)).toHaveLength(before + 1);
    } finally {
      await putRight();
    }
    await runLedgerCheck(deps());
    expect((await ledgerCheck()).status).toBe('sound');
  });

  it("keeps each partner's result behind row-level security: a partner's scope reads its own row only", async () => {
    await runLedgerCheck(deps());
    const seen = await inScope(t.db.app.db, { kind: 'partner', partnerId: northwind }, async (trx) =>
      (await sql<{ partnerId: string }>`select partner_id as "partnerId" from ledger_checks`.execute(trx)).rows);
    expect(seen).toEqual([{ partnerId: northwind }]);
    const customerScope = await inScope(t.db.app.db, { kind: 'customer', partnerId: demo, customerId: 'cus_none' }, async (trx) =>
      (await sql`select 1 from ledger_checks`.execute(trx)).rows);
    expect(customerScope).toEqual([]);
  });

  it('is shown to staff with the Finance app only', async () => {
    expect((await api(t, admin, 'GET', '/api/v1/finance/ledger-check')).statusCode).toBe(403);
    expect((await api(t, northwindAdmin, 'GET', '/api/v1/finance/ledger-check')).statusCode).toBe(403);
    expect([401, 403]).toContain((await api(t, customerOwner, 'GET', '/api/v1/finance/ledger-check')).statusCode);
    const unknownParam = await api(t, finance, 'GET', '/api/v1/finance/ledger-check?partnerId=' + northwind);
    expect(unknownParam.statusCode).toBe(400);
  });
});
