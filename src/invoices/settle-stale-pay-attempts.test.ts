import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { sql } from 'kysely';
import {
  api, createTestAppWithGateway, customerIdOf, deliverSandboxWebhooks, partnerIdOf, signIn, type Session, type TestAppWithGateway,
} from '../test/harness.ts';
import { checkLedger } from '../ledger/check-ledger.ts';
import { record } from '../payments/payments.test-kit.ts';
import { STALE_PAY_ATTEMPT_MINUTES } from './pay-invoice.ts';
import { payAttemptFixtures } from './pay-attempts.fixtures.ts';
import { NOT_RECEIVED, settleStalePayAttempts } from './settle-stale-pay-attempts.ts';
import { SETTLE_STALE_PAY_ATTEMPTS_CRONTAB } from './pay-attempt-tasks.ts';

/**
 * The worker's settling of portal pay attempts whose card answer was lost (settle-stale-pay-attempts.ts): it asks the
 * sandbox gateway what became of each stale one and settles it as the charge's own answer would have.
 */
let t: TestAppWithGateway;
let owner: Session;
let finance: Session;
let demo: string;
let acme: string;

beforeAll(async () => {
  t = await createTestAppWithGateway();
  owner = await signIn(t, 'owner@acme.test');
  finance = await signIn(t, 'finance@demo.test');
  demo = await partnerIdOf(t.db, 'demo-telecom');
  acme = await customerIdOf(t.db, 'Acme Pte Ltd');
});
afterAll(async () => t.close());
afterEach(async () => {
  vi.restoreAllMocks();
  // Nothing left pending for the next test's runs (each test settles its own attempts).
  t.clock.advance({ minutes: STALE_PAY_ATTEMPT_MINUTES + 1 });
  await settle();
  t.clock.reset();
});

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const settle = () => settleStalePayAttempts({ db: t.db.app.db, gateway: t.gateway, log, clock: t.clock });

const pay = (invoiceId: string, payload: object = {}) =>
  t.app.inject({ method: 'POST', url: `/api/v1/portal/invoices/${invoiceId}/pay`, headers: owner.headers, payload });

const { invoice, wallet, setPoints } = payAttemptFixtures(() => t, () => ({ partnerId: demo, customerId: acme }));

/** The next card charge reaches the gateway (the card is charged, declined or delayed) and its answer is lost on the way back. */
function chargesThenLosesTheAnswer() {
  const real = t.gateway.charge.bind(t.gateway);
  vi.spyOn(t.gateway, 'charge').mockImplementationOnce(async (input) => {
    await real(input);
    throw new Error('socket hang up');
  });
}
/** The next card charge never reaches the gateway, and the caller cannot tell. */
function neverReachesTheGateway() {
  vi.spyOn(t.gateway, 'charge').mockRejectedValueOnce(new Error('read ETIMEDOUT'));
}

/** A portal pay of `invoiceId` whose card answer is lost: a pending attempt with no charge reference. */
async function lostPay(invoiceId: string, cardToken: string, lose: () => void = chargesThenLosesTheAnswer) {
  lose();
  const res = await pay(invoiceId, { cardToken });
  expect(res.statusCode).toBe(500);
  const [attempt] = await attemptsOf(invoiceId);
  expect(attempt).toMatchObject({ status: 'pending', chargeRef: null });
  return attempt!;
}

const chargeCount = async () => (await sql<{ n: number }>`select count(*)::int as n from gateway_sandbox_charges`.execute(t.db.owner.db)).rows[0]!.n;
const attemptsOf = (invoiceId: string) => t.db.owner.db.selectFrom('invoicePayAttempts').select(['id', 'status', 'failureCode', 'failureReason', 'reservationId', 'chargeRef'])
  .where('invoiceId', '=', invoiceId).orderBy('id').execute();
const invoiceOf = (id: string) => t.db.owner.db.selectFrom('invoices').select(['status', 'amountDueMicros']).where('id', '=', id).executeTakeFirstOrThrow();
const holdOf = async (reservationId: string | null) =>
  (await t.db.owner.db.selectFrom('walletReservations').select('status').where('id', '=', reservationId!).executeTakeFirstOrThrow()).status;
