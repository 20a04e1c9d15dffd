import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { parseCrontab } from 'graphile-worker';
import { api, auditEventsOf, createTestApp, partnerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';
import { TestClock } from '../platform/clock.ts';
import { inScope } from '../platform/database.ts';
import { checkLedger } from '../ledger/check-ledger.ts';
import { newCustomer } from '../payments/payments.test-kit.ts';
import { catalogPrice, type CatalogPrice } from '../subscriptions/test-support.ts';
import { reservePoints, releaseReservation } from './reservations.ts';
import { runCreditLimitExpiry } from './credit-limit-expiry.ts';
import { creditLimitTasks, CREDIT_LIMIT_EXPIRY_CRONTAB, CREDIT_LIMIT_EXPIRY_TASK } from './credit-limit-tasks.ts';

/** A temporary credit limit that ends: cleared, and what was spent under it billed on a debit note (invariant 4). */
let t: TestApp;
let demo: string;
let finance: Session;
let admin: Session;
let teams: CatalogPrice;

beforeAll(async () => {
  t = await createTestApp();
  demo = await partnerIdOf(t.db, 'demo-telecom');
  finance = await signIn(t, 'finance@demo.test');
  admin = await signIn(t, 'admin@demo.test');
  await t.db.owner.db.updateTable('partnerSettings').set({ taxRateBps: 900 }).where('partnerId', '=', demo).execute();
  teams = await catalogPrice(t, demo, { name: 'Teams licence', price: '8.00', cost: '3.00' }); // 8.00 + 0.72 tax
});
afterAll(async () => t.close());

const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();
const later = () => { const c = new TestClock(); c.set(new Date(Date.now() + 2 * 3_600_000).toISOString()); return c; };
const run = (clock = later()) => runCreditLimitExpiry({ db: t.db.app.db, config: t.config, log: pino({ level: 'silent' }), clock });
const walletOf = async (customerId: string) => (await api(t, finance, 'GET', `/api/v1/customers/${customerId}/wallet`)).json<{ points: string; creditLimit: string; usable: string }>();

async function customerOnCredit(limit: string): Promise<string> {
  const id = await newCustomer(t, finance);
  const set = await api(t, finance, 'PUT', `/api/v1/customers/${id}/credit-limit`, { amount: limit, expiresAt: inAnHour() });
  expect(set.statusCode, set.body).toBe(200);
  return id;
}

describe('runCreditLimitExpiry', () => {
  it('bills what was spent under an expired limit on a debit note (Dr receivable · Cr points), clears the limit, audits; once', async () => {
    const customer = await customerOnCredit('20.00');
    const bought = await api(t, admin, 'POST', `/api/v1/customers/${customer}/subscriptions`, { priceId: teams.priceId, quantity: 1 });
    expect(bought.statusCode, bought.body).toBe(201);
    expect(bought.json()).toMatchObject({ subscription: { status: 'active' } });
    expect(await walletOf(customer)).toMatchObject({ points: '-8.72', creditLimit: '20.00' });

    expect(await run()).toEqual({ cleared: 1, billed: 1 });
    expect(await walletOf(customer)).toMatchObject({ points: '0.00', creditLimit: '0.00', usable: '0.00' });
    const debitNote = await t.db.owner.db.selectFrom('invoices').selectAll().where('customerId', '=', customer).where('status', '=', 'awaiting_payment').executeTakeFirstOrThrow();
    expect(debitNote).toMatchObject({ type: 'purchase', totalMicros: '8720000', amountDueMicros: '8720000', taxMicros: '0' });
    const line = await t.db.owner.db.selectFrom('invoiceLines').select('description').where('invoiceId', '=', debitNote.id).executeTakeFirstOrThrow();
    expect(line.description).toContain('temporary credit limit of 20.00 SGD');
    // The customer's feed says what happened: points spent on the limit that ended (not "beyond" it).
    const posting = await t.db.owner.db.selectFrom('postings').select('description').where('causeType', '=', 'invoice').where('causeId', '=', debitNote.id)
      .where('customerId', '=', customer).executeTakeFirstOrThrow();
    expect(posting.description).toBe(`Points spent on an ended credit limit, billed on invoice ${debitNote.number}`);
    // As of the day the debit note was issued: the run's clock is two hours ahead, so from 22:00 UTC that is tomorrow.
    const aging = (await api(t, finance, 'GET', `/api/v1/finance/reports/ar-aging?currency=SGD&asOf=${debitNote.issuedAt!.toISOString().slice(0, 10)}`)).body;
    expect(aging).toContain(customer);
    const event = (await auditEventsOf(t.db, 'credit_limit.expired')).find((e) => e.customerId === customer);
    expect(event?.changes).toMatchObject({ creditLimit: { before: '20.00', after: '0.00' }, debitNote: { after: debitNote.number }, billed: { after: '8.72' } });
    expect(await checkLedger(t.db.owner.db)).toEqual([]);

    // Nothing left to do: a second run changes nothing.
    expect(await run()).toEqual({ cleared: 0, billed: 0 });
    expect(await t.db.owner.db.selectFrom('invoices').select('id').where('customerId', '=', customer).execute()).toHaveLength(2);
  });

  it('an expired limit nothing was spent under is only cleared; a limit not yet expired is left alone', async () => {
    const unused = await customerOnCredit('15.00');
    const early = new TestClock();
    early.set(new Date(Date.now() + 60_000).toISOString());
    expect(await run(early)).toEqual({ cleared: 0, billed: 0 });
    expect((await walletOf(unused)).creditLimit).toBe('15.00');
    expect(await run()).toEqual({ cleared: 1, billed: 0 });
    expect((await walletOf(unused)).creditLimit).toBe('0.00');
    expect(await t.db.owner.db.selectFrom('invoices').select('id').where('customerId', '=', unused).execute()).toEqual([]);
  });

  it('waits while points are held on the limit (a call running), then bills once the hold is gone', async () => {
    const customer = await customerOnCredit('10.00');
    const hold = await inScope(t.db.app.db, { kind: 'partner', partnerId: demo }, (trx) => reservePoints(trx, {
      wallet: { partnerId: demo, customerId: customer, currency: 'SGD' }, amountMicros: 4_000_000n, useCreditLimit: true, causeType: 'test', causeId: 'call-1', ttlSeconds: 600,
    }));
    expect(await run()).toEqual({ cleared: 0, billed: 0 });
    await inScope(t.db.app.db, { kind: 'partner', partnerId: demo }, (trx) => releaseReservation(trx, { partnerId: demo, reservationId: hold.id }));
    expect(await run()).toEqual({ cleared: 1, billed: 0 });
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('its debit note is the owner\'s to see and pay; members and guests, who do not see company credits, do not see it', async () => {
    const acme = (await t.db.owner.db.selectFrom('customers').select('id').where('name', '=', 'Acme Pte Ltd').executeTakeFirstOrThrow()).id;
    const set = await api(t, finance, 'PUT', `/api/v1/customers/${acme}/credit-limit`, { amount: '30.00', expiresAt: inAnHour() });
    expect(set.statusCode, set.body).toBe(200);
    expect((await api(t, admin, 'POST', `/api/v1/customers/${acme}/subscriptions`, { priceId: teams.priceId, quantity: 1 })).statusCode).toBe(201);
    await run();
    const debitNote = await t.db.owner.db.selectFrom('invoices').select(['id', 'number']).where('customerId', '=', acme).where('status', '=', 'awaiting_payment')
      .where('totalMicros', '=', '8720000').orderBy('id', 'desc').executeTakeFirstOrThrow();
    const listed = async (who: Session) => (await api(t, who, 'GET', '/api/v1/portal/invoices?limit=100')).json<{ data: { id: string }[] }>().data.map((i) => i.id);

    const owner = await signIn(t, 'owner@acme.test');
    expect(await listed(owner)).toContain(debitNote.id);
    expect((await api(t, owner, 'GET', `/api/v1/portal/invoices/${debitNote.id}`)).statusCode).toBe(200);

    const member = await signIn(t, 'member@acme.test');
    expect(await listed(member)).not.toContain(debitNote.id);
    expect((await listed(member)).length).toBeGreaterThan(0); // its other Purchase invoices (the subscription's) it still sees
    expect((await api(t, owner, 'GET', `/api/v1/portal/invoices/${debitNote.id}/credit-notes`)).statusCode).toBe(200);
    for (const path of [`/api/v1/portal/invoices/${debitNote.id}`, `/api/v1/portal/invoices/${debitNote.id}/pdf`, `/api/v1/portal/invoices/${debitNote.id}/credit-notes`]) {
      expect((await api(t, member, 'GET', path)).statusCode, path).toBe(404);
    }
  });

  it('is a cron task of the worker', () => {
    expect(parseCrontab(CREDIT_LIMIT_EXPIRY_CRONTAB).map((c) => c.task)).toEqual([CREDIT_LIMIT_EXPIRY_TASK]);
    expect(Object.keys(creditLimitTasks({ db: t.db.app.db, config: t.config, log: pino({ level: 'silent' }) }))).toEqual([CREDIT_LIMIT_EXPIRY_TASK]);
  });
});
