import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { api, createTestApp, partnerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';
import { LEDGER_CHECK_CRONTAB, LEDGER_CHECK_TASK, runLedgerCheck } from './scheduled-ledger-check.ts';

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

const deps = () => ({ db: t.db.app.db, ownerDb: t.db.owner.db, log: t.app.log });

async function ledgerCheck(who: Session = finance) {
  const res = await api(t, who, 'GET', '/api/v1/finance/ledger-check');
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

async function alerts(partnerId: string) {
  return t.db.owner.db.selectFrom('notifications').select(['toEmail', 'subject', 'bodyText']).where('kind', '=', 'ledger_check_failed').where('partnerId', '=', partnerId).execute();
}

async function moveStoredBalance(byMicros: number) {
  await sql`update ledger_accounts set balance_micros = balance_micros + ${byMicros} where id = ${driftAccount}`.execute(t.db.owner.db);
}

beforeAll(async () => {
  t = await createTestApp();
  [demo, northwind] = await Promise.all([partnerIdOf(t.db, 'demo-telecom'), partnerIdOf(t.db, 'northwind')]);
  [finance, admin, northwindAdmin, customerOwner] = await Promise.all([
    signIn(t, 'finance@demo.test'), signIn(t, 'admin@demo.test'), signIn(t, 'admin@northwind.test'), signIn(t, 'owner@acme.test'),
  ]);
  await t.db.owner.db.insertInto('ledgerAccounts').values({ id: driftAccount, partnerId: demo, currency: 'SGD', code: 'card_clearing', customerId: null, kind: 'asset' })
    .onConflict((oc) => oc.doNothing()).execute();
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
      await sql`update ledger_accounts set balance_micros = 0 where id = ${driftAccount}`.execute(t.db.owner.db);
    }
    // Put right: sound again, the finding cleared.
    await runLedgerCheck(deps());
    expect(await ledgerCheck()).toMatchObject({ status: 'sound', problemCount: 0, problems: [], detectedAt: null, alertedAt: null });
  });

  it('alerts again when the books go wrong again after they were put right', async () => {
    await moveStoredBalance(-5);
    try {
      expect((await runLedgerCheck(deps())).alerted).toEqual([demo]);
      expect(await alerts(demo)).toHaveLength(2);
    } finally {
      await sql`update ledger_accounts set balance_micros = 0 where id = ${driftAccount}`.execute(t.db.owner.db);
    }
    await runLedgerCheck(deps());
    expect((await ledgerCheck()).status).toBe('sound');
  });

  it('is shown to staff with the Finance app only', async () => {
    expect((await api(t, admin, 'GET', '/api/v1/finance/ledger-check')).statusCode).toBe(403);
    expect((await api(t, northwindAdmin, 'GET', '/api/v1/finance/ledger-check')).statusCode).toBe(403);
    expect([401, 403]).toContain((await api(t, customerOwner, 'GET', '/api/v1/finance/ledger-check')).statusCode);
    const unknownParam = await api(t, finance, 'GET', '/api/v1/finance/ledger-check?partnerId=' + northwind);
    expect(unknownParam.statusCode).toBe(400);
  });
});
