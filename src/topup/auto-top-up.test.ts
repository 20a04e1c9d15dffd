import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sql } from 'kysely';
import pino from 'pino';
import { parseCrontab } from 'graphile-worker';
import {
  api, auditEventsOf, createTestAppWithGateway, customerIdOf, expectUnknownId, deliverSandboxWebhooks, partnerIdOf, signIn, type Session, type TestAppWithGateway,
} from '../test/harness.ts';
import { checkLedger } from '../ledger/check-ledger.ts';
import { inScope } from '../platform/database.ts';
import { chargeWallet } from '../wallet/charge-wallet.ts';
import { addDays, utcDay } from './dates.ts';
import { attemptAutoTopUp, runAutoTopUpSweep } from './auto-top-up-sweep.ts';
import { newSavedCardId } from './ids.ts';
import { AUTO_TOP_UP_SWEEP_CRONTAB, SETTLE_STALE_TOP_UPS_CRONTAB, AUTO_TOP_UP_SWEEP_TASK, deliverSandboxEvents, startSandboxDelivery, topUpTasks } from './topup-tasks.ts';
import { SETTLE_STALE_TOP_UPS_TASK } from './settle-stale-top-ups.ts';
import type { TopUpDeps } from './charge-top-up.ts';

let t: TestAppWithGateway;
let deps: TopUpDeps;
let demo: string;
let acme: string;
let owner: Session;
const now = new Date();
const today = utcDay(now);
const tomorrow = new Date(now.getTime() + 86_400_000);

beforeAll(async () => {
  t = await createTestAppWithGateway();
  t.clock.set(now); // the server's "today" is the tests' today, even past midnight
  deps = { db: t.db.app.db, gateway: t.gateway, log: pino({ level: 'silent' }) };
  demo = await partnerIdOf(t.db, 'demo-telecom');
  acme = await customerIdOf(t.db, 'Acme Pte Ltd');
  owner = await signIn(t, 'owner@acme.test');
});
afterAll(async () => t.close());

const put = (payload: object, who: Session = owner) => api(t, who, 'PUT', '/api/v1/portal/auto-top-up', payload);
const usable = async (who: Session = owner) => (await api(t, who, 'GET', '/api/v1/portal/wallet')).json<{ usable: string }>().usable;
const autoTopUps = (customerId: string) =>
  t.db.owner.db.selectFrom('topUps').select(['id', 'status', 'amountMicros', 'feeMicros', 'failureCode', sql<string>`auto_for_date::text`.as('day')])
    .where('customerId', '=', customerId).where('auto', '=', true).orderBy('id').execute();

/** Spend points as a call would, so usable falls. */
async function spend(partnerId: string, customerId: string, currency: string, micros: bigint): Promise<void> {
  await inScope(t.db.app.db, { kind: 'partner', partnerId }, (trx) => chargeWallet(trx, {
    wallet: { partnerId, customerId, currency }, amountMicros: micros, useCreditLimit: false,
    entry: { kind: 'call_charge', causeType: 'test', causeId: `cal_${Math.random()}`, description: 'Call', auditEventId: null },
    counterPostings: [{ code: 'revenue:usage', amountMicros: -micros }],
  }));
}

async function savedCard(who: Session, token = 'tok_sandbox_success', amount = '10.00'): Promise<string> {
  const res = await api(t, who, 'POST', '/api/v1/portal/top-ups', { amount, cardToken: token, saveCard: true });
  const id = res.json<{ savedCardId: string | null }>().savedCardId;
  if (!id) throw new Error(`no card saved: ${res.statusCode} ${res.body}`);
  return id;
}

