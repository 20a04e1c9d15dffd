import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import pino from 'pino';
import { parseCrontab, type JobHelpers } from 'graphile-worker';
import { createTestDb, customerIdOf, partnerIdOf, testConfig, type TestDb } from '../../test/harness.ts';
import { inScope, type Db } from '../../platform/database.ts';
import { systemClock, TestClock } from '../../platform/clock.ts';
import type { Ctx } from '../../platform/context.ts';
import { SandboxGateway } from '../../gateway/sandbox.ts';
import { checkLedger } from '../../ledger/check-ledger.ts';
import { ingestCalls } from '../../usage/ingest-calls.ts';
import { ensureWallets } from '../../wallet/wallets.repo.ts';
import { runRenewals } from '../../subscriptions/renewals/run-renewals.ts';
import { createCustomer, createPrice, createSubscription, givePoints, monthlyPeriodEndingAt, setTaxRate, utcMidnight } from '../../subscriptions/renewals/renewals.fixtures.ts';
import { generateMonthlyStatements, type StatementDeps } from './generate-monthly-statements.ts';
import { statementOfInvoice, statementViewOf, monthJustEnded, type StatementRow, type StatementSummary } from './statement-summary.ts';
import { STATEMENTS_CRONTAB, STATEMENTS_TASK, statementTasks } from './statement-tasks.ts';
import { backdatePostings, createRatePlan, lastPostingId, topUpPoints } from './statements.fixtures.ts';

let db: TestDb;
let owner: Db;
let deps: StatementDeps;
let demo: string;
let north: string;
let ctx: Ctx;
/** Calls, a renewal, a top-up and points issued in September; a call and a top-up in October; a top-up now. */
let busy: { customerId: string; ownerEmail: string };
/** A top-up in September, nothing after: points held. */
let holder: string;
/** No wallet at all. */
let idle: string;
/** A wallet, never used: zero points. */
let empty: string;
let wombat: string;

const SGD = (s: string) => BigInt(Math.round(Number(s) * 100)) * 10_000n;

const rowsOf = (month: string) => sql<StatementRow & { id: string; partnerId: string; customerId: string; invoiceId: string | null }>`
  select id, partner_id as "partnerId", customer_id as "customerId", invoice_id as "invoiceId", currency, period_start::text as "periodStart",
    period_end::text as "periodEnd", opening_points_micros::text as "openingPointsMicros", closing_points_micros::text as "closingPointsMicros", summary
  from statements where period_start = ${`${month}-01`}::date order by customer_id`.execute(owner).then((r) => r.rows);
const statementOf = async (month: string, customerId: string) => (await rowsOf(month)).find((r) => r.customerId === customerId);
const counts = async () => (await sql<{ statements: string; invoices: string; lines: string; notifications: string; audits: string }>`
  select (select count(*) from statements)::text as statements, (select count(*) from invoices where type = 'monthly')::text as invoices,
    (select count(*) from invoice_lines l join invoices i on i.id = l.invoice_id where i.type = 'monthly')::text as lines,
    (select count(*) from notifications where kind = 'monthly_statement')::text as notifications,
    (select count(*) from audit_events where action = 'statement.generated')::text as audits`.execute(owner)).rows[0]!;

const call = (callId: string, to: string, durationSeconds: number, customerId = busy.customerId) => ({
  callId, customerId, from: '+6560000001', to, startedAt: '2026-11-30T04:00:00Z', durationSeconds, direction: 'outbound' as const,
});

