import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../platform/clock.ts';
import { sql } from 'kysely';
import pino from 'pino';
import {
  acceptInvitationFor, api, auditEventsOf, createTestAppWithGateway, customerIdOf, expectUnknownId, joinOrganisation, signIn, userIdOf, type Session, type TestAppWithGateway,
} from '../test/harness.ts';
import { checkLedger } from '../ledger/check-ledger.ts';
import { inScope } from '../platform/database.ts';
import { containsCardNumber } from '../gateway/card-numbers.ts';
import type { Gateway } from '../gateway/gateway.ts';
import type { Ctx } from '../platform/context.ts';
import { portalTopUp } from './portal-top-up.ts';

let t: TestAppWithGateway;
let owner: Session;
let acme: string;
let partnerId: string;

beforeAll(async () => {
  t = await createTestAppWithGateway();
  owner = await signIn(t, 'owner@acme.test');
  acme = await customerIdOf(t.db, 'Acme Pte Ltd');
  partnerId = (await t.db.owner.db.selectFrom('customers').select('partnerId').where('id', '=', acme).executeTakeFirstOrThrow()).partnerId;
});
afterAll(async () => t.close());

const topUp = (payload: object, who: Session = owner, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url: '/api/v1/portal/top-ups', headers: { ...who.headers, ...headers }, payload });

async function postingsOf(topUpId: string) {
  return t.db.owner.db
    .selectFrom('postings as p')
    .innerJoin('journalEntries as e', 'e.id', 'p.entryId')
    .innerJoin('ledgerAccounts as a', 'a.id', 'p.accountId')
    .select(['e.kind', 'a.code', 'p.amountMicros'])
    .where('e.causeType', '=', 'top_up').where('e.causeId', '=', topUpId)
    .orderBy('p.id')
    .execute();
}

async function points(who: Session = owner): Promise<string> {
  return (await api(t, who, 'GET', '/api/v1/portal/wallet')).json<{ points: string }>().points;
}

async function chargeCount(): Promise<number> {
  return (await sql<{ n: number }>`select count(*)::int as n from gateway_sandbox_charges`.execute(t.db.owner.db)).rows[0]!.n;
}

const ledgerProblems = () => checkLedger(t.db.owner.db);

