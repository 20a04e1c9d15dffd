import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { z } from 'zod';
import { CURRENCY_CODES, type Currency } from '../money/money.ts';
import type { Db, Trx } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import {
  amountTooLarge, MAX_CHARGE_MINOR,
  badSignature, checkChargeInput, checkCreateCustomerInput, checkFindChargeInput, checkRefundInput, checkSaveCardInput, fromMinorUnits, simulatedRef, toMinorUnits,
  type ChargeInput, type ChargeResult, type CreateCustomerInput, type CreateCustomerResult, type FindChargeInput, type FoundCharge,
  type Gateway, type GatewayEvent, type RefundInput, type RefundResult, type SaveCardInput, type SaveCardResult, type WebhookDelivery,
} from './gateway.ts';
import { sandboxCardByToken, type SandboxOutcome } from './test-cards.ts';
import { checkWebhookSignature, DEFAULT_TOLERANCE_SECONDS, signWebhook } from './webhook-signature.ts';

/**
 * The sandbox gateway: a local card processor simulator, the default, so that the whole product works offline.
 * It accepts only its documented test tokens (test-cards.ts, docs/test-cards.md), keeps its state in PostgreSQL
 * (migration 0011: the API server charges, the worker settles) and honours idempotency keys like a real gateway.
 *
 * Events: like Stripe, every final outcome (a charge succeeded or failed, a refund succeeded) becomes a webhook event,
 * queued in `gateway_sandbox_events`. A delayed test card answers `pending`; `deliverDueEvents` (called by the worker,
 * or by a test with a `now` in the future) settles the charges whose delay has passed and hands each due event,
 * signed like a Stripe webhook (`folio-sandbox-signature: t=...,v1=...`), to the same code that handles webhooks.
 */
export interface SandboxGatewayOptions {
  /** The app's database (the `folio_app` role is enough). */
  db: Db;
  /** Key the sandbox signs its webhook events with. */
  webhookSecret: string;
  /** How long a delayed test card stays `pending` before it settles. */
  settleAfterMs: number;
  webhookToleranceSeconds?: number;
  /** The time, for tests. */
  clock?: () => Date;
}

type Operation = 'create_customer' | 'save_card' | 'charge' | 'refund';
type EventType = 'charge.succeeded' | 'charge.failed' | 'refund.succeeded';

const STATUS_AT_CHARGE: Record<SandboxOutcome, ChargeResult['status']> = {
  success: 'succeeded', declined: 'declined', insufficient_funds: 'insufficient_funds', delayed: 'pending', delayed_insufficient_funds: 'pending',
};
const FAILURE_OF: Record<'declined' | 'insufficient_funds', string> = { declined: 'generic_decline', insufficient_funds: 'insufficient_funds' };
const RETRY_DELAYS_MS = [5_000, 30_000, 120_000, 600_000, 3_600_000];

function sandboxRef(prefix: 'cus' | 'pm' | 'ch' | 're' | 'evt'): string {
  return simulatedRef(`${prefix}_sbx`);
}