beforeAll(async () => {
  db = await createTestDb();
  owner = db.owner.db;
  demo = await partnerIdOf(db, 'demo-telecom');
  north = await partnerIdOf(db, 'northwind');
  wombat = await customerIdOf(db, 'Wombat Pty Ltd');
  deps = { db: db.app.db, log: pino({ level: 'silent' }) };
  ctx = {
    db: db.app.db, config: testConfig(), log: pino({ level: 'silent' }), requestId: 'req_statements', ip: '127.0.0.1', userAgent: 'test', clock: systemClock,
    principal: { kind: 'api_key', keyId: 'key_statements', partnerId: demo, name: 'switch', apps: new Set(['customer']) },
  };
  await setTaxRate(owner, demo, 900);
  await createRatePlan(owner, {
    partnerId: demo, currency: 'SGD', rates: [
      { prefix: '65', description: 'Singapore fixed', perMinuteMicros: 12_500n }, // 0.0125 a minute: three 1-minute calls are 0.0375
      { prefix: '658', description: 'Singapore mobile', perMinuteMicros: 60_000n },
      { prefix: '659', description: 'Singapore mobile', perMinuteMicros: 60_000n },
      { prefix: '44', description: 'United Kingdom', perMinuteMicros: 500_000n },
    ],
  });

  busy = await createCustomer(owner, { partnerId: demo, name: 'Busy Pte Ltd' });
  await owner.updateTable('customers').set({ billingName: 'Busy Accounts', billingEmail: 'ap@busy.test', billingAddress: '1 Busy Road, Singapore' } as never)
    .where('id', '=', busy.customerId).execute();
  holder = (await createCustomer(owner, { partnerId: demo, name: 'Holder Pte Ltd' })).customerId;
  idle = (await createCustomer(owner, { partnerId: demo, name: 'Idle Pte Ltd' })).customerId;
  empty = (await createCustomer(owner, { partnerId: demo, name: 'Empty Pte Ltd' })).customerId;
  await inScope(db.app.db, { kind: 'partner', partnerId: demo }, (trx) => ensureWallets(trx, demo, [{ customerId: empty, currency: 'SGD' }]));

  // September: top-up 100.00, points issued 5.00, six calls, a renewal of 20.00 + 9% GST; Holder tops up 7.00; Wombat (another partner) 30.00 AUD.
  let mark = await lastPostingId(owner);
  await topUpPoints(db.app.db, { partnerId: demo, customerId: busy.customerId, micros: SGD('100.00') });
  await givePoints(db.app.db, { partnerId: demo, customerId: busy.customerId, micros: SGD('5.00') });
  const batch = await ingestCalls(ctx, {
    records: [
      call('sep-1', '+6561234567', 60), call('sep-2', '+6561234568', 45), call('sep-3', '+6561234569', 1), // fixed: 3 x 0.0125
      call('sep-4', '+6591234567', 30), call('sep-5', '+6581234567', 120), // mobile: 0.06 + 0.12
      call('sep-6', '+442071234567', 90), // UK: 2 minutes x 0.50
    ],
  });
  expect(batch.summary).toMatchObject({ charged: 6, rejected: 0 });
  const price = await createPrice(owner, { partnerId: demo, name: 'Wallboard', priceMicros: SGD('20.00'), costMicros: SGD('8.00') });
  const end = utcMidnight(new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10));
  await createSubscription(owner, { partnerId: demo, customerId: busy.customerId, price, ...monthlyPeriodEndingAt(end), periodEnd: end });
  const gateway = new SandboxGateway({ db: db.app.db, webhookSecret: 'whsec_statements', settleAfterMs: 5_000 });
  const renewed = await runRenewals({ db: db.app.db, gateway, log: pino({ level: 'silent' }) }, { asOf: new Date() });
  expect(renewed.renewedSubscriptions).toBe(1);
  await topUpPoints(db.app.db, { partnerId: demo, customerId: holder, micros: SGD('7.00') });
  await topUpPoints(db.app.db, { partnerId: north, customerId: wombat, currency: 'AUD', micros: SGD('30.00') });
  await backdatePostings(owner, { afterId: mark, at: '2026-09-15T10:00:00Z' });

  // October: one mobile call (0.06) and a top-up of 10.00.
  mark = await lastPostingId(owner);
  expect((await ingestCalls(ctx, { records: [call('oct-1', '+6591112222', 60)] })).summary.charged).toBe(1);
  await topUpPoints(db.app.db, { partnerId: demo, customerId: busy.customerId, micros: SGD('10.00') });
  await backdatePostings(owner, { afterId: mark, at: '2026-10-20T08:00:00Z' });

  // Now (after both months): a top-up of 1.00, which no statement of September or October may count.
  await topUpPoints(db.app.db, { partnerId: demo, customerId: busy.customerId, micros: SGD('1.00') });
});
afterAll(async () => db.drop());

