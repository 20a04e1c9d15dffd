import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { type Currency, isWholeMinorUnits, microsPerMinorUnit } from '../money/money.ts';
import { DomainError, type FieldError } from '../platform/errors.ts';
import { containsCardNumber } from './card-numbers.ts';

/**
 * The card gateway, behind one interface with two adapters: `sandbox` (a local simulator with documented test cards,
 * the default, docs/test-cards.md) and `stripe` (the official SDK). Chosen by `GATEWAY` (gateway-config.ts).
 *
 * Rules every adapter keeps:
 * - Amounts cross this interface as bigint micros + ISO currency; the adapter converts to the gateway's minor units
 *   and asserts the amount is a whole number of them (round with `roundToMinorUnit` before charging).
 * - Every call that moves money or creates something takes an idempotency key: the same key with the same request
 *   answers the first result again and never charges twice; the same key with another request is refused
 *   (`idempotency_key_reused`). A declined attempt answered under a key stays declined under that key: a new
 *   attempt needs a new key.
 * - Outcomes the caller branches on (declined, insufficient funds, pending) are values (`status`), never exceptions.
 *   Broken input is a DomainError; a broken invariant (an amount that is not whole minor units) is an assertion.
 * - Card numbers never reach the server: the browser turns a card into a token (Stripe.js, or the sandbox's test-card
 *   table), and only tokens and the gateway's references are sent, stored or logged. Text that looks like a card
 *   number (a Luhn-valid run of 13-19 digits) is refused in every field, without echoing it.
 * - A `pending` charge settles later: the gateway reports it as a webhook event (`charge.succeeded` / `charge.failed`)
 *   read with `parseWebhook`. Events may arrive more than once and out of order: handle them idempotently by
 *   `eventRef` and by the charge's or refund's reference.
 */
export interface Gateway {
  readonly name: 'sandbox' | 'stripe';
  /** The HTTP header that carries a webhook's signature (`stripe-signature`, `folio-sandbox-signature`). */
  readonly signatureHeaderName: string;
  /** A customer at the gateway, to save cards on. `reference` is Folio's customer id (kept as the gateway's metadata). */
  createCustomer(input: CreateCustomerInput): Promise<CreateCustomerResult>;
  /** Save a card (a token from the browser) on a gateway customer, for charges without the customer present. */
  saveCard(input: SaveCardInput): Promise<SaveCardResult>;
  /** Charge a saved card (customerRef + methodRef, off-session: renewals, auto top-up) or a one-off card token. */
  charge(input: ChargeInput): Promise<ChargeResult>;
  /**
   * What the gateway knows now of the charge requested under `idempotencyKey` (read-only; nothing is charged): the
   * charge whose answer Folio may have lost (a crash, a timeout). `reference` is a metadata entry that request carried
   * and that names it alone (an invoice payment: `invoicePaymentAttemptId`), for gateways that look charges up by
   * metadata rather than by key (Stripe). Null when the gateway has no such charge: the request never reached it (or,
   * for a charge younger than `chargeLookupLagMs`, it may not be visible yet). A gateway error propagates.
   */
  findCharge(input: FindChargeInput): Promise<FoundCharge | null>;
  /**
   * How long a charge may take to become visible to `findCharge` (Stripe's search index: under a minute normally, up
   * to an hour during its outages; the sandbox reads its own tables: 0). A null answer proves nothing was charged only
   * for a request made longer ago than this.
   */
  readonly chargeLookupLagMs: number;
  /** Refund all or part of a succeeded charge. More than what is left to refund is a DomainError (`rule_violation`). */
  refund(input: RefundInput): Promise<RefundResult>;
  /**
   * Check a webhook's signature (and its age) and read it into a typed event. A missing, bad or stale signature is a
   * DomainError (`webhook_signature_invalid`). Events Folio does not use come back as `{ type: 'ignored' }`.
   */
  parseWebhook(rawBody: string | Uint8Array, signatureHeader: string | undefined): Promise<GatewayEvent>;
  /**
   * The sandbox only (Stripe sends its webhooks itself): settle delayed charges that are due and hand every due
   * event to `deliver`, signed as a webhook, as a worker would. Returns how many were delivered.
   */
  deliverDueEvents?(deliver: (delivery: WebhookDelivery) => Promise<void>, options?: { now?: Date; limit?: number }): Promise<number>;
}

export interface CreateCustomerInput {
  /** Folio's customer id; never a name or an email. */
  reference: string;
  idempotencyKey: string;
}
export interface CreateCustomerResult {
  customerRef: string;
}

export interface SaveCardInput {
  customerRef: string;
  /** A token from the browser: a sandbox test token, or a Stripe PaymentMethod id (`pm_...`). Never a card number. */
  cardToken: string;
  idempotencyKey: string;
}
export interface SavedCard {
  methodRef: string;
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
}
export type SaveCardResult = ({ status: 'saved' } & SavedCard) | { status: 'declined'; failureReason: string };

export type ChargeStatus = 'succeeded' | 'declined' | 'insufficient_funds' | 'pending';

