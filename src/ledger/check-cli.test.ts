import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDb, type TestDb } from '../test/harness.ts';

// `npm run ledger:check` against a test database: sound books answer 0, a broken balance answers 1 and names it.

const run = promisify(execFile);
let db: TestDb;

beforeAll(async () => {
  db = await createTestDb();
});
afterAll(async () => db.drop());

async function checkCli(): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, ['src/ledger/check-cli.ts'], { env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'silent' } });
    return { code: 0, stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout + e.stderr };
  }
}

it('answers 0 for the seeded books, 1 with the account named once a stored balance drifts from its postings', { timeout: 60_000 }, async () => {
  const sound = await checkCli();
  expect(sound).toEqual({ code: 0, stdout: 'ledger sound: every entry balances, every balance equals its postings, every invariant holds\n' });

  const partnerId = (await db.owner.db.selectFrom('partners').select('id').where('slug', '=', 'demo-telecom').executeTakeFirstOrThrow()).id;
  const account = 'acc_check_cli_card000000000';
  await db.owner.db.insertInto('ledgerAccounts').values({ id: account, partnerId, currency: 'SGD', code: 'card_clearing', customerId: null, kind: 'asset' })
    .onConflict((oc) => oc.doNothing()).execute();
  await sql`update ledger_accounts set balance_micros = balance_micros + 1 where id = ${account}`.execute(db.owner.db);
  try {
    const broken = await checkCli();
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain(`PROBLEM  account_balance_matches_postings: account ${account}: stored `);
    expect(broken.stdout).toContain('PROBLEM  trial_balance_zero: ');
    expect(broken.stdout).toMatch(/ledger NOT sound: 2 problems\n$/);
  } finally {
    await sql`update ledger_accounts set balance_micros = balance_micros - 1 where id = ${account}`.execute(db.owner.db);
  }
  expect((await checkCli()).code).toBe(0);
});

it('answers 2 when it cannot reach the database', { timeout: 60_000 }, async () => {
  const url = new URL(db.url);
  url.port = '1';
  try {
    await run(process.execPath, ['src/ledger/check-cli.ts'], { env: { ...process.env, DATABASE_URL: url.toString(), LOG_LEVEL: 'silent' } });
    expect.unreachable('the check ran without a database');
  } catch (err) {
    expect((err as { code: number }).code).toBe(2);
  }
});