describe('monthly statements', () => {
  it('states a month from the ledger: usage by destination, the renewal, the top-up, points issued; opening and closing exact', async () => {
    const run = await generateMonthlyStatements(deps, { month: '2026-09', partnerId: demo, batchSize: 2 });
    expect(run).toMatchObject({ month: '2026-09', partners: 1, statements: 2, invoices: 1, alreadyStated: 0 });

    const s = (await statementOf('2026-09', busy.customerId))!;
    expect(s).toMatchObject({ periodStart: '2026-09-01', periodEnd: '2026-10-01', currency: 'SGD', openingPointsMicros: '0', closingPointsMicros: '81982500' });
    expect(s.summary as StatementSummary).toEqual({
      version: 1,
      usage: [
        { category: 'united_kingdom', label: 'United Kingdom', calls: 1, seconds: 120, amountMicros: '1000000' },
        { category: 'singapore_mobile', label: 'Singapore mobile', calls: 2, seconds: 180, amountMicros: '180000' },
        { category: 'singapore_fixed', label: 'Singapore fixed', calls: 3, seconds: 180, amountMicros: '37500' },
      ],
      renewals: { count: 1, amountMicros: '21800000' },
      purchases: { count: 0, amountMicros: '0' },
      topUps: { count: 1, amountMicros: '100000000' },
      credits: { count: 1, amountMicros: '5000000' },
      other: { count: 0, amountMicros: '0' },
      chargesMicros: '23017500',
    });
    // 0 + 100.00 + 5.00 - 1.00 - 0.18 - 0.0375 - 21.80 = 81.9825: points are shown exactly (formatDecimal never drops value),
    // only the invoice's lines are rounded.
    expect(statementViewOf(s)).toEqual({
      periodStart: '2026-09-01', periodEnd: '2026-10-01', openingPoints: '0.00', closingPoints: '81.9825',
      usage: [
        { category: 'united_kingdom', label: 'United Kingdom', calls: 1, seconds: 120, amount: '1.00' },
        { category: 'singapore_mobile', label: 'Singapore mobile', calls: 2, seconds: 180, amount: '0.18' },
        { category: 'singapore_fixed', label: 'Singapore fixed', calls: 3, seconds: 180, amount: '0.0375' },
      ],
      renewals: { count: 1, amount: '21.80' }, purchases: { count: 0, amount: '0.00' }, topUps: { count: 1, amount: '100.00' }, credits: { count: 1, amount: '5.00' }, other: { count: 0, amount: '0.00' },
    });

    // Points held, no charges: a statement, no invoice. No wallet, or a wallet never used: nothing. Another partner's: not in this run.
    expect(await statementOf('2026-09', holder)).toMatchObject({ openingPointsMicros: '0', closingPointsMicros: '7000000', invoiceId: null });
    expect(await statementOf('2026-09', idle)).toBeUndefined();
    expect(await statementOf('2026-09', empty)).toBeUndefined();
    expect(await statementOf('2026-09', wombat)).toBeUndefined();
    expect(await checkLedger(owner)).toEqual([]);
  });

  it('issues an informational Monthly invoice: paid, nothing due, numbered STM-, lines by category in whole cents, billed to the billing contact', async () => {
    const s = (await statementOf('2026-09', busy.customerId))!;
    const invoice = await owner.selectFrom('invoices').selectAll().where('id', '=', s.invoiceId!).executeTakeFirstOrThrow();
    expect(invoice).toMatchObject({
      type: 'monthly', status: 'paid', informational: true, customerId: busy.customerId, currency: 'SGD',
      subtotalMicros: '23020000', taxMicros: '0', totalMicros: '23020000', amountPaidMicros: '23020000', amountDueMicros: '0',
      billTo: { name: 'Busy Accounts', email: 'ap@busy.test', phone: null, address: '1 Busy Road, Singapore' },
    });
    expect(invoice.number).toMatch(/^STM-\d{6}-\d{6}$/);
    const period = (await sql<{ start: string; end: string }>`select period_start::text as start, period_end::text as end from invoices where id = ${invoice.id}`.execute(owner)).rows[0];
    expect(period).toEqual({ start: '2026-09-01', end: '2026-10-01' });
    const lines = await owner.selectFrom('invoiceLines').select(['position', 'kind', 'description', 'amountMicros', 'taxMicros']).where('invoiceId', '=', invoice.id).orderBy('position').execute();
    // Each line rounded once (0.0375 -> 0.04): the total is 23.02 where the points moved by exactly 23.0175.
    expect(lines).toEqual([
      { position: 1, kind: 'usage', description: 'United Kingdom: 1 call, 2 min', amountMicros: '1000000', taxMicros: '0' },
      { position: 2, kind: 'usage', description: 'Singapore mobile: 2 calls, 3 min', amountMicros: '180000', taxMicros: '0' },
      { position: 3, kind: 'usage', description: 'Singapore fixed: 3 calls, 3 min', amountMicros: '40000', taxMicros: '0' },
      { position: 4, kind: 'subscription_renewal', description: 'Subscription renewals (1)', amountMicros: '21800000', taxMicros: '0' },
    ]);
    // No ledger entry names it: nothing new is owed (ADR 0008).
    expect(await owner.selectFrom('journalEntries').select('id').where('causeId', '=', invoice.id).execute()).toEqual([]);
    // The lead's views find the statement behind the invoice, inside the partner's scope only.
    const view = await inScope(db.app.db, { kind: 'partner', partnerId: demo }, (trx) => statementOfInvoice(trx, { partnerId: demo, invoiceId: invoice.id }));
    expect(view?.closingPoints).toBe('81.9825');
    const hidden = await inScope(db.app.db, { kind: 'partner', partnerId: north }, (trx) => statementOfInvoice(trx, { partnerId: demo, invoiceId: invoice.id }));
    expect(hidden).toBeNull();
  });

  it('tells the owner once per statement and audits each batch', async () => {
    const mails = await owner.selectFrom('notifications').selectAll().where('kind', '=', 'monthly_statement').where('customerId', '=', busy.customerId).execute();
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({ toEmail: busy.ownerEmail, partnerId: demo });
    expect(mails[0]!.subject).toContain('September 2026');
    expect(mails[0]!.bodyText).toContain('Closing points:  81.9825 SGD');
    expect(mails[0]!.bodyText).toContain('United Kingdom: 1 call, 2 min: 1.00 SGD');
    const audits = await owner.selectFrom('auditEvents').selectAll().where('action', '=', 'statement.generated').execute();
    expect(audits.length).toBeGreaterThanOrEqual(1);
    expect(audits.every((a) => a.partnerId === demo && a.app === 'invoice' && a.actorType === 'system' && a.actorLabel === 'monthly_statements')).toBe(true);
    const stated = audits.reduce((n, a) => n + Number((a.changes as { statements: { after: number } }).statements.after), 0);
    expect(stated).toBe(2);
  });

  it('a rerun writes nothing new; a run for every partner adds only the other partner\'s, from its own postings', async () => {
    const before = await counts();
    const again = await generateMonthlyStatements(deps, { month: '2026-09', partnerId: demo, batchSize: 3 });
    expect(again).toMatchObject({ statements: 0, invoices: 0, alreadyStated: 2, notifications: 0 });
    expect(await counts()).toEqual(before);

    const all = await generateMonthlyStatements(deps, { month: '2026-09' });
    expect(all).toMatchObject({ partners: 2, statements: 1, invoices: 0, alreadyStated: 2 });
    const w = (await statementOf('2026-09', wombat))!;
    expect(w).toMatchObject({ partnerId: north, currency: 'AUD', openingPointsMicros: '0', closingPointsMicros: '30000000', invoiceId: null });
    expect((w.summary as StatementSummary).usage).toEqual([]);
    expect((w.summary as StatementSummary).topUps).toEqual({ count: 1, amountMicros: '30000000' });
    // Demo's statement is untouched by Northwind's postings.
    expect((await statementOf('2026-09', busy.customerId))!.closingPointsMicros).toBe('81982500');
    // Row-level security: Northwind's scope sees only its own statements.
    const seen = await inScope(db.app.db, { kind: 'partner', partnerId: north }, (trx) => trx.selectFrom('statements').select('customerId').execute());
    expect(seen.map((r) => r.customerId)).toEqual([wombat]);
  });

  it('October opens where September closed; two runs at once write each statement once', async () => {
    const [a, b] = await Promise.all([
      generateMonthlyStatements(deps, { month: '2026-10', batchSize: 2 }),
      generateMonthlyStatements(deps, { month: '2026-10', batchSize: 2 }),
    ]);
    expect(a.statements + b.statements).toBe(3);
    expect(a.invoices + b.invoices).toBe(1);
    const october = await rowsOf('2026-10');
    expect(october.map((r) => r.customerId).sort()).toEqual([busy.customerId, holder, wombat].sort());
    expect(await sql`select 1 from notifications where kind = 'monthly_statement' and subject like '%October 2026%'`.execute(owner).then((r) => r.rows.length)).toBe(3);

    const sep = (await statementOf('2026-09', busy.customerId))!;
    const oct = october.find((r) => r.customerId === busy.customerId)!;
    expect(oct.openingPointsMicros).toBe(sep.closingPointsMicros);
    // 81.9825 - 0.06 + 10.00 = 91.9225 (the 1.00 topped up today is November's).
    expect(oct.closingPointsMicros).toBe('91922500');
    expect(statementViewOf(oct)).toMatchObject({
      openingPoints: '81.9825', closingPoints: '91.9225', usage: [{ category: 'singapore_mobile', calls: 1, seconds: 60, amount: '0.06' }], topUps: { count: 1, amount: '10.00' },
      renewals: { count: 0, amount: '0.00' },
    });
    // Points held, nothing moved: opening = closing, no invoice.
    expect(october.find((r) => r.customerId === holder)).toMatchObject({ openingPointsMicros: '7000000', closingPointsMicros: '7000000', invoiceId: null });
  });

  it('numbers the Monthly series without gaps', async () => {
    const numbers = (await owner.selectFrom('invoices').select('number').where('type', '=', 'monthly').where('partnerId', '=', demo).execute()).map((r) => Number(r.number!.slice(-6))).sort((x, y) => x - y);
    expect(numbers).toHaveLength(2);
    expect(numbers[1]! - numbers[0]!).toBe(1);
  });

  it('refuses a month that has not ended, and anything that is not a month', async () => {
    const current = new Date().toISOString().slice(0, 7);
    await expect(generateMonthlyStatements(deps, { month: current })).rejects.toThrow(/has not ended/);
    await expect(generateMonthlyStatements(deps, { month: '2026-13' })).rejects.toThrow(/YYYY-MM/);
    await expect(generateMonthlyStatements(deps, { month: '2026-9' })).rejects.toThrow(/YYYY-MM/);
    expect(monthJustEnded(new Date('2027-01-01T00:30:00Z'))).toBe('2026-12');
    expect(monthJustEnded(new Date('2026-03-31T23:59:59Z'))).toBe('2026-02');
  });
});