interface ChargeBase {
  /** Positive, whole minor units of `currency` (asserted). */
  amountMicros: bigint;
  currency: Currency;
  idempotencyKey: string;
  /** Shown in the gateway's dashboard; at most 500 characters. */
  description: string;
  /** Folio's references (e.g. `{ topUpId }`), echoed in the charge's webhook events. At most 20 keys. */
  metadata?: Record<string, string>;
}
/** A saved card, charged without the customer present (renewal by card, auto top-up). */
export interface SavedCardCharge extends ChargeBase {
  customerRef: string;
  methodRef: string;
  cardToken?: never;
}
/** A card token from the browser, charged with the customer present (portal top-up, paying an invoice). */
export interface TokenCharge extends ChargeBase {
  cardToken: string;
  customerRef?: string;
  methodRef?: never;
}
export type ChargeInput = SavedCardCharge | TokenCharge;

export type ChargeResult =
  | { status: 'succeeded' | 'pending'; chargeRef: string }
  | {
    status: 'declined' | 'insufficient_funds';
    /** The gateway's record of the failed attempt, when it made one. */
    chargeRef: string | null;
    /** The gateway's decline code, e.g. `generic_decline`, `insufficient_funds`, `authentication_required`. */
    failureReason: string;
  };

export interface FindChargeInput {
  idempotencyKey: string;
  /** A metadata entry of the charge request (`key` as in ChargeInput.metadata; `value` a reference: letters, digits, _ and -). */
  reference: { key: string; value: string };
}

/** A charge as the gateway knows it now: settled, still pending (a delayed card), or failed (no money moved). */
export type FoundCharge =
  | { status: 'succeeded' | 'pending'; chargeRef: string; amountMicros: bigint; currency: Currency }
  | {
    status: 'failed';
    /** The gateway's record of the failed attempt, when it made one. */
    chargeRef: string | null;
    amountMicros: bigint;
    currency: Currency;
    failureCode: 'declined' | 'insufficient_funds';
    /** The gateway's decline code, e.g. `generic_decline`. */
    failureReason: string;
  };

export interface RefundInput {
  chargeRef: string;
  /** Positive, whole minor units; at most what is left to refund on the charge. */
  amountMicros: bigint;
  /** Must be the charge's currency. */
  currency: Currency;
  idempotencyKey: string;
  metadata?: Record<string, string>;
}
export type RefundResult =
  | { status: 'succeeded' | 'pending'; refundRef: string }
  | { status: 'failed'; refundRef: string; failureReason: string };

/** A webhook as received: the raw body and the signature header, exactly as sent. */
export interface WebhookDelivery {
  rawBody: string;
  signatureHeader: string;
}

interface EventBase {
  /** The gateway's event id: deduplicate on it. */
  eventRef: string;
  occurredAt: Date;
}
export type GatewayEvent =
  | (EventBase & { type: 'charge.succeeded'; chargeRef: string; amountMicros: bigint; currency: Currency; metadata: Record<string, string> })
  | (EventBase & {
    type: 'charge.failed';
    chargeRef: string;
    amountMicros: bigint;
    currency: Currency;
    status: 'declined' | 'insufficient_funds';
    failureReason: string;
    metadata: Record<string, string>;
  })
  | (EventBase & { type: 'refund.succeeded'; refundRef: string; chargeRef: string; amountMicros: bigint; currency: Currency })
  | (EventBase & { type: 'refund.failed'; refundRef: string; chargeRef: string; amountMicros: bigint; currency: Currency; failureReason: string })
  | (EventBase & { type: 'ignored'; gatewayType: string });

// ---- Helpers shared by the adapters ----

/**
 * The most one charge carries, in the currency's minor unit: Stripe's limit (99,999,999: 999,999.99 SGD). The sandbox
 * refuses more as Stripe does, so the product behaves the same offline; top-ups are bounded by it at the edge.
 */
export const MAX_CHARGE_MINOR = 99_999_999n;

/** A charge above MAX_CHARGE_MINOR: what both adapters answer (422), before anything is charged. */
export function amountTooLarge(currency: Currency): DomainError {
  return new DomainError('rule_violation', `the amount is outside what the gateway accepts for ${currency} (amount_too_large)`);
}

/** Micros -> the gateway's minor units. Asserts a positive, whole number of minor units (callers round first). */
export function toMinorUnits(amountMicros: bigint, currency: Currency): bigint {
  assert(amountMicros > 0n, 'a gateway amount is positive');
  assert(isWholeMinorUnits(amountMicros, currency), `a gateway amount is a whole number of ${currency} minor units (round with roundToMinorUnit first)`);
  return amountMicros / microsPerMinorUnit(currency);
}

export function fromMinorUnits(minor: bigint, currency: Currency): bigint {
  return minor * microsPerMinorUnit(currency);
}

const MAX_KEY_LENGTH = 255;
const MAX_DESCRIPTION = 500;
const MAX_METADATA_KEYS = 20;
const MAX_METADATA_KEY = 40;
const MAX_METADATA_VALUE = 500;
const REF = /^[A-Za-z0-9_-]{1,255}$/;

