import { AssertionError } from 'node:assert';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '../platform/errors.ts';
import { containsCardNumber } from './card-numbers.ts';
import type { GatewayEvent } from './gateway.ts';
import { createGateway } from './index.ts';
import { loadGatewayConfig } from './gateway-config.ts';
import { parseStripeForm, StripeFake } from './stripe-fake.ts';
import { StripeGateway } from './stripe.ts';
import { SANDBOX_TEST_CARDS } from './test-cards.ts';

/** The Stripe adapter through the real SDK, against a local fake of the endpoints it calls (tests cannot reach Stripe). */
let fake: StripeFake;
let gateway: StripeGateway;
let keySeq = 0;
const key = (label = 'k') => `stripe-test-${label}-${++keySeq}`;
const sgd = (cents: bigint) => cents * 10_000n;

beforeAll(async () => {
  fake = await StripeFake.start();
  gateway = new StripeGateway({ secretKey: fake.secretKey, webhookSecret: fake.webhookSecret, apiBase: fake.url, maxNetworkRetries: 0 });
});
afterAll(async () => fake.close());

async function domainError(promise: Promise<unknown>): Promise<DomainError> {
  const err = await promise.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(DomainError);
  return err as DomainError;
}

function tokenCharge(cardToken: string, cents: bigint, idempotencyKey = key('charge'), metadata: Record<string, string> = { topUpId: 'top_test' }) {
  return gateway.charge({ amountMicros: sgd(cents), currency: 'SGD', cardToken, idempotencyKey, description: 'Top-up', metadata });
}

async function events(): Promise<GatewayEvent[]> {
  const out: GatewayEvent[] = [];
  for (const d of fake.takeEvents()) out.push(await gateway.parseWebhook(d.rawBody, d.signatureHeader));
  return out;
}

const lastRequest = () => fake.requests.at(-1)!;

describe('charges', () => {
  it('a good card succeeds: one confirmed PaymentIntent in minor units, with the caller\'s idempotency key', async () => {
    const k = key('ok');
    const result = await tokenCharge('pm_card_visa', 12_34n, k);
    expect(result).toEqual({ status: 'succeeded', chargeRef: expect.stringMatching(/^pi_fake_/) });
    const sent = lastRequest();
    expect(sent).toMatchObject({ method: 'POST', path: '/v1/payment_intents', idempotencyKey: k });
    expect(parseStripeForm(sent.body)).toMatchObject({
      amount: '1234', currency: 'sgd', confirm: 'true', payment_method: 'pm_card_visa', error_on_requires_action: 'true',
      automatic_payment_methods: { enabled: 'true', allow_redirects: 'never' }, metadata: { topUpId: 'top_test' },
    });
    expect(await events()).toEqual([
      { type: 'charge.succeeded', eventRef: expect.stringMatching(/^evt_/), occurredAt: expect.any(Date), chargeRef: result.chargeRef, amountMicros: 12_340_000n, currency: 'SGD', metadata: { topUpId: 'top_test' } },
    ]);
  });

  it('declined and insufficient funds are values with the PaymentIntent and the decline code, and charge.failed events', async () => {
    const declined = await tokenCharge('pm_card_chargeDeclined', 50_00n);
    const poor = await tokenCharge('pm_card_chargeDeclinedInsufficientFunds', 50_00n);
    expect(declined).toEqual({ status: 'declined', chargeRef: expect.stringMatching(/^pi_fake_/), failureReason: 'generic_decline' });
    expect(poor).toEqual({ status: 'insufficient_funds', chargeRef: expect.stringMatching(/^pi_fake_/), failureReason: 'insufficient_funds' });
    expect(await events()).toMatchObject([
      { type: 'charge.failed', chargeRef: declined.chargeRef, status: 'declined', failureReason: 'generic_decline', amountMicros: sgd(50_00n), metadata: { topUpId: 'top_test' } },
      { type: 'charge.failed', chargeRef: poor.chargeRef, status: 'insufficient_funds', failureReason: 'insufficient_funds' },
    ]);
  });

  it('a processing payment is pending, then settles through the payment_intent.succeeded webhook', async () => {
    const result = await tokenCharge('pm_card_fake_processing', 20_00n, key(), { topUpId: 'top_delayed' });
    expect(result).toEqual({ status: 'pending', chargeRef: expect.any(String) });
    expect(await events()).toEqual([]);
    expect(fake.settleProcessing()).toBe(1);
    expect(await events()).toMatchObject([{ type: 'charge.succeeded', chargeRef: result.chargeRef, amountMicros: sgd(20_00n), metadata: { topUpId: 'top_delayed' } }]);
  });

  it('an unknown token is not found; an amount above what Stripe takes is a rule violation', async () => {
    expect((await domainError(tokenCharge('pm_card_nonsense', 1_00n))).code).toBe('not_found');
    expect((await domainError(tokenCharge('pm_card_visa', 1_000_000_00n))).code).toBe('rule_violation');
  });

  it('an amount that is not whole minor units, or not positive, is an assertion and nothing is sent', async () => {
    const before = fake.requests.length;
    await expect(gateway.charge({ amountMicros: 12_345n, currency: 'SGD', cardToken: 'pm_card_visa', idempotencyKey: key(), description: 'x' })).rejects.toBeInstanceOf(AssertionError);
    await expect(gateway.charge({ amountMicros: 100_500_000n, currency: 'JPY', cardToken: 'pm_card_visa', idempotencyKey: key(), description: 'x' })).rejects.toBeInstanceOf(AssertionError);
    await expect(gateway.charge({ amountMicros: -1_000_000n, currency: 'SGD', cardToken: 'pm_card_visa', idempotencyKey: key(), description: 'x' })).rejects.toBeInstanceOf(AssertionError);
    await expect(gateway.refund({ chargeRef: 'pi_x', amountMicros: 1n, currency: 'SGD', idempotencyKey: key() })).rejects.toBeInstanceOf(AssertionError);
    expect(fake.requests.length).toBe(before);
  });

  it('a zero-decimal currency is sent in whole units', async () => {
    await gateway.charge({ amountMicros: 300_000n * 1_000_000n, currency: 'VND', cardToken: 'pm_card_visa', idempotencyKey: key(), description: 'Top-up' });
    expect(parseStripeForm(lastRequest().body)).toMatchObject({ amount: '300000', currency: 'vnd' });
    await events();
  });
});