describe('auto top-up settings', () => {
  it('are off until set; validated (400 naming each field when one is malformed, 422 rule_violation when all are well-formed but break a rule, 422 saved_card_not_found for a card that is not yours or unknown, 422 below the minimum); audited once per change', async () => {
    expect((await api(t, owner, 'GET', '/api/v1/portal/auto-top-up')).json()).toEqual({
      enabled: false, currency: 'SGD', threshold: null, amount: null, savedCardId: null, savedCard: null, lastAttemptedOn: null, updatedAt: null,
    });
    const invalid = await put({ enabled: true, threshold: '-1.00', amount: '0', savedCardId: null });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().errors.map((e: { path: string }) => e.path)).toEqual(['threshold', 'amount', 'savedCardId']);
    // Well-formed numbers against the rules, nothing malformed: 422 naming each (docs/adr/0040).
    const rules = await put({ enabled: false, threshold: '-1.00', amount: '0', savedCardId: null });
    expect(rules.json()).toMatchObject({ status: 422, code: 'rule_violation', errors: [{ path: 'threshold', message: 'zero or more' }, { path: 'amount', message: 'more than zero' }] });
    expect((await put({ enabled: false, threshold: '5.001', amount: '15.00', savedCardId: null })).json()).toMatchObject({ status: 422, errors: [{ path: 'threshold' }] });
    expect((await put({ enabled: false, threshold: 'five', amount: '15.00', savedCardId: null })).json()).toMatchObject({ status: 400, errors: [{ path: 'threshold' }] });
    const tooLarge = await put({ enabled: false, threshold: '1000000.00', amount: '999999999999999.00', savedCardId: null });
    expect(tooLarge.statusCode).toBe(422);
    expect(tooLarge.json().errors).toEqual([{ path: 'threshold', message: 'at most 999999.99' }, { path: 'amount', message: 'at most 999999.99' }]);

    const globexCard = await savedCard(await signIn(t, 'owner@globex.test'), 'tok_sandbox_success', '70.00');
    expectUnknownId([
      await put({ enabled: true, threshold: '5.00', amount: '15.00', savedCardId: globexCard }),
      await put({ enabled: true, threshold: '5.00', amount: '15.00', savedCardId: 'card_00000000000000000000000000' }),
    ], 'saved_card_not_found', 'savedCardId');
    expect((await api(t, owner, 'GET', '/api/v1/portal/auto-top-up')).json()).toMatchObject({ enabled: false, savedCardId: null, updatedAt: null });

    const card = await savedCard(owner); // Acme: 10.00 points (fee 1.00 on the card)
    const res = await put({ enabled: true, threshold: '5.00', amount: '15.00', savedCardId: card });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ enabled: true, currency: 'SGD', threshold: '5.00', amount: '15.00', savedCardId: card, savedCard: { id: card, last4: '4242' }, lastAttemptedOn: null });
    const [event] = await auditEventsOf(t.db, 'auto_top_up.updated');
    expect(event).toMatchObject({ app: 'portal', customerId: acme, actorLabel: 'owner@acme.test' });
    expect(event!.changes).toEqual({ enabled: { after: true }, threshold: { after: '5.00' }, amount: { after: '15.00' }, savedCardId: { after: card } });
    expect((await put({ enabled: true, threshold: '5.00', amount: '15.00', savedCardId: card })).statusCode).toBe(200);
    expect(await auditEventsOf(t.db, 'auto_top_up.updated')).toHaveLength(1);
  });

  it('members may not see or change them', async () => {
    const member = await signIn(t, 'member@acme.test');
    expect((await api(t, member, 'GET', '/api/v1/portal/auto-top-up')).statusCode).toBe(403);
    expect((await put({ enabled: false, threshold: '1.00', amount: '20.00', savedCardId: null }, member)).statusCode).toBe(403);
  });
});

