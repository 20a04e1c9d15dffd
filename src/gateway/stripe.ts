import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type Stripe from 'stripe';
import { isCurrency, type Currency } from '../money/money.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import {
  badSignature, checkChargeInput, checkCreateCustomerInput, checkFindChargeInput, checkRefundInput, checkSaveCardInput, fromMinorUnits, toMinorUnits,
  type ChargeInput, type ChargeResult, type CreateCustomerInput, type CreateCustomerResult, type FindChargeInput, type FoundCharge,
  type Gateway, type GatewayEvent, type RefundInput, type RefundResult, type SaveCardInput, type SaveCardResult,
} from './gateway.ts';
import { DEFAULT_TOLERANCE_SECONDS } from './webhook-signature.ts';

/**
 * The Stripe adapter, on the official `stripe` SDK (pinned; the SDK pins its API version).
 * - Customers: `POST /v1/customers`, with Folio's customer id as metadata only (no name, no email).
 * - Saved cards: the browser collects the card with Stripe.js and sends a PaymentMethod id (`pm_...`); `saveCard`
 *   attaches it to the customer (`POST /v1/payment_methods/:id/attach`).
 * - Charges: one PaymentIntent created and confirmed at once (`confirm: true`); a saved card is charged `off_session`
 *   (renewals, auto top-up), a one-off token with `error_on_requires_action` (Folio has no 3-D Secure step in the
 *   browser yet, so a card that asks for it is a decline with `authentication_required`). `processing` is `pending`,
 *   settled later by the `payment_intent.succeeded` / `payment_intent.payment_failed` webhooks.
 * - Refunds: `POST /v1/refunds` on the PaymentIntent, after checking its currency and that it succeeded.
 * - Every POST carries the caller's idempotency key (`Idempotency-Key`); the SDK's own network retries reuse it.
 * - Webhooks: `stripe.webhooks.constructEvent` checks the `stripe-signature` header and its age.
 * - Finding a charge whose answer was lost: `GET /v1/payment_intents/search` by the metadata entry the charge carried
 *   (its `metadata` is the caller's, e.g. `invoicePaymentAttemptId`). Stripe's search index lags (under a minute, up to
 *   an hour during outages: `chargeLookupLagMs`).
 * The chargeRef is the PaymentIntent id (`pi_...`); the refundRef the Refund id (`re_...`).
 */
export interface StripeGatewayOptions {
  secretKey: string;
  webhookSecret: string;
  /** Where the API is: default https://api.stripe.com; a local fake in tests (http only on loopback, gateway-config.ts). */
  apiBase?: string;
  webhookToleranceSeconds?: number;
  maxNetworkRetries?: number;
  timeoutMs?: number;
  /** The time, for tests (webhook signature age). */
  clock?: () => Date;
}

function apiBaseOptions(apiBase: string | undefined): Pick<Stripe.StripeConfig, 'host' | 'port' | 'protocol'> {
  if (apiBase === undefined) return {};
  const url = new URL(apiBase);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return { host: url.hostname, port: url.port === '' ? (protocol === 'http' ? 80 : 443) : Number(url.port), protocol };
}

/**
 * The SDK is loaded when a Stripe adapter is first made, not when the server starts: most deployments (and every test
 * but this adapter's) use the sandbox, and the SDK holds ~11 MB of the server's memory once loaded (measured with
 * process.memoryUsage().rss around its import).
 */
const requireFromHere = createRequire(import.meta.url);
let sdk: typeof Stripe | null = null;
const stripeSdk = (): typeof Stripe => (sdk ??= requireFromHere('stripe') as typeof Stripe);

function amountParam(amountMicros: bigint, currency: Currency): number {
  const minor = toMinorUnits(amountMicros, currency);
  assert(minor <= BigInt(Number.MAX_SAFE_INTEGER), 'a gateway amount fits in a safe integer');
  return Number(minor);
}

function currencyOf(code: string): Currency | null {
  const upper = code.toUpperCase();
  return isCurrency(upper) ? upper : null;
}

function idOf(value: string | { id: string } | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : value.id;
}