describe('idempotency', () => {
  it('a retried charge answers the first result and creates one PaymentIntent; another request under the key is refused', async () => {
    const k = key('retry');
    const before = fake.paymentIntentCount;
    const first = await tokenCharge('pm_card_visa', 99_00n, k);
    expect(await tokenCharge('pm_card_visa', 99_00n, k)).toEqual(first);
    expect(await Promise.all([1, 2, 3].map(() => tokenCharge('pm_card_visa', 99_00n, k)))).toEqual([first, first, first]);
    expect(fake.paymentIntentCount).toBe(before + 1);
    expect((await domainError(tokenCharge('pm_card_visa', 98_00n, k))).code).toBe('idempotency_key_reused');
    await events();
  });

  it('a declined attempt is answered again as declined under its key, without a second attempt', async () => {
    const k = key('declined');
    const before = fake.paymentIntentCount;
    const first = await tokenCharge('pm_card_chargeDeclined', 10_00n, k);
    expect(await tokenCharge('pm_card_chargeDeclined', 10_00n, k)).toEqual(first);
    expect(fake.paymentIntentCount).toBe(before + 1);
    await events();
  });
});

describe('saved cards', () => {
  it('a card attached to a customer is charged off-session with customerRef + methodRef', async () => {
    const { customerRef } = await gateway.createCustomer({ reference: 'cus_folio_1', idempotencyKey: key('customer') });
    expect(customerRef).toMatch(/^cus_fake_/);
    expect(parseStripeForm(lastRequest().body)).toEqual({ metadata: { folio_customer_id: 'cus_folio_1' } });
    const saved = await gateway.saveCard({ customerRef, cardToken: 'pm_card_visa', idempotencyKey: key('save') });
    expect(saved).toEqual({ status: 'saved', methodRef: expect.stringMatching(/^pm_fake_/), brand: 'visa', last4: '4242', expMonth: 12, expYear: 2034 });
    expect(lastRequest().path).toBe('/v1/payment_methods/pm_card_visa/attach');
    const poor = await gateway.saveCard({ customerRef, cardToken: 'pm_card_chargeDeclinedInsufficientFunds', idempotencyKey: key('save') });
    if (saved.status !== 'saved' || poor.status !== 'saved') throw new Error('not saved');

    const renew = (methodRef: string) =>
      gateway.charge({ amountMicros: sgd(54_50n), currency: 'SGD', customerRef, methodRef, idempotencyKey: key('renewal'), description: 'Renewal top-up' });
    expect(await renew(saved.methodRef)).toEqual({ status: 'succeeded', chargeRef: expect.any(String) });
    expect(parseStripeForm(lastRequest().body)).toMatchObject({ customer: customerRef, payment_method: saved.methodRef, off_session: 'true', confirm: 'true' });
    expect(await renew(poor.methodRef)).toMatchObject({ status: 'insufficient_funds', failureReason: 'insufficient_funds' });

    const { customerRef: other } = await gateway.createCustomer({ reference: 'cus_folio_2', idempotencyKey: key('customer') });
    expect((await domainError(gateway.saveCard({ customerRef: 'cus_fake_missing', cardToken: 'pm_card_visa', idempotencyKey: key() }))).code).toBe('not_found');
    const k = key('customer');
    expect(await gateway.createCustomer({ reference: 'cus_folio_3', idempotencyKey: k })).toEqual(await gateway.createCustomer({ reference: 'cus_folio_3', idempotencyKey: k }));
    expect(other).not.toBe(customerRef);
    await events();
  });
});

