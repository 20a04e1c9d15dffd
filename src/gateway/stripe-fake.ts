import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { containsCardNumber } from './card-numbers.ts';
import { simulatedRef, type WebhookDelivery } from './gateway.ts';
import { signWebhook } from './webhook-signature.ts';

/**
 * TEST SUPPORT ONLY: a tiny local stand-in for the few Stripe endpoints the adapter calls, so that the Stripe adapter
 * is tested through the real SDK without reaching Stripe. Listens on 127.0.0.1 on a random port; form-encoded requests
 * like Stripe; answers JSON shaped like Stripe's objects and errors; honours `Idempotency-Key` (same key + same
 * request -> the first answer again, another request -> `idempotency_error`); signs webhook events like Stripe.
 *
 * Endpoints: POST /v1/customers, POST /v1/payment_methods/:id/attach, POST /v1/payment_intents,
 * GET /v1/payment_intents/:id, GET /v1/payment_intents/search (only `metadata['key']:'value'` queries), POST /v1/refunds.
 *
 * Test payment methods (Stripe's own test PaymentMethod ids, plus one only this fake knows):
 * - `pm_card_visa` succeeds; `pm_card_chargeDeclined` is declined (generic_decline);
 *   `pm_card_chargeDeclinedInsufficientFunds` is declined for insufficient_funds;
 * - `pm_card_fake_processing` (fake only: real Stripe card payments do not stay processing) answers `processing`
 *   and succeeds when the test calls `settleProcessing()`.
 * Every received request is kept in `requests` (with its raw body) so that tests can prove no card number was sent.
 */
type Outcome = 'success' | 'declined' | 'insufficient_funds' | 'processing';

export const FAKE_TEST_METHODS: Record<string, { outcome: Outcome; last4: string }> = {
  pm_card_visa: { outcome: 'success', last4: '4242' },
  pm_card_chargeDeclined: { outcome: 'declined', last4: '0002' },
  pm_card_chargeDeclinedInsufficientFunds: { outcome: 'insufficient_funds', last4: '9995' },
  pm_card_fake_processing: { outcome: 'processing', last4: '3220' },
};

export interface ReceivedRequest {
  method: string;
  path: string;
  idempotencyKey: string | undefined;
  body: string;
}

interface FakeMethod {
  id: string;
  customer: string | null;
  outcome: Outcome;
  last4: string;
}
interface FakeIntent {
  id: string;
  amount: number;
  currency: string;
  customer: string | null;
  paymentMethod: string;
  status: 'succeeded' | 'processing' | 'requires_payment_method';
  description: string | null;
  metadata: Record<string, string>;
  chargeId: string;
  refunded: number;
  lastError: { code: string; decline_code: string; message: string } | null;
  created: number;
}
interface Stored {
  fingerprint: string;
  status: number;
  body: string;
}
type Params = Record<string, unknown>;
type Reply = { status: number; body: unknown; cache: boolean };

function fakeId(prefix: string): string {
  return simulatedRef(`${prefix}_fake`);
}

/** `a[b][0]=x&a[c]=y` -> `{ a: { b: ['x'], c: 'y' } }`, as Stripe reads its form bodies. */
export function parseStripeForm(body: string): Params {
  const root: Params = {};
  for (const [rawKey, value] of new URLSearchParams(body)) {
    const parts = rawKey.split('[').map((p, i) => (i === 0 ? p : p.replace(/\]$/, '')));
    let node: Record<string, unknown> | unknown[] = root;
    parts.forEach((part, i) => {
      const last = i === parts.length - 1;
      const nextIsIndex = !last && /^\d*$/.test(parts[i + 1]!);
      const key = Array.isArray(node) ? (part === '' ? node.length : Number(part)) : part;
      const container = node as Record<string | number, unknown>;
      if (last) container[key] = value;
      else {
        container[key] ??= nextIsIndex ? [] : {};
        node = container[key] as Record<string, unknown> | unknown[];
      }
    });
  }
  return root;
}

function stripeError(status: number, type: string, message: string, extra: Record<string, unknown> = {}): Reply {
  return { status, body: { error: { type, message, ...extra } }, cache: status === 402 };
}