/** Map SDK errors that are the caller's doing to DomainErrors; anything else (auth, network, Stripe outage) propagates. */
function domainErrorOf(err: unknown, what: string): unknown {
  if (err instanceof stripeSdk().errors.StripeIdempotencyError) {
    return new DomainError('idempotency_key_reused', 'this idempotency key was already used for another gateway request');
  }
  if (err instanceof stripeSdk().errors.StripeInvalidRequestError && err.code === 'resource_missing') return notFound(what);
  return err;
}

function failedStatus(reason: string): 'declined' | 'insufficient_funds' {
  return reason === 'insufficient_funds' ? 'insufficient_funds' : 'declined';
}

export class StripeGateway implements Gateway {
  readonly name = 'stripe' as const;
  readonly signatureHeaderName = 'stripe-signature';
  /** Stripe: "data is searchable in less than a minute; occasionally up to an hour behind during outages". */
  readonly chargeLookupLagMs: number = 60 * 60_000;
  private readonly stripe: Stripe;
  private readonly webhookSecret: string;
  private readonly toleranceSeconds: number;
  private readonly clock: () => Date;

  constructor(options: StripeGatewayOptions) {
    const StripeSdk = stripeSdk();
    this.stripe = new StripeSdk(options.secretKey, {
      maxNetworkRetries: options.maxNetworkRetries ?? 2,
      timeout: options.timeoutMs ?? 30_000,
      telemetry: false,
      appInfo: { name: 'Folio' },
      ...apiBaseOptions(options.apiBase),
    });
    this.webhookSecret = options.webhookSecret;
    this.toleranceSeconds = options.webhookToleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
    this.clock = options.clock ?? (() => new Date());
  }

  async createCustomer(input: CreateCustomerInput): Promise<CreateCustomerResult> {
    checkCreateCustomerInput(input);
    try {
      const customer = await this.stripe.customers.create({ metadata: { folio_customer_id: input.reference } }, { idempotencyKey: input.idempotencyKey });
      return { customerRef: customer.id };
    } catch (err) {
      throw domainErrorOf(err, 'gateway customer');
    }
  }

  async saveCard(input: SaveCardInput): Promise<SaveCardResult> {
    checkSaveCardInput(input);
    let method: Stripe.PaymentMethod;
    try {
      method = await this.stripe.paymentMethods.attach(input.cardToken, { customer: input.customerRef }, { idempotencyKey: input.idempotencyKey });
    } catch (err) {
      // Stripe may check the card when it is attached: a decline here is a value, like a declined charge.
      if (err instanceof stripeSdk().errors.StripeCardError) return { status: 'declined', failureReason: err.decline_code || err.code || 'card_declined' };
      throw domainErrorOf(err, 'card token or gateway customer');
    }
    const card = method.card;
    if (method.type !== 'card' || !card) {
      throw new DomainError('validation_failed', 'the payment method is not a card', [{ path: 'cardToken', message: 'a card payment method' }]);
    }
    return { status: 'saved', methodRef: method.id, brand: card.brand, last4: card.last4, expMonth: card.exp_month, expYear: card.exp_year };
  }

  async charge(input: ChargeInput): Promise<ChargeResult> {
    checkChargeInput(input);
    const params: Stripe.PaymentIntentCreateParams = {
      amount: amountParam(input.amountMicros, input.currency),
      currency: input.currency.toLowerCase(),
      confirm: true,
      // Cards only, confirmed by the server: no redirect-based method, so no return_url.
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      description: input.description,
      metadata: input.metadata ?? {},
    };
    if (input.methodRef !== undefined) {
      params.customer = input.customerRef;
      params.payment_method = input.methodRef;
      params.off_session = true;
    } else {
      params.payment_method = input.cardToken;
      if (input.customerRef !== undefined) params.customer = input.customerRef;
      params.error_on_requires_action = true;
    }
    let intent: Stripe.PaymentIntent;
    try {
      intent = await this.stripe.paymentIntents.create(params, { idempotencyKey: input.idempotencyKey });
    } catch (err) {
      if (err instanceof stripeSdk().errors.StripeCardError) {
        const reason = err.decline_code || err.code || 'card_declined';
        return { status: failedStatus(reason), chargeRef: idOf(err.payment_intent), failureReason: reason };
      }
      if (err instanceof stripeSdk().errors.StripeInvalidRequestError && (err.code === 'amount_too_small' || err.code === 'amount_too_large')) {
        throw new DomainError('rule_violation', `the amount is outside what the gateway accepts for ${input.currency} (${err.code})`);
      }
      throw domainErrorOf(err, 'card token, saved card or gateway customer');
    }
    return chargeResultOf(intent);
  }

