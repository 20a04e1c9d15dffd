import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, createTestApp, partnerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';
import { LEDGER_CHECK_AGAIN_AFTER_SECONDS } from './run-ledger-check-now.ts';

let t: TestApp;
let finance: Session;
let demo: string;
beforeAll(async () => {
  t = await createTestApp();
  finance = await signIn(t, 'finance@demo.test');
  demo = await partnerIdOf(t.db, 'demo-telecom');
});
afterAll(async () => t.close());

const runNow = (who: Session) => api(t, who, 'POST', '/api/v1/finance/ledger-check');
/** As if the last check were this many seconds ago. */
const lastCheckedAgo = (seconds: number) => sql`update ledger_checks set checked_at = now() - make_interval(secs => ${seconds}) where partner_id = ${demo}`.execute(t.db.owner.db);

describe('checking the books now', () => {
  it('runs the check for the partner, records it as the nightly one, answers it, and audits it; again only after a minute', async () => {
    expect((await api(t, finance, 'GET', '/api/v1/finance/ledger-check')).json()).toMatchObject({ status: 'not_checked_yet' });
    const res = await runNow(finance);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ status: 'sound', problemCount: 0, problems: [], stale: false });
    expect((await api(t, finance, 'GET', '/api/v1/finance/ledger-check')).json()).toMatchObject({ status: 'sound', checkedAt: res.json().checkedAt });
    const [event] = await auditEventsOf(t.db, 'ledger_check.run');
    expect(event).toMatchObject({ app: 'finance', partnerId: demo, changes: { status: { after: 'sound' }, problemCount: { after: 0 } } });

    const again = await runNow(finance);
    expect(again.statusCode).toBe(429);
    expect(again.json().code).toBe('too_many_requests');
    expect(Number(again.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(again.headers['retry-after'])).toBeLessThanOrEqual(LEDGER_CHECK_AGAIN_AFTER_SECONDS);
    expect(await auditEventsOf(t.db, 'ledger_check.run')).toHaveLength(1);
  });

  it('names a problem in this partner\'s books at once, and alerts its Finance holders once', async () => {
    await lastCheckedAgo(LEDGER_CHECK_AGAIN_AFTER_SECONDS + 1);
    // Some money moved, then a balance moved around the ledger (as a bug or a hand edit would): the check names it.
    const acme = (await t.db.owner.db.selectFrom('customers').select('id').where('name', '=', 'Acme Pte Ltd').executeTakeFirstOrThrow()).id;
    expect((await api(t, finance, 'POST', `/api/v1/customers/${acme}/points/issue`, { amount: '5.00', reason: 'welcome' })).statusCode).toBe(200);
    const account = await t.db.owner.db.selectFrom('ledgerAccounts').select('id').where('partnerId', '=', demo).where('customerId', 'is', null).orderBy('id').limit(1).executeTakeFirstOrThrow();
    await sql`alter table ledger_accounts disable trigger user`.execute(t.db.owner.db);
    try {
      await sql`update ledger_accounts set balance_micros = balance_micros + 1 where id = ${account.id}`.execute(t.db.owner.db);
    } finally {
      await sql`alter table ledger_accounts enable trigger user`.execute(t.db.owner.db);
    }
    try {
      const res = await runNow(finance);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ status: 'problems' });
      expect(res.json().problems.map((p: { invariant: string }) => p.invariant)).toContain('account_balance_matches_postings');
      const alerts = await t.db.owner.db.selectFrom('notifications').select('toEmail').where('kind', '=', 'ledger_check_failed').where('partnerId', '=', demo).execute();
      expect(alerts.map((a) => a.toEmail)).toContain('finance@demo.test');
    } finally {
      await sql`alter table ledger_accounts disable trigger user`.execute(t.db.owner.db);
      await sql`update ledger_accounts set balance_micros = balance_micros - 1 where id = ${account.id}`.execute(t.db.owner.db);
      await sql`alter table ledger_accounts enable trigger user`.execute(t.db.owner.db);
    }
  });

  it('needs the Finance app; another partner checks only its own books', async () => {
    const admin = await signIn(t, 'admin@demo.test');
    expect((await runNow(admin)).statusCode).toBe(403);
    const north = await signIn(t, 'admin@northwind.test');
    expect((await runNow(north)).statusCode).toBe(403);
  });
});