export class StripeFake {
  readonly secretKey: string;
  readonly webhookSecret: string;
  readonly requests: ReceivedRequest[] = [];
  private readonly server: http.Server;
  private readonly customers = new Map<string, { id: string; metadata: Record<string, string> }>();
  private readonly methods = new Map<string, FakeMethod>();
  private readonly intents = new Map<string, FakeIntent>();
  private readonly refunds = new Map<string, { id: string; amount: number; currency: string; paymentIntent: string; created: number }>();
  private readonly idempotency = new Map<string, Stored>();
  private readonly events: string[] = [];
  private port = 0;
  /** While true, search finds nothing (Stripe's search index lags behind its writes). */
  searchLags = false;

  private constructor(secretKey: string, webhookSecret: string) {
    this.secretKey = secretKey;
    this.webhookSecret = webhookSecret;
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const reply = this.handle(req, body);
        res.writeHead(reply.status, { 'content-type': 'application/json', 'request-id': fakeId('req'), ...reply.headers });
        res.end(reply.body);
      });
    });
  }

  /** Start a fake on 127.0.0.1 with a random free port. */
  static async start(options: { secretKey?: string; webhookSecret?: string } = {}): Promise<StripeFake> {
    const fake = new StripeFake(options.secretKey ?? 'sk_test_folio_fake', options.webhookSecret ?? 'whsec_folio_fake');
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.port = (fake.server.address() as AddressInfo).port;
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** PaymentIntents created (idempotent replays create none). */
  get paymentIntentCount(): number {
    return this.intents.size;
  }

  get refundCount(): number {
    return this.refunds.size;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((err) => (err ? reject(err) : resolve())));
  }

  /** Settle every processing PaymentIntent (it succeeds), emitting `payment_intent.succeeded`. */
  settleProcessing(): number {
    let settled = 0;
    for (const intent of this.intents.values()) {
      if (intent.status !== 'processing') continue;
      intent.status = 'succeeded';
      this.emit('payment_intent.succeeded', this.intentJson(intent));
      settled++;
    }
    return settled;
  }

  /** The webhook events emitted so far (and forget them), each signed as Stripe would at `nowMs`. */
  takeEvents(nowMs = Date.now()): WebhookDelivery[] {
    const taken = this.events.splice(0);
    return taken.map((rawBody) => ({ rawBody, signatureHeader: signWebhook(rawBody, this.webhookSecret, Math.floor(nowMs / 1000)) }));
  }

  private handle(req: http.IncomingMessage, body: string): { status: number; body: string; headers?: Record<string, string> } {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const idempotencyKey = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : undefined;
    this.requests.push({ method, path: url.pathname, idempotencyKey, body });

    const json = (r: Reply) => ({ status: r.status, body: JSON.stringify(r.body) });
    if (req.headers.authorization !== `Bearer ${this.secretKey}`) {
      return json(stripeError(401, 'invalid_request_error', 'Invalid API Key provided.'));
    }
    if ([...new URLSearchParams(body)].some(([key, value]) => /(^|\[)number\]?$/.test(key) || containsCardNumber(value))) {
      return json(stripeError(400, 'invalid_request_error', 'Sending card numbers directly to the API is unsafe and refused by this fake.'));
    }
    if (method === 'GET') {
      if (url.pathname === '/v1/payment_intents/search') return json(this.search(url.searchParams));
      const m = /^\/v1\/payment_intents\/([^/]+)$/.exec(url.pathname);
      if (m) {
        const intent = this.intents.get(m[1]!);
        return json(intent ? { status: 200, body: this.intentJson(intent), cache: false } : this.missing('payment_intent', m[1]!));
      }
      return json(stripeError(404, 'invalid_request_error', `Unrecognized request URL (GET: ${url.pathname}).`));
    }
    if (method !== 'POST') return json(stripeError(405, 'invalid_request_error', 'Method not allowed.'));
    if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
      return json(stripeError(400, 'invalid_request_error', 'Expected a form-encoded body.'));
    }

    const fingerprint = createHash('sha256').update(`${url.pathname}\n${body}`).digest('hex');
    if (idempotencyKey !== undefined) {
      const stored = this.idempotency.get(idempotencyKey);
      if (stored) {
        if (stored.fingerprint !== fingerprint) {
          return json(stripeError(400, 'idempotency_error', 'Keys for idempotent requests can only be used with the same parameters they were first used with.'));
        }
        return { status: stored.status, body: stored.body, headers: { 'idempotent-replayed': 'true' } };
      }
    }
    const reply = this.post(url.pathname, parseStripeForm(body));
    const out = json(reply);
    if (idempotencyKey !== undefined && (reply.status === 200 || reply.cache)) this.idempotency.set(idempotencyKey, { fingerprint, ...out });
    return out;
  }

  private post(path: string, params: Params): Reply {
    if (path === '/v1/customers') {
      const customer = { id: fakeId('cus'), metadata: (params.metadata ?? {}) as Record<string, string> };
      this.customers.set(customer.id, customer);
      return { status: 200, body: { ...customer, object: 'customer', created: now(), livemode: false }, cache: false };
    }
    const attach = /^\/v1\/payment_methods\/([^/]+)\/attach$/.exec(path);
    if (attach) return this.attach(attach[1]!, params);
    if (path === '/v1/payment_intents') return this.createIntent(params);
    if (path === '/v1/refunds') return this.createRefund(params);
    return stripeError(404, 'invalid_request_error', `Unrecognized request URL (POST: ${path}).`);
  }

  private attach(id: string, params: Params): Reply {
    const customerId = params.customer;
    if (typeof customerId !== 'string' || !this.customers.has(customerId)) return this.missing('customer', String(customerId));
    const test = FAKE_TEST_METHODS[id];
    if (!test) return this.missing('payment_method', id, 'payment_method');
    // As Stripe does with its test PaymentMethods: attaching makes a new PaymentMethod on the customer.
    const method: FakeMethod = { id: fakeId('pm'), customer: customerId, outcome: test.outcome, last4: test.last4 };
    this.methods.set(method.id, method);
    return { status: 200, body: this.methodJson(method), cache: false };
  }

  private createIntent(params: Params): Reply {
    const amount = Number(params.amount);
    const currency = params.currency;
    if (!Number.isSafeInteger(amount) || amount <= 0 || String(amount) !== params.amount) {
      return stripeError(400, 'invalid_request_error', 'Invalid positive integer', { param: 'amount' });
    }
    if (amount > 99_999_999) return stripeError(400, 'invalid_request_error', 'Amount must be no more than 99999999', { param: 'amount', code: 'amount_too_large' });
    if (typeof currency !== 'string' || !/^[a-z]{3}$/.test(currency)) return stripeError(400, 'invalid_request_error', 'Invalid currency', { param: 'currency' });
    if (params.confirm !== 'true') return stripeError(400, 'invalid_request_error', 'This fake only creates and confirms at once (confirm=true).', { param: 'confirm' });
    const pmId = params.payment_method;
    if (typeof pmId !== 'string') return stripeError(400, 'invalid_request_error', 'A payment_method is required.', { param: 'payment_method' });
    const customer = typeof params.customer === 'string' ? params.customer : null;
    if (customer !== null && !this.customers.has(customer)) return this.missing('customer', customer, 'customer');
    if (params.off_session === 'true' && customer === null) {
      return stripeError(400, 'invalid_request_error', 'off_session requires a customer.', { param: 'off_session' });
    }
    let outcome: Outcome;
    const saved = this.methods.get(pmId);
    if (saved) {
      if (saved.customer !== customer) {
        return stripeError(400, 'invalid_request_error', 'The provided PaymentMethod belongs to another Customer or needs one.', { param: 'payment_method' });
      }
      outcome = saved.outcome;
    } else {
      const test = FAKE_TEST_METHODS[pmId];
      if (!test) return this.missing('payment_method', pmId, 'payment_method');
      outcome = test.outcome;
    }
    const intent: FakeIntent = {
      id: fakeId('pi'), amount, currency, customer, paymentMethod: pmId,
      status: outcome === 'success' ? 'succeeded' : outcome === 'processing' ? 'processing' : 'requires_payment_method',
      description: typeof params.description === 'string' ? params.description : null,
      metadata: (params.metadata ?? {}) as Record<string, string>,
      chargeId: fakeId('ch'), refunded: 0, lastError: null, created: now(),
    };
    if (outcome === 'declined' || outcome === 'insufficient_funds') {
      const declineCode = outcome === 'declined' ? 'generic_decline' : 'insufficient_funds';
      const message = outcome === 'declined' ? 'Your card was declined.' : 'Your card has insufficient funds.';
      intent.lastError = { code: 'card_declined', decline_code: declineCode, message };
    }
    this.intents.set(intent.id, intent);
    const json = this.intentJson(intent);
    if (intent.status === 'succeeded') this.emit('payment_intent.succeeded', json);
    if (intent.lastError) {
      this.emit('payment_intent.payment_failed', json);
      return stripeError(402, 'card_error', intent.lastError.message, {
        code: 'card_declined', decline_code: intent.lastError.decline_code, charge: intent.chargeId, payment_intent: json,
      });
    }
    return { status: 200, body: json, cache: false };
  }

  private createRefund(params: Params): Reply {
    const piId = params.payment_intent;
    if (typeof piId !== 'string') return stripeError(400, 'invalid_request_error', 'A payment_intent is required.', { param: 'payment_intent' });
    const intent = this.intents.get(piId);
    if (!intent) return this.missing('payment_intent', piId, 'payment_intent');
    if (intent.status !== 'succeeded') {
      return stripeError(400, 'invalid_request_error', 'This PaymentIntent does not have a successful charge to refund.', { param: 'payment_intent' });
    }
    const left = intent.amount - intent.refunded;
    if (left === 0) return stripeError(400, 'invalid_request_error', `Charge ${intent.chargeId} has already been refunded.`, { code: 'charge_already_refunded' });
    const amount = params.amount === undefined ? left : Number(params.amount);
    if (!Number.isSafeInteger(amount) || amount <= 0) return stripeError(400, 'invalid_request_error', 'Invalid positive integer', { param: 'amount' });
    if (amount > left) {
      return stripeError(400, 'invalid_request_error', `Refund amount (${amount}) is greater than unrefunded amount on charge (${left})`, {
        param: 'amount', code: 'amount_too_large',
      });
    }
    intent.refunded += amount;
    const refund = { id: fakeId('re'), amount, currency: intent.currency, paymentIntent: intent.id, created: now() };
    this.refunds.set(refund.id, refund);
    const json = {
      id: refund.id, object: 'refund', amount, currency: refund.currency, payment_intent: intent.id, charge: intent.chargeId,
      status: 'succeeded', metadata: params.metadata ?? {}, created: refund.created,
    };
    this.emit('refund.created', json);
    return { status: 200, body: json, cache: false };
  }

  private search(params: URLSearchParams): Reply {
    const query = /^metadata\['([A-Za-z0-9_]+)'\]:'([^'\\]*)'$/.exec(params.get('query') ?? '');
    if (!query) return stripeError(400, 'invalid_request_error', 'This fake searches only by one metadata entry.', { param: 'query' });
    const limit = Number(params.get('limit') ?? 10);
    const [, key, value] = query;
    const data = this.searchLags ? [] : [...this.intents.values()].filter((i) => i.metadata[key!] === value).slice(0, limit).map((i) => this.intentJson(i));
    return { status: 200, body: { object: 'search_result', url: '/v1/payment_intents/search', has_more: false, next_page: null, data }, cache: false };
  }

  private missing(object: string, id: string, param?: string): Reply {
    return stripeError(param ? 400 : 404, 'invalid_request_error', `No such ${object}: '${id}'`, { code: 'resource_missing', ...(param ? { param } : {}) });
  }

  private methodJson(method: FakeMethod) {
    return {
      id: method.id, object: 'payment_method', type: 'card', customer: method.customer, created: now(), livemode: false, metadata: {},
      card: { brand: 'visa', last4: method.last4, exp_month: 12, exp_year: 2034, funding: 'credit', country: 'US' },
    };
  }

  private intentJson(intent: FakeIntent) {
    return {
      id: intent.id, object: 'payment_intent', amount: intent.amount, amount_received: intent.status === 'succeeded' ? intent.amount : 0,
      currency: intent.currency, customer: intent.customer, payment_method: intent.paymentMethod, status: intent.status,
      description: intent.description, metadata: intent.metadata, latest_charge: intent.chargeId, created: intent.created, livemode: false,
      last_payment_error: intent.lastError ? { type: 'card_error', ...intent.lastError } : null,
    };
  }

  private emit(type: string, object: unknown): void {
    this.events.push(JSON.stringify({ id: fakeId('evt'), object: 'event', api_version: '2026-10-28.endive', created: now(), type, livemode: false, data: { object } }, null, 2));
  }
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}
