import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, createTestApp, customerIdOf, partnerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';
import { inScope } from '../platform/database.ts';
import { creditWallet } from './charge-wallet.ts';
import { LOW_BALANCE_DEFAULT_MICROS } from './low-balance.ts';

let t: TestApp;
let demo: string;
let acme: string;
let owner: Session;
const URL = '/api/v1/portal/low-balance-alert';

beforeAll(async () => {
  t = await createTestApp();
  demo = await partnerIdOf(t.db, 'demo-telecom');
  acme = await customerIdOf(t.db, 'Acme Pte Ltd');
  owner = await signIn(t, 'owner@acme.test');
});
afterAll(async () => t.close());

const put = (payload: unknown, who: Session = owner) => api(t, who, 'PUT', URL, payload);
const paths = (res: { json(): unknown }) => (res.json() as { errors: { path: string }[] }).errors.map((e) => e.path);
const row = () => t.db.owner.db.selectFrom('lowBalanceAlerts').selectAll().where('customerId', '=', acme).executeTakeFirst();

describe('the portal low balance alert', () => {
  it('defaults: on, at the currency’s default threshold', async () => {
    const res = await api(t, owner, 'GET', URL);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ enabled: true, threshold: null, defaultThreshold: '5.00', currency: 'SGD', state: null, updatedAt: null });
    const globex = await api(t, await signIn(t, 'owner@globex.test'), 'GET', URL);
    expect(globex.json()).toMatchObject({ defaultThreshold: '15.00', currency: 'MYR', threshold: null });
    expect(LOW_BALANCE_DEFAULT_MICROS).toMatchObject({ SGD: 5_000_000n, USD: 5_000_000n, AUD: 5_000_000n, HKD: 5_000_000n, MYR: 15_000_000n, VND: 100_000_000_000n, EUR: 5_000_000n });
  });

  it('saves a threshold: shown by GET, audited with before and after; unchanged, nothing written', async () => {
    const res = await put({ enabled: true, threshold: '12.50' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ enabled: true, threshold: '12.50', defaultThreshold: '5.00', currency: 'SGD', state: 'alerted' }); // 0 points: at or below
    const got = (await api(t, owner, 'GET', URL)).json<{ threshold: string; updatedAt: string }>();
    expect(got).toMatchObject({ enabled: true, threshold: '12.50', state: 'alerted' });
    expect(got.updatedAt).toEqual(expect.any(String));
    expect(await row()).toMatchObject({ thresholdMicros: '12500000', enabled: true, state: 'alerted', currency: 'SGD' });
    expect((await row())!.updatedBy).not.toBeNull();

    const [event, ...others] = await auditEventsOf(t.db, 'points.low_balance_alert_changed');
    expect(others).toEqual([]);
    expect(event).toMatchObject({ app: 'portal', partnerId: demo, customerId: acme, actorLabel: 'owner@acme.test', targetId: acme });
    expect(event!.changes).toEqual({ enabled: { after: true }, threshold: { after: '12.50' } });

    expect((await put({ enabled: true, threshold: '12.5' })).statusCode).toBe(200);
    expect(await auditEventsOf(t.db, 'points.low_balance_alert_changed')).toHaveLength(1);

    // Above the balance it is armed; turned off, back to the default.
    await inScope(t.db.app.db, { kind: 'partner', partnerId: demo }, (trx) => creditWallet(trx, {
      wallet: { partnerId: demo, customerId: acme, currency: 'SGD' }, amountMicros: 20_000_000n,
      entry: { kind: 'top_up', causeType: 'test', causeId: 'top_low_balance_routes', description: 'Top-up', auditEventId: null },
      counterPostings: [{ code: 'card_clearing', amountMicros: 20_000_000n }],
    }));
    expect((await put({ enabled: false, threshold: null })).json()).toMatchObject({ enabled: false, threshold: null, state: 'above' });
    const events = await auditEventsOf(t.db, 'points.low_balance_alert_changed');
    expect(events).toHaveLength(2);
    expect(events.map((e) => e.changes)).toContainEqual({ enabled: { before: true, after: false }, threshold: { before: '12.50', after: null } });
  });

  it('refuses a malformed threshold with a 400 naming it, one against the rules with a 422, and unknown fields', async () => {
    const before = await row();
    for (const threshold of ['abc', 5, ' 5.00', '5.00 ', '-0.00', '+5', '.5', '5.']) {
      const res = await put({ enabled: true, threshold });
      expect(res.statusCode, String(threshold)).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(paths(res), String(threshold)).toEqual(['threshold']);
    }
    // Numbers against the rules (too many decimals, negative, over the most): 422 rule_violation (docs/adr/0040).
    for (const threshold of ['5.001', '-1.00', '1000000.01', '9999999999999999']) {
      const res = await put({ enabled: true, threshold });
      expect(res.statusCode, threshold).toBe(422);
      expect(res.json().code, threshold).toBe('rule_violation');
      expect(paths(res), threshold).toEqual(['threshold']);
    }
    expect(await row()).toEqual(before); // nothing written
    expect((await put({ enabled: true, threshold: '1000000.00' })).statusCode).toBe(200);
    const unknown = await put({ enabled: true, threshold: null, amount: '5.00' });
    expect(unknown.statusCode).toBe(400);
    expect(paths(unknown)).toEqual(['amount']);
    expect((await put({ threshold: '5.00' })).statusCode).toBe(400);
  });

  it('is for owners and admins: members and staff get 403', async () => {
    const member = await signIn(t, 'member@acme.test');
    expect((await api(t, member, 'GET', URL)).statusCode).toBe(403);
    expect((await put({ enabled: false, threshold: null }, member)).statusCode).toBe(403);
    const staff = await signIn(t, 'admin@demo.test');
    expect((await api(t, staff, 'GET', URL)).statusCode).toBe(403);
    expect((await put({ enabled: false, threshold: null }, staff)).statusCode).toBe(403);
  });

  it('each organisation sees and sets only its own', async () => {
    const initech = await signIn(t, 'owner@initech.test');
    expect((await api(t, initech, 'GET', URL)).json()).toMatchObject({ enabled: true, threshold: null, state: null, updatedAt: null });
    expect((await put({ enabled: true, threshold: '7.00' }, initech)).statusCode).toBe(200);
    expect((await api(t, owner, 'GET', URL)).json()).toMatchObject({ threshold: '1000000.00' });
    const initechId = await customerIdOf(t.db, 'Initech Pte Ltd');
    const rows = await t.db.owner.db.selectFrom('lowBalanceAlerts').select(['customerId', 'thresholdMicros']).orderBy('customerId').execute();
    expect(rows).toEqual(expect.arrayContaining([{ customerId: acme, thresholdMicros: '1000000000000' }, { customerId: initechId, thresholdMicros: '7000000' }]));
    // Row-level security: the portal scope of Initech sees no other organisation's row.
    const seen = await inScope(t.db.app.db, { kind: 'customer', partnerId: demo, customerId: initechId }, (trx) => trx.selectFrom('lowBalanceAlerts').select('customerId').execute());
    expect(seen).toEqual([{ customerId: initechId }]);
  });

  it('a closed organisation reads its alert but changes it no more (409, nothing written); suspended, it may; reopened, again', async () => {
    const initechOwner = await signIn(t, 'owner@initech.test');
    const initechId = await customerIdOf(t.db, 'Initech Pte Ltd');
    const setStatus = (status: 'active' | 'suspended' | 'closed') => t.db.owner.db.updateTable('customers').set({ status }).where('id', '=', initechId).execute();
    const initechRow = () => t.db.owner.db.selectFrom('lowBalanceAlerts').selectAll().where('customerId', '=', initechId).executeTakeFirst();
    expect((await put({ enabled: true, threshold: '8.00' }, initechOwner)).statusCode).toBe(200);
    const before = await initechRow();
    const eventsBefore = (await auditEventsOf(t.db, 'points.low_balance_alert_changed')).length;
    await setStatus('closed');
    try {
      const read = await api(t, initechOwner, 'GET', URL);
      expect(read.statusCode).toBe(200);
      expect(read.json()).toMatchObject({ enabled: true, threshold: '8.00', currency: 'SGD' });
      for (const body of [{ enabled: false, threshold: null }, { enabled: true, threshold: '3.00' }, { enabled: true, threshold: '8.00' }]) {
        const refused = await put(body, initechOwner);
        expect(refused.statusCode, refused.body).toBe(409);
        expect(refused.headers['content-type']).toContain('application/problem+json');
        expect(refused.json()).toMatchObject({ code: 'state_conflict', detail: expect.stringContaining('closed') });
      }
      expect(await initechRow()).toEqual(before);
      expect(await auditEventsOf(t.db, 'points.low_balance_alert_changed')).toHaveLength(eventsBefore);

      await setStatus('suspended');
      const suspended = await put({ enabled: true, threshold: '9.00' }, initechOwner);
      expect(suspended.statusCode, suspended.body).toBe(200);
      expect(suspended.json()).toMatchObject({ enabled: true, threshold: '9.00' });
    } finally {
      await setStatus('active');
    }
    expect((await put({ enabled: true, threshold: '7.00' }, initechOwner)).statusCode).toBe(200);
  });
});
