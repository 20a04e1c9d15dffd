import { AssertionError } from 'node:assert';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { sql } from 'kysely';
import { createTestAppWithGateway, customerIdOf, deliverSandboxWebhooks, partnerIdOf, signIn, type Session, type TestAppWithGateway } from '../test/harness.ts';
import { payAttemptFixtures } from './pay-attempts.fixtures.ts';
import { checkLedger } from '../ledger/check-ledger.ts';
import { inScope } from '../platform/database.ts';
import { postEntry } from '../ledger/post-entry.ts';
import { STALE_PAY_ATTEMPT_MINUTES } from './pay-invoice.ts';
import { toMinorUnits } from '../gateway/gateway.ts';
import type * as GatewayModule from '../gateway/gateway.ts';

// The gateway's own pre-send amount check, spied on so that a test can make it throw once (the adapters call it too).
vi.mock('../gateway/gateway.ts', async (actual) => {
  const real = await actual<typeof GatewayModule>();
  return { ...real, toMinorUnits: vi.fn(real.toMinorUnits) };
});

/**
 * A portal pay must never lock its invoice for ever (acceptance review: a 500 from the gateway's amount assertion left
 * the attempt pending, and every later pay, allocation or credit note answered 409 payment_in_progress):
 * - an error before the card request is sent fails the attempt and releases its points hold (chargeInvoicePayment);
 * - an error after it may have been sent leaves the attempt pending, and after STALE_PAY_ATTEMPT_MINUTES the next pay
 *   resumes it under its own gateway idempotency key, which asks the gateway what became of it (pay-invoice.ts).
 */
let t: TestAppWithGateway;
let owner: Session;
let demo: string;
let acme: string;

beforeAll(async () => {
  t = await createTestAppWithGateway();
  owner = await signIn(t, 'owner@acme.test');
  demo = await partnerIdOf(t.db, 'demo-telecom');
  acme = await customerIdOf(t.db, 'Acme Pte Ltd');
});
afterAll(async () => t.close());
afterEach(() => {
  vi.restoreAllMocks(); // spies on the gateway object; the module mock keeps calling the real toMinorUnits
  t.clock.reset();
});

const pay = (invoiceId: string, payload: object = {}) =>
  t.app.inject({ method: 'POST', url: `/api/v1/portal/invoices/${invoiceId}/pay`, headers: owner.headers, payload });

const { invoice, wallet, setPoints } = payAttemptFixtures(() => t, () => ({ partnerId: demo, customerId: acme }));

/**
 * A Purchase invoice due in fractions of a cent, as reversal debit notes were written before they were rounded to whole
 * minor units (issueInvoice refuses such lines): the invoice row as reversal-debit-note.ts wrote it, and its receivable.
 */
async function fractionalInvoice(micros: bigint) {
  const id = `inv_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 12)}`;
  const now = t.clock.now();
  await t.db.owner.db.insertInto('invoices').values({
    id, partnerId: demo, customerId: acme, type: 'purchase', status: 'awaiting_payment', number: `INV-T-${id.slice(-8)}`, currency: 'SGD',
    subtotalMicros: micros, discountMicros: 0n, taxMicros: 0n, totalMicros: micros, amountPaidMicros: 0n, amountDueMicros: micros,
    issuedAt: now, dueAt: now, dueDays: 0, paidAt: null, updatedAt: now,
  }).execute();
  await inScope(t.db.app.db, { kind: 'partner', partnerId: demo }, (trx) => postEntry(trx, {
    partnerId: demo, currency: 'SGD', customerId: acme, kind: 'payment_reversal_receivable', causeType: 'invoice', causeId: id, description: 'Debit note', auditEventId: null,
    postings: [{ code: 'receivable', customerId: acme, amountMicros: micros }, { code: 'bank', amountMicros: -micros }],
  }));
  return { id };
}