describe('refunds', () => {
  it('refunds in full or in parts; more than is left is a rule violation; a refund.created event follows', async () => {
    const full = await tokenCharge('pm_card_visa', 30_00n);
    await events();
    const refunded = await gateway.refund({ chargeRef: full.chargeRef!, amountMicros: sgd(30_00n), currency: 'SGD', idempotencyKey: key('refund'), metadata: { creditNoteId: 'cn_1' } });
    expect(refunded).toEqual({ status: 'succeeded', refundRef: expect.stringMatching(/^re_fake_/) });
    expect(parseStripeForm(lastRequest().body)).toEqual({ payment_intent: full.chargeRef, amount: '3000', metadata: { creditNoteId: 'cn_1' } });
    expect((await domainError(gateway.refund({ chargeRef: full.chargeRef!, amountMicros: sgd(1n), currency: 'SGD', idempotencyKey: key() }))).code).toBe('rule_violation');
    expect(await events()).toMatchObject([{ type: 'refund.succeeded', refundRef: refunded.refundRef, chargeRef: full.chargeRef, amountMicros: sgd(30_00n), currency: 'SGD' }]);

    const part = await tokenCharge('pm_card_visa', 30_00n);
    await events();
    const r1 = await gateway.refund({ chargeRef: part.chargeRef!, amountMicros: sgd(10_00n), currency: 'SGD', idempotencyKey: key('refund') });
    const r2 = await gateway.refund({ chargeRef: part.chargeRef!, amountMicros: sgd(15_00n), currency: 'SGD', idempotencyKey: key('refund') });
    expect((await domainError(gateway.refund({ chargeRef: part.chargeRef!, amountMicros: sgd(5_01n), currency: 'SGD', idempotencyKey: key() }))).code).toBe('rule_violation');
    expect(await events()).toMatchObject([
      { type: 'refund.succeeded', refundRef: r1.refundRef, chargeRef: part.chargeRef, amountMicros: sgd(10_00n) },
      { type: 'refund.succeeded', refundRef: r2.refundRef, chargeRef: part.chargeRef, amountMicros: sgd(15_00n) },
    ]);
  });

  it('more than was charged is refused; a retried refund answers the first result and refunds once', async () => {
    const charge = await tokenCharge('pm_card_visa', 8_00n);
    expect((await domainError(gateway.refund({ chargeRef: charge.chargeRef!, amountMicros: sgd(8_01n), currency: 'SGD', idempotencyKey: key() }))).code).toBe('rule_violation');
    const k = key('refund');
    const before = fake.refundCount;
    const first = await gateway.refund({ chargeRef: charge.chargeRef!, amountMicros: sgd(8_00n), currency: 'SGD', idempotencyKey: k });
    expect(await gateway.refund({ chargeRef: charge.chargeRef!, amountMicros: sgd(8_00n), currency: 'SGD', idempotencyKey: k })).toEqual(first);
    expect(fake.refundCount).toBe(before + 1);
    await events();
  });

  it('only a succeeded charge, in its own currency, that exists, can be refunded', async () => {
    const declined = await tokenCharge('pm_card_chargeDeclined', 8_00n);
    const pending = await tokenCharge('pm_card_fake_processing', 8_00n);
    const ok = await tokenCharge('pm_card_visa', 8_00n);
    const refund = (chargeRef: string, currency: 'SGD' | 'MYR' = 'SGD') => gateway.refund({ chargeRef, amountMicros: sgd(1_00n), currency, idempotencyKey: key() });
    expect((await domainError(refund(declined.chargeRef!))).code).toBe('state_conflict');
    expect((await domainError(refund(pending.chargeRef!))).code).toBe('state_conflict');
    expect((await domainError(refund(ok.chargeRef!, 'MYR'))).code).toBe('validation_failed');
    expect((await domainError(refund('pi_fake_nothing'))).code).toBe('not_found');
    fake.settleProcessing();
    await events();
  });
});

