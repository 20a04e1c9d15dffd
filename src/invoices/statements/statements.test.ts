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
import { ensureWallets, readWallet } from '../../wallet/wallets.repo.ts';
import { runRenewals } from '../../subscriptions/renewals/run-renewals.ts';
import { createCustomer, createPrice, createSubscription, givePoints, monthlyPeriodEndingAt, setTaxRate, utcMidnight } from '../../subscriptions/renewals/renewals.fixtures.ts';
import { generateMonthlyStatements, type StatementDeps } from './generate-monthly-statements.ts';
import { readStatementSummary, statementOfInvoice, statementViewOf, monthJustEnded, type StatementRow, type StatementSummary } from './statement-summary.ts';
import { newId } from '../../platform/ids.ts';
import { loadInvoiceDetail } from '../invoice-views.ts';
import { issueInvoice } from '../issue-invoice.ts';
import { createCreditNote } from '../../credit-notes/create-credit-note.ts';
import { renderInvoicePdf } from '../pdf/render-invoice-pdf.ts';
import { pdfText } from '../pdf/pdf-text.ts';
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
      // Awkward tax: a minute is 0.20544, its 9% 0.0184896, charged as 0.018490; a minute to +1 is 0.033333, tax 0.003000.
      { prefix: '61', description: 'Australia', perMinuteMicros: 205_440n },
      { prefix: '1', description: 'United States', perMinuteMicros: 33_333n },
    ],
  });

  busy = await createCustomer(owner, { partnerId: demo, name: 'Busy Pte Ltd' });
  await owner.updateTable('customers').set({ billingName: 'Busy Accounts', billingEmail: 'ap@busy.test', billingAddress: '1 Busy Road, Singapore' } as never)
    .where('id', '=', busy.customerId).execute();
  holder = (await createCustomer(owner, { partnerId: demo, name: 'Holder Pte Ltd' })).customerId;
  idle = (await createCustomer(owner, { partnerId: demo, name: 'Idle Pte Ltd' })).customerId;
  empty = (await createCustomer(owner, { partnerId: demo, name: 'Empty Pte Ltd' })).customerId;
  await inScope(db.app.db, { kind: 'partner', partnerId: demo }, (trx) => ensureWallets(trx, demo, [{ customerId: empty, currency: 'SGD' }]));

  // September: top-up 100.00, points issued 5.00, six calls (each with 9% GST, ADR 0032), a renewal of 20.00 + 9% GST;
  // Holder tops up 7.00; Wombat (another partner) 30.00 AUD.
  let mark = await lastPostingId(owner);
  await topUpPoints(db.app.db, { partnerId: demo, customerId: busy.customerId, micros: SGD('100.00') });
  await givePoints(db.app.db, { partnerId: demo, customerId: busy.customerId, micros: SGD('5.00') });
  const batch = await ingestCalls(ctx, {
    records: [
      call('sep-1', '+6561234567', 60), call('sep-2', '+6561234568', 45), call('sep-3', '+6561234569', 1), // fixed: 3 x (0.0125 + 0.001125)
      call('sep-4', '+6591234567', 30), call('sep-5', '+6581234567', 120), // mobile: 0.06 + 0.0054, 0.12 + 0.0108
      call('sep-6', '+442071234567', 90), // UK: 2 minutes x 0.50, + 0.09
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

  // October: one mobile call (0.06 + 0.0054) and a top-up of 10.00.
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
    expect(s).toMatchObject({ periodStart: '2026-09-01', periodEnd: '2026-10-01', currency: 'SGD', openingPointsMicros: '0', closingPointsMicros: '81872925' });
    // Each category: what the points paid (price + the 9% tax charged with each call), and the tax in it.
    expect(s.summary as StatementSummary).toEqual({
      version: 1,
      usage: [
        { category: 'united_kingdom', label: 'United Kingdom', calls: 1, seconds: 120, amountMicros: '1090000', taxMicros: '90000' },
        { category: 'singapore_mobile', label: 'Singapore mobile', calls: 2, seconds: 180, amountMicros: '196200', taxMicros: '16200' },
        { category: 'singapore_fixed', label: 'Singapore fixed', calls: 3, seconds: 180, amountMicros: '40875', taxMicros: '3375' },
      ],
      renewals: { count: 1, amountMicros: '21800000' },
      purchases: { count: 0, amountMicros: '0' },
      topUps: { count: 1, amountMicros: '100000000' },
      credits: { count: 1, amountMicros: '5000000' },
      other: { count: 0, amountMicros: '0' },
      chargesMicros: '23127075',
    });
    // 0 + 100.00 + 5.00 - 1.09 - 0.1962 - 0.040875 - 21.80 = 81.872925: points are shown exactly (formatDecimal never drops
    // value), only the invoice's lines are rounded.
    expect(statementViewOf(s)).toEqual({
      periodStart: '2026-09-01', periodEnd: '2026-10-01', openingPoints: '0.00', closingPoints: '81.872925',
      usage: [
        { category: 'united_kingdom', label: 'United Kingdom', calls: 1, seconds: 120, amount: '1.09', tax: '0.09' },
        { category: 'singapore_mobile', label: 'Singapore mobile', calls: 2, seconds: 180, amount: '0.1962', tax: '0.0162' },
        { category: 'singapore_fixed', label: 'Singapore fixed', calls: 3, seconds: 180, amount: '0.040875', tax: '0.003375' },
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

  it('issues an informational Monthly invoice: paid, nothing due, numbered STM-, lines by category in whole cents with their tax, billed to the billing contact', async () => {
    const s = (await statementOf('2026-09', busy.customerId))!;
    const invoice = await owner.selectFrom('invoices').selectAll().where('id', '=', s.invoiceId!).executeTakeFirstOrThrow();
    expect(invoice).toMatchObject({
      type: 'monthly', status: 'paid', informational: true, customerId: busy.customerId, currency: 'SGD',
      subtotalMicros: '23020000', taxMicros: '110000', totalMicros: '23130000', amountPaidMicros: '23130000', amountDueMicros: '0',
      billTo: { name: 'Busy Accounts', email: 'ap@busy.test', phone: null, address: '1 Busy Road, Singapore' },
    });
    expect(invoice.number).toMatch(/^STM-\d{6}-\d{6}$/);
    const period = (await sql<{ start: string; end: string }>`select period_start::text as start, period_end::text as end from invoices where id = ${invoice.id}`.execute(owner)).rows[0];
    expect(period).toEqual({ start: '2026-09-01', end: '2026-10-01' });
    const lines = await owner.selectFrom('invoiceLines').select(['position', 'kind', 'description', 'amountMicros', 'taxMicros', 'taxCategory', 'taxRateBps'])
      .where('invoiceId', '=', invoice.id).orderBy('position').execute();
    // Usage lines: the pre-tax amounts, each rounded once, and the tax as on every invoice (ADR 0012): 9% of their 1.22,
    // rounded once (0.11), spread by largest remainder. The total is 23.13 where the points moved by exactly 23.127075.
    // The renewal's 21.80 is what the points paid, its GST included and invoiced on its own invoice: no tax here.
    expect(lines).toEqual([
      { position: 1, kind: 'usage', description: 'United Kingdom: 1 call, 2 min', amountMicros: '1000000', taxMicros: '90000', taxCategory: 'standard', taxRateBps: 900 },
      { position: 2, kind: 'usage', description: 'Singapore mobile: 2 calls, 3 min', amountMicros: '180000', taxMicros: '20000', taxCategory: 'standard', taxRateBps: 900 },
      { position: 3, kind: 'usage', description: 'Singapore fixed: 3 calls, 3 min', amountMicros: '40000', taxMicros: '0', taxCategory: 'standard', taxRateBps: 900 },
      { position: 4, kind: 'subscription_renewal', description: 'Subscription renewals (1)', amountMicros: '21800000', taxMicros: '0', taxCategory: 'standard', taxRateBps: 0 },
    ]);
    expect(lines.reduce((sum, l) => sum + BigInt(l.amountMicros), 0n)).toBe(BigInt(invoice.subtotalMicros));
    expect(lines.reduce((sum, l) => sum + BigInt(l.taxMicros), 0n)).toBe(BigInt(invoice.taxMicros));
    // The PDF says the renewal's amount includes its tax, rather than showing it at 0% beside the calls' 9%.
    const detail = (await inScope(db.app.db, { kind: 'partner', partnerId: demo }, (trx) => loadInvoiceDetail(trx, { partnerId: demo, invoiceId: invoice.id })))!;
    const { text } = await pdfText(await renderInvoicePdf(detail, { logo: null }));
    expect(text).toContain('Usage excludes tax; other lines are points paid, tax included');
    expect(text).toMatch(/^4 Subscription renewals \(1\) 1 21\.80 . 21\.80 0\.00\nincl\.$/m);
    expect(text).not.toMatch(/^0%$/m);
    // No ledger entry names it: nothing new is owed (ADR 0008).
    expect(await owner.selectFrom('journalEntries').select('id').where('causeId', '=', invoice.id).execute()).toEqual([]);
    // The lead's views find the statement behind the invoice, inside the partner's scope only.
    const view = await inScope(db.app.db, { kind: 'partner', partnerId: demo }, (trx) => statementOfInvoice(trx, { partnerId: demo, invoiceId: invoice.id }));
    expect(view?.closingPoints).toBe('81.872925');
    const hidden = await inScope(db.app.db, { kind: 'partner', partnerId: north }, (trx) => statementOfInvoice(trx, { partnerId: demo, invoiceId: invoice.id }));
    expect(hidden).toBeNull();
  });

  it('tells the owner once per statement and audits each batch', async () => {
    const mails = await owner.selectFrom('notifications').selectAll().where('kind', '=', 'monthly_statement').where('customerId', '=', busy.customerId).execute();
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({ toEmail: busy.ownerEmail, partnerId: demo });
    expect(mails[0]!.subject).toContain('September 2026');
    expect(mails[0]!.bodyText).toContain('Closing points:  81.872925 SGD');
    expect(mails[0]!.bodyText).toContain('United Kingdom: 1 call, 2 min: 1.09 SGD (of which tax 0.09 SGD)');
    expect(mails[0]!.bodyText).toContain('Singapore fixed: 3 calls, 3 min: 0.040875 SGD (of which tax 0.003375 SGD)');
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
    expect((await statementOf('2026-09', busy.customerId))!.closingPointsMicros).toBe('81872925');
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
    // 81.872925 - 0.0654 + 10.00 = 91.807525 (the 1.00 topped up today is November's).
    expect(oct.closingPointsMicros).toBe('91807525');
    expect(statementViewOf(oct)).toMatchObject({
      openingPoints: '81.872925', closingPoints: '91.807525', usage: [{ category: 'singapore_mobile', calls: 1, seconds: 60, amount: '0.0654', tax: '0.0054' }],
      topUps: { count: 1, amount: '10.00' },
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
    expect(item).toMatchObject({ task: STATEMENTS_TASK, options: { queueName: STATEMENTS_TASK, maxAttempts: 20 } });
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
    // 12.00 - 2 minutes x 0.06 - 9% of it (0.0108)
    expect(aug[0]).toMatchObject({ openingPointsMicros: '0', closingPointsMicros: '11869200' });
    const invoice = await owner.selectFrom('invoices').select(['number', 'subtotalMicros', 'taxMicros', 'totalMicros', 'issuedAt']).where('id', '=', aug[0]!.invoiceId!).executeTakeFirstOrThrow();
    expect(invoice).toMatchObject({ subtotalMicros: '120000', taxMicros: '10000', totalMicros: '130000', issuedAt: new Date('2026-09-01T00:30:00Z') });
    expect(invoice.number).toMatch(/^STM-202609-\d{6}$/);
    // Twice is harmless.
    await tasks[STATEMENTS_TASK]!({}, {} as JobHelpers);
    expect(await rowsOf('2026-08')).toHaveLength(1);
  });
});

describe('tax on calls in the statement (ADR 0032)', () => {
  /** The calls' own figures (usage_calls), as the statement must add them up: points paid (price + tax) and tax, by prefix. */
  const callTotals = async (customerId: string) => {
    const rows = await owner.selectFrom('usageCalls').select(['prefix', 'priceMicros', 'taxMicros']).where('customerId', '=', customerId).execute();
    const by = new Map<string, { paid: bigint; tax: bigint }>();
    for (const r of rows) {
      const t = by.get(r.prefix ?? '') ?? { paid: 0n, tax: 0n };
      t.paid += BigInt(r.priceMicros) + BigInt(r.taxMicros);
      t.tax += BigInt(r.taxMicros);
      by.set(r.prefix ?? '', t);
    }
    return { rows, by };
  };
  const invoiceAndLines = async (invoiceId: string) => ({
    invoice: await owner.selectFrom('invoices').selectAll().where('id', '=', invoiceId).executeTakeFirstOrThrow(),
    lines: await owner.selectFrom('invoiceLines').select(['position', 'kind', 'description', 'amountMicros', 'taxMicros', 'taxCategory', 'taxRateBps'])
      .where('invoiceId', '=', invoiceId).orderBy('position').execute(),
  });
  /** closing = opening + topUps + credits - charges, from the stored figures. */
  const reconciles = (row: StatementRow) => {
    const sum = readStatementSummary(row.summary);
    return BigInt(row.openingPointsMicros) + BigInt(sum.topUps.amountMicros) + BigInt(sum.credits.amountMicros) - BigInt(sum.chargesMicros) === BigInt(row.closingPointsMicros);
  };
  const detailOf = (invoiceId: string) => inScope(db.app.db, { kind: 'partner', partnerId: demo }, (trx) => loadInvoiceDetail(trx, { partnerId: demo, invoiceId }));

  it('at 9% with sub-cent taxes: a category is price + tax of its calls and taxMicros their tax; the invoice lines are pre-tax and tax, each rounded once, and add up', async () => {
    const c = await createCustomer(owner, { partnerId: demo, name: 'Rounding Pte Ltd' });
    const mark = await lastPostingId(owner);
    await topUpPoints(db.app.db, { partnerId: demo, customerId: c.customerId, micros: SGD('5.00') });
    const ingested = await ingestCalls(ctx, {
      records: [
        // Australia: three billed minutes of 0.20544, each taxed 0.0184896 -> 0.018490.
        call('may-1', '+61291234567', 60, c.customerId), call('may-2', '+61291234568', 31, c.customerId), call('may-3', '+61391234567', 1, c.customerId),
        // United States: a minute of 0.033333, taxed 0.00299997 -> 0.003000.
        call('may-4', '+12125550123', 60, c.customerId),
      ],
    });
    expect(ingested.summary).toMatchObject({ charged: 4, rejected: 0 });
    await backdatePostings(owner, { afterId: mark, at: '2026-05-12T09:00:00Z' });
    const calls = await callTotals(c.customerId);
    expect(calls.rows.map((r) => [r.prefix, r.priceMicros, r.taxMicros]).sort()).toEqual([
      ['1', '33333', '3000'], ['61', '205440', '18490'], ['61', '205440', '18490'], ['61', '205440', '18490'],
    ]);

    const run = await generateMonthlyStatements(deps, { month: '2026-05', partnerId: demo });
    expect(run).toMatchObject({ statements: 1, invoices: 1 });
    const s = (await statementOf('2026-05', c.customerId))!;
    const summary = s.summary as StatementSummary;
    expect(summary.usage).toEqual([
      { category: 'australia', label: 'Australia', calls: 3, seconds: 180, amountMicros: '671790', taxMicros: '55470' },
      { category: 'united_states', label: 'United States', calls: 1, seconds: 60, amountMicros: '36333', taxMicros: '3000' },
    ]);
    // The same figures as the calls' own rows: what the points paid is price + tax, the tax is the calls' tax_micros.
    expect(summary.usage.map((u) => [u.amountMicros, u.taxMicros])).toEqual(['61', '1'].map((prefix) => {
      const t = calls.by.get(prefix)!;
      return [t.paid.toString(), t.tax.toString()];
    }));
    expect(summary.chargesMicros).toBe('708123');
    // 5.00 - 0.708123: the points, exact.
    expect(s).toMatchObject({ openingPointsMicros: '0', closingPointsMicros: '4291877' });
    expect(reconciles(s)).toBe(true);

    const { invoice, lines } = await invoiceAndLines(s.invoiceId!);
    // Australia: 0.61632 -> 0.62 and 0.05547 -> 0.06; United States: 0.033333 -> 0.03 and 0.003 -> 0.00 (still at 9%).
    expect(lines).toEqual([
      { position: 1, kind: 'usage', description: 'Australia: 3 calls, 3 min', amountMicros: '620000', taxMicros: '60000', taxCategory: 'standard', taxRateBps: 900 },
      { position: 2, kind: 'usage', description: 'United States: 1 call, 1 min', amountMicros: '30000', taxMicros: '0', taxCategory: 'standard', taxRateBps: 900 },
    ]);
    expect(invoice).toMatchObject({
      type: 'monthly', status: 'paid', informational: true,
      subtotalMicros: '650000', taxMicros: '60000', totalMicros: '710000', amountPaidMicros: '710000', amountDueMicros: '0',
    });
    expect(BigInt(invoice.subtotalMicros) + BigInt(invoice.taxMicros)).toBe(BigInt(invoice.totalMicros));
    expect(lines.reduce((sum, l) => sum + BigInt(l.amountMicros) + BigInt(l.taxMicros), 0n)).toBe(BigInt(invoice.totalMicros));

    // The screen, the PDF and the email say how much of each category's amount was tax.
    const detail = (await detailOf(invoice.id))!;
    expect(detail).toMatchObject({ subtotal: '0.65', tax: '0.06', total: '0.71', amountPaid: '0.71', amountDue: '0.00' });
    expect(detail.statement!.usage).toEqual([
      { category: 'australia', label: 'Australia', calls: 3, seconds: 180, amount: '0.67179', tax: '0.05547' },
      { category: 'united_states', label: 'United States', calls: 1, seconds: 60, amount: '0.036333', tax: '0.003' },
    ]);
    const { text } = await pdfText(await renderInvoicePdf(detail, { logo: null }));
    expect(text).toMatch(/^Category Calls Duration Amount SGD Of which tax$/m);
    expect(text).toMatch(/^Australia 3 3 min 0\.67179 0\.05547$/m);
    expect(text).toMatch(/^United States 1 1 min 0\.036333 0\.003$/m);
    expect(text).toMatch(/^Subtotal \(excl\. tax\) SGD 0\.65$/m);
    expect(text).toMatch(/^Tax 9% SGD 0\.06$/m);
    expect(text).toMatch(/^Total SGD 0\.71$/m);
    const mail = await owner.selectFrom('notifications').select('bodyText').where('kind', '=', 'monthly_statement').where('customerId', '=', c.customerId).executeTakeFirstOrThrow();
    expect(mail.bodyText).toContain('Australia: 3 calls, 3 min: 0.67179 SGD (of which tax 0.05547 SGD)');
    expect(mail.bodyText).toContain('United States: 1 call, 1 min: 0.036333 SGD (of which tax 0.003 SGD)');
    expect(await checkLedger(owner)).toEqual([]);

    // A credit note on the taxed usage line gives back its net and its tax, which the calls paid: Dr sales_returns,
    // Dr tax_payable, Cr points.
    const finance: Ctx = { ...ctx, principal: {
      kind: 'staff', userId: (await owner.selectFrom('users').select('id').where('email', '=', 'finance@demo.test').executeTakeFirstOrThrow()).id,
      partnerId: demo, email: 'finance@demo.test', name: 'Fiona Finance', apps: new Set(['finance', 'invoice', 'customer']), sessionId: 'ses_statements',
    } };
    const pointsBefore = (await inScope(db.app.db, { kind: 'partner', partnerId: demo }, (trx) => readWallet(trx, { partnerId: demo, customerId: c.customerId, currency: 'SGD' })))!.pointsMicros;
    const note = await createCreditNote(finance, { invoiceId: invoice.id, mode: 'lines', lines: [{ position: 1, amount: '0.62' }], reason: 'service_issue', outcome: 'points', issue: true });
    expect(note).toMatchObject({ status: 'issued', subtotal: '0.62', tax: '0.06', total: '0.68' });
    const { rows: sides } = await sql<{ code: string; amount: string }>`
      select a.code, p.amount_micros::text as amount from postings p join ledger_accounts a on a.id = p.account_id
        join journal_entries e on e.id = p.entry_id where e.cause_type = 'credit_note' and e.cause_id = ${note.id} order by a.code`.execute(owner);
    expect(sides.map((r) => [r.code, r.amount])).toEqual([['points', '-680000'], ['sales_returns', '620000'], ['tax_payable', '60000']]);
    const pointsAfter = (await inScope(db.app.db, { kind: 'partner', partnerId: demo }, (trx) => readWallet(trx, { partnerId: demo, customerId: c.customerId, currency: 'SGD' })))!.pointsMicros;
    expect(pointsAfter - pointsBefore).toBe(680_000n);
    expect(await checkLedger(owner)).toEqual([]);
  });

  it('a rate changed during the month: a line per rate the calls paid, each taxed at its own rate, whatever the rate on the day of the statement', async () => {
    const c = await createCustomer(owner, { partnerId: demo, name: 'Two Rates Pte Ltd' });
    const mark = await lastPostingId(owner);
    await topUpPoints(db.app.db, { partnerId: demo, customerId: c.customerId, micros: SGD('5.00') });
    try {
      // A minute to Australia (0.20544) at 9%, then, the rate lowered, two at 8%; on the day of the statement the rate is 0.
      await setTaxRate(owner, demo, 900);
      expect((await ingestCalls(ctx, { records: [call('rate-1', '+61291234567', 60, c.customerId)] })).summary.charged).toBe(1);
      await setTaxRate(owner, demo, 800);
      expect((await ingestCalls(ctx, { records: [call('rate-2', '+61291234567', 60, c.customerId), call('rate-3', '+61291234568', 45, c.customerId)] })).summary.charged).toBe(2);
      await setTaxRate(owner, demo, 0);
      await backdatePostings(owner, { afterId: mark, at: '2026-04-20T09:00:00Z' });
      const rows = await owner.selectFrom('usageCalls').select(['callId', 'taxMicros', 'taxRateBps']).where('customerId', '=', c.customerId).orderBy('callId').execute();
      expect(rows.map((r) => [r.callId, r.taxMicros, r.taxRateBps])).toEqual([['rate-1', '18490', 900], ['rate-2', '16435', 800], ['rate-3', '16435', 800]]);

      expect(await generateMonthlyStatements(deps, { month: '2026-04', partnerId: demo })).toMatchObject({ statements: 1, invoices: 1 });
      const s = (await statementOf('2026-04', c.customerId))!;
      // The summary keeps one category, with all the tax its calls paid.
      expect((s.summary as StatementSummary).usage).toEqual([
        { category: 'australia', label: 'Australia', calls: 3, seconds: 180, amountMicros: String(3 * 205_440 + 18_490 + 2 * 16_435), taxMicros: String(18_490 + 2 * 16_435) },
      ]);
      const { invoice, lines } = await invoiceAndLines(s.invoiceId!);
      // 8%: 0.41088 -> 0.41, tax 0.0328 -> 0.03; 9%: 0.20544 -> 0.21, tax 0.0189 -> 0.02.
      expect(lines).toEqual([
        { position: 1, kind: 'usage', description: 'Australia: 2 calls, 2 min (tax 8%)', amountMicros: '410000', taxMicros: '30000', taxCategory: 'standard', taxRateBps: 800 },
        { position: 2, kind: 'usage', description: 'Australia: 1 call, 1 min (tax 9%)', amountMicros: '210000', taxMicros: '20000', taxCategory: 'standard', taxRateBps: 900 },
      ]);
      expect(invoice).toMatchObject({ subtotalMicros: '620000', taxMicros: '50000', totalMicros: '670000', amountPaidMicros: '670000', amountDueMicros: '0' });
      expect(reconciles(s)).toBe(true);
    } finally {
      await setTaxRate(owner, demo, 900);
    }
  });

  it('zero-rated calls are a line of their own: zero-rated, no tax, apart from the taxed calls of the same category', async () => {
    const c = await createCustomer(owner, { partnerId: demo, name: 'Zero Rated Pte Ltd' });
    const mark = await lastPostingId(owner);
    await topUpPoints(db.app.db, { partnerId: demo, customerId: c.customerId, micros: SGD('5.00') });
    /** Australia's rate on the default SGD plan made zero-rated or standard (the table's version bumped, as a replacement does). */
    const australiaIs = async (category: 'standard' | 'zero_rated') => {
      await sql`update rates r set tax_category = ${category} from rate_plans p
                 where p.id = r.rate_plan_id and p.partner_id = ${demo} and p.currency = 'SGD' and p.is_default and r.prefix = '61'`.execute(owner);
      await sql`update rate_plans set rates_version = rates_version + 1 where partner_id = ${demo} and currency = 'SGD' and is_default`.execute(owner);
    };
    try {
      // A minute to Australia at 9% (0.20544 + 0.018490); then, Australia zero-rated, two minutes with no tax, and a
      // minute to the United States at 9% (0.033333 + 0.003000).
      expect((await ingestCalls(ctx, { records: [call('zero-1', '+61291234567', 60, c.customerId)] })).summary.charged).toBe(1);
      await australiaIs('zero_rated');
      expect((await ingestCalls(ctx, { records: [call('zero-2', '+61291234567', 60, c.customerId), call('zero-3', '+61291234568', 45, c.customerId), call('zero-4', '+12125550123', 60, c.customerId)] })).summary.charged).toBe(3);
      await backdatePostings(owner, { afterId: mark, at: '2026-03-20T09:00:00Z' });
      const rows = await owner.selectFrom('usageCalls').select(['callId', 'taxMicros', 'taxRateBps', 'zeroRated']).where('customerId', '=', c.customerId).orderBy('callId').execute();
      expect(rows.map((r) => [r.callId, r.taxMicros, r.taxRateBps, r.zeroRated])).toEqual([
        ['zero-1', '18490', 900, false], ['zero-2', '0', 0, true], ['zero-3', '0', 0, true], ['zero-4', '3000', 900, false],
      ]);

      expect(await generateMonthlyStatements(deps, { month: '2026-03', partnerId: demo })).toMatchObject({ statements: 1, invoices: 1 });
      const s = (await statementOf('2026-03', c.customerId))!;
      expect((s.summary as StatementSummary).usage).toEqual([
        { category: 'australia', label: 'Australia', calls: 3, seconds: 180, amountMicros: String(3 * 205_440 + 18_490), taxMicros: '18490' },
        { category: 'united_states', label: 'United States', calls: 1, seconds: 60, amountMicros: '36333', taxMicros: '3000' },
      ]);
      const { invoice, lines } = await invoiceAndLines(s.invoiceId!);
      // Zero-rated 0.41088 -> 0.41, no tax; at 9%: 0.20544 -> 0.21 and 0.033333 -> 0.03, tax 9% of 0.24 = 0.0216 -> 0.02,
      // spread by largest remainder (0.0189 and 0.0027: 0.02 and 0.00).
      expect(lines).toEqual([
        { position: 1, kind: 'usage', description: 'Australia: 2 calls, 2 min (zero-rated)', amountMicros: '410000', taxMicros: '0', taxCategory: 'zero_rated', taxRateBps: 0 },
        { position: 2, kind: 'usage', description: 'Australia: 1 call, 1 min (tax 9%)', amountMicros: '210000', taxMicros: '20000', taxCategory: 'standard', taxRateBps: 900 },
        { position: 3, kind: 'usage', description: 'United States: 1 call, 1 min', amountMicros: '30000', taxMicros: '0', taxCategory: 'standard', taxRateBps: 900 },
      ]);
      expect(invoice).toMatchObject({ subtotalMicros: '650000', taxMicros: '20000', totalMicros: '670000', amountPaidMicros: '670000', amountDueMicros: '0' });
      expect(reconciles(s)).toBe(true);
      expect(await checkLedger(owner)).toEqual([]);
    } finally {
      await australiaIs('standard');
    }
  });

  it('at 0%: tax 0 everywhere, and the figures statements had before calls carried tax', async () => {
    const c = await createCustomer(owner, { partnerId: demo, name: 'Untaxed Pte Ltd' });
    const mark = await lastPostingId(owner);
    await topUpPoints(db.app.db, { partnerId: demo, customerId: c.customerId, micros: SGD('2.00') });
    await setTaxRate(owner, demo, 0);
    try {
      const ingested = await ingestCalls(ctx, {
        records: [call('jun-1', '+61291234567', 60, c.customerId), call('jun-2', '+61291234568', 31, c.customerId), call('jun-3', '+61391234567', 1, c.customerId)],
      });
      expect(ingested.summary).toMatchObject({ charged: 3, rejected: 0 });
    } finally {
      await setTaxRate(owner, demo, 900);
    }
    await backdatePostings(owner, { afterId: mark, at: '2026-06-08T09:00:00Z' });
    expect((await callTotals(c.customerId)).by.get('61')).toEqual({ paid: 616_320n, tax: 0n });

    const run = await generateMonthlyStatements(deps, { month: '2026-06', partnerId: demo });
    expect(run.invoices).toBe(1);
    const s = (await statementOf('2026-06', c.customerId))!;
    expect(s).toMatchObject({ openingPointsMicros: '0', closingPointsMicros: '1383680' });
    expect((s.summary as StatementSummary).usage).toEqual([{ category: 'australia', label: 'Australia', calls: 3, seconds: 180, amountMicros: '616320', taxMicros: '0' }]);
    expect((s.summary as StatementSummary).chargesMicros).toBe('616320');
    expect(reconciles(s)).toBe(true);

    const { invoice, lines } = await invoiceAndLines(s.invoiceId!);
    expect(lines).toEqual([
      { position: 1, kind: 'usage', description: 'Australia: 3 calls, 3 min', amountMicros: '620000', taxMicros: '0', taxCategory: 'standard', taxRateBps: 0 },
    ]);
    expect(invoice).toMatchObject({ subtotalMicros: '620000', taxMicros: '0', totalMicros: '620000', amountPaidMicros: '620000', amountDueMicros: '0' });
    expect(statementViewOf(s).usage).toEqual([{ category: 'australia', label: 'Australia', calls: 3, seconds: 180, amount: '0.61632', tax: '0.00' }]);
    const { text } = await pdfText(await renderInvoicePdf((await detailOf(invoice.id))!, { logo: null }));
    expect(text).toMatch(/^Australia 3 3 min 0\.61632$/m);
    expect(text).not.toContain('Of which tax');
    const mail = await owner.selectFrom('notifications').select('bodyText').where('kind', '=', 'monthly_statement').where('customerId', '=', c.customerId).executeTakeFirstOrThrow();
    expect(mail.bodyText).toContain('Australia: 3 calls, 3 min: 0.61632 SGD\n');
    expect(mail.bodyText).not.toContain('of which tax');
  });

  it('a summary stored before calls carried tax (no taxMicros) reads as tax 0, and its invoice still shows on the screen and in the PDF', async () => {
    const c = await createCustomer(owner, { partnerId: demo, name: 'Old Statement Pte Ltd' });
    const invoiceId = newId('inv');
    await owner.insertInto('invoices').values({
      id: invoiceId, partnerId: demo, customerId: c.customerId, type: 'monthly', status: 'paid', informational: true, number: `STM-202605-${invoiceId.slice(-6)}`, currency: 'SGD',
      subtotalMicros: 8_800_000n, taxMicros: 0n, totalMicros: 8_800_000n, amountDueMicros: 0n, amountPaidMicros: 8_800_000n, issuedAt: new Date('2026-05-01T00:30:00Z'),
      dueAt: new Date('2026-05-01T00:30:00Z'), paidAt: new Date('2026-05-01T00:30:00Z'), updatedAt: new Date(), periodStart: '2026-04-01', periodEnd: '2026-05-01',
    }).execute();
    const bucket = (count: number, amountMicros: string) => ({ count, amountMicros });
    const old = {
      version: 1, usage: [{ category: 'local', label: 'Local calls', calls: 12, seconds: 3600, amountMicros: '8800000' }], renewals: bucket(0, '0'),
      purchases: bucket(0, '0'), topUps: bucket(1, '50000000'), credits: bucket(0, '0'), other: bucket(0, '0'), chargesMicros: '8800000',
    };
    await owner.insertInto('statements').values({
      id: newId('stm'), partnerId: demo, customerId: c.customerId, invoiceId, currency: 'SGD', periodStart: '2026-04-01', periodEnd: '2026-05-01',
      openingPointsMicros: 0n, closingPointsMicros: 41_200_000n, summary: JSON.stringify(old),
    }).execute();

    const row = (await statementOf('2026-04', c.customerId))!;
    expect(readStatementSummary(row.summary).usage).toEqual([{ ...old.usage[0], taxMicros: '0' }]);
    expect(readStatementSummary(JSON.stringify(old)).usage[0]!.taxMicros).toBe('0');
    expect(reconciles(row)).toBe(true);
    const detail = (await detailOf(invoiceId))!;
    expect(detail.statement).toMatchObject({ openingPoints: '0.00', closingPoints: '41.20', usage: [{ category: 'local', calls: 12, amount: '8.80', tax: '0.00' }] });
    const { text } = await pdfText(await renderInvoicePdf(detail, { logo: null }));
    expect(text).toMatch(/^Local calls 12 1 h 8\.80$/m);
    expect(text).not.toContain('Of which tax');
  });
});

describe('a partner whose Monthly number format reaches an issued number (docs/adr/0041)', () => {
  it('keeps no other partner from its statements: its failure is audited, the job fails to be run again, and a later run writes what was missing', async () => {
    // The run takes partners in id order: the failing one (demo) must come first for this to show anything.
    expect(demo < north).toBe(true);
    const month = '2026-01';
    const janDemo = await createCustomer(owner, { partnerId: demo, name: 'January Pte Ltd' });
    const janNorth = await createCustomer(owner, { partnerId: north, name: 'January Pty Ltd', currency: 'AUD' });
    const mark = await lastPostingId(owner);
    await topUpPoints(db.app.db, { partnerId: demo, customerId: janDemo.customerId, micros: SGD('5.00') });
    expect((await ingestCalls(ctx, { records: [call('adr41-jan-1', '+6581113333', 60, janDemo.customerId)] })).summary.charged).toBe(1);
    await topUpPoints(db.app.db, { partnerId: north, customerId: janNorth.customerId, currency: 'AUD', micros: SGD('8.00') });
    await backdatePostings(owner, { afterId: mark, at: '2026-01-20T09:00:00Z' });

    // Formats changed before they were checked against the numbers issued: demo's next Monthly number is a purchase's.
    const formatsBefore = (await sql<{ formats: Record<string, string> }>`select invoice_number_formats as formats from partner_settings where partner_id = ${demo}`.execute(owner)).rows[0]!.formats;
    const setFormats = (formats: Record<string, string>) => sql`update partner_settings set invoice_number_formats = invoice_number_formats || ${JSON.stringify(formats)}::jsonb where partner_id = ${demo}`.execute(owner);
    const counter = async (type: string) => BigInt((await sql<{ last: string }>`select coalesce((select last_value from invoice_number_series where partner_id = ${demo} and type = ${type}), 0)::text as last`.execute(owner)).rows[0]!.last);
    const monthly = await counter('monthly');
    await sql`insert into invoice_number_series (partner_id, type, last_value) values (${demo}, 'purchase', ${monthly.toString()}::bigint)
      on conflict (partner_id, type) do update set last_value = excluded.last_value`.execute(owner);
    await setFormats({ purchase: 'MZ{seq}' });
    const taken = await inScope(db.app.db, { kind: 'partner', partnerId: demo }, (trx) => issueInvoice(trx, {
      partnerId: demo, customerId: janDemo.customerId, type: 'purchase', currency: 'SGD', issuedAt: new Date('2026-01-02T00:00:00Z'),
      lines: [{ kind: 'product', description: 'Licence', amountMicros: SGD('1.00'), taxMicros: 0n, revenueCode: 'revenue:one_time' }],
      entry: { kind: 'invoice_issued', causeType: 'invoice', causeId: 'test_january', description: 'Test invoice', auditEventId: null },
    }));
    expect(taken.number).toBe(`MZ${monthly + 1n}`);
    await setFormats({ monthly: 'MZ{seq}' });

    const clock = new TestClock();
    clock.set('2026-02-01T00:30:00Z');
    const tasks = statementTasks({ ...deps, clock });
    const failure = await Promise.resolve(tasks[STATEMENTS_TASK]!({}, {} as JobHelpers)).catch((err: unknown) => err);
    expect(String(failure)).toBe(`Error: monthly statements for ${month} not generated for 1 partner(s): ${demo} (document_number_taken)`);
    // The other partners' customers have their statements (North's among them); demo's none, and demo's counter is where it was.
    const first = await rowsOf(month);
    expect(first.map((r) => r.customerId)).toContain(janNorth.customerId);
    expect(first.filter((r) => r.partnerId === demo)).toEqual([]);
    expect(await counter('monthly')).toBe(monthly);
    const audits = await owner.selectFrom('auditEvents').select(['partnerId', 'app', 'targetType', 'targetId', 'changes'])
      .where('action', '=', 'statement.generation_failed').execute();
    expect(audits).toEqual([{
      partnerId: demo, app: 'invoice', targetType: 'statement_run', targetId: month,
      changes: {
        month: { after: month }, code: { after: 'document_number_taken' },
        reason: { after: expect.stringMatching(new RegExp(`^The next monthly number, MZ${monthly + 1n}, was already issued on 2026-01-02: the monthly number format would issue it again\\.`)) },
      },
    }]);

    // Staff change the format; the job's next attempt writes demo's statement, and nothing twice.
    await setFormats({ monthly: formatsBefore.monthly ?? 'STM-{YYYY}{MM}-{seq:06}' });
    await tasks[STATEMENTS_TASK]!({}, {} as JobHelpers);
    const stated = await rowsOf(month);
    expect(stated.filter((r) => r.partnerId === demo).map((r) => r.customerId)).toContain(janDemo.customerId);
    expect(stated.filter((r) => r.partnerId !== demo)).toEqual(first);
    const invoice = await owner.selectFrom('invoices').select('number').where('id', '=', stated.find((r) => r.customerId === janDemo.customerId)!.invoiceId!).executeTakeFirstOrThrow();
    expect(invoice.number).not.toBe(`MZ${monthly + 1n}`);
    expect(await counter('monthly')).toBe(monthly + 1n);
    await setFormats({ purchase: formatsBefore.purchase ?? 'INV-{YYYY}-{seq:06}' });
  });
});