describe('portalTopUp: a card top-up end to end', () => {
  it('adds the points, issues a paid Top-up invoice, posts card_clearing/points, audits, sends a receipt, and the feed shows it', async () => {
    const res = await topUp({ amount: '50.00', cardToken: 'tok_sandbox_success' });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({
      id: expect.stringMatching(/^top_/), status: 'succeeded', auto: false, currency: 'SGD', amount: '50.00', fee: '0.00', total: '50.00',
      invoice: { id: expect.stringMatching(/^inv_/), number: expect.stringMatching(/^TOP-\d{4}-\d{6}$/) }, failure: null, savedCardId: null,
    });
    expect(await points()).toBe('50.00');

    expect(await postingsOf(body.id)).toEqual([
      { kind: 'top_up', code: 'card_clearing', amountMicros: '50000000' },
      { kind: 'top_up', code: 'points', amountMicros: '-50000000' },
    ]);
    const invoice = await t.db.owner.db.selectFrom('invoices').selectAll().where('id', '=', body.invoice.id).executeTakeFirstOrThrow();
    expect(invoice).toMatchObject({
      customerId: acme, type: 'top_up', status: 'paid', number: body.invoice.number, currency: 'SGD',
      subtotalMicros: '50000000', taxMicros: '0', totalMicros: '50000000', amountDueMicros: '0',
    });
    expect(invoice.paidAt).toBeInstanceOf(Date);
    const lines = await t.db.owner.db.selectFrom('invoiceLines').select(['position', 'kind', 'amountMicros']).where('invoiceId', '=', invoice.id).orderBy('position').execute();
    expect(lines).toEqual([{ position: 1, kind: 'points', amountMicros: '50000000' }]);

    const [event] = await auditEventsOf(t.db, 'top_up.succeeded');
    expect(event).toMatchObject({ app: 'portal', actorLabel: 'owner@acme.test', customerId: acme, targetType: 'top_up', targetId: body.id, requestId: res.headers['x-request-id'] });
    expect(event!.changes).toMatchObject({ amount: { after: '50.00' }, status: { before: 'pending', after: 'succeeded' }, invoiceNumber: { after: body.invoice.number } });
    const entry = await t.db.owner.db.selectFrom('journalEntries').select('auditEventId').where('causeId', '=', body.id).executeTakeFirstOrThrow();
    expect(entry.auditEventId).toBe(event!.id);

    const receipt = await t.db.owner.db.selectFrom('notifications').selectAll().where('kind', '=', 'top_up_receipt').executeTakeFirstOrThrow();
    expect(receipt).toMatchObject({ toEmail: 'owner@acme.test', customerId: acme });
    expect(receipt.subject).toContain(body.invoice.number);
    expect(receipt.bodyText).toContain('Points balance now:  50.00 SGD');

    const feed = await api(t, owner, 'GET', '/api/v1/portal/transactions');
    expect(feed.json().data[0]).toMatchObject({ type: 'top_up', kind: 'top_up', amount: '50.00', balanceAfter: '50.00', cause: { type: 'top_up', id: body.id } });
    expect(await ledgerProblems()).toEqual([]);
  });

  it('adds the admin fee below the threshold (default SGD policy: 1.00 below 20.00): Cr revenue:fees, a fee line, and the next invoice number', async () => {
    const first = (await api(t, owner, 'GET', '/api/v1/portal/top-ups')).json().data[0].invoice.number as string;
    const res = await topUp({ amount: '10.00', cardToken: 'tok_sandbox_success' });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ amount: '10.00', fee: '1.00', total: '11.00' });
    const seq = (n: string) => Number(n.slice(-6));
    expect(seq(body.invoice.number)).toBe(seq(first) + 1);
    expect(await postingsOf(body.id)).toEqual([
      { kind: 'top_up', code: 'card_clearing', amountMicros: '11000000' },
      { kind: 'top_up', code: 'revenue:fees', amountMicros: '-1000000' },
      { kind: 'top_up', code: 'points', amountMicros: '-10000000' },
    ]);
    const lines = await t.db.owner.db.selectFrom('invoiceLines').select(['kind', 'amountMicros']).where('invoiceId', '=', body.invoice.id).orderBy('position').execute();
    expect(lines).toEqual([{ kind: 'points', amountMicros: '10000000' }, { kind: 'admin_fee', amountMicros: '1000000' }]);
    const charge = await t.db.owner.db.selectFrom('gatewaySandboxCharges').select(['amountMinor', 'currency']).orderBy('createdAt', 'desc').executeTakeFirstOrThrow();
    expect(charge).toEqual({ amountMinor: '1100', currency: 'SGD' });
    expect(await points()).toBe('60.00');
    // At the threshold there is no fee.
    expect((await topUp({ amount: '20.00', cardToken: 'tok_sandbox_success' })).json()).toMatchObject({ fee: '0.00', total: '20.00' });
    expect(await ledgerProblems()).toEqual([]);
  });

  it('applies the default policy of the organisation\'s currency: 3.00 MYR below 60.00 MYR', async () => {
    const globex = await signIn(t, 'owner@globex.test');
    const res = await topUp({ amount: '59.99', cardToken: 'tok_sandbox_success' }, globex);
    expect(res.json()).toMatchObject({ currency: 'MYR', amount: '59.99', fee: '3.00', total: '62.99' });
    expect((await api(t, globex, 'GET', '/api/v1/portal/top-up-policy')).json()).toEqual({
      versionId: null, currency: 'MYR', effectiveFrom: null, source: 'default', minimum: '0.00', feeThreshold: '60.00', fee: '3.00', upcoming: null,
    });
  });
});

