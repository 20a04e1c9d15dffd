import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import pino from 'pino';
import type { ChargeInput } from '../gateway/gateway.ts';
import { checkLedger } from '../ledger/check-ledger.ts';
import { parseDecimal } from '../money/money.ts';
import { api, createTestAppWithGateway, deliverSandboxWebhooks, signIn, type Session, type TestAppWithGateway } from '../test/harness.ts';
import { NOT_RECEIVED, settleStaleTopUps, STALE_TOP_UP_MINUTES, type SettleStaleTopUpsDeps } from './settle-stale-top-ups.ts';

// A card top-up is committed pending before its card is charged; when the charge's answer is lost (a crash, a timeout),
// the worker asks the gateway what became of it and completes it as the answer would have.

let t: TestAppWithGateway;
let owner: Session;
let deps: SettleStaleTopUpsDeps;
/** The worker's clock, past the wait for a stale top-up. */
const later = (minutes = STALE_TOP_UP_MINUTES + 5) => ({ now: () => new Date(Date.now() + minutes * 60_000) });

beforeAll(async () => {
  t = await createTestAppWithGateway();
  owner = await signIn(t, 'owner@acme.test');
  deps = { db: t.db.app.db, gateway: t.gateway, log: pino({ level: 'silent' }) };
});
afterAll(async () => t.close());