describe('the statement cron task', () => {
  it('runs at 00:30 UTC on the 1st, one at a time, and states the month just ended', async () => {
    const [item] = parseCrontab(STATEMENTS_CRONTAB);
    expect(item).toMatchObject({ task: STATEMENTS_TASK, options: { queueName: STATEMENTS_TASK } });
    expect(STATEMENTS_CRONTAB.startsWith('30 0 1 * * ')).toBe(true);

    const august = await createCustomer(owner, { partnerId: demo, name: 'August Pte Ltd' });
    const mark = await lastPostingId(owner);
    await topUpPoints(db.app.db, { partnerId: demo, customerId: august.customerId, micros: SGD('12.00') });
    expect((await ingestCalls(ctx, { records: [call('aug-1', '+6581110000', 61, august.customerId)] })).summary.charged).toBe(1);
    await backdatePostings(owner, { afterId: mark, at: '2026-08-31T23:59:59Z' });

    const clock = new TestClock();
    clock.set('2026-09-01T00:30:00Z');
    const tasks = statementTasks({ ...deps, clock });
    await tasks[STATEMENTS_TASK]!({}, {} as JobHelpers);
    const aug = await rowsOf('2026-08');
    expect(aug.map((r) => r.customerId)).toEqual([august.customerId]);
    // 12.00 - 2 minutes x 0.06
    expect(aug[0]).toMatchObject({ openingPointsMicros: '0', closingPointsMicros: '11880000' });
    const invoice = await owner.selectFrom('invoices').select(['number', 'totalMicros', 'issuedAt']).where('id', '=', aug[0]!.invoiceId!).executeTakeFirstOrThrow();
    expect(invoice).toMatchObject({ totalMicros: '120000', issuedAt: new Date('2026-09-01T00:30:00Z') });
    expect(invoice.number).toMatch(/^STM-202609-\d{6}$/);
    // Twice is harmless.
    await tasks[STATEMENTS_TASK]!({}, {} as JobHelpers);
    expect(await rowsOf('2026-08')).toHaveLength(1);
  });
});