describe('declined cards', () => {
  it('a declined card and one with insufficient funds answer 422 with their codes; nothing is posted; the failure is recorded and audited', async () => {
    const before = await points();
    const entries = await t.db.owner.db.selectFrom('journalEntries').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow();
    const declined = await topUp({ amount: '30.00', cardToken: 'tok_sandbox_declined' });
    expect(declined.statusCode).toBe(422);
    expect(declined.json()).toMatchObject({ code: 'card_declined', errors: [{ path: 'cardToken', message: 'generic_decline' }] });
    const poor = await topUp({ amount: '30.00', cardToken: 'tok_sandbox_insufficient_funds' });
    expect(poor.statusCode).toBe(422);
    expect(poor.json().code).toBe('insufficient_funds');

    expect(await points()).toBe(before);
    expect((await t.db.owner.db.selectFrom('journalEntries').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()).n).toBe(entries.n);
    const failed = (await api(t, owner, 'GET', '/api/v1/portal/top-ups?status=failed')).json().data;
    expect(failed.slice(0, 2).map((f: { failure: unknown; invoice: unknown; status: string }) => [f.status, f.failure, f.invoice])).toEqual([
      ['failed', { code: 'insufficient_funds', reason: 'insufficient_funds' }, null],
      ['failed', { code: 'declined', reason: 'generic_decline' }, null],
    ]);
    const audits = await auditEventsOf(t.db, 'top_up.failed');
    expect(audits.slice(0, 2).map((a) => a.targetId)).toEqual(failed.slice(0, 2).map((f: { id: string }) => f.id));
    // The customer reads the detail: what happened, never the recorded top-up's internal id.
    expect(declined.json().detail).toBe('The card was declined (generic_decline). Nothing was charged and no points were added.');
    expect(declined.json().detail).not.toContain(failed[1].id);
    expect(await ledgerProblems()).toEqual([]);
  });
});

describe('input', () => {
  it('not a number: 400 naming amount; zero, negative, too many decimals or too large: 422 naming amount; writes nothing', async () => {
    const rows = await t.db.owner.db.selectFrom('topUps').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow();
    for (const amount of ['abc', '1e3', '', ' 30.00', '30.00 ', '-0.00', '+30', '.5', '30.']) {
      const res = await topUp({ amount, cardToken: 'tok_sandbox_success' });
      expect(res.statusCode, amount).toBe(400);
      expect(res.json().errors.map((e: { path: string }) => e.path), amount).toEqual(['amount']);
    }
    // Well-formed but against a rule (docs/adr/0040).
    for (const amount of ['0', '0.00', '-5.00', '1.234']) {
      const res = await topUp({ amount, cardToken: 'tok_sandbox_success' });
      expect(res.statusCode, amount).toBe(422);
      expect(res.json(), amount).toMatchObject({ code: 'rule_violation', errors: [{ path: 'amount' }] });
    }
    expect((await topUp({ amount: 10, cardToken: 'tok_sandbox_success' })).json().errors[0].path).toBe('amount');
    // More than one card payment can carry (and, far above it, more than the ledger's 64-bit micro-units hold): refused
    // before the card is charged, never a 500.
    for (const amount of ['1000000.00', '999999999999999.00']) {
      const res = await topUp({ amount, cardToken: 'tok_sandbox_success' });
      expect(res.statusCode, amount).toBe(422);
      expect(res.json().errors, amount).toEqual([{ path: 'amount', message: 'at most 999999.99' }]);
    }
    expect((await t.db.owner.db.selectFrom('topUps').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow()).n).toBe(rows.n);
  });

  it('exactly one card: both, neither, or saveCard with a saved card is a 400', async () => {
    const both = await topUp({ amount: '5.00', cardToken: 'tok_sandbox_success', savedCardId: 'card_0000000000000000000000000a' });
    expect(both.statusCode).toBe(400);
    expect(both.json().errors[0].path).toBe('cardToken');
    expect((await topUp({ amount: '5.00' })).json().errors[0].path).toBe('cardToken');
    const saveSaved = await topUp({ amount: '5.00', savedCardId: 'card_0000000000000000000000000a', saveCard: true });
    expect(saveSaved.json().errors.map((e: { path: string }) => e.path)).toContain('saveCard');
  });

  it('a token the gateway does not know is a 400 naming cardToken, and the attempt is recorded as failed', async () => {
    const res = await topUp({ amount: '5.00', cardToken: 'tok_unknown_card' });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].path).toBe('cardToken');
    const [last] = (await api(t, owner, 'GET', '/api/v1/portal/top-ups?limit=1')).json().data;
    expect(last).toMatchObject({ status: 'failed', failure: { code: 'invalid_card' } });
  });

  it('a card number is refused without being echoed or stored', async () => {
    const res = await topUp({ amount: '5.00', cardToken: '4242 4242 4242 4242' });
    expect(res.statusCode).toBe(400);
    expect(res.body).not.toContain('4242 4242');
    const stored = JSON.stringify(await t.db.owner.db.selectFrom('topUps').selectAll().execute());
    expect(containsCardNumber(stored)).toBe(false);
  });
});

