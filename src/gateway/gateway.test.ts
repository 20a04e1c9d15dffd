import { AssertionError } from 'node:assert';
import { describe, expect, it } from 'vitest';
import { containsCardNumber, luhnValid, normaliseCardNumber } from './card-numbers.ts';
import { fromMinorUnits, simulatedRef, toMinorUnits } from './gateway.ts';
import { describeGatewayConfig, loadGatewayConfig } from './gateway-config.ts';
import { parseStripeForm } from './stripe-fake.ts';
import { SANDBOX_TEST_CARDS, sandboxCardByToken } from './test-cards.ts';
import { checkWebhookSignature, signWebhook } from './webhook-signature.ts';

describe('minor units at the gateway edge', () => {
  it('converts whole minor units both ways, per currency exponent', () => {
    expect(toMinorUnits(12_340_000n, 'SGD')).toBe(1234n);
    expect(toMinorUnits(300_000_000_000n, 'VND')).toBe(300_000n);
    expect(toMinorUnits(1_000_000n, 'JPY')).toBe(1n);
    expect(fromMinorUnits(1234n, 'SGD')).toBe(12_340_000n);
    expect(fromMinorUnits(5n, 'KRW')).toBe(5_000_000n);
  });

  it('asserts a positive, whole number of minor units', () => {
    expect(() => toMinorUnits(12_345n, 'SGD')).toThrow(AssertionError);
    expect(() => toMinorUnits(1_500_000n, 'VND')).toThrow(AssertionError);
    expect(() => toMinorUnits(0n, 'SGD')).toThrow(AssertionError);
    expect(() => toMinorUnits(-10_000n, 'SGD')).toThrow(AssertionError);
  });
});

describe('card number detection', () => {
  it('finds a card number typed plainly, grouped, or inside text', () => {
    expect(containsCardNumber('4242424242424242')).toBe(true);
    expect(containsCardNumber('card: 4242 4242 4242 4242, thanks')).toBe(true);
    expect(containsCardNumber('5555-5555-5555-4444')).toBe(true);
    expect(containsCardNumber('amex 378282246310005')).toBe(true);
    expect(normaliseCardNumber(' 4000 0000 0000 0002 ')).toBe('4000000000000002');
  });

  it('leaves alone what is not one: Luhn failures, ids, timestamps, amounts, dates', () => {
    expect(containsCardNumber('4242424242424241')).toBe(false);
    expect(containsCardNumber('top_01jc9k3m7q8r2s4t6v8w0x2y4z')).toBe(false);
    expect(containsCardNumber(String(Date.UTC(2026, 10, 2)))).toBe(false);
    expect(containsCardNumber('Top-up 1000000.00 SGD on 2026-11-02 12:00')).toBe(false);
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('12a')).toBe(false);
    for (let i = 0; i < 200; i++) expect(containsCardNumber(simulatedRef('ch_sbx'))).toBe(false);
  });

  it('every documented sandbox test card has a unique token and a valid number', () => {
    expect(new Set(SANDBOX_TEST_CARDS.map((c) => c.token)).size).toBe(SANDBOX_TEST_CARDS.length);
    for (const card of SANDBOX_TEST_CARDS) {
      expect(luhnValid(card.number)).toBe(true);
      expect(card.number.endsWith(card.last4)).toBe(true);
      expect(sandboxCardByToken(card.token)).toBe(card);
    }
    expect(SANDBOX_TEST_CARDS.map((c) => c.outcome)).toEqual(['success', 'declined', 'insufficient_funds', 'delayed', 'delayed_insufficient_funds']);
  });
});

describe('webhook signatures (Stripe scheme)', () => {
  const nowMs = Date.UTC(2026, 10, 2, 3);
  const t = nowMs / 1000;
  it('accepts its own signature within the tolerance, and names what is wrong otherwise', () => {
    expect(checkWebhookSignature('{}', signWebhook('{}', 's', t), 's', { nowMs })).toBe('ok');
    expect(checkWebhookSignature('{}', undefined, 's', { nowMs })).toBe('missing');
    expect(checkWebhookSignature('{}', 'v1=abc', 's', { nowMs })).toBe('malformed');
    expect(checkWebhookSignature('{}', signWebhook('{}', 'x', t), 's', { nowMs })).toBe('mismatch');
    expect(checkWebhookSignature('{ }', signWebhook('{}', 's', t), 's', { nowMs })).toBe('mismatch');
    expect(checkWebhookSignature('{}', signWebhook('{}', 's', t - 301), 's', { nowMs })).toBe('stale');
    expect(checkWebhookSignature('{}', signWebhook('{}', 's', t - 301), 's', { nowMs, toleranceSeconds: 600 })).toBe('ok');
  });
});