/** Collects field errors and throws one `validation_failed` naming each field. Messages never repeat the values. */
export class InputCheck {
  private readonly errors: FieldError[] = [];

  idempotencyKey(value: string): this {
    if (typeof value !== 'string' || value.length === 0 || value.length > MAX_KEY_LENGTH) this.fail('idempotencyKey', `1 to ${MAX_KEY_LENGTH} characters`);
    else this.noCardNumber('idempotencyKey', value);
    return this;
  }

  /** A gateway reference or token: letters, digits, `_` and `-`. A card number is refused without being echoed. */
  ref(path: string, value: string | undefined, required = true): this {
    if (value === undefined) {
      if (required) this.fail(path, 'required');
    } else if (typeof value !== 'string' || containsCardNumber(value)) {
      this.cardNumber(path, value);
    } else if (!REF.test(value)) {
      this.fail(path, 'a gateway reference (letters, digits, _ and -)');
    }
    return this;
  }

  text(path: string, value: string, max = MAX_DESCRIPTION): this {
    if (typeof value !== 'string' || value.length > max) this.fail(path, `at most ${max} characters`);
    else this.noCardNumber(path, value);
    return this;
  }

  metadata(value: Record<string, string> | undefined): this {
    if (value === undefined) return this;
    const entries = Object.entries(value);
    if (entries.length > MAX_METADATA_KEYS) this.fail('metadata', `at most ${MAX_METADATA_KEYS} keys`);
    for (const [key, v] of entries) {
      if (!/^[A-Za-z0-9_]{1,40}$/.test(key)) this.fail('metadata', `keys are 1 to ${MAX_METADATA_KEY} letters, digits or _`);
      else if (typeof v !== 'string' || v.length > MAX_METADATA_VALUE) this.fail(`metadata.${key}`, `a string of at most ${MAX_METADATA_VALUE} characters`);
      else this.noCardNumber(`metadata.${key}`, v);
    }
    return this;
  }

  fail(path: string, message: string): this {
    this.errors.push({ path, message });
    return this;
  }

  throwIfAny(): void {
    if (this.errors.length > 0) {
      throw new DomainError('validation_failed', `invalid gateway request: ${this.errors.map((e) => e.path).join(', ')}`, this.errors);
    }
  }

  private noCardNumber(path: string, value: string): void {
    if (containsCardNumber(value)) this.cardNumber(path, value);
  }

  private cardNumber(path: string, _value: unknown): void {
    this.fail(path, 'looks like a card number: send a gateway token, never the card number');
  }
}

/** The checks every adapter runs on a charge before anything is sent or stored. */
export function checkChargeInput(input: ChargeInput): void {
  const check = new InputCheck().idempotencyKey(input.idempotencyKey).text('description', input.description).metadata(input.metadata);
  const saved = input.methodRef !== undefined;
  const token = input.cardToken !== undefined;
  if (saved === token) check.fail('cardToken', 'exactly one of methodRef (with customerRef) or cardToken');
  if (saved) check.ref('customerRef', input.customerRef).ref('methodRef', input.methodRef);
  if (token) check.ref('cardToken', input.cardToken).ref('customerRef', input.customerRef, false);
  check.throwIfAny();
}

export function checkFindChargeInput(input: FindChargeInput): void {
  const check = new InputCheck().idempotencyKey(input.idempotencyKey).ref('reference.value', input.reference?.value);
  if (typeof input.reference?.key !== 'string' || !/^[A-Za-z0-9_]{1,40}$/.test(input.reference.key)) check.fail('reference.key', `1 to ${MAX_METADATA_KEY} letters, digits or _`);
  check.throwIfAny();
}

export function checkRefundInput(input: RefundInput): void {
  new InputCheck().idempotencyKey(input.idempotencyKey).ref('chargeRef', input.chargeRef).metadata(input.metadata).throwIfAny();
}

export function checkSaveCardInput(input: SaveCardInput): void {
  new InputCheck().idempotencyKey(input.idempotencyKey).ref('customerRef', input.customerRef).ref('cardToken', input.cardToken).throwIfAny();
}

export function checkCreateCustomerInput(input: CreateCustomerInput): void {
  new InputCheck().idempotencyKey(input.idempotencyKey).ref('reference', input.reference).throwIfAny();
}

const REF_ALPHABET = 'abcdefghjkmnpqrstvwxyz0123456789';

/**
 * A random reference for a simulated gateway object (`ch_sbx_...`), 20 characters of a 32-letter alphabet: mostly
 * letters, so that a reference never reads as a card number.
 */
export function simulatedRef(prefix: string): string {
  let out = '';
  for (const byte of randomBytes(20)) out += REF_ALPHABET[byte % 32]!;
  return `${prefix}_${out}`;
}

export function badSignature(detail = 'the webhook signature is missing, wrong or too old'): DomainError {
  return new DomainError('webhook_signature_invalid', detail);
}