describe('findCharge (a charge whose answer was lost)', () => {
  let seq = 0;
  const attemptId = () => `ipa_stripefind${++seq}x${Date.now().toString(36)}`;
  const find = (id: string, idempotencyKey = `folio-invoice-payment-${id}`) =>
    gateway.findCharge({ idempotencyKey, reference: { key: 'invoicePaymentAttemptId', value: id } });
  const invoiceCharge = (cardToken: string, cents: bigint, id: string) => tokenCharge(cardToken, cents, `folio-invoice-payment-${id}`, { invoicePaymentAttemptId: id, invoiceId: 'inv_x' });

  it('finds a succeeded charge by the metadata it carried, through the search endpoint, and sends nothing that charges', async () => {
    const id = attemptId();
    const charged = await invoiceCharge('pm_card_visa', 12_34n, id);
    const intents = fake.paymentIntentCount;
    expect(await find(id)).toEqual({ status: 'succeeded', chargeRef: charged.chargeRef, amountMicros: sgd(12_34n), currency: 'SGD' });
    const sent = lastRequest();
    expect(sent).toMatchObject({ method: 'GET', path: '/v1/payment_intents/search' });
    expect(fake.paymentIntentCount).toBe(intents);
    await events();
  });

  it('a declined or poor card is failed with the decline code; a processing one is pending until it settles', async () => {
    const declined = attemptId();
    const poor = attemptId();
    const slow = attemptId();
    const d = await invoiceCharge('pm_card_chargeDeclined', 5_00n, declined);
    await invoiceCharge('pm_card_chargeDeclinedInsufficientFunds', 5_00n, poor);
    const p = await invoiceCharge('pm_card_fake_processing', 7_00n, slow);
    expect(await find(declined)).toEqual({ status: 'failed', chargeRef: d.chargeRef, amountMicros: sgd(5_00n), currency: 'SGD', failureCode: 'declined', failureReason: 'generic_decline' });
    expect(await find(poor)).toMatchObject({ status: 'failed', failureCode: 'insufficient_funds', failureReason: 'insufficient_funds' });
    expect(await find(slow)).toEqual({ status: 'pending', chargeRef: p.chargeRef, amountMicros: sgd(7_00n), currency: 'SGD' });
    fake.settleProcessing();
    expect(await find(slow)).toMatchObject({ status: 'succeeded', chargeRef: p.chargeRef });
    await events();
  });

  it('nothing under that reference (the request never arrived, or the search index has not caught up) is null; the lag is stated', async () => {
    expect(await find(attemptId())).toBeNull();
    const id = attemptId();
    await invoiceCharge('pm_card_visa', 1_00n, id);
    fake.searchLags = true;
    try {
      expect(await find(id)).toBeNull();
    } finally {
      fake.searchLags = false;
    }
    expect(gateway.chargeLookupLagMs).toBeGreaterThanOrEqual(60 * 60_000);
    await events();
  });

  it('a reference that could break out of the search query is refused before anything is sent', async () => {
    const before = fake.requests.length;
    const err = await domainError(gateway.findCharge({ idempotencyKey: 'k-1', reference: { key: 'invoicePaymentAttemptId', value: "x' OR status:'succeeded" } }));
    expect(err.code).toBe('validation_failed');
    expect((await domainError(gateway.findCharge({ idempotencyKey: 'k-1', reference: { key: "a']:'b", value: 'x' } }))).code).toBe('validation_failed');
    expect(fake.requests.length).toBe(before);
  });
});

