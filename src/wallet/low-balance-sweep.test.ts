import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { parseCrontab } from 'graphile-worker';
import { api, createTestAppWithGateway, customerIdOf, partnerIdOf, signIn, type Session, type TestAppWithGateway } from '../test/harness.ts';
import { checkLedger } from '../ledger/check-ledger.ts';
import { inScope } from '../platform/database.ts';
import { chargeWallet, creditWallet } from './charge-wallet.ts';
import { ensureWallet } from './wallets.repo.ts';
import { runLowBalanceSweep, type LowBalanceSweepDeps } from './low-balance-sweep.ts';
import { LOW_BALANCE_SWEEP_CRONTAB, LOW_BALANCE_SWEEP_TASK, lowBalanceTasks } from './low-balance-tasks.ts';

let t: TestAppWithGateway;
let deps: LowBalanceSweepDeps;
let demo: string;
let northwind: string;
let acme: string;
let globex: string;
let initech: string;
let wombat: string;

beforeAll(async () => {
  t = await createTestAppWithGateway();
  deps = { db: t.db.app.db, log: pino({ level: 'silent' }) };
  demo = await partnerIdOf(t.db, 'demo-telecom');
  northwind = await partnerIdOf(t.db, 'northwind');
  acme = await customerIdOf(t.db, 'Acme Pte Ltd');
  globex = await customerIdOf(t.db, 'Globex Sdn Bhd');
  initech = await customerIdOf(t.db, 'Initech Pte Ltd');
  wombat = await customerIdOf(t.db, 'Wombat Pty Ltd');
});
afterAll(async () => t.close());

let seq = 0;
const units = (major: string) => BigInt(Math.round(Number(major) * 100)) * 10_000n;

/** Points in, as a top-up would put them. */
async function give(partnerId: string, customerId: string, currency: string, major: string): Promise<void> {
  const micros = units(major);
  await inScope(t.db.app.db, { kind: 'partner', partnerId }, (trx) => creditWallet(trx, {
    wallet: { partnerId, customerId, currency }, amountMicros: micros,
    entry: { kind: 'top_up', causeType: 'test', causeId: `top_low_balance_${++seq}`, description: 'Top-up', auditEventId: null },
    counterPostings: [{ code: 'card_clearing', amountMicros: micros }],
  }));
}

/** Points out, as a call would take them. */
async function spend(partnerId: string, customerId: string, currency: string, major: string): Promise<void> {
  const micros = units(major);
  await inScope(t.db.app.db, { kind: 'partner', partnerId }, (trx) => chargeWallet(trx, {
    wallet: { partnerId, customerId, currency }, amountMicros: micros, useCreditLimit: false,
    entry: { kind: 'call_charge', causeType: 'test', causeId: `cal_low_balance_${++seq}`, description: 'Call', auditEventId: null },
    counterPostings: [{ code: 'revenue:usage', amountMicros: -micros }],
  }));
}

const mails = (customerId: string) =>
  t.db.owner.db.selectFrom('notifications').select(['toEmail', 'userId', 'subject', 'bodyText', 'kind'])
    .where('customerId', '=', customerId).where('kind', '=', 'low_balance').orderBy('id').execute();
const stateOf = async (customerId: string) =>
  (await t.db.owner.db.selectFrom('lowBalanceAlerts').select('state').where('customerId', '=', customerId).executeTakeFirst())?.state ?? null;
const sweep = () => runLowBalanceSweep(deps);