/** The next card charge reaches the gateway (the card is charged) and its answer is lost on the way back. */
function chargesThenLosesTheAnswer(message: string) {
  const real = t.gateway.charge.bind(t.gateway);
  vi.spyOn(t.gateway, 'charge').mockImplementationOnce(async (input) => {
    await real(input);
    throw new Error(message);
  });
}

const chargeCount = async () => (await sql<{ n: number }>`select count(*)::int as n from gateway_sandbox_charges`.execute(t.db.owner.db)).rows[0]!.n;
const attemptsOf = (invoiceId: string) => t.db.owner.db.selectFrom('invoicePayAttempts').select(['id', 'status', 'failureCode', 'reservationId', 'chargeRef'])
  .where('invoiceId', '=', invoiceId).orderBy('id').execute();
const invoiceOf = (id: string) => t.db.owner.db.selectFrom('invoices').select(['status', 'amountDueMicros']).where('id', '=', id).executeTakeFirstOrThrow();
const holdOf = async (reservationId: string | null) =>
  (await t.db.owner.db.selectFrom('walletReservations').select('status').where('id', '=', reservationId!).executeTakeFirstOrThrow()).status;

describe('portal pay: an error before the card request was sent', () => {
  it('the gateway\'s amount assertion (the review\'s 500, a card part in fractions of a cent): the attempt fails, the points hold is released, nothing is charged, and the invoice is not locked', async () => {
    await setPoints(5_000_000n);
    // The review's debit note, billed before fix 1: 8.84112 due; points pay 5.00, the card would take 3.84112.
    const inv = await fractionalInvoice(8_841_120n);
    const charges = await chargeCount();
    const first = await pay(inv.id, { cardToken: 'tok_sandbox_success' });
    expect(first.statusCode).toBe(500);
    const [failed] = await attemptsOf(inv.id);
    expect(failed).toMatchObject({ status: 'failed', failureCode: 'not_sent', chargeRef: null });
    expect(await holdOf(failed!.reservationId)).toBe('released');
    expect(await wallet()).toEqual({ points: 5_000_000n, reserved: 0n });
    expect(await chargeCount()).toBe(charges);
    expect(await invoiceOf(inv.id)).toEqual({ status: 'awaiting_payment', amountDueMicros: '8841120' });
    // Not 409 payment_in_progress: the next pay is tried again (and fails the same way, on this pre-fix invoice).
    const again = await pay(inv.id, { cardToken: 'tok_sandbox_success' });
    expect(again.statusCode).toBe(500);
    expect((await attemptsOf(inv.id)).map((a) => a.status)).toEqual(['failed', 'failed']);
    expect(await wallet()).toEqual({ points: 5_000_000n, reserved: 0n });
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('the same assertion injected into the gateway\'s pre-send check on a whole-cent invoice: the attempt fails, the hold is released, and a second pay succeeds', async () => {
    await setPoints(3_000_000n);
    const inv = await invoice(12_340_000n);
    const charges = await chargeCount();
    vi.mocked(toMinorUnits).mockImplementationOnce(() => {
      throw new AssertionError({ message: 'a gateway amount is a whole number of SGD minor units (round with roundToMinorUnit first)' });
    });
    const first = await pay(inv.id, { cardToken: 'tok_sandbox_success' });
    expect(first.statusCode).toBe(500);
    const [failed] = await attemptsOf(inv.id);
    expect(failed).toMatchObject({ status: 'failed', failureCode: 'not_sent' });
    expect(await holdOf(failed!.reservationId)).toBe('released');
    expect(await wallet()).toEqual({ points: 3_000_000n, reserved: 0n });
    expect(await chargeCount()).toBe(charges);

    const second = await pay(inv.id, { cardToken: 'tok_sandbox_success' });
    expect(second.statusCode, second.body).toBe(200);
    expect(second.json().payment).toMatchObject({ status: 'succeeded', pointsUsed: '3.00', cardCharged: '9.34' });
    expect(second.json().invoice).toMatchObject({ status: 'paid', amountDue: '0.00' });
    expect(await chargeCount()).toBe(charges + 1);
    expect(await wallet()).toEqual({ points: 0n, reserved: 0n });
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('a refused request (a DomainError from the gateway) still fails the attempt and answers why', async () => {
    await setPoints(1_000_000n);
    const inv = await invoice(20_000_000n);
    const res = await pay(inv.id, { cardToken: 'tok_sandbox_nope' });
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    expect((await attemptsOf(inv.id))[0]).toMatchObject({ status: 'failed' });
    expect(await wallet()).toMatchObject({ reserved: 0n });
    expect((await pay(inv.id, { cardToken: 'tok_sandbox_success' })).statusCode).toBe(200);
  });
});

describe('portal pay: the charge request got no answer (unknown outcome)', () => {
  it('never reached the gateway: pending and 409 for a while, then the next pay asks the gateway under the same key, which charges now: paid once', async () => {
    await setPoints(2_000_000n);
    const inv = await invoice(10_000_000n);
    const charges = await chargeCount();
    vi.spyOn(t.gateway, 'charge').mockRejectedValueOnce(new Error('connect ECONNREFUSED 10.0.0.1:443'));
    const first = await pay(inv.id, { cardToken: 'tok_sandbox_success' });
    expect(first.statusCode).toBe(500);
    const [pending] = await attemptsOf(inv.id);
    expect(pending).toMatchObject({ status: 'pending', chargeRef: null });
    expect(await wallet()).toEqual({ points: 2_000_000n, reserved: 2_000_000n });

    // Within the window: still in progress, and the answer says until when.
    t.clock.advance({ minutes: STALE_PAY_ATTEMPT_MINUTES - 1 });
    const busy = await pay(inv.id, { cardToken: 'tok_sandbox_success' });
    expect(busy.statusCode).toBe(409);
    expect(busy.json()).toMatchObject({ code: 'payment_in_progress', detail: expect.stringContaining('pay again') });

    // After it: the same attempt is resumed and completes.
    t.clock.advance({ minutes: 2 });
    const resumed = await pay(inv.id, { cardToken: 'tok_sandbox_success' });
    expect(resumed.statusCode, resumed.body).toBe(200);
    expect(resumed.json().payment).toMatchObject({ id: pending!.id, status: 'succeeded', pointsUsed: '2.00', cardCharged: '8.00' });
    expect(await attemptsOf(inv.id)).toHaveLength(1);
    expect(await chargeCount()).toBe(charges + 1);
    expect(await wallet()).toEqual({ points: 0n, reserved: 0n });
    expect(await invoiceOf(inv.id)).toEqual({ status: 'paid', amountDueMicros: '0' });
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('reached the gateway and its answer was lost: the resume with the same card gets the first result again; nothing is charged twice, and the late webhook changes nothing', async () => {
    await setPoints(0n);
    const inv = await invoice(7_000_000n);
    const charges = await chargeCount();
    chargesThenLosesTheAnswer('socket hang up');
    expect((await pay(inv.id, { cardToken: 'tok_sandbox_success' })).statusCode).toBe(500);
    expect(await chargeCount()).toBe(charges + 1);
    const [pending] = await attemptsOf(inv.id);
    expect(pending).toMatchObject({ status: 'pending', chargeRef: null });

    t.clock.advance({ minutes: STALE_PAY_ATTEMPT_MINUTES + 1 });
    const resumed = await pay(inv.id, { cardToken: 'tok_sandbox_success' });
    expect(resumed.statusCode, resumed.body).toBe(200);
    expect(resumed.json().payment).toMatchObject({ id: pending!.id, status: 'succeeded', cardCharged: '7.00' });
    expect(await chargeCount()).toBe(charges + 1);
    const answers = await deliverSandboxWebhooks(t, t.gateway, new Date(Date.now() + 60_000));
    expect(answers.every((a) => a.statusCode < 300)).toBe(true);
    expect(await invoiceOf(inv.id)).toEqual({ status: 'paid', amountDueMicros: '0' });
    const payments = await t.db.owner.db.selectFrom('invoicePayments').select('amountMicros').where('invoiceId', '=', inv.id).execute();
    expect(payments).toEqual([{ amountMicros: '7000000' }]);
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('reached the gateway, resumed with a card reference the gateway check refuses: 400 naming it, the attempt stays pending (the first charge stands), its webhook completes it', async () => {
    await setPoints(0n);
    const inv = await invoice(5_000_000n);
    const charges = await chargeCount();
    chargesThenLosesTheAnswer('socket hang up');
    expect((await pay(inv.id, { cardToken: 'tok_sandbox_success' })).statusCode).toBe(500);
    t.clock.advance({ minutes: STALE_PAY_ATTEMPT_MINUTES + 1 });
    // Refused before it is sent: that proves nothing about the first request, which charged the card.
    const refused = await pay(inv.id, { cardToken: 'not a token.' });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'cardToken' }] });
    expect((await attemptsOf(inv.id))[0]).toMatchObject({ status: 'pending' });
    await deliverSandboxWebhooks(t, t.gateway, new Date(Date.now() + 60_000));
    expect((await attemptsOf(inv.id))[0]).toMatchObject({ status: 'succeeded' });
    expect(await chargeCount()).toBe(charges + 1);
    expect(await invoiceOf(inv.id)).toEqual({ status: 'paid', amountDueMicros: '0' });
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('a stale attempt is resumed as it was asked: another amount is refused (409 naming amount); after 20 hours it is no longer resumed (the gateway may have forgotten its key)', async () => {
    await setPoints(0n);
    const inv = await invoice(9_000_000n);
    vi.spyOn(t.gateway, 'charge').mockRejectedValueOnce(new Error('connect ECONNREFUSED 10.0.0.1:443'));
    expect((await pay(inv.id, { cardToken: 'tok_sandbox_success' })).statusCode).toBe(500);
    t.clock.advance({ minutes: STALE_PAY_ATTEMPT_MINUTES + 1 });
    const other = await pay(inv.id, { cardToken: 'tok_sandbox_success', amount: '4.00' });
    expect(other.statusCode).toBe(409);
    expect(other.json()).toMatchObject({ code: 'payment_in_progress', errors: [{ path: 'amount' }] });
    t.clock.advance({ hours: 20 });
    const late = await pay(inv.id, { cardToken: 'tok_sandbox_success' });
    expect(late.statusCode).toBe(409);
    expect(late.json()).toMatchObject({ code: 'payment_in_progress', detail: expect.stringContaining('has not reported it yet') });
    expect((await attemptsOf(inv.id))[0]).toMatchObject({ status: 'pending' });
  });

  it('reached the gateway, resumed with another card: the gateway refuses the key, the attempt stays pending (409), and its webhook completes it', async () => {
    await setPoints(0n);
    const inv = await invoice(6_000_000n);
    chargesThenLosesTheAnswer('read ETIMEDOUT');
    expect((await pay(inv.id, { cardToken: 'tok_sandbox_success' })).statusCode).toBe(500);
    t.clock.advance({ minutes: STALE_PAY_ATTEMPT_MINUTES + 1 });
    const other = await pay(inv.id, { cardToken: 'tok_sandbox_declined' });
    expect(other.statusCode).toBe(409);
    expect(other.json().code).toBe('payment_in_progress');
    expect((await attemptsOf(inv.id))[0]).toMatchObject({ status: 'pending' });
    await deliverSandboxWebhooks(t, t.gateway, new Date(Date.now() + 60_000));
    expect((await attemptsOf(inv.id))[0]).toMatchObject({ status: 'succeeded' });
    expect(await invoiceOf(inv.id)).toEqual({ status: 'paid', amountDueMicros: '0' });
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });
});
