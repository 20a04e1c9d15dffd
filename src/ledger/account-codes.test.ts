import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDb, partnerIdOf, type TestDb } from '../test/harness.ts';
import { inScope } from '../platform/database.ts';
import { ACCOUNT_KIND, CUSTOMER_ACCOUNTS } from './accounts.ts';

// An account's code and kind are checked against `ledger_account_codes` by a foreign key (migration 0063), no longer
// by check constraints that every balance update prepared again.
let db: TestDb;
let partnerId: string;

beforeAll(async () => {
  db = await createTestDb();
  partnerId = await partnerIdOf(db, 'demo-telecom');
});
afterAll(async () => db.drop());

const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string; constraint?: string }) => `${e.code} ${e.constraint ?? ''}`.trim());
const account = (id: string, code: string, kind: string, currency = 'SGD') =>
  sql`insert into ledger_accounts (id, partner_id, currency, code, customer_id, kind) values (${id}, ${partnerId}, ${currency}, ${code}, null, ${kind})`.execute(db.owner.db);

describe('account codes', () => {
  it('the table of codes is the code\'s own list: every code with its one kind, and which belong to a customer', async () => {
    const rows = await db.owner.db.selectFrom('ledgerAccountCodes').select(['code', 'kind', 'perCustomer']).orderBy('code').execute();
    expect(Object.fromEntries(rows.map((r) => [r.code, r.kind]))).toEqual(ACCOUNT_KIND);
    expect(rows.filter((r) => r.perCustomer).map((r) => r.code).sort()).toEqual([...CUSTOMER_ACCOUNTS].sort());
  });

  it('refuses an account of an unknown code, or of a kind that is not its code\'s, and takes one that matches', async () => {
    expect(await codeOf(account('la_codes_unknown', 'petty_cash', 'asset'))).toBe('23503 ledger_accounts_code_kind_fkey');
    // Before migration 0063 each list was checked on its own, and this passed.
    expect(await codeOf(account('la_codes_wrong_kind', 'bank', 'revenue'))).toBe('23503 ledger_accounts_code_kind_fkey');
    expect(await codeOf(account('la_codes_no_kind', 'bank', 'equity'))).toBe('23503 ledger_accounts_code_kind_fkey');
    // The customer codes name a customer, the others none (a check, as before).
    expect(await codeOf(account('la_codes_points_no_customer', 'points', 'liability'))).toBe('23514 ledger_accounts_check');
    expect(await codeOf(account('la_codes_bank', 'bank', 'asset'))).toBe('ok');
    const banks = await db.owner.db.selectFrom('ledgerAccounts').select(['id', 'kind']).where('id', 'like', 'la_codes_%').execute();
    expect(banks).toEqual([{ id: 'la_codes_bank', kind: 'asset' }]);
  });

  it('an account\'s code and kind cannot be changed to a pair that does not match; its balance moves as before', async () => {
    await account('la_codes_moving', 'card_clearing', 'asset', 'EUR');
    expect(await codeOf(sql`update ledger_accounts set kind = 'expense' where id = 'la_codes_moving'`.execute(db.owner.db))).toBe('23503 ledger_accounts_code_kind_fkey');
    expect(await codeOf(sql`update ledger_accounts set code = 'bank' where id = 'la_codes_moving'`.execute(db.owner.db))).toBe('ok');
    await sql`update ledger_accounts set balance_micros = balance_micros + 5 where id = 'la_codes_moving'`.execute(db.owner.db);
    expect((await db.owner.db.selectFrom('ledgerAccounts').select(['code', 'balanceMicros']).where('id', '=', 'la_codes_moving').executeTakeFirstOrThrow()))
      .toEqual({ code: 'bank', balanceMicros: '5' });
  });

  it('the app may read the codes and write none', async () => {
    await inScope(db.app.db, { kind: 'partner', partnerId }, async (trx) => {
      const n = await sql<{ n: number }>`select count(*)::int as n from ledger_account_codes`.execute(trx);
      expect(n.rows[0]!.n).toBe(Object.keys(ACCOUNT_KIND).length);
    });
    for (const write of [
      sql`insert into ledger_account_codes (code, kind, per_customer) values ('petty_cash', 'asset', false)`,
      sql`update ledger_account_codes set kind = 'expense' where code = 'bank'`,
      sql`delete from ledger_account_codes where code = 'bank'`,
    ]) {
      expect(await codeOf(inScope(db.app.db, { kind: 'partner', partnerId }, (trx) => write.execute(trx)))).toBe('42501');
    }
  });
});