const auditsOf = (attemptId: string) => t.db.owner.db.selectFrom('auditEvents').select(['action', 'actorType', 'actorLabel', 'changes'])
  .where(sql<boolean>`changes->'attempt'->>'after' = ${attemptId}`).orderBy('seq').execute();
const noticesOf = (attemptId: string) => t.db.owner.db.selectFrom('notifications').select(['subject', 'bodyText'])
  .where('bodyText', 'like', `%${attemptId}%`).orderBy('id').execute();
const paymentsOf = (invoiceId: string) => t.db.owner.db.selectFrom('invoicePayments').select(['source', 'amountMicros']).where('invoiceId', '=', invoiceId).orderBy('source').execute();

describe('settleStalePayAttempts', () => {
  it('is a cron task every 5 minutes on its own queue', () => {
    expect(SETTLE_STALE_PAY_ATTEMPTS_CRONTAB).toBe('*/5 * * * * settle_stale_pay_attempts ?max=1&queue=settle_stale_pay_attempts');
  });

  it('charged, then the answer was lost: completed as paid (points hold settled, one card charge, ledger balanced), audited by the system and receipted; a second run does nothing', async () => {
    await setPoints(2_000_000n);
    const inv = await invoice(10_000_000n);
    const charges = await chargeCount();
    const attempt = await lostPay(inv.id, 'tok_sandbox_success');
    expect(await chargeCount()).toBe(charges + 1);
    expect(await wallet()).toEqual({ points: 2_000_000n, reserved: 2_000_000n });

    t.clock.advance({ minutes: STALE_PAY_ATTEMPT_MINUTES + 1 });
    expect(await settle()).toMatchObject({ examined: 1, succeeded: 1, errors: 0 });
    const [done] = await attemptsOf(inv.id);
    expect(done).toMatchObject({ id: attempt.id, status: 'succeeded', chargeRef: expect.stringMatching(/^ch_sbx_/) });
    expect(await holdOf(done!.reservationId)).toBe('settled');
    expect(await wallet()).toEqual({ points: 0n, reserved: 0n });
    expect(await invoiceOf(inv.id)).toEqual({ status: 'paid', amountDueMicros: '0' });
    expect(await paymentsOf(inv.id)).toEqual([{ source: 'card', amountMicros: '8000000' }, { source: 'points', amountMicros: '2000000' }]);
    expect(await chargeCount()).toBe(charges + 1);
    expect(await auditsOf(attempt.id)).toMatchObject([{ action: 'invoice.payment_recorded', actorType: 'system', actorLabel: 'settle_stale_pay_attempts' }]);
    expect(await noticesOf(attempt.id)).toMatchObject([{ subject: expect.stringContaining('Receipt') }]);
    expect(await checkLedger(t.db.owner.db)).toEqual([]);

    // Again, and the gateway's late webhook: nothing moves twice.
    expect(await settle()).toMatchObject({ examined: 0 });
    await deliverSandboxWebhooks(t, t.gateway, new Date(Date.now() + 60_000));
    expect(await paymentsOf(inv.id)).toHaveLength(2);
    expect(await auditsOf(attempt.id)).toHaveLength(1);
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('the request never reached the gateway: failed (not received), hold released, the user told; the invoice is payable again and Finance can allocate to it', async () => {
    await setPoints(3_000_000n);
    const inv = await invoice(10_000_000n);
    const charges = await chargeCount();
    const attempt = await lostPay(inv.id, 'tok_sandbox_success', neverReachesTheGateway);
    expect(await chargeCount()).toBe(charges);

    // Blocked meanwhile: Finance's allocation is 409, and says the worker will settle it.
    const payment = (await record(t, finance, { amount: '4.00', customerId: acme })).json<{ id: string }>().id;
    const blocked = await api(t, finance, 'POST', `/api/v1/payments/${payment}/allocate`, { allocations: [{ invoiceId: inv.id, amount: '4.00' }] });
    expect(blocked.statusCode).toBe(409);
    expect(blocked.json()).toMatchObject({ code: 'payment_in_progress', detail: expect.stringContaining('settle') });

    t.clock.advance({ minutes: STALE_PAY_ATTEMPT_MINUTES + 1 });
    expect(await settle()).toMatchObject({ examined: 1, notReceived: 1 });
    const [failed] = await attemptsOf(inv.id);
    expect(failed).toMatchObject({ status: 'failed', failureCode: NOT_RECEIVED, chargeRef: null, failureReason: expect.stringContaining('never received') });
    expect(await holdOf(failed!.reservationId)).toBe('released');
    expect(await wallet()).toEqual({ points: 3_000_000n, reserved: 0n });
    expect(await invoiceOf(inv.id)).toEqual({ status: 'awaiting_payment', amountDueMicros: '10000000' });
    expect(await auditsOf(attempt.id)).toMatchObject([{
      action: 'invoice.payment_failed', actorType: 'system', changes: { failureCode: { after: NOT_RECEIVED }, failureReason: { after: expect.stringContaining('nothing was charged') } },
    }]);
    expect(await noticesOf(attempt.id)).toMatchObject([{ subject: expect.stringContaining('failed'), bodyText: expect.stringContaining('Nothing was charged') }]);
    expect(await chargeCount()).toBe(charges);

    const allocated = await api(t, finance, 'POST', `/api/v1/payments/${payment}/allocate`, { allocations: [{ invoiceId: inv.id, amount: '4.00' }] });
    expect(allocated.statusCode, allocated.body).toBe(200);
    const paid = await pay(inv.id, { cardToken: 'tok_sandbox_success' });
    expect(paid.statusCode, paid.body).toBe(200);
    expect(await invoiceOf(inv.id)).toEqual({ status: 'paid', amountDueMicros: '0' });
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('a retry of a pay the run failed as never received answers what happened, under the same Idempotency-Key', async () => {
    await setPoints(0n);
    const inv = await invoice(5_000_000n);
    neverReachesTheGateway();
    const send = () => t.app.inject({
      method: 'POST', url: `/api/v1/portal/invoices/${inv.id}/pay`, headers: { ...owner.headers, 'idempotency-key': 'pay-lost-then-retried' }, payload: { cardToken: 'tok_sandbox_success' },
    });
    expect((await send()).statusCode).toBe(500);
    t.clock.advance({ minutes: STALE_PAY_ATTEMPT_MINUTES + 1 });
    expect(await settle()).toMatchObject({ notReceived: 1 });
    const retried = await send();
    expect(retried.statusCode).toBe(422);
    expect(retried.json()).toMatchObject({ code: 'card_declined', detail: expect.stringContaining('never reached the card gateway, so the card was not charged') });
    expect(retried.json().detail).not.toContain('was declined');
    expect(await invoiceOf(inv.id)).toEqual({ status: 'awaiting_payment', amountDueMicros: '5000000' });
  });

  it('declined at the gateway (answer lost): failed with the decline, hold released, nothing charged', async () => {
    await setPoints(1_000_000n);
    const inv = await invoice(6_000_000n);
    const attempt = await lostPay(inv.id, 'tok_sandbox_declined');
    t.clock.advance({ minutes: STALE_PAY_ATTEMPT_MINUTES + 1 });
    expect(await settle()).toMatchObject({ examined: 1, failed: 1 });
    const [failed] = await attemptsOf(inv.id);
    expect(failed).toMatchObject({ id: attempt.id, status: 'failed', failureCode: 'declined', failureReason: 'generic_decline', chargeRef: expect.stringMatching(/^ch_sbx_/) });
    expect(await holdOf(failed!.reservationId)).toBe('released');
    expect(await wallet()).toEqual({ points: 1_000_000n, reserved: 0n });
    expect(await invoiceOf(inv.id)).toEqual({ status: 'awaiting_payment', amountDueMicros: '6000000' });
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('a delayed card (pending at the gateway): its charge reference is recorded and it stays pending for the webhook, which completes it', async () => {
    await setPoints(0n);
    const inv = await invoice(5_000_000n);
    const attempt = await lostPay(inv.id, 'tok_sandbox_delayed');
    t.clock.advance({ minutes: STALE_PAY_ATTEMPT_MINUTES + 1 });
    expect(await settle()).toMatchObject({ examined: 1, pending: 1 });
    const [pending] = await attemptsOf(inv.id);
    expect(pending).toMatchObject({ id: attempt.id, status: 'pending', chargeRef: expect.stringMatching(/^ch_sbx_/) });
    expect(await auditsOf(attempt.id)).toMatchObject([{ action: 'invoice.payment_pending', actorType: 'system' }]);
    expect(await settle()).toMatchObject({ examined: 0 });
    await deliverSandboxWebhooks(t, t.gateway, new Date(Date.now() + 60_000));
    expect((await attemptsOf(inv.id))[0]).toMatchObject({ status: 'succeeded', chargeRef: pending!.chargeRef });
    expect(await invoiceOf(inv.id)).toEqual({ status: 'paid', amountDueMicros: '0' });
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('not stale yet (under 10 minutes): untouched, the gateway not even asked', async () => {
    await setPoints(0n);
    const inv = await invoice(4_000_000n);
    await lostPay(inv.id, 'tok_sandbox_success', neverReachesTheGateway);
    const asked = vi.spyOn(t.gateway, 'findCharge');
    t.clock.advance({ minutes: STALE_PAY_ATTEMPT_MINUTES - 1 });
    expect(await settle()).toMatchObject({ examined: 0 });
    expect(asked).not.toHaveBeenCalled();
    expect((await attemptsOf(inv.id))[0]).toMatchObject({ status: 'pending', chargeRef: null });
  });

  it('a miss younger than the gateway\'s lookup lag proves nothing: left pending until it is older', async () => {
    await setPoints(0n);
    const inv = await invoice(4_000_000n);
    await lostPay(inv.id, 'tok_sandbox_success', neverReachesTheGateway);
    vi.spyOn(t.gateway, 'chargeLookupLagMs', 'get').mockReturnValue(60 * 60_000);
    t.clock.advance({ minutes: 30 });
    expect(await settle()).toMatchObject({ examined: 1, untouched: 1 });
    expect((await attemptsOf(inv.id))[0]).toMatchObject({ status: 'pending' });
    t.clock.advance({ minutes: 31 });
    expect(await settle()).toMatchObject({ examined: 1, notReceived: 1 });
  });

  it('two runs at once settle each attempt once', async () => {
    await setPoints(0n);
    const a = await invoice(3_000_000n);
    const b = await invoice(2_000_000n);
    const c = await invoice(1_000_000n);
    await lostPay(a.id, 'tok_sandbox_success');
    await lostPay(b.id, 'tok_sandbox_success', neverReachesTheGateway);
    await lostPay(c.id, 'tok_sandbox_delayed');
    t.clock.advance({ minutes: STALE_PAY_ATTEMPT_MINUTES + 1 });
    const [one, two] = await Promise.all([settle(), settle()]);
    expect(one.succeeded + two.succeeded).toBe(1);
    expect(one.notReceived + two.notReceived).toBe(1);
    expect(one.pending + two.pending).toBe(1);
    expect(one.errors + two.errors).toBe(0);
    for (const inv of [a, b, c]) {
      const [attempt] = await attemptsOf(inv.id);
      expect(await auditsOf(attempt!.id)).toHaveLength(1);
    }
    expect(await paymentsOf(a.id)).toEqual([{ source: 'card', amountMicros: '3000000' }]);
    expect(await invoiceOf(a.id)).toEqual({ status: 'paid', amountDueMicros: '0' });
    expect(await invoiceOf(b.id)).toEqual({ status: 'awaiting_payment', amountDueMicros: '2000000' });
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('an attempt the webhook completed meanwhile (between the run\'s read and its settling) is left as the webhook left it', async () => {
    await setPoints(0n);
    const inv = await invoice(7_000_000n);
    const attempt = await lostPay(inv.id, 'tok_sandbox_success');
    const real = t.gateway.findCharge.bind(t.gateway);
    vi.spyOn(t.gateway, 'findCharge').mockImplementationOnce(async (input) => {
      await deliverSandboxWebhooks(t, t.gateway, new Date(Date.now() + 60_000));
      return real(input);
    });
    t.clock.advance({ minutes: STALE_PAY_ATTEMPT_MINUTES + 1 });
    expect(await settle()).toMatchObject({ examined: 1, untouched: 1, succeeded: 0 });
    expect((await attemptsOf(inv.id))[0]).toMatchObject({ status: 'succeeded' });
    expect(await auditsOf(attempt.id)).toMatchObject([{ action: 'invoice.payment_recorded', actorLabel: 'gateway_webhook' }]);
    expect(await paymentsOf(inv.id)).toEqual([{ source: 'card', amountMicros: '7000000' }]);
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('a portal pay that sends the charge again while the run asks the gateway: the miss proves nothing, the attempt is left to that pay, which completes it (charged once)', async () => {
    await setPoints(0n);
    const inv = await invoice(6_000_000n);
    const charges = await chargeCount();
    const attempt = await lostPay(inv.id, 'tok_sandbox_success', neverReachesTheGateway);
    t.clock.advance({ minutes: STALE_PAY_ATTEMPT_MINUTES + 1 });
    // The resumed pay's charge request is on its way (held here) when the run settles: it reaches the gateway after the look-up.
    let release!: () => void;
    const onItsWay = new Promise<void>((resolve) => (release = resolve));
    const realCharge = t.gateway.charge.bind(t.gateway);
    vi.spyOn(t.gateway, 'charge').mockImplementationOnce(async (input) => {
      await onItsWay;
      return realCharge(input);
    });
    const realFind = t.gateway.findCharge.bind(t.gateway);
    let resumed: ReturnType<typeof pay> | undefined;
    vi.spyOn(t.gateway, 'findCharge').mockImplementationOnce(async (input) => {
      const miss = await realFind(input);
      expect(miss).toBeNull();
      resumed = pay(inv.id, { cardToken: 'tok_sandbox_success' });
      for (let i = 0; i < 500; i++) {
        const row = await t.db.owner.db.selectFrom('invoicePayAttempts').select('resumedAt').where('id', '=', attempt.id).executeTakeFirstOrThrow();
        if (row.resumedAt !== null) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      return miss;
    });
    expect(await settle()).toMatchObject({ examined: 1, untouched: 1, notReceived: 0 });
    expect((await attemptsOf(inv.id))[0]).toMatchObject({ status: 'pending', failureCode: null });
    release();
    const answer = await resumed!;
    expect(answer.statusCode, answer.body).toBe(200);
    expect((await attemptsOf(inv.id))[0]).toMatchObject({ status: 'succeeded' });
    expect(await invoiceOf(inv.id)).toEqual({ status: 'paid', amountDueMicros: '0' });
    expect(await chargeCount()).toBe(charges + 1);
    // Later runs leave it alone.
    t.clock.advance({ minutes: 30 });
    expect(await settle()).toMatchObject({ examined: 0 });
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('a gateway error leaves that attempt pending for the next run and does not stop the others', async () => {
    await setPoints(0n);
    const a = await invoice(3_000_000n);
    const b = await invoice(2_000_000n);
    await lostPay(a.id, 'tok_sandbox_success');
    t.clock.advance({ minutes: 1 });
    await lostPay(b.id, 'tok_sandbox_success');
    vi.spyOn(t.gateway, 'findCharge').mockRejectedValueOnce(new Error('connect ECONNREFUSED'));
    t.clock.advance({ minutes: STALE_PAY_ATTEMPT_MINUTES + 1 });
    expect(await settle()).toMatchObject({ examined: 2, errors: 1, succeeded: 1 });
    expect((await attemptsOf(a.id))[0]).toMatchObject({ status: 'pending' }); // the oldest is asked first
    expect((await attemptsOf(b.id))[0]).toMatchObject({ status: 'succeeded' });
    expect(await settle()).toMatchObject({ examined: 1, succeeded: 1 });
    expect(await invoiceOf(a.id)).toEqual({ status: 'paid', amountDueMicros: '0' });
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });
});