describe('who may top up', () => {
  it('members and guests may not (403); partner staff may not use the portal route', async () => {
    const member = await signIn(t, 'member@acme.test');
    const denied = await topUp({ amount: '50.00', cardToken: 'tok_sandbox_success' }, member);
    expect(denied.statusCode).toBe(403);
    expect(denied.json().code).toBe('role_not_allowed');
    const { session: guest } = await joinOrganisation(t, owner, 'guest.topup@acme.test', 'guest');
    expect((await topUp({ amount: '50.00', cardToken: 'tok_sandbox_success' }, guest)).statusCode).toBe(403);
    expect((await api(t, guest, 'GET', '/api/v1/portal/top-ups')).statusCode).toBe(403);
    const staff = await signIn(t, 'admin@demo.test');
    expect((await topUp({ amount: '50.00', cardToken: 'tok_sandbox_success' }, staff)).statusCode).toBe(403);
  });

  it('a closed organisation buys no points (409, no card charged, nothing recorded); reopened, it may again', async () => {
    const initech = await customerIdOf(t.db, 'Initech Pte Ltd');
    const initechOwner = await signIn(t, 'owner@initech.test');
    const setStatus = (status: 'active' | 'closed') => t.db.owner.db.updateTable('customers').set({ status }).where('id', '=', initech).execute();
    const topUpsOf = async () => (await t.db.owner.db.selectFrom('topUps').select('id').where('customerId', '=', initech).execute()).length;
    const before = await topUpsOf();
    await setStatus('closed');
    try {
      const refused = await topUp({ amount: '25.00', cardToken: 'tok_sandbox_success' }, initechOwner);
      expect(refused.statusCode, refused.body).toBe(409);
      expect(refused.json()).toMatchObject({ code: 'state_conflict' });
      expect(refused.json().detail).toContain('closed');
      expect(await topUpsOf()).toBe(before);
    } finally {
      await setStatus('active');
    }
    expect((await topUp({ amount: '25.00', cardToken: 'tok_sandbox_success' }, initechOwner)).statusCode).toBe(201);
  });

  it('an admin of the organisation may', async () => {
    const { session: admin } = await joinOrganisation(t, owner, 'admin.topup@acme.test', 'admin');
    const res = await topUp({ amount: '20.00', cardToken: 'tok_sandbox_success' }, admin);
    expect(res.statusCode).toBe(201);
    const receipt = await t.db.owner.db.selectFrom('notifications').select('toEmail').where('kind', '=', 'top_up_receipt').orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(receipt.toEmail).toBe('admin.topup@acme.test');
  });
});