describe('webhooks', () => {
  const stripe = new Stripe('sk_test_unused');
  const body = JSON.stringify({
    id: 'evt_manual', object: 'event', api_version: '2026-10-28.endive', created: Math.floor(Date.now() / 1000), type: 'payment_intent.succeeded', livemode: false,
    data: { object: { id: 'pi_manual', object: 'payment_intent', amount: 1050, amount_received: 1050, currency: 'sgd', status: 'succeeded', metadata: { topUpId: 'top_9' } } },
  });
  const header = (opts: { secret?: string; timestamp?: number; payload?: string } = {}) =>
    stripe.webhooks.generateTestHeaderString({ payload: opts.payload ?? body, secret: opts.secret ?? fake.webhookSecret, ...(opts.timestamp ? { timestamp: opts.timestamp } : {}) });

  it('a good signature is parsed into a typed event', async () => {
    expect(await gateway.parseWebhook(Buffer.from(body), header())).toEqual({
      type: 'charge.succeeded', eventRef: 'evt_manual', occurredAt: expect.any(Date), chargeRef: 'pi_manual', amountMicros: 10_500_000n, currency: 'SGD', metadata: { topUpId: 'top_9' },
    });
  });

  it('a missing, wrong, tampered or stale signature is rejected', async () => {
    const rejected = async (raw: string, h: string | undefined) => (await domainError(gateway.parseWebhook(raw, h))).code;
    expect(await rejected(body, undefined)).toBe('webhook_signature_invalid');
    expect(await rejected(body, 't=1,v0=abc')).toBe('webhook_signature_invalid');
    expect(await rejected(body, header({ secret: 'whsec_someone_else' }))).toBe('webhook_signature_invalid');
    expect(await rejected(body.replace('1050', '9050'), header())).toBe('webhook_signature_invalid');
    expect(await rejected(body, header({ timestamp: Math.floor(Date.now() / 1000) - 301 }))).toBe('webhook_signature_invalid');
  });

  it('events Folio does not use are ignored; a refund that failed is reported', async () => {
    const other = JSON.stringify({ id: 'evt_other', object: 'event', created: 1, type: 'customer.created', data: { object: { id: 'cus_1', object: 'customer' } } });
    expect(await gateway.parseWebhook(other, header({ payload: other }))).toMatchObject({ type: 'ignored', gatewayType: 'customer.created' });
    const failed = JSON.stringify({
      id: 'evt_rf', object: 'event', created: 1, type: 'refund.failed',
      data: { object: { id: 're_1', object: 'refund', amount: 500, currency: 'sgd', payment_intent: 'pi_1', status: 'failed', failure_reason: 'expired_or_canceled_card' } },
    });
    expect(await gateway.parseWebhook(failed, header({ payload: failed }))).toMatchObject({
      type: 'refund.failed', refundRef: 're_1', chargeRef: 'pi_1', amountMicros: 5_000_000n, failureReason: 'expired_or_canceled_card',
    });
  });
});

describe('card numbers', () => {
  it('a card number in any field is refused before anything is sent, without being repeated', async () => {
    const before = fake.requests.length;
    const attempts = [
      tokenCharge('4242424242424242', 1_00n),
      tokenCharge('pm_card_visa', 1_00n, key(), { note: '4000 0000 0000 0002' }),
      gateway.saveCard({ customerRef: 'cus_x', cardToken: '4000000000009995', idempotencyKey: key() }),
    ];
    for (const attempt of attempts) {
      const err = await domainError(attempt);
      expect(err.code).toBe('validation_failed');
      expect(JSON.stringify({ message: err.message, errors: err.errors })).not.toMatch(/\d{4}[ -]?\d{4}[ -]?\d{4}/);
    }
    expect(fake.requests.length).toBe(before);
  });

  it('nothing the fake Stripe received holds a card number: only tokens and references', () => {
    expect(fake.requests.length).toBeGreaterThan(30);
    for (const r of fake.requests) {
      expect(containsCardNumber(decodeURIComponent(r.body)), r.path).toBe(false);
      for (const card of SANDBOX_TEST_CARDS) expect(r.body.includes(card.number)).toBe(false);
    }
  });
});

describe('createGateway', () => {
  it('GATEWAY=stripe with the fake as STRIPE_API_BASE builds the Stripe adapter; the default is the sandbox', async () => {
    const config = loadGatewayConfig({ GATEWAY: 'stripe', STRIPE_SECRET_KEY: fake.secretKey, STRIPE_WEBHOOK_SECRET: fake.webhookSecret, STRIPE_API_BASE: fake.url });
    const built = createGateway(config, { db: null as never });
    expect(built.name).toBe('stripe');
    expect(built.signatureHeaderName).toBe('stripe-signature');
    expect(await built.charge({ amountMicros: sgd(1_00n), currency: 'SGD', cardToken: 'pm_card_visa', idempotencyKey: key(), description: 'x' })).toMatchObject({ status: 'succeeded' });
    expect(createGateway(loadGatewayConfig({}), { db: null as never }).name).toBe('sandbox');
    await events();
  });
});