const owned = () => t.db.owner.db;
const points = async () => parseDecimal((await api(t, owner, 'GET', '/api/v1/portal/wallet')).json<{ points: string }>().points, 'SGD', 6)!;
const topUp = (id: string) => owned().selectFrom('topUps').select(['status', 'chargeRef', 'invoiceId', 'failureCode']).where('id', '=', id).executeTakeFirstOrThrow();
const newestTopUpId = async () => (await owned().selectFrom('topUps').select('id').orderBy('createdAt', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow()).id;

/**
 * A portal top-up whose charge answer is lost: `charged` says whether the gateway made the charge before the answer was
 * lost (the request reached it) or the request never reached it. The API answers 500 and the top-up stays pending.
 */
async function lostAnswer(amount: string, cardToken: string, charged: boolean): Promise<string> {
  const charge = t.gateway.charge.bind(t.gateway);
  t.gateway.charge = async (input: ChargeInput) => {
    if (charged) await charge(input);
    throw new Error('socket hang up');
  };
  try {
    const res = await api(t, owner, 'POST', '/api/v1/portal/top-ups', { amount, cardToken });
    expect(res.statusCode, res.body).toBe(500);
  } finally {
    t.gateway.charge = charge;
  }
  const id = await newestTopUpId();
  expect(await topUp(id)).toMatchObject({ status: 'pending', chargeRef: null });
  return id;
}

describe('settling stale top-ups from what the gateway knows', () => {
  it('completes a charge made whose answer was lost: the points and the paid invoice once; the webhook then changes nothing', async () => {
    const before = await points();
    const id = await lostAnswer('20.00', 'tok_sandbox_success', true);
    // Too young: a charge's answer may still be on its way.
    expect(await settleStaleTopUps(deps)).toMatchObject({ examined: 0 });
    expect(await settleStaleTopUps({ ...deps, clock: later() })).toMatchObject({ examined: 1, succeeded: 1, errors: 0 });
    expect(await topUp(id)).toMatchObject({ status: 'succeeded', chargeRef: expect.stringMatching(/^ch_sbx_/), invoiceId: expect.stringMatching(/^inv_/) });
    expect(await points()).toBe(before + 20_000_000n);
    const receipt = await owned().selectFrom('notifications').select('subject').where('kind', '=', 'top_up_receipt').where('toEmail', '=', 'owner@acme.test')
      .orderBy('createdAt', 'desc').limit(1).executeTakeFirstOrThrow();
    expect(receipt.subject).toContain('20.00');
    // The charge's own webhook arrives after: the top-up is complete, nothing changes; a second run finds nothing.
    await deliverSandboxWebhooks(t, t.gateway);
    expect(await points()).toBe(before + 20_000_000n);
    expect(await settleStaleTopUps({ ...deps, clock: later() })).toMatchObject({ examined: 0 });
    expect(await checkLedger(owned())).toEqual([]);
  });

  it('fails one the gateway never received (the person told, nothing charged), but not before the gateway could show it, nor after a retry sent it again', async () => {
    const before = await points();
    const id = await lostAnswer('15.00', 'tok_sandbox_success', false);
    // A portal retry with the same key sent it again a moment ago: a miss proves nothing yet.
    await sql`update top_ups set resumed_at = now() + make_interval(mins => ${STALE_TOP_UP_MINUTES + 4}) where id = ${id}`.execute(owned());
    expect(await settleStaleTopUps({ ...deps, clock: later() })).toMatchObject({ examined: 1, untouched: 1, notReceived: 0 });
    expect(await topUp(id)).toMatchObject({ status: 'pending' });
    expect(await settleStaleTopUps({ ...deps, clock: later(2 * STALE_TOP_UP_MINUTES + 10) })).toMatchObject({ examined: 1, notReceived: 1 });
    expect(await topUp(id)).toMatchObject({ status: 'failed', failureCode: NOT_RECEIVED, chargeRef: null, invoiceId: null });
    expect(await points()).toBe(before);
    const mail = await owned().selectFrom('notifications').select(['subject', 'bodyText']).where('kind', '=', 'top_up_failed').where('toEmail', '=', 'owner@acme.test')
      .orderBy('createdAt', 'desc').limit(1).executeTakeFirstOrThrow();
    expect(mail.subject).toBe('Top-up of 15.00 SGD failed');
    expect(mail.bodyText).toContain('never received this charge');
    expect(mail.bodyText).toContain('nothing was charged');
  });

  it('records a delayed card\'s charge for its webhook, fails a declined one with its reason, and leaves a charge of another amount for someone to look at', async () => {
    const delayed = await lostAnswer('11.00', 'tok_sandbox_delayed', true);
    const declined = await lostAnswer('12.00', 'tok_sandbox_declined', true);
    const odd = await lostAnswer('13.00', 'tok_sandbox_success', false);
    // The gateway holds a charge under that top-up's key for another amount.
    await t.gateway.charge({ amountMicros: 99_000_000n, currency: 'SGD', cardToken: 'tok_sandbox_success', idempotencyKey: `folio-top-up-${odd}`, description: 'x', metadata: { topUpId: odd } });
    const result = await settleStaleTopUps({ ...deps, clock: later() });
    expect(result).toMatchObject({ examined: 3, pending: 1, failed: 1, untouched: 1, errors: 0 });
    expect(await topUp(delayed)).toMatchObject({ status: 'pending', chargeRef: expect.stringMatching(/^ch_sbx_/) });
    expect(await topUp(declined)).toMatchObject({ status: 'failed', failureCode: 'declined' });
    expect(await topUp(odd)).toMatchObject({ status: 'pending', chargeRef: null });
    // Someone looked at it: closed by hand here, so the next test's runs meet only their own.
    await sql`update top_ups set status = 'failed', failure_code = 'looked_at', failure_reason = 'closed by the test', completed_at = now() where id = ${odd}`.execute(owned());
    expect(await checkLedger(owned())).toEqual([]);
  });

  it('leaves renewal top-ups to the renewal run', async () => {
    const id = await lostAnswer('14.00', 'tok_sandbox_success', false);
    await sql`alter table top_ups disable trigger top_ups_guard`.execute(owned());
    try {
      await sql`update top_ups set renewal_for = now(), auto = true, auto_for_date = current_date, user_id = null where id = ${id}`.execute(owned());
    } finally {
      await sql`alter table top_ups enable trigger top_ups_guard`.execute(owned());
    }
    expect(await settleStaleTopUps({ ...deps, clock: later() })).toMatchObject({ examined: 0 });
    expect(await topUp(id)).toMatchObject({ status: 'pending' });
  });
});
