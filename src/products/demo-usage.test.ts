import { randomBytes } from 'node:crypto';
import { systemClock } from '../platform/clock.ts';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { sql } from 'kysely';
import pino from 'pino';
import { openDatabase, inScope, type DatabaseHandle } from '../platform/database.ts';
import { migrateToLatest } from '../platform/migrate.ts';
import { seedDemo } from '../platform/seed.ts';
import { createEmptyTestDb, testConfig, DEMO_PASSWORD, type TestDb } from '../test/harness.ts';
import { checkLedger } from '../ledger/check-ledger.ts';
import { listTransactions } from '../wallet/list-transactions.ts';
import { readWallet } from '../wallet/wallets.repo.ts';
import { startLiveCall } from '../usage/live-calls-start.ts';
import { endLiveCall } from '../usage/live-calls-end.ts';
import { statementOfInvoice } from '../invoices/statements/statement-summary.ts';
import { monthJustEnded } from '../invoices/statements/statement-summary.ts';
import { transactionIds } from '../wallet/transaction-ids.ts';

/**
 * The demo seed on an empty database, as a first run of the app does it (the test template leaves the usage demo out,
 * see src/platform/seed.ts): a default SGD rate plan for Demo Telecom, and last month on Acme's points (points issued by
 * Finance, calls) with its Monthly statement (src/invoices/statements/demo-statement.ts).
 */
const adminUrl = () => inject('pgAdminUrl');
let db: TestDb;
let owner: DatabaseHandle;
let app: DatabaseHandle;

beforeAll(async () => {
  db = await createEmptyTestDb('seed');
  ({ owner, app } = db);
  expect(await seedDemo(owner.db, DEMO_PASSWORD, { activity: true })).toBe(true);
}, 60_000);

afterAll(async () => db?.drop());

describe('the usage demo data', () => {
  it('gives Demo Telecom a default SGD plan (60/60) with the demo rates, and Acme last month’s points, calls and Monthly statement', async () => {
    const partnerId = (await owner.db.selectFrom('partners').select('id').where('slug', '=', 'demo-telecom').executeTakeFirstOrThrow()).id;
    const acme = (await owner.db.selectFrom('customers').select('id').where('name', '=', 'Acme Pte Ltd').executeTakeFirstOrThrow()).id;
    const plan = await owner.db.selectFrom('ratePlans').selectAll().where('partnerId', '=', partnerId).executeTakeFirstOrThrow();
    expect(plan).toMatchObject({ currency: 'SGD', isDefault: true, firstIncrementSeconds: 60, nextIncrementSeconds: 60, id: expect.stringMatching(/^rpl_/) });
    const rates = await owner.db.selectFrom('rates').select(['prefix', 'pricePerMinuteMicros', 'costPerMinuteMicros']).where('ratePlanId', '=', plan.id).orderBy('prefix').execute();
    expect(rates).toEqual([
      { prefix: '1', pricePerMinuteMicros: '20000', costPerMinuteMicros: '8000' },
      { prefix: '44', pricePerMinuteMicros: '50000', costPerMinuteMicros: '20000' },
      { prefix: '65', pricePerMinuteMicros: '30000', costPerMinuteMicros: '10000' },
      { prefix: '658', pricePerMinuteMicros: '60000', costPerMinuteMicros: '25000' },
      { prefix: '659', pricePerMinuteMicros: '60000', costPerMinuteMicros: '25000' },
    ]);
    const scope = { kind: 'partner' as const, partnerId };
    // Last month: 50.00 of points issued by Finance on the 2nd, then 14 calls (2.68 in all before tax, 0.2412 of 9% GST
    // charged with them: ADR 0032), so Acme has 47.0788 now.
    expect((await inScope(app.db, scope, (trx) => readWallet(trx, { partnerId, customerId: acme, currency: 'SGD' })))?.pointsMicros).toBe(47_078_800n);
    const ids = await transactionIds(app.db);
    const feed = await inScope(app.db, scope, (trx) => listTransactions(trx, { partnerId, customerId: acme, currency: 'SGD', limit: 20, afterPostingId: null, ids }));
    expect(feed.data).toHaveLength(15);
    expect(feed.data.at(-1)!.view).toMatchObject({ type: 'credit', kind: 'points_issued', amount: '50.00', balanceAfter: '50.00' });
    expect(feed.data[0]!.view).toMatchObject({ type: 'call', amount: '-0.0654', balanceAfter: '47.0788' });
    // In time order, newest first, all in the month that ended last.
    const month = monthJustEnded(new Date());
    const times = feed.data.map((r) => r.view.occurredAt);
    expect(times.every((t) => t.startsWith(month))).toBe(true);
    expect([...times].sort().reverse()).toEqual(times);
    expect(await checkLedger(owner.db)).toEqual([]);

    // The Monthly statement of that month, as the job on the 1st makes it: informational, nothing to pay.
    const invoice = await owner.db.selectFrom('invoices').select(['id', 'status', 'informational', 'totalMicros', 'amountDueMicros', 'issuedAt'])
      .where('customerId', '=', acme).where('type', '=', 'monthly').executeTakeFirstOrThrow();
    // 2.68 of calls before tax and 9% of it, rounded once on the invoice (ADR 0012): 0.24 (the calls paid 0.2412).
    expect(invoice).toMatchObject({ status: 'paid', informational: true, totalMicros: '2920000', amountDueMicros: '0' });
    // Issued as the job issues it, at 00:30 UTC on the 1st (or, on the 1st before that, at the seed's time).
    const now = new Date();
    const jobTime = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1, 0, 30);
    const issuedAt = new Date(invoice.issuedAt as string | Date).getTime();
    if (now.getTime() > jobTime + 60_000) expect(issuedAt).toBe(jobTime);
    else expect(issuedAt).toBeLessThanOrEqual(now.getTime());
    const statement = await inScope(app.db, scope, (trx) => statementOfInvoice(trx, { partnerId, invoiceId: invoice.id }));
    expect(statement).toMatchObject({
      periodStart: `${month}-01`, openingPoints: '0.00', closingPoints: '47.0788', topUps: { count: 0, amount: '0.00' }, credits: { count: 1, amount: '50.00' },
      usage: [
        { label: 'Singapore mobile', calls: 7, seconds: 1260, amount: '1.3734', tax: '0.1134' },
        { label: 'Singapore fixed', calls: 3, seconds: 1620, amount: '0.8829', tax: '0.0729' },
        { label: 'United Kingdom', calls: 2, seconds: 420, amount: '0.3815', tax: '0.0315' },
        { label: 'United States', calls: 2, seconds: 780, amount: '0.2834', tax: '0.0234' },
      ],
    });

    // A call to a Singapore mobile is rated on it at once.
    const ctx = {
      db: app.db, config: testConfig(), log: pino({ level: 'silent' }), requestId: 'req_seed', ip: null, userAgent: null, clock: systemClock,
      principal: { kind: 'api_key' as const, keyId: 'key_seed', partnerId, name: 'switch', apps: new Set(['customer'] as const) },
    };
    const call = await startLiveCall(ctx, { callId: 'demo-1', customerId: acme, from: '+6561234567', to: '+6591234567', startedAt: '2026-11-30T04:32:00Z', direction: 'outbound' });
    expect(call).toMatchObject({ prefix: '659', hold: '0.654000', coveredSeconds: 600 });
    expect((await endLiveCall(ctx, { callId: 'demo-1', durationSeconds: 90 })).call).toMatchObject({ billedSeconds: 120, amount: '0.130800', tax: '0.010800' });
  });
});