  /**
   * The PaymentIntent the charge under `idempotencyKey` created, found by the metadata entry it carried (Stripe cannot
   * look requests up by idempotency key). A confirmed-at-once intent is succeeded, processing (pending) or failed;
   * should several match (never expected: one key, one intent), a succeeded one wins, then a processing one.
   */
  async findCharge(input: FindChargeInput): Promise<FoundCharge | null> {
    checkFindChargeInput(input);
    const { key, value } = input.reference; // checked: letters, digits, _ (and - in the value): nothing to escape
    let found: Stripe.PaymentIntent[];
    try {
      const result = await this.stripe.paymentIntents.search({ query: `metadata['${key}']:'${value}'`, limit: 10 });
      found = result.data.filter((intent) => intent.metadata?.[key] === value);
    } catch (err) {
      throw domainErrorOf(err, 'charge');
    }
    const rank = (intent: Stripe.PaymentIntent) => (intent.status === 'succeeded' ? 0 : intent.status === 'processing' ? 1 : 2);
    const intent = found.sort((a, b) => rank(a) - rank(b))[0];
    if (!intent) return null;
    const currency = currencyOf(intent.currency);
    assert(currency, `PaymentIntent ${intent.id} is in ${intent.currency}, a currency Folio does not charge in`);
    const amountMicros = fromMinorUnits(BigInt(intent.amount), currency);
    switch (intent.status) {
      case 'succeeded':
        return { status: 'succeeded', chargeRef: intent.id, amountMicros: fromMinorUnits(BigInt(intent.amount_received || intent.amount), currency), currency };
      case 'processing':
        return { status: 'pending', chargeRef: intent.id, amountMicros, currency };
      case 'requires_payment_method':
      case 'requires_action':
      case 'canceled': {
        // As `charge` answers them: a card that asks for authentication is a decline (Folio has no 3-D Secure step).
        const reason = intent.status === 'requires_action' ? 'authentication_required'
          : intent.last_payment_error?.decline_code || intent.last_payment_error?.code || (intent.status === 'canceled' ? 'canceled' : 'payment_failed');
        return { status: 'failed', chargeRef: intent.id, amountMicros, currency, failureCode: failedStatus(reason), failureReason: reason };
      }
      default:
        // Never asked for (manual capture, manual confirmation): a broken assumption, left for someone to look at.
        assert.fail(`unexpected PaymentIntent status ${intent.status}`);
    }
  }

  async refund(input: RefundInput): Promise<RefundResult> {
    checkRefundInput(input);
    const amount = amountParam(input.amountMicros, input.currency);
    let intent: Stripe.PaymentIntent;
    try {
      intent = await this.stripe.paymentIntents.retrieve(input.chargeRef);
    } catch (err) {
      throw domainErrorOf(err, 'charge');
    }
    if (currencyOf(intent.currency) !== input.currency) {
      throw new DomainError('validation_failed', 'a refund is in the currency of its charge', [{ path: 'currency', message: `the charge is in ${intent.currency.toUpperCase()}` }]);
    }
    if (intent.status !== 'succeeded') throw new DomainError('state_conflict', `only a succeeded charge can be refunded; this one is ${intent.status}`);
    let refund: Stripe.Refund;
    try {
      refund = await this.stripe.refunds.create(
        { payment_intent: input.chargeRef, amount, ...(input.metadata ? { metadata: input.metadata } : {}) },
        { idempotencyKey: input.idempotencyKey },
      );
    } catch (err) {
      if (err instanceof stripeSdk().errors.StripeInvalidRequestError && (err.code === 'amount_too_large' || err.code === 'charge_already_refunded' || err.param === 'amount')) {
        throw new DomainError('rule_violation', 'the refund is more than what is left to refund on the charge');
      }
      throw domainErrorOf(err, 'charge');
    }
    return refundResultOf(refund);
  }

