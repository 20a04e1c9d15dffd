import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDb, type TestDb } from '../test/harness.ts';
import { inScope } from './database.ts';

/**
 * Row-level security is the second wall: even a query that forgot its partner filter, run by the app role,
 * sees only the caller's tenant.
 */
let db: TestDb;
let demo: string;
let northwind: string;
let acme: string;

beforeAll(async () => {
  db = await createTestDb();
  demo = (await db.owner.db.selectFrom('partners').select('id').where('slug', '=', 'demo-telecom').executeTakeFirstOrThrow()).id;
  northwind = (await db.owner.db.selectFrom('partners').select('id').where('slug', '=', 'northwind').executeTakeFirstOrThrow()).id;
  acme = (await db.owner.db.selectFrom('customers').select('id').where('name', '=', 'Acme Pte Ltd').executeTakeFirstOrThrow()).id;
});
afterAll(async () => db.drop());

describe('row-level security', () => {
  it('the app role is not a superuser and cannot bypass row-level security', async () => {
    const role = await inScope(db.app.db, { kind: 'partner', partnerId: demo }, (trx) =>
      sql<{ user: string; rolsuper: boolean; rolbypassrls: boolean }>`select current_user as user, rolsuper, rolbypassrls from pg_roles where rolname = current_user`.execute(trx),
    );
    expect(role.rows[0]).toEqual({ user: 'folio_app', rolsuper: false, rolbypassrls: false });
  });

  it('a query without any WHERE sees only its own partner', async () => {
    const seen = await inScope(db.app.db, { kind: 'partner', partnerId: demo }, async (trx) => ({
      users: await trx.selectFrom('users').select(['email', 'partnerId']).execute(),
      customers: await trx.selectFrom('customers').select(['name', 'partnerId']).execute(),
      partners: await trx.selectFrom('partners').select('name').execute(),
      audit: await trx.selectFrom('auditEvents').select('partnerId').execute(),
      grants: await trx.selectFrom('appGrants').select('partnerId').execute(),
    }));
    expect(seen.users.length).toBeGreaterThan(0);
    expect(seen.users.every((u) => u.partnerId === demo)).toBe(true);
    expect(seen.users.map((u) => u.email)).not.toContain('admin@northwind.test');
    expect(seen.users.map((u) => u.email)).not.toContain('operator@folio.test');
    expect(seen.customers.map((c) => c.name).sort()).toEqual(['Acme Pte Ltd', 'Globex Sdn Bhd', 'Initech Pte Ltd']);
    expect(seen.partners.map((p) => p.name)).toEqual(['Demo Telecom']);
    expect(seen.audit.length).toBeGreaterThan(0);
    expect(seen.audit.every((e) => e.partnerId === demo)).toBe(true);
    expect(seen.grants.every((g) => g.partnerId === demo)).toBe(true);
  });

  it('even asking for the other partner by id finds nothing', async () => {
    const rows = await inScope(db.app.db, { kind: 'partner', partnerId: demo }, (trx) =>
      trx.selectFrom('customers').selectAll().where('partnerId', '=', northwind).execute(),
    );
    expect(rows).toEqual([]);
  });

  it('cannot write rows into another partner', async () => {
    await expect(
      inScope(db.app.db, { kind: 'partner', partnerId: demo }, (trx) =>
        trx.insertInto('customers').values({ id: 'cus_intruder00000000000', partnerId: northwind, name: 'Intruder', currency: 'AUD' }).execute(),
      ),
    ).rejects.toThrow(/row-level security/);
    const updated = await inScope(db.app.db, { kind: 'partner', partnerId: demo }, (trx) =>
      trx.updateTable('customers').set({ name: 'Hijacked' }).where('partnerId', '=', northwind).executeTakeFirst(),
    );
    expect(updated.numUpdatedRows).toBe(0n);
  });

  it('a portal request sees only its own organisation, and no staff-only rows', async () => {
    const seen = await inScope(db.app.db, { kind: 'customer', partnerId: demo, customerId: acme }, async (trx) => ({
      users: await trx.selectFrom('users').select(['email']).execute(),
      customers: await trx.selectFrom('customers').select('name').execute(),
      grants: await trx.selectFrom('appGrants').select('userId').execute(),
      keys: await trx.selectFrom('apiKeys').select('id').execute(),
      settings: await trx.selectFrom('partnerSettings').select('partnerId').execute(),
    }));
    expect(seen.users.map((u) => u.email).sort()).toEqual(['member@acme.test', 'owner@acme.test']);
    expect(seen.customers.map((c) => c.name)).toEqual(['Acme Pte Ltd']);
    expect(seen.grants).toEqual([]);
    expect(seen.keys).toEqual([]);
    expect(seen.settings.map((s) => s.partnerId)).toEqual([demo]);
  });

  it('without any scope the app role sees nothing at all', async () => {
    const rows = await db.app.db.selectFrom('users').select('id').execute();
    expect(rows).toEqual([]);
  });

  // Migration 0046 (ADR 0026): a policy evaluated per row that calls current_setting per row cost a scan of 10,000
  // customers and their wallets ~30% of its time; as a scalar subquery, the setting is read once per statement.
  it('every policy reads the request’s scope once per statement, never per row', async () => {
    const { rows: policies } = await sql<{ table: string; qual: string | null; check: string | null }>`
      select tablename as table, qual, with_check as check from pg_policies where schemaname = 'public'`.execute(db.owner.db);
    expect(policies.length).toBeGreaterThan(50);
    const perRow = policies.flatMap((p) => [p.qual, p.check].filter((e): e is string => e !== null).filter((e) =>
      /folio_(customer|partner|shared)_row\(/.test(e) || (e.match(/current_setting\(/g) ?? []).length !== (e.match(/SELECT current_setting\(/g) ?? []).length,
    ).map((e) => `${p.table}: ${e}`));
    expect(perRow).toEqual([]);
    // What the planner makes of it: the settings are InitPlans; each row's filter compares with their values.
    const plan = await inScope(db.app.db, { kind: 'partner', partnerId: demo }, (trx) =>
      sql<{ 'QUERY PLAN': string }>`explain (costs off) select c.name from customers c join wallets w on w.customer_id = c.id where c.status = 'active'`.execute(trx));
    const lines = plan.rows.map((r) => r['QUERY PLAN']);
    expect(lines.some((l) => l.includes('InitPlan'))).toBe(true);
    expect(lines.filter((l) => l.includes('Filter:') && l.includes('current_setting'))).toEqual([]);
    expect(lines.filter((l) => l.includes('Filter:')).length).toBeGreaterThan(0);
  });
});