describe('the demo seed with an owner that is not a superuser (a server named by DATABASE_URL)', () => {
  const other = `folio_test_seed_nosuper_${randomBytes(4).toString('hex')}`;
  const role = `folio_seed_owner_${randomBytes(4).toString('hex')}`;
  let plain: DatabaseHandle | undefined;

  afterAll(async () => {
    await plain?.close();
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    await admin.query(`drop database if exists ${other} with (force)`);
    await admin.query(`drop role if exists ${role}`);
    await admin.end();
  });

  it('keeps last month’s points and calls at the seed’s time and makes no statement (dating them takes a superuser)', async () => {
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    await admin.query(`create database ${other}`);
    // Every privilege of the superuser's objects (a member of its role), but not its superuser attribute.
    await admin.query(`create role ${role} login password 'seed-owner' in role ${new URL(adminUrl()).username || 'postgres'}`);
    await admin.end();
    const url = new URL(adminUrl());
    url.pathname = `/${other}`;
    const superOwner = openDatabase(url.toString(), { appRole: false, max: 1 });
    await migrateToLatest(superOwner);
    await superOwner.close();
    url.username = role;
    url.password = 'seed-owner';
    plain = openDatabase(url.toString(), { appRole: false, max: 2 });
    expect((await sql<{ s: string }>`select current_setting('is_superuser') as s`.execute(plain.db)).rows[0]!.s).toBe('off');

    expect(await seedDemo(plain.db, DEMO_PASSWORD, { activity: true, config: testConfig() })).toBe(true);
    const acme = (await plain.db.selectFrom('customers').select(['id', 'partnerId']).where('name', '=', 'Acme Pte Ltd').executeTakeFirstOrThrow());
    const thisMonth = new Date().toISOString().slice(0, 7);
    const times = await plain.db.selectFrom('postings').select(sql<string>`to_char(posted_at at time zone 'UTC', 'YYYY-MM')`.as('month'))
      .where('customerId', '=', acme.id).execute();
    expect(times.length).toBeGreaterThan(14); // the credit and the 14 calls, besides the open invoices' receivables
    expect(new Set(times.map((t) => t.month))).toEqual(new Set([thisMonth]));
    expect(await plain.db.selectFrom('invoices').select('id').where('customerId', '=', acme.id).where('type', '=', 'monthly').execute()).toEqual([]);
    const scope = { kind: 'partner' as const, partnerId: acme.partnerId };
    expect((await inScope(plain.db, scope, (trx) => readWallet(trx, { partnerId: acme.partnerId, customerId: acme.id, currency: 'SGD' })))?.pointsMicros).toBe(47_078_800n);
  });
});