describe('idempotency', () => {
  it('a retry with the same Idempotency-Key replays the answer and charges once; another body under that key is refused', async () => {
    const charges = await chargeCount();
    const key = { 'idempotency-key': 'topup-retry-1' };
    const first = await topUp({ amount: '25.00', cardToken: 'tok_sandbox_success' }, owner, key);
    const again = await topUp({ amount: '25.00', cardToken: 'tok_sandbox_success' }, owner, key);
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(await chargeCount()).toBe(charges + 1);
    const other = await topUp({ amount: '26.00', cardToken: 'tok_sandbox_success' }, owner, key);
    expect(other.statusCode).toBe(422);
    expect(other.json().code).toBe('idempotency_key_reused');
    expect(await ledgerProblems()).toEqual([]);
  });

  it('after a lost answer (the gateway call died), the same key resumes the same top-up and the card is charged once', async () => {
    const userId = await userIdOf(t.db, 'owner@acme.test');
    const ctx = (gateway: Gateway): Ctx & { gateway: Gateway } => ({
      db: t.db.app.db, config: t.config, log: pino({ level: 'silent' }), requestId: null, ip: null, userAgent: null, clock: systemClock, gateway,
      principal: { kind: 'customer', userId, partnerId, customerId: acme, role: 'owner', email: 'owner@acme.test', name: 'Olive Owner', sessionId: 'ses_test' },
    });
    // The sandbox, except that the charge call dies on the way (a network error: the outcome is unknown).
    const broken: Gateway = Object.assign(Object.create(t.gateway) as Gateway, { charge: async () => { throw new Error('connection reset'); } });
    const input = { amount: '12.00', cardToken: 'tok_sandbox_success', requestKey: 'lost-answer-1' };
    await expect(portalTopUp(ctx(broken), input)).rejects.toThrow('connection reset');
    const pending = await t.db.owner.db.selectFrom('topUps').select(['id', 'status']).where('requestKey', '=', 'lost-answer-1').execute();
    expect(pending).toEqual([{ id: expect.any(String), status: 'pending' }]);

    const charges = await chargeCount();
    const resumed = await portalTopUp(ctx(t.gateway), input);
    expect(resumed).toMatchObject({ httpStatus: 201, topUp: { id: pending[0]!.id, status: 'succeeded', amount: '12.00', fee: '1.00' } });
    const again = await portalTopUp(ctx(t.gateway), input);
    expect(again.topUp).toEqual(resumed.topUp);
    expect(await chargeCount()).toBe(charges + 1);
    expect(await t.db.owner.db.selectFrom('topUps').select('id').where('requestKey', '=', 'lost-answer-1').execute()).toHaveLength(1);
    await expect(portalTopUp(ctx(t.gateway), { ...input, amount: '13.00' })).rejects.toMatchObject({ code: 'idempotency_key_reused' });
    expect(await ledgerProblems()).toEqual([]);
  });
});