describe('gateway configuration', () => {
  it('defaults to the sandbox', () => {
    expect(loadGatewayConfig({})).toEqual({ kind: 'sandbox', settleAfterMs: 5000, webhookSecret: 'whsec_folio_sandbox_local', webhookToleranceSeconds: 300 });
    expect(loadGatewayConfig({ GATEWAY_SANDBOX_SETTLE_SECONDS: '0', GATEWAY_SANDBOX_WEBHOOK_SECRET: 'whsec_x' })).toMatchObject({ settleAfterMs: 0, webhookSecret: 'whsec_x' });
  });

  it('stripe needs its key and webhook secret, named without their values', () => {
    expect(() => loadGatewayConfig({ GATEWAY: 'stripe' })).toThrow('GATEWAY=stripe needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET');
    expect(() => loadGatewayConfig({ GATEWAY: 'stripe', STRIPE_SECRET_KEY: 'sk_test_abc' })).toThrow('needs STRIPE_WEBHOOK_SECRET');
    expect(() => loadGatewayConfig({ GATEWAY: 'stripe', STRIPE_SECRET_KEY: 'pk_test_abc', STRIPE_WEBHOOK_SECRET: 'whsec_1' })).toThrow(/^STRIPE_SECRET_KEY must be/);
    const config = loadGatewayConfig({ GATEWAY: 'stripe', STRIPE_SECRET_KEY: 'sk_live_secret123', STRIPE_WEBHOOK_SECRET: 'whsec_secret456' });
    expect(config).toMatchObject({ kind: 'stripe', apiBase: undefined });
    const described = JSON.stringify(describeGatewayConfig(config));
    expect(described).not.toContain('secret123');
    expect(described).not.toContain('secret456');
    expect(describeGatewayConfig(config)).toMatchObject({ gateway: 'stripe', liveMode: true });
  });

  it('STRIPE_API_BASE takes https anywhere and http only on loopback', () => {
    const env = { GATEWAY: 'stripe', STRIPE_SECRET_KEY: 'sk_test_a', STRIPE_WEBHOOK_SECRET: 'whsec_b' };
    expect(loadGatewayConfig({ ...env, STRIPE_API_BASE: 'http://127.0.0.1:12111' })).toMatchObject({ apiBase: 'http://127.0.0.1:12111' });
    expect(loadGatewayConfig({ ...env, STRIPE_API_BASE: 'https://stripe.example.test' })).toMatchObject({ apiBase: 'https://stripe.example.test' });
    expect(() => loadGatewayConfig({ ...env, STRIPE_API_BASE: 'http://10.0.0.5:80' })).toThrow(/loopback/);
    expect(() => loadGatewayConfig({ ...env, STRIPE_API_BASE: 'https://x.test/v1' })).toThrow(/no path/);
    expect(() => loadGatewayConfig({ GATEWAY: 'paypal' })).toThrow(/sandbox" or "stripe/);
    expect(() => loadGatewayConfig({ GATEWAY_SANDBOX_SETTLE_SECONDS: '-1' })).toThrow(/GATEWAY_SANDBOX_SETTLE_SECONDS/);
  });
});

describe('the fake Stripe form parser', () => {
  it('reads nested keys and arrays as Stripe does', () => {
    expect(parseStripeForm('amount=100&metadata[a]=1&metadata[b]=x%20y&expand[0]=latest_charge&automatic_payment_methods[enabled]=true'))
      .toEqual({ amount: '100', metadata: { a: '1', b: 'x y' }, expand: ['latest_charge'], automatic_payment_methods: { enabled: 'true' } });
  });
});