describe('the low balance sweep', () => {
  it('arms a wallet above its threshold, mails once when it falls to it, and again only after it rose above it', async () => {
    await give(demo, acme, 'SGD', '20.00');
    expect((await sweep()).armed).toBeGreaterThanOrEqual(1);
    expect(await stateOf(acme)).toBe('above');
    expect(await mails(acme)).toEqual([]);

    await spend(demo, acme, 'SGD', '16.80'); // usable 3.20, default threshold 5.00
    expect(await sweep()).toMatchObject({ alerted: 1 });
    const [mail, ...more] = await mails(acme);
    expect(more).toEqual([]);
    expect(mail).toMatchObject({ toEmail: 'owner@acme.test', subject: 'Low balance: 3.20 SGD of points left' });
    expect(mail!.userId).not.toBeNull();
    expect(mail!.bodyText).toContain('3.20 SGD of usable points');
    expect(mail!.bodyText).toContain('5.00 SGD');
    expect(mail!.bodyText).toContain('Calls, renewals and purchases paid from points need usable points');
    expect(mail!.bodyText).toContain('Points tab');
    expect(mail!.bodyText).toContain('auto top-up');
    expect(await stateOf(acme)).toBe('alerted');

    expect(await sweep()).toMatchObject({ alerted: 0 });
    expect(await mails(acme)).toHaveLength(1);

    await give(demo, acme, 'SGD', '10.00'); // 13.20
    expect((await sweep()).armed).toBeGreaterThanOrEqual(1);
    expect(await stateOf(acme)).toBe('above');
    expect(await mails(acme)).toHaveLength(1);

    await spend(demo, acme, 'SGD', '8.20'); // 5.00: at the threshold
    expect(await sweep()).toMatchObject({ alerted: 1 });
    const all = await mails(acme);
    expect(all).toHaveLength(2);
    expect(all[1]!.subject).toBe('Low balance: 5.00 SGD of points left');
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('never mails a customer that was never above its threshold', async () => {
    await inScope(t.db.app.db, { kind: 'partner', partnerId: demo }, (trx) => ensureWallet(trx, { partnerId: demo, customerId: initech, currency: 'SGD' }));
    await sweep();
    expect(await stateOf(initech)).toBeNull();
    await give(demo, initech, 'SGD', '3.00'); // below the default 5.00 from the start
    await sweep();
    expect(await stateOf(initech)).toBeNull();
    expect(await mails(initech)).toEqual([]);
  });

  it('does not mail when the alert is turned off (and stays armed)', async () => {
    const owner = await signIn(t, 'owner@globex.test');
    expect((await api(t, owner, 'PUT', '/api/v1/portal/low-balance-alert', { enabled: false, threshold: null })).statusCode).toBe(200);
    await give(demo, globex, 'MYR', '50.00');
    await sweep();
    await spend(demo, globex, 'MYR', '45.00'); // 5.00 MYR, below the MYR default of 15.00
    expect(await sweep()).toMatchObject({ alerted: 0 });
    expect(await mails(globex)).toEqual([]);
    expect(await stateOf(globex)).toBe('above');

    // Turned on again while below: counted as told at once (no mail); after it rose above and fell again, a mail.
    expect((await api(t, owner, 'PUT', '/api/v1/portal/low-balance-alert', { enabled: true, threshold: null })).statusCode).toBe(200);
    expect(await stateOf(globex)).toBe('alerted');
    await sweep();
    expect(await mails(globex)).toEqual([]);
    await give(demo, globex, 'MYR', '20.00'); // 25.00
    await sweep();
    await spend(demo, globex, 'MYR', '12.00'); // 13.00
    await sweep();
    expect((await mails(globex)).map((m) => m.subject)).toEqual(['Low balance: 13.00 MYR of points left']);
  });

  it('uses the customer’s own threshold', async () => {
    const owner = await signIn(t, 'owner@wombat.test');
    expect((await api(t, owner, 'PUT', '/api/v1/portal/low-balance-alert', { enabled: true, threshold: '50.00' })).statusCode).toBe(200);
    await give(northwind, wombat, 'AUD', '80.00');
    await sweep();
    expect(await stateOf(wombat)).toBe('above');
    await spend(northwind, wombat, 'AUD', '25.00'); // 55.00: above 50.00 (and far above the AUD default of 5.00)
    await sweep();
    expect(await mails(wombat)).toEqual([]);
    await spend(northwind, wombat, 'AUD', '10.00'); // 45.00
    await sweep();
    const [mail] = await mails(wombat);
    expect(mail).toMatchObject({ toEmail: 'owner@wombat.test', subject: 'Low balance: 45.00 AUD of points left' });
    expect(mail!.bodyText).toContain('50.00 AUD');
  });

  it('leaves customers with auto top-up on to auto top-up', async () => {
    const owner: Session = await signIn(t, 'owner@initech.test');
    const topUp = await api(t, owner, 'POST', '/api/v1/portal/top-ups', { amount: '30.00', cardToken: 'tok_sandbox_success', saveCard: true });
    const savedCardId = topUp.json<{ savedCardId: string }>().savedCardId;
    expect((await api(t, owner, 'PUT', '/api/v1/portal/auto-top-up', { enabled: true, threshold: '5.00', amount: '20.00', savedCardId })).statusCode).toBe(200);
    await sweep();
    expect(await stateOf(initech)).toBe('above'); // 33.00
    await spend(demo, initech, 'SGD', '31.00'); // 2.00
    expect(await sweep()).toMatchObject({ alerted: 0 });
    expect(await mails(initech)).toEqual([]);
    expect(await stateOf(initech)).toBe('above');
  });

  it('two sweeps at once mail once', async () => {
    await give(demo, acme, 'SGD', '20.00'); // 25.00
    await sweep();
    expect(await stateOf(acme)).toBe('above');
    await spend(demo, acme, 'SGD', '22.00'); // 3.00
    const before = (await mails(acme)).length;
    const results = await Promise.all([sweep(), sweep(), sweep()]);
    expect(results.reduce((n, r) => n + r.alerted, 0)).toBe(1);
    expect(await mails(acme)).toHaveLength(before + 1);
    expect(await stateOf(acme)).toBe('alerted');
  });

  it('alerts a suspended customer as an active one (its renewals still spend its points); no closed one while it is; reopened, it is alerted', async () => {
    const setStatus = (status: 'active' | 'suspended' | 'closed') => t.db.owner.db.updateTable('customers').set({ status }).where('id', '=', wombat).execute();
    await give(northwind, wombat, 'AUD', '20.00'); // 65.00, above its own 50.00
    await sweep();
    expect(await stateOf(wombat)).toBe('above');
    const before = (await mails(wombat)).length;
    await spend(northwind, wombat, 'AUD', '20.00'); // 45.00
    try {
      await setStatus('closed');
      expect(await sweep()).toMatchObject({ alerted: 0 });
      expect(await mails(wombat)).toHaveLength(before);
      expect(await stateOf(wombat)).toBe('above');
      await setStatus('suspended');
      expect(await sweep()).toMatchObject({ alerted: 1 });
      expect(await mails(wombat)).toHaveLength(before + 1);
      expect(await stateOf(wombat)).toBe('alerted');

      // Back above while closed: not armed again until reopened, then alerted once below again.
      await give(northwind, wombat, 'AUD', '20.00'); // 65.00
      await setStatus('closed');
      await sweep();
      expect(await stateOf(wombat)).toBe('alerted');
    } finally {
      await setStatus('active');
    }
    await sweep();
    expect(await stateOf(wombat)).toBe('above');
    await spend(northwind, wombat, 'AUD', '20.00'); // 45.00
    expect(await sweep()).toMatchObject({ alerted: 1 });
    expect(await mails(wombat)).toHaveLength(before + 2);
  });

  it('is a worker cron task every minute', () => {
    expect(parseCrontab(LOW_BALANCE_SWEEP_CRONTAB).map((c) => c.task)).toEqual([LOW_BALANCE_SWEEP_TASK]);
    expect(Object.keys(lowBalanceTasks(deps))).toEqual([LOW_BALANCE_SWEEP_TASK]);
  });
});