/** JSON with sorted keys and bigints as strings: the fingerprint of a request. */
function canonicalJson(value: unknown): string {
  if (typeof value === 'bigint') return JSON.stringify(value.toString());
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

function unknownToken(): DomainError {
  return new DomainError('validation_failed', 'unknown card token: the sandbox accepts only its test tokens (docs/test-cards.md)', [
    { path: 'cardToken', message: 'a sandbox test token' },
  ]);
}

const currencySchema = z.enum(CURRENCY_CODES as [Currency, ...Currency[]]);
const minorSchema = z.string().regex(/^\d{1,18}$/);
const eventSchema = z.object({
  id: z.string(),
  object: z.literal('event'),
  created: z.number().int(),
  type: z.string(),
  data: z.unknown(),
});
const chargeDataSchema = z.object({
  chargeRef: z.string(),
  amountMinor: minorSchema,
  currency: currencySchema,
  metadata: z.record(z.string(), z.string()),
});
const chargeFailedDataSchema = chargeDataSchema.extend({
  status: z.enum(['declined', 'insufficient_funds']),
  failureReason: z.string(),
});
const refundDataSchema = z.object({ refundRef: z.string(), chargeRef: z.string(), amountMinor: minorSchema, currency: currencySchema });

export class SandboxGateway implements Gateway {
  readonly name = 'sandbox' as const;
  readonly signatureHeaderName = 'folio-sandbox-signature';
  /** The sandbox reads its own tables: a charge is visible once its request committed. */
  readonly chargeLookupLagMs: number = 0;
  private readonly db: Db;
  private readonly webhookSecret: string;
  private readonly settleAfterMs: number;
  private readonly toleranceSeconds: number;
  private readonly clock: () => Date;

  constructor(options: SandboxGatewayOptions) {
    this.db = options.db;
    this.webhookSecret = options.webhookSecret;
    this.settleAfterMs = options.settleAfterMs;
    this.toleranceSeconds = options.webhookToleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
    this.clock = options.clock ?? (() => new Date());
  }

  async createCustomer(input: CreateCustomerInput): Promise<CreateCustomerResult> {
    checkCreateCustomerInput(input);
    return this.once('create_customer', input.idempotencyKey, { reference: input.reference }, async (trx) => {
      const customerRef = sandboxRef('cus');
      await trx.insertInto('gatewaySandboxCustomers').values({ id: customerRef, reference: input.reference }).execute();
      return { customerRef };
    });
  }

  async saveCard(input: SaveCardInput): Promise<SaveCardResult> {
    checkSaveCardInput(input);
    const card = sandboxCardByToken(input.cardToken);
    if (!card) throw unknownToken();
    return this.once('save_card', input.idempotencyKey, { customerRef: input.customerRef, cardToken: input.cardToken }, async (trx) => {
      await this.requireCustomer(trx, input.customerRef);
      const methodRef = sandboxRef('pm');
      await trx
        .insertInto('gatewaySandboxCards')
        .values({ id: methodRef, customerId: input.customerRef, outcome: card.outcome, brand: card.brand, last4: card.last4, expMonth: card.expMonth, expYear: card.expYear })
        .execute();
      // Saving a card always succeeds here; the outcome shows when it is charged.
      return { status: 'saved', methodRef, brand: card.brand, last4: card.last4, expMonth: card.expMonth, expYear: card.expYear };
    });
  }

  async charge(input: ChargeInput): Promise<ChargeResult> {
    checkChargeInput(input);
    const amountMinor = toMinorUnits(input.amountMicros, input.currency);
    if (amountMinor > MAX_CHARGE_MINOR) throw amountTooLarge(input.currency);
    let tokenOutcome: SandboxOutcome | null = null;
    if (input.cardToken !== undefined) {
      const card = sandboxCardByToken(input.cardToken);
      if (!card) throw unknownToken();
      tokenOutcome = card.outcome;
    }
    const { idempotencyKey, ...request } = input;
    return this.once('charge', idempotencyKey, request, async (trx, now) => {
      let outcome: SandboxOutcome;
      let cardId: string | null = null;
      let customerId: string | null = null;
      if (input.methodRef !== undefined) {
        const card = await trx
          .selectFrom('gatewaySandboxCards').select(['id', 'outcome'])
          .where('id', '=', input.methodRef).where('customerId', '=', input.customerRef)
          .executeTakeFirst();
        if (!card) throw notFound('saved card');
        outcome = card.outcome;
        cardId = card.id;
        customerId = input.customerRef;
      } else {
        outcome = tokenOutcome!;
        if (input.customerRef !== undefined) {
          await this.requireCustomer(trx, input.customerRef);
          customerId = input.customerRef;
        }
      }
      const chargeRef = sandboxRef('ch');
      const metadata = input.metadata ?? {};
      const status = STATUS_AT_CHARGE[outcome];
      const delayed = status === 'pending';
      const failureReason = status === 'declined' || status === 'insufficient_funds' ? FAILURE_OF[status] : null;
      await trx
        .insertInto('gatewaySandboxCharges')
        .values({
          id: chargeRef, customerId, cardId, outcome, status, failureReason, amountMinor, currency: input.currency,
          description: input.description, metadata: JSON.stringify(metadata),
          settleAt: delayed ? new Date(now.getTime() + this.settleAfterMs) : null, updatedAt: now,
        })
        .execute();
      const data = { chargeRef, amountMinor: amountMinor.toString(), currency: input.currency, metadata };
      if (status === 'succeeded') {
        await this.queueEvent(trx, now, 'charge.succeeded', data);
        return { status, chargeRef };
      }
      if (status === 'pending') return { status, chargeRef };
      await this.queueEvent(trx, now, 'charge.failed', { ...data, status, failureReason });
      return { status, chargeRef, failureReason: failureReason! };
    });
  }

  /**
   * The charge requested under this idempotency key, as it is now (a delayed card may have settled since): the stored
   * answer of that request names the charge. No stored request (it never arrived, or it was refused: a refused request
   * keeps nothing) is null. The key alone identifies it here; `reference` is checked against the charge's metadata.
   */
  async findCharge(input: FindChargeInput): Promise<FoundCharge | null> {
    checkFindChargeInput(input);
    const prior = await this.db.selectFrom('gatewaySandboxRequests').select(['operation', 'response'])
      .where('idempotencyKey', '=', input.idempotencyKey).executeTakeFirst();
    if (!prior || prior.operation !== 'charge') return null;
    const response = prior.response as { chargeRef?: unknown };
    if (typeof response.chargeRef !== 'string') return null;
    const charge = await this.db.selectFrom('gatewaySandboxCharges').select(['id', 'status', 'failureReason', 'amountMinor', 'currency', 'metadata'])
      .where('id', '=', response.chargeRef).executeTakeFirst();
    if (!charge) return null;
    if (charge.metadata[input.reference.key] !== input.reference.value) return null;
    const currency = charge.currency as Currency;
    const amountMicros = fromMinorUnits(BigInt(charge.amountMinor), currency);
    switch (charge.status) {
      case 'succeeded':
      case 'pending':
        return { status: charge.status, chargeRef: charge.id, amountMicros, currency };
      case 'declined':
      case 'insufficient_funds':
        return { status: 'failed', chargeRef: charge.id, amountMicros, currency, failureCode: charge.status, failureReason: charge.failureReason ?? FAILURE_OF[charge.status] };
    }
  }

  async refund(input: RefundInput): Promise<RefundResult> {
    checkRefundInput(input);
    const amountMinor = toMinorUnits(input.amountMicros, input.currency);
    const { idempotencyKey, ...request } = input;
    return this.once('refund', idempotencyKey, request, async (trx, now) => {
      const charge = await trx
        .selectFrom('gatewaySandboxCharges').select(['id', 'status', 'currency', 'amountMinor', 'refundedMinor'])
        .where('id', '=', input.chargeRef).forUpdate()
        .executeTakeFirst();
      if (!charge) throw notFound('charge');
      if (charge.currency !== input.currency) {
        throw new DomainError('validation_failed', 'a refund is in the currency of its charge', [{ path: 'currency', message: `the charge is in ${charge.currency}` }]);
      }
      if (charge.status !== 'succeeded') throw new DomainError('state_conflict', `only a succeeded charge can be refunded; this one is ${charge.status}`);
      const left = BigInt(charge.amountMinor) - BigInt(charge.refundedMinor);
      if (amountMinor > left) throw new DomainError('rule_violation', 'the refund is more than what is left to refund on the charge');
      await trx
        .updateTable('gatewaySandboxCharges')
        .set({ refundedMinor: BigInt(charge.refundedMinor) + amountMinor, updatedAt: now })
        .where('id', '=', charge.id)
        .execute();
      const refundRef = sandboxRef('re');
      await trx.insertInto('gatewaySandboxRefunds').values({ id: refundRef, chargeId: charge.id, amountMinor, currency: input.currency, status: 'succeeded' }).execute();
      await this.queueEvent(trx, now, 'refund.succeeded', { refundRef, chargeRef: charge.id, amountMinor: amountMinor.toString(), currency: input.currency });
      return { status: 'succeeded', refundRef };
    });
  }

  async parseWebhook(rawBody: string | Uint8Array, signatureHeader: string | undefined): Promise<GatewayEvent> {
    const body = typeof rawBody === 'string' ? rawBody : new TextDecoder('utf-8').decode(rawBody);
    const check = checkWebhookSignature(body, signatureHeader, this.webhookSecret, { nowMs: this.clock().getTime(), toleranceSeconds: this.toleranceSeconds });
    if (check !== 'ok') throw badSignature(`the webhook signature is ${check === 'stale' ? 'too old' : check}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw new DomainError('malformed_request', 'the webhook body is not JSON');
    }
    const event = eventSchema.safeParse(parsed);
    if (!event.success) throw new DomainError('malformed_request', 'the webhook body is not a sandbox event');
    const base = { eventRef: event.data.id, occurredAt: new Date(event.data.created * 1000) };
    const read = <T>(schema: z.ZodType<T>): T => {
      const data = schema.safeParse(event.data.data);
      if (!data.success) throw new DomainError('malformed_request', `the webhook's ${event.data.type} data is malformed`);
      return data.data;
    };
    switch (event.data.type) {
      case 'charge.succeeded': {
        const d = read(chargeDataSchema);
        return { ...base, type: 'charge.succeeded', chargeRef: d.chargeRef, amountMicros: fromMinorUnits(BigInt(d.amountMinor), d.currency), currency: d.currency, metadata: d.metadata };
      }
      case 'charge.failed': {
        const d = read(chargeFailedDataSchema);
        return {
          ...base, type: 'charge.failed', chargeRef: d.chargeRef, amountMicros: fromMinorUnits(BigInt(d.amountMinor), d.currency), currency: d.currency,
          status: d.status, failureReason: d.failureReason, metadata: d.metadata,
        };
      }
      case 'refund.succeeded': {
        const d = read(refundDataSchema);
        return { ...base, type: 'refund.succeeded', refundRef: d.refundRef, chargeRef: d.chargeRef, amountMicros: fromMinorUnits(BigInt(d.amountMinor), d.currency), currency: d.currency };
      }
      default:
        return { ...base, type: 'ignored', gatewayType: event.data.type };
    }
  }

  /**
   * Settle the delayed charges whose time has come, then deliver every due event (oldest first, at most `limit`),
   * one at a time under a row lock so that two workers never deliver the same event at once. An event whose
   * delivery throws is retried later with a growing delay. Returns how many were delivered.
   */
  async deliverDueEvents(deliver: (delivery: WebhookDelivery) => Promise<void>, options: { now?: Date; limit?: number } = {}): Promise<number> {
    const now = options.now ?? this.clock();
    const limit = options.limit ?? 100;
    await this.settleDue(now);
    let delivered = 0;
    for (let i = 0; i < limit; i++) {
      const outcome = await this.db.transaction().execute(async (trx) => {
        const event = await trx
          .selectFrom('gatewaySandboxEvents').select(['seq', 'payload', 'attempts'])
          .where('deliveredAt', 'is', null).where('deliverAfter', '<=', now)
          .orderBy('deliverAfter').orderBy('seq').limit(1)
          .forUpdate().skipLocked()
          .executeTakeFirst();
        if (!event) return 'none' as const;
        const attempts = event.attempts + 1;
        try {
          await deliver({ rawBody: event.payload, signatureHeader: signWebhook(event.payload, this.webhookSecret, Math.floor(now.getTime() / 1000)) });
        } catch (err) {
          const delay = RETRY_DELAYS_MS[Math.min(attempts, RETRY_DELAYS_MS.length) - 1]!;
          await trx
            .updateTable('gatewaySandboxEvents')
            .set({ attempts, lastError: (err instanceof Error ? err.message : String(err)).slice(0, 500), deliverAfter: new Date(now.getTime() + delay) })
            .where('seq', '=', event.seq)
            .execute();
          return 'failed' as const;
        }
        await trx.updateTable('gatewaySandboxEvents').set({ attempts, lastError: null, deliveredAt: now }).where('seq', '=', event.seq).execute();
        return 'delivered' as const;
      });
      if (outcome === 'none') break;
      if (outcome === 'delivered') delivered++;
    }
    return delivered;
  }

  private async settleDue(now: Date): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const due = await trx
        .selectFrom('gatewaySandboxCharges').select(['id', 'outcome', 'amountMinor', 'currency', 'metadata'])
        .where('status', '=', 'pending').where('settleAt', '<=', now)
        .orderBy('settleAt').orderBy('id').limit(500)
        .forUpdate().skipLocked()
        .execute();
      for (const charge of due) {
        const failed = charge.outcome === 'delayed_insufficient_funds';
        const status = failed ? 'insufficient_funds' : 'succeeded';
        const failureReason = failed ? FAILURE_OF.insufficient_funds : null;
        await trx.updateTable('gatewaySandboxCharges').set({ status, failureReason, updatedAt: now }).where('id', '=', charge.id).execute();
        const data = { chargeRef: charge.id, amountMinor: charge.amountMinor, currency: charge.currency, metadata: charge.metadata };
        if (failed) await this.queueEvent(trx, now, 'charge.failed', { ...data, status, failureReason });
        else await this.queueEvent(trx, now, 'charge.succeeded', data);
      }
    });
  }

  private async queueEvent(trx: Trx, now: Date, type: EventType, data: Record<string, unknown>): Promise<void> {
    const id = sandboxRef('evt');
    const payload = JSON.stringify({ id, object: 'event', created: Math.floor(now.getTime() / 1000), type, data });
    await trx.insertInto('gatewaySandboxEvents').values({ id, type, payload, deliverAfter: now }).execute();
  }

  private async requireCustomer(trx: Trx, customerRef: string): Promise<void> {
    const found = await trx.selectFrom('gatewaySandboxCustomers').select('id').where('id', '=', customerRef).executeTakeFirst();
    if (!found) throw notFound('gateway customer');
  }

  /**
   * Run `fn` once per idempotency key, in one transaction: the first answer is stored and replayed for the same
   * request; another request under the same key is refused. A DomainError rolls everything back, so nothing is kept.
   */
  private async once<T>(operation: Operation, key: string, request: unknown, fn: (trx: Trx, now: Date) => Promise<T>): Promise<T> {
    const requestHash = createHash('sha256').update(canonicalJson({ operation, request })).digest('hex');
    return this.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtextextended(${`gateway_sandbox:${key}`}, 0))`.execute(trx);
      const prior = await trx
        .selectFrom('gatewaySandboxRequests').select(['operation', 'requestHash', 'response'])
        .where('idempotencyKey', '=', key)
        .executeTakeFirst();
      if (prior) {
        if (prior.operation !== operation || prior.requestHash !== requestHash) {
          throw new DomainError('idempotency_key_reused', 'this idempotency key was already used for another gateway request');
        }
        return prior.response as T;
      }
      const result = await fn(trx, this.clock());
      await trx.insertInto('gatewaySandboxRequests').values({ idempotencyKey: key, operation, requestHash, response: JSON.stringify(result) }).execute();
      return result;
    });
  }
}