describe('saved cards', () => {
  it('saveCard keeps the card (brand, last 4, expiry; never the number); a later top-up charges the saved card', async () => {
    const res = await topUp({ amount: '30.00', cardToken: 'tok_sandbox_success', saveCard: true });
    expect(res.statusCode).toBe(201);
    const savedCardId = res.json().savedCardId as string;
    expect(savedCardId).toMatch(/^card_[0-9a-z]{26}$/);
    const cards = (await api(t, owner, 'GET', '/api/v1/portal/saved-cards')).json().data;
    expect(cards).toEqual([{ id: savedCardId, brand: 'visa', last4: '4242', expMonth: 12, expYear: 2034, createdAt: expect.any(String) }]);

    const again = await topUp({ amount: '30.00', savedCardId });
    expect(again.statusCode).toBe(201);
    expect(again.json()).toMatchObject({ savedCardId, status: 'succeeded' });
    const charge = await t.db.owner.db.selectFrom('gatewaySandboxCharges').select(['cardId']).orderBy('createdAt', 'desc').executeTakeFirstOrThrow();
    expect(charge.cardId).not.toBeNull();

    const stored = JSON.stringify(await t.db.owner.db.selectFrom('savedCards').selectAll().execute());
    expect(containsCardNumber(stored)).toBe(false);
  });

  it('another organisation\'s saved card and an unknown one: the same 422 saved_card_not_found naming savedCardId; nothing charged', async () => {
    const globex = await signIn(t, 'owner@globex.test');
    const theirs = (await topUp({ amount: '70.00', cardToken: 'tok_sandbox_success', saveCard: true }, globex)).json().savedCardId as string;
    const charges = await chargeCount();
    const topUps = async () => (await t.db.owner.db.selectFrom('topUps').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n;
    const before = await topUps();
    expectUnknownId([await topUp({ amount: '30.00', savedCardId: theirs }), await topUp({ amount: '30.00', savedCardId: 'card_00000000000000000000000000' })], 'saved_card_not_found', 'savedCardId');
    expect(await chargeCount()).toBe(charges);
    expect(await topUps()).toBe(before);
    expect((await api(t, owner, 'GET', '/api/v1/portal/saved-cards')).json().data.map((c: { id: string }) => c.id)).not.toContain(theirs);
  });
});

describe('removing a saved card', () => {
  it('an owner removes a card: it is gone from the list, cannot pay, and the auto top-up using it is switched off and audited', async () => {
    const saved = (await topUp({ amount: '30.00', cardToken: 'tok_sandbox_success', saveCard: true })).json().savedCardId as string;
    const auto = await api(t, owner, 'PUT', '/api/v1/portal/auto-top-up', { enabled: true, threshold: '5.00', amount: '30.00', savedCardId: saved });
    expect(auto.statusCode).toBe(200);
    const member = (await joinOrganisation(t, owner, 'card-member@acme.test', 'member')).session;
    expect((await api(t, member, 'DELETE', `/api/v1/portal/saved-cards/${saved}`)).statusCode).toBe(403);
    const globex = await signIn(t, 'owner@globex.test');
    expect((await api(t, globex, 'DELETE', `/api/v1/portal/saved-cards/${saved}`)).statusCode).toBe(404);

    const removed = await api(t, owner, 'DELETE', `/api/v1/portal/saved-cards/${saved}`);
    expect(removed.statusCode).toBe(200);
    expect(removed.json()).toEqual({ id: saved, autoTopUpDisabled: true });
    const cards = (await api(t, owner, 'GET', '/api/v1/portal/saved-cards')).json().data as Array<{ id: string }>;
    expect(cards.map((c) => c.id)).not.toContain(saved);
    expect((await api(t, owner, 'GET', '/api/v1/portal/auto-top-up')).json()).toMatchObject({ enabled: false, savedCardId: null });
    const before = await chargeCount();
    expect((await topUp({ amount: '30.00', savedCardId: saved })).json()).toMatchObject({ status: 422, code: 'saved_card_not_found', errors: [{ path: 'savedCardId' }] });
    expect(await chargeCount()).toBe(before);
    expect((await api(t, owner, 'DELETE', `/api/v1/portal/saved-cards/${saved}`)).statusCode).toBe(404);
    expect((await api(t, owner, 'DELETE', '/api/v1/portal/saved-cards/not-a-card')).statusCode).toBe(400);
    const events = await auditEventsOf(t.db, 'saved_card.removed');
    expect(events[0]).toMatchObject({ targetId: saved, customerId: acme });
  });
});

describe('lists', () => {
  it('the portal lists its own top-ups newest first and pages; one top-up by id; another organisation\'s is not found', async () => {
    const all = (await api(t, owner, 'GET', '/api/v1/portal/top-ups?limit=200')).json();
    expect(all.data.length).toBeGreaterThan(5);
    expect(all.data.every((d: { currency: string }) => d.currency === 'SGD')).toBe(true);
    const ids = all.data.map((d: { id: string }) => d.id);
    expect([...ids].sort().reverse()).toEqual(ids);
    const p1 = (await api(t, owner, 'GET', '/api/v1/portal/top-ups?limit=2')).json();
    const p2 = (await api(t, owner, 'GET', `/api/v1/portal/top-ups?limit=2&cursor=${p1.nextCursor}`)).json();
    expect([...p1.data, ...p2.data].map((d: { id: string }) => d.id)).toEqual(ids.slice(0, 4));
    expect((await api(t, owner, 'GET', '/api/v1/portal/top-ups?cursor=nonsense')).statusCode).toBe(400);

    expect((await api(t, owner, 'GET', `/api/v1/portal/top-ups/${ids[0]}`)).json().id).toBe(ids[0]);
    const globex = await signIn(t, 'owner@globex.test');
    expect((await api(t, globex, 'GET', `/api/v1/portal/top-ups/${ids[0]}`)).statusCode).toBe(404);
  });

  it('staff with the Customer app list a customer\'s top-ups with the gateway reference; another partner gets 404', async () => {
    const admin = await signIn(t, 'admin@demo.test');
    const res = await api(t, admin, 'GET', `/api/v1/customers/${acme}/top-ups?status=succeeded`);
    expect(res.statusCode).toBe(200);
    const data = res.json().data;
    expect(data.length).toBeGreaterThan(3);
    expect(data[0]).toMatchObject({ customerId: acme, status: 'succeeded', gateway: 'sandbox', gatewayChargeRef: expect.stringMatching(/^ch_sbx_/), userId: expect.stringMatching(/^usr_/) });
    const north = await signIn(t, 'admin@northwind.test');
    expect((await api(t, north, 'GET', `/api/v1/customers/${acme}/top-ups`)).statusCode).toBe(404);
    const owner2 = await api(t, owner, 'GET', `/api/v1/customers/${acme}/top-ups`);
    expect(owner2.statusCode).toBe(403);
  });

  it('row-level security: a portal request sees only its own organisation\'s top-ups, cards and invoices, even without a filter', async () => {
    const globex = await customerIdOf(t.db, 'Globex Sdn Bhd');
    const seen = await inScope(t.db.app.db, { kind: 'customer', partnerId, customerId: globex }, async (trx) => ({
      topUps: await trx.selectFrom('topUps').select('customerId').execute(),
      cards: await trx.selectFrom('savedCards').select('customerId').execute(),
      invoices: await trx.selectFrom('invoices').select('customerId').execute(),
      lines: await trx.selectFrom('invoiceLines').select('customerId').execute(),
    }));
    for (const rows of Object.values(seen)) {
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((r) => r.customerId === globex)).toBe(true);
    }
    await expect(inScope(t.db.app.db, { kind: 'customer', partnerId, customerId: globex }, (trx) =>
      trx.updateTable('topUps').set({ failureReason: 'x' }).where('customerId', '=', acme).executeTakeFirst())).resolves.toMatchObject({ numUpdatedRows: 0n });
    // A completed top-up is final, even for the app's own code.
    const done = await t.db.owner.db.selectFrom('topUps').select('id').where('status', '=', 'succeeded').executeTakeFirstOrThrow();
    await expect(inScope(t.db.app.db, { kind: 'partner', partnerId }, (trx) =>
      trx.updateTable('topUps').set({ status: 'failed', failureCode: 'x', failureReason: 'x' }).where('id', '=', done.id).execute())).rejects.toThrow(/never changed again/);
  });

  it('the books stay sound', async () => {
    expect(await ledgerProblems()).toEqual([]);
  });
});

describe('a new organisation', () => {
  it("a new organisation's first top-up opens its wallet in its currency, under the portal's own scope", async () => {
    const admin = await signIn(t, 'admin@demo.test');
    const created = await api(t, admin, 'POST', '/api/v1/customers', { name: 'First Top-up Co', currency: 'MYR', ownerEmail: 'boss@firsttopup.test', ownerName: 'Boss' });
    expect(created.statusCode, created.body).toBe(201);
    await acceptInvitationFor(t, 'boss@firsttopup.test', 'Boss');
    const boss = await signIn(t, 'boss@firsttopup.test');
    const res = await topUp({ amount: '100.00', cardToken: 'tok_sandbox_success' }, boss);
    expect(res.statusCode, res.body).toBe(201);
    expect(await points(boss)).toBe('100.00');
    expect(await t.db.owner.db.selectFrom('wallets').select('currency').where('customerId', '=', created.json().id).execute()).toEqual([{ currency: 'MYR' }]);
    // The currency is fixed from now on.
    const patched = await api(t, admin, 'PATCH', `/api/v1/customers/${created.json().id}`, { currency: 'SGD' });
    expect(patched.json().code).toBe('currency_locked');
  });
});