describe('the sweep', () => {
  it('fires when usable points fall to the threshold: the saved card is charged, policy applied, entry kind auto_top_up, receipt to the owner', async () => {
    expect(await usable()).toBe('10.00');
    expect(await runAutoTopUpSweep(deps, { now })).toMatchObject({ attempted: 0 }); // 10.00 > 5.00
    await spend(demo, acme, 'SGD', 5_000_000n); // usable 5.00: at the threshold
    expect(await runAutoTopUpSweep(deps, { now })).toEqual({ attempted: 1, succeeded: 1, pending: 0, failed: 0 });
    expect(await usable()).toBe('20.00');
    const [auto] = await autoTopUps(acme);
    expect(auto).toMatchObject({ status: 'succeeded', amountMicros: '15000000', feeMicros: '1000000', day: today });

    const entry = await t.db.owner.db.selectFrom('journalEntries').select(['kind', 'auditEventId']).where('causeId', '=', auto!.id).executeTakeFirstOrThrow();
    expect(entry.kind).toBe('auto_top_up');
    const [event] = await auditEventsOf(t.db, 'top_up.succeeded');
    expect(event).toMatchObject({ id: entry.auditEventId, actorType: 'system', actorLabel: 'auto_top_up', targetId: auto!.id, customerId: acme });
    const receipt = await t.db.owner.db.selectFrom('notifications').selectAll().where('kind', '=', 'top_up_receipt').orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(receipt.toEmail).toBe('owner@acme.test');
    expect(receipt.bodyText).toContain('automatic top-up');

    const feed = (await api(t, owner, 'GET', '/api/v1/portal/transactions?type=top_up')).json().data;
    expect(feed[0]).toMatchObject({ type: 'top_up', kind: 'auto_top_up', amount: '15.00' });
    const listed = (await api(t, owner, 'GET', '/api/v1/portal/top-ups?limit=1')).json().data[0];
    expect(listed).toMatchObject({ id: auto!.id, auto: true, status: 'succeeded', fee: '1.00', total: '16.00' });
    expect((await api(t, owner, 'GET', '/api/v1/portal/auto-top-up')).json().lastAttemptedOn).toBe(today);
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('at most once a day: below the threshold again the same day, nothing; the next day, again', async () => {
    await spend(demo, acme, 'SGD', 19_000_000n); // usable 1.00
    expect(await runAutoTopUpSweep(deps, { now })).toMatchObject({ attempted: 0 });
    expect(await autoTopUps(acme)).toHaveLength(1);
    expect(await runAutoTopUpSweep(deps, { now: tomorrow })).toMatchObject({ attempted: 1, succeeded: 1 });
    expect((await autoTopUps(acme)).map((a) => a.day)).toEqual([today, utcDay(tomorrow)]);
    expect(await runAutoTopUpSweep(deps, { now: tomorrow })).toMatchObject({ attempted: 0 });
  });

  it('two workers sweeping at the same moment make one top-up', async () => {
    const initech = await customerIdOf(t.db, 'Initech Pte Ltd');
    const io = await signIn(t, 'owner@initech.test');
    const card = await savedCard(io, 'tok_sandbox_success', '1.00');
    expect((await put({ enabled: true, threshold: '2.00', amount: '30.00', savedCardId: card }, io)).statusCode).toBe(200);
    const results = await Promise.all([1, 2, 3, 4].map(() => runAutoTopUpSweep(deps, { now })));
    expect(results.reduce((n, r) => n + r.attempted, 0)).toBe(1);
    expect(await autoTopUps(initech)).toHaveLength(1);
    expect(await usable(io)).toBe('31.00');
  });

  it('a failed charge is never silent: the top-up fails with its reason, the owner is told, the trail has it, nothing is posted, no retry that day', async () => {
    const globex = await customerIdOf(t.db, 'Globex Sdn Bhd');
    const go = await signIn(t, 'owner@globex.test');
    // A card that saves fine and is then refused for insufficient funds (as a card can become).
    const { customerRef } = await t.gateway.createCustomer({ reference: globex, idempotencyKey: `test-customer-${globex}` });
    const saved = await t.gateway.saveCard({ customerRef, cardToken: 'tok_sandbox_insufficient_funds', idempotencyKey: `test-card-${globex}` });
    if (saved.status !== 'saved') throw new Error('not saved');
    const cardId = newSavedCardId();
    await t.db.owner.db.insertInto('savedCards').values({
      id: cardId, partnerId: demo, customerId: globex, gateway: 'sandbox', gatewayCustomerRef: customerRef, methodRef: saved.methodRef,
      brand: saved.brand, last4: saved.last4, expMonth: saved.expMonth, expYear: saved.expYear, createdBy: null, removedAt: null,
    }).execute();
    await spend(demo, globex, 'MYR', 66_000_000n); // the 70.00 MYR bought earlier, less a call: usable 4.00
    expect((await put({ enabled: true, threshold: '10.00', amount: '100.00', savedCardId: cardId }, go)).statusCode).toBe(200);
    const entries = await t.db.owner.db.selectFrom('journalEntries').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow();

    expect(await runAutoTopUpSweep(deps, { now })).toMatchObject({ attempted: 1, failed: 1 });
    const [failed] = await autoTopUps(globex);
    expect(failed).toMatchObject({ status: 'failed', failureCode: 'insufficient_funds' });
    expect((await t.db.owner.db.selectFrom('journalEntries').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()).n).toBe(entries.n);
    const mail = await t.db.owner.db.selectFrom('notifications').selectAll().where('kind', '=', 'auto_top_up_failed').executeTakeFirstOrThrow();
    expect(mail).toMatchObject({ toEmail: 'owner@globex.test', customerId: globex });
    expect(mail.bodyText).toContain('insufficient funds');
    expect((await auditEventsOf(t.db, 'top_up.failed'))[0]).toMatchObject({ targetId: failed!.id, actorLabel: 'auto_top_up', app: 'finance' });
    const listed = (await api(t, go, 'GET', '/api/v1/portal/top-ups?status=failed')).json().data[0];
    expect(listed).toMatchObject({ id: failed!.id, auto: true, failure: { code: 'insufficient_funds', reason: 'insufficient_funds' } });
    const staff = (await api(t, await signIn(t, 'admin@demo.test'), 'GET', `/api/v1/customers/${globex}/top-ups?status=failed`)).json().data[0];
    expect(staff).toMatchObject({ id: failed!.id, auto: true, userId: null });

    expect(await runAutoTopUpSweep(deps, { now })).toMatchObject({ attempted: 0 });
    expect(await autoTopUps(globex)).toHaveLength(1);
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
    // The owner turns it off until the card is replaced.
    expect((await put({ enabled: false, threshold: '10.00', amount: '100.00', savedCardId: cardId }, go)).statusCode).toBe(200);
  });

  it('a saved card with a delayed payment: pending, then completed by the webhook as an automatic top-up', async () => {
    const wombatId = await customerIdOf(t.db, 'Wombat Pty Ltd');
    const wo = await signIn(t, 'owner@wombat.test');
    const card = await savedCard(wo, 'tok_sandbox_delayed', '25.00'); // the first (manual) top-up is pending too
    expect((await put({ enabled: true, threshold: '0.00', amount: '50.00', savedCardId: card }, wo)).statusCode).toBe(200);
    expect(await runAutoTopUpSweep(deps, { now })).toMatchObject({ attempted: 1, pending: 1 });
    await deliverSandboxWebhooks(t, t.gateway, new Date(Date.now() + 10_000));
    const [auto] = await autoTopUps(wombatId);
    expect(auto!.status).toBe('succeeded');
    expect(await usable(wo)).toBe('75.00');
    const kinds = await t.db.owner.db.selectFrom('journalEntries').select('kind').where('customerId', '=', wombatId).orderBy('id').execute();
    expect(kinds.map((k) => k.kind).sort()).toEqual(['auto_top_up', 'top_up']);
  });

  it('a policy that now refuses the amount, or a missing card, fails the attempt before any charge, notified', async () => {
    const admin = await signIn(t, 'admin@demo.test');
    expect((await api(t, admin, 'PUT', '/api/v1/settings/top-up-policies', { currency: 'SGD', effectiveFrom: today, minimum: '50.00', feeThreshold: '0', fee: '0' })).statusCode).toBe(201);
    const dayAfter = new Date(now.getTime() + 2 * 86_400_000);
    await spend(demo, acme, 'SGD', 15_000_000n); // Acme: usable 1.00 again
    const charges = (await sql<{ n: number }>`select count(*)::int as n from gateway_sandbox_charges`.execute(t.db.owner.db)).rows[0]!.n;
    expect(await runAutoTopUpSweep(deps, { now: dayAfter })).toMatchObject({ attempted: 1, failed: 1 });
    const last = (await autoTopUps(acme)).at(-1)!;
    expect(last).toMatchObject({ status: 'failed', failureCode: 'below_minimum', day: addDays(today, 2) });
    expect((await sql<{ n: number }>`select count(*)::int as n from gateway_sandbox_charges`.execute(t.db.owner.db)).rows[0]!.n).toBe(charges);
    const mail = await t.db.owner.db.selectFrom('notifications').selectAll().where('kind', '=', 'auto_top_up_failed').where('toEmail', '=', 'owner@acme.test').executeTakeFirstOrThrow();
    expect(mail.bodyText).toContain('below the minimum top-up of 50.00 SGD');
    // Raising the amount is then refused too if it stays below the minimum; 50.00 is accepted.
    expect((await put({ enabled: true, threshold: '5.00', amount: '15.00', savedCardId: null })).statusCode).toBe(400);
    const card = (await api(t, owner, 'GET', '/api/v1/portal/saved-cards')).json().data[0].id as string;
    expect((await put({ enabled: true, threshold: '5.00', amount: '15.00', savedCardId: card })).json()).toMatchObject({ code: 'rule_violation', errors: [{ path: 'amount' }] });
    expect((await put({ enabled: true, threshold: '5.00', amount: '50.00', savedCardId: card })).statusCode).toBe(200);

    // The card removed (e.g. by the gateway's expiry handling): the next day's attempt fails as no_saved_card.
    await t.db.owner.db.updateTable('savedCards').set({ removedAt: new Date() }).where('id', '=', card).execute();
    expect(await runAutoTopUpSweep(deps, { now: new Date(now.getTime() + 3 * 86_400_000) })).toMatchObject({ attempted: 1, failed: 1 });
    expect((await autoTopUps(acme)).at(-1)).toMatchObject({ failureCode: 'no_saved_card' });
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('turned off, nothing happens', async () => {
    const io = await signIn(t, 'owner@initech.test');
    const settings = (await api(t, io, 'GET', '/api/v1/portal/auto-top-up')).json();
    expect((await put({ enabled: false, threshold: settings.threshold, amount: settings.amount, savedCardId: settings.savedCardId }, io)).statusCode).toBe(200);
    const initech = await customerIdOf(t.db, 'Initech Pte Ltd');
    await spend(demo, initech, 'SGD', 31_000_000n);
    await runAutoTopUpSweep(deps, { now: new Date(now.getTime() + 5 * 86_400_000) });
    expect(await autoTopUps(initech)).toHaveLength(1);
  });
});

describe('a closed or suspended organisation', () => {
  it('closed: its auto top-up is read, turned off (all else as it is), and changed no other way (409, nothing written); suspended: changed', async () => {
    const wombatId = await customerIdOf(t.db, 'Wombat Pty Ltd');
    const wo = await signIn(t, 'owner@wombat.test');
    const setStatus = (status: 'active' | 'suspended' | 'closed') => t.db.owner.db.updateTable('customers').set({ status }).where('id', '=', wombatId).execute();
    const row = () => t.db.owner.db.selectFrom('autoTopUpSettings').selectAll().where('customerId', '=', wombatId).executeTakeFirstOrThrow();
    const events = async () => (await auditEventsOf(t.db, 'auto_top_up.updated')).filter((e) => e.customerId === wombatId);
    const on = (await api(t, wo, 'GET', '/api/v1/portal/auto-top-up')).json(); // on since the delayed-payment test
    expect(on).toMatchObject({ enabled: true, threshold: '0.00', amount: '50.00' });
    const card = on.savedCardId as string;
    await setStatus('closed');
    try {
      const read = await api(t, wo, 'GET', '/api/v1/portal/auto-top-up');
      expect(read.statusCode).toBe(200);
      expect(read.json()).toEqual(on);
      const before = await row();
      const eventsBefore = (await events()).length;
      for (const body of [
        { enabled: true, threshold: '0.00', amount: '50.00', savedCardId: card }, // as it is: still a change it may not make
        { enabled: true, threshold: '1.00', amount: '50.00', savedCardId: card },
        { enabled: false, threshold: '1.00', amount: '50.00', savedCardId: card }, // off, but with a new threshold
        { enabled: false, threshold: '0.00', amount: '60.00', savedCardId: card },
        { enabled: false, threshold: '0.00', amount: '50.00', savedCardId: null },
      ]) {
        const refused = await put(body, wo);
        expect(refused.statusCode, refused.body).toBe(409);
        expect(refused.headers['content-type']).toContain('application/problem+json');
        expect(refused.json()).toMatchObject({ code: 'state_conflict', detail: expect.stringContaining('closed') });
      }
      expect(await row()).toEqual(before);
      expect(await events()).toHaveLength(eventsBefore);

      // Turning it off only stops charges: taken, audited; sent again, nothing changes; on again, refused.
      const off = await put({ enabled: false, threshold: '0.00', amount: '50.00', savedCardId: card }, wo);
      expect(off.statusCode, off.body).toBe(200);
      expect(off.json()).toMatchObject({ enabled: false, threshold: '0.00', amount: '50.00', savedCardId: card });
      expect((await events())[0]!.changes).toEqual({ enabled: { before: true, after: false } });
      expect((await put({ enabled: false, threshold: '0.00', amount: '50.00', savedCardId: card }, wo)).statusCode).toBe(200);
      expect(await events()).toHaveLength(eventsBefore + 1);
      expect((await put({ enabled: true, threshold: '0.00', amount: '50.00', savedCardId: card }, wo)).statusCode).toBe(409);
      expect((await row()).enabled).toBe(false);

      await setStatus('suspended');
      const suspended = await put({ enabled: true, threshold: '2.00', amount: '50.00', savedCardId: card }, wo);
      expect(suspended.statusCode, suspended.body).toBe(200);
      expect(suspended.json()).toMatchObject({ enabled: true, threshold: '2.00' });
    } finally {
      await setStatus('active');
    }
  });
});

describe('a suspended organisation keeps its auto top-up; a closed one has none', () => {
  it('suspended: swept as an active one (its renewals still charge points); closed: never, not even when closed after the sweep read it', async () => {
    const wombat = await t.db.owner.db.selectFrom('customers').select(['id', 'partnerId', 'currency']).where('name', '=', 'Wombat Pty Ltd').executeTakeFirstOrThrow();
    const wo = await signIn(t, 'owner@wombat.test');
    const setStatus = (status: 'active' | 'suspended' | 'closed') => t.db.owner.db.updateTable('customers').set({ status }).where('id', '=', wombat.id).execute();
    const usableMicros = async () => {
      const text = (await api(t, wo, 'GET', '/api/v1/portal/wallet')).json<{ usable: string }>().usable;
      const [whole, fraction = ''] = text.split('.');
      return BigInt(whole!) * 1_000_000n + BigInt(fraction.padEnd(6, '0'));
    };
    const days = (n: number) => new Date(now.getTime() + n * 86_400_000);
    const wombatDays = async () => (await autoTopUps(wombat.id)).map((a) => `${a.day} ${a.status}`);
    try {
      await setStatus('active');
      const set = await put({ enabled: true, threshold: '2.00', amount: '50.00', savedCardId: (await api(t, wo, 'GET', '/api/v1/portal/auto-top-up')).json().savedCardId }, wo);
      expect(set.statusCode, set.body).toBe(200);
      await setStatus('suspended');
      await spend(wombat.partnerId, wombat.id, wombat.currency, (await usableMicros()) - 1_000_000n); // usable 1.00
      await runAutoTopUpSweep(deps, { now: days(10) });
      // Its saved card is the sandbox's delayed one: pending until the gateway's webhook says it succeeded.
      expect(await wombatDays()).toContain(`${utcDay(days(10))} pending`);
      await deliverSandboxWebhooks(t, t.gateway, new Date(Date.now() + 10_000));
      expect(await wombatDays()).toContain(`${utcDay(days(10))} succeeded`);
      expect(await usableMicros()).toBe(51_000_000n);

      await setStatus('closed');
      await spend(wombat.partnerId, wombat.id, wombat.currency, 50_000_000n); // usable 1.00 again
      const before = (await autoTopUps(wombat.id)).length;
      await runAutoTopUpSweep(deps, { now: days(11) });
      // The sweep read it while it was open, then it was closed: the attempt itself finds it closed.
      expect(await attemptAutoTopUp(deps, { partnerId: wombat.partnerId, customerId: wombat.id }, utcDay(days(12)))).toBeNull();
      expect(await autoTopUps(wombat.id)).toHaveLength(before);
      expect(await usableMicros()).toBe(1_000_000n);
      expect(await checkLedger(t.db.owner.db)).toEqual([]);
    } finally {
      await setStatus('active');
    }
  });
});

describe('worker wiring', () => {
  it('the sweep is a cron task; the sandbox loop settles due payments through the webhook code, and stops cleanly', async () => {
    expect(parseCrontab(AUTO_TOP_UP_SWEEP_CRONTAB).map((c) => c.task)).toEqual([AUTO_TOP_UP_SWEEP_TASK]);
    // Beside it, every 5 minutes on a queue of its own, the settling of top-ups whose charge answer was lost.
    const settle = parseCrontab(SETTLE_STALE_TOP_UPS_CRONTAB);
    expect(settle.map((c) => [c.task, c.options.queueName, c.options.maxAttempts])).toEqual([[SETTLE_STALE_TOP_UPS_TASK, SETTLE_STALE_TOP_UPS_TASK, 1]]);
    expect(Object.keys(topUpTasks(deps))).toEqual([AUTO_TOP_UP_SWEEP_TASK, SETTLE_STALE_TOP_UPS_TASK]);

    const zero = await createTestAppWithGateway({ settleAfterMs: 0 });
    try {
      const zeroDeps = { db: zero.db.app.db, gateway: zero.gateway, log: pino({ level: 'silent' }) };
      const o = await signIn(zero, 'owner@acme.test');
      const pay = async () => (await api(zero, o, 'POST', '/api/v1/portal/top-ups', { amount: '30.00', cardToken: 'tok_sandbox_delayed' })).json<{ id: string; status: string }>();
      const status = async (id: string) => (await api(zero, o, 'GET', `/api/v1/portal/top-ups/${id}`)).json<{ status: string }>().status;

      const first = await pay();
      expect(first.status).toBe('pending');
      expect(await deliverSandboxEvents(zeroDeps)).toBe(1);
      expect(await status(first.id)).toBe('succeeded');

      const loop = startSandboxDelivery(zeroDeps, 50)!;
      const second = await pay();
      await vi.waitFor(async () => expect(await status(second.id)).toBe('succeeded'), { timeout: 5_000, interval: 50 });
      await loop.stop();
      const third = await pay();
      await new Promise((r) => setTimeout(r, 200));
      expect(await status(third.id)).toBe('pending');
      expect(startSandboxDelivery({ ...zeroDeps, gateway: { ...zero.gateway, deliverDueEvents: undefined } as never })).toBeNull();
    } finally {
      await zero.close();
    }
  });
});
