import { randomBytes } from 'node:crypto';
import { systemClock } from '../platform/clock.ts';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import pino from 'pino';
import { openDatabase, inScope, type DatabaseHandle } from '../platform/database.ts';
import { migrateToLatest } from '../platform/migrate.ts';
import { seedDemo } from '../platform/seed.ts';
import { testConfig, DEMO_PASSWORD } from '../test/harness.ts';
import { checkLedger } from '../ledger/check-ledger.ts';
import { listTransactions } from '../wallet/list-transactions.ts';
import { readWallet } from '../wallet/wallets.repo.ts';
import { startLiveCall } from '../usage/live-calls-start.ts';
import { endLiveCall } from '../usage/live-calls-end.ts';

/**
 * The demo seed on an empty database, as a first run of the app does it (the test template leaves the usage demo out,
 * see src/platform/seed.ts): a default SGD rate plan for Demo Telecom and a first top-up for Acme.
 */
const name = `folio_test_seed_${randomBytes(4).toString('hex')}`;
const adminUrl = () => inject('pgAdminUrl');
let owner: DatabaseHandle;
let app: DatabaseHandle;

beforeAll(async () => {
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  owner = openDatabase(url.toString(), { appRole: false, max: 2 });
  app = openDatabase(url.toString(), { appRole: true, max: 2 });
  await migrateToLatest(owner);
  expect(await seedDemo(owner.db, DEMO_PASSWORD, { activity: true })).toBe(true);
}, 60_000);

afterAll(async () => {
  await app?.close();
  await owner?.close();
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
});

describe('the usage demo data', () => {
  it('gives Demo Telecom a default SGD plan (60/60) with the demo rates, and Acme 50.00 of points with a history', async () => {
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
    expect((await inScope(app.db, scope, (trx) => readWallet(trx, { partnerId, customerId: acme, currency: 'SGD' })))?.pointsMicros).toBe(50_000_000n);
    const feed = await inScope(app.db, scope, (trx) => listTransactions(trx, { partnerId, customerId: acme, currency: 'SGD', limit: 10, afterPostingId: null }));
    expect(feed.data.map((r) => [r.view.type, r.view.amount])).toEqual([['top_up', '50.00']]);
    expect(await checkLedger(owner.db)).toEqual([]);

    // A call to a Singapore mobile is rated on it at once.
    const ctx = {
      db: app.db, config: testConfig(), log: pino({ level: 'silent' }), requestId: 'req_seed', ip: null, userAgent: null, clock: systemClock,
      principal: { kind: 'api_key' as const, keyId: 'key_seed', partnerId, name: 'switch', apps: new Set(['customer'] as const) },
    };
    const call = await startLiveCall(ctx, { callId: 'demo-1', customerId: acme, from: '+6561234567', to: '+6591234567', startedAt: '2026-11-30T04:32:00Z', direction: 'outbound' });
    expect(call).toMatchObject({ prefix: '659', hold: '0.600000', coveredSeconds: 600 });
    expect((await endLiveCall(ctx, { callId: 'demo-1', durationSeconds: 90 })).call).toMatchObject({ billedSeconds: 120, amount: '0.120000' });
  });
});