  async parseWebhook(rawBody: string | Uint8Array, signatureHeader: string | undefined): Promise<GatewayEvent> {
    if (signatureHeader === undefined || signatureHeader === '') throw badSignature('the webhook signature is missing');
    let event: Stripe.Event;
    try {
      event = this.stripe.webhooks.constructEvent(rawBody, signatureHeader, this.webhookSecret, this.toleranceSeconds, undefined, this.clock().getTime());
    } catch (err) {
      if (err instanceof stripeSdk().errors.StripeSignatureVerificationError) throw badSignature();
      if (err instanceof SyntaxError) throw new DomainError('malformed_request', 'the webhook body is not JSON');
      throw err;
    }
    return eventOf(event);
  }
}

function chargeResultOf(intent: Stripe.PaymentIntent): ChargeResult {
  switch (intent.status) {
    case 'succeeded':
      return { status: 'succeeded', chargeRef: intent.id };
    case 'processing':
      return { status: 'pending', chargeRef: intent.id };
    case 'requires_action':
      return { status: 'declined', chargeRef: intent.id, failureReason: 'authentication_required' };
    case 'requires_payment_method': {
      const reason = intent.last_payment_error?.decline_code || intent.last_payment_error?.code || 'payment_failed';
      return { status: failedStatus(reason), chargeRef: intent.id, failureReason: reason };
    }
    default:
      // Never asked for (manual capture, manual confirmation): a broken assumption, not a customer's problem.
      assert.fail(`unexpected PaymentIntent status ${intent.status}`);
  }
}

function refundResultOf(refund: Stripe.Refund): RefundResult {
  switch (refund.status) {
    case 'succeeded':
      return { status: 'succeeded', refundRef: refund.id };
    case 'failed':
    case 'canceled':
      return { status: 'failed', refundRef: refund.id, failureReason: refund.failure_reason ?? refund.status };
    default:
      return { status: 'pending', refundRef: refund.id };
  }
}

function eventOf(event: Stripe.Event): GatewayEvent {
  const base = { eventRef: event.id, occurredAt: new Date(event.created * 1000) };
  const ignored: GatewayEvent = { ...base, type: 'ignored', gatewayType: event.type };
  switch (event.type) {
    case 'payment_intent.succeeded': {
      const intent = event.data.object;
      const currency = currencyOf(intent.currency);
      if (!currency) return ignored;
      return {
        ...base, type: 'charge.succeeded', chargeRef: intent.id, amountMicros: fromMinorUnits(BigInt(intent.amount_received || intent.amount), currency),
        currency, metadata: { ...intent.metadata },
      };
    }
    case 'payment_intent.payment_failed': {
      const intent = event.data.object;
      const currency = currencyOf(intent.currency);
      if (!currency) return ignored;
      const reason = intent.last_payment_error?.decline_code || intent.last_payment_error?.code || 'payment_failed';
      return {
        ...base, type: 'charge.failed', chargeRef: intent.id, amountMicros: fromMinorUnits(BigInt(intent.amount), currency), currency,
        status: failedStatus(reason), failureReason: reason, metadata: { ...intent.metadata },
      };
    }
    case 'refund.created':
    case 'refund.updated':
    case 'refund.failed': {
      const refund = event.data.object;
      const currency = currencyOf(refund.currency);
      const chargeRef = idOf(refund.payment_intent);
      if (!currency || !chargeRef) return ignored;
      const common = { ...base, refundRef: refund.id, chargeRef, amountMicros: fromMinorUnits(BigInt(refund.amount), currency), currency };
      if (refund.status === 'succeeded') return { ...common, type: 'refund.succeeded' };
      if (refund.status === 'failed' || refund.status === 'canceled') return { ...common, type: 'refund.failed', failureReason: refund.failure_reason ?? refund.status };
      return ignored;
    }
    default:
      return ignored;
  }
}
