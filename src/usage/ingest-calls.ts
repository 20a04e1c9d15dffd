import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { inScope, type Trx } from '../platform/database.ts';
import { partnerIdOf } from '../platform/context.ts';
import { newId } from '../platform/ids.ts';
import { idOf } from '../platform/schemas.ts';
import { formatDecimal, isCurrency } from '../money/money.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { postEntries, type EntryInput } from '../ledger/post-entry.ts';
import { lockWallet } from '../wallet/wallets.repo.ts';
import { normaliseNumber, PrefixTable, rateCall, type RatePlan } from './rating.ts';

export const MAX_CALLS_PER_BATCH = 10_000;

/** One call record as the switch sends it. Checked record by record: one bad record does not sink the batch. */
export const callRecordSchema = z.strictObject({
  callId: z.string().min(1).max(100),
  customerId: idOf('cus'),
  from: z.string().min(3).max(32),
  to: z.string().min(3).max(32),
  startedAt: z.iso.datetime({ offset: true }),
  durationSeconds: z.number().int().min(0).max(86_400),
  direction: z.enum(['outbound', 'inbound']),
});
export type CallRecord = z.infer<typeof callRecordSchema>;

export type CallResult =
  | { index: number; callId: string; status: 'charged'; callRef: string; amount: string; currency: string; billedSeconds: number }
  | { index: number; callId: string | null; status: 'duplicate'; detail: string }
  | { index: number; callId: string | null; status: 'rejected'; code: string; detail: string; errors?: Array<{ path: string; message: string }> };

export interface IngestResult {
  results: CallResult[];
  summary: { received: number; charged: number; duplicates: number; rejected: number };
}

interface LoadedPlan {
  plan: RatePlan;
  table: PrefixTable;
  useCreditLimit: boolean;
}

async function loadPlans(trx: Trx, partnerId: string, currencies: readonly string[]): Promise<Map<string, LoadedPlan>> {
  const plans = new Map<string, LoadedPlan>();
  if (currencies.length === 0) return plans;
  const rows = await trx.selectFrom('ratePlans').selectAll().where('partnerId', '=', partnerId).where('isDefault', '=', true).where('currency', 'in', currencies).execute();
  for (const p of rows) {
    const rates = await trx.selectFrom('rates').select(['prefix', 'pricePerMinuteMicros', 'costPerMinuteMicros']).where('partnerId', '=', partnerId).where('ratePlanId', '=', p.id).execute();
    const plan: RatePlan = {
      firstIncrementSeconds: p.firstIncrementSeconds,
      nextIncrementSeconds: p.nextIncrementSeconds,
      minimumChargeMicros: BigInt(p.minimumChargeMicros),
      rates: rates.map((r) => ({ prefix: r.prefix, pricePerMinuteMicros: BigInt(r.pricePerMinuteMicros), costPerMinuteMicros: BigInt(r.costPerMinuteMicros) })),
    };
    plans.set(p.currency, { plan, table: new PrefixTable(plan.rates), useCreditLimit: p.whenInsufficient === 'use_credit_limit' });
  }
  return plans;
}

/**
 * Rate and charge a batch of call records against customers' points, in one transaction: every accepted call is
 * a journal entry (price to revenue, cost to the platform) posted to the wallet at once. Each record gets its own
 * result: charged, duplicate (a replayed call id changes nothing), or rejected with a code naming what is wrong.
 */
export async function ingestCalls(ctx: Ctx, input: { records: readonly unknown[] }): Promise<IngestResult> {
  const partnerId = partnerIdOf(ctx.principal);
  const results: CallResult[] = new Array<CallResult>(input.records.length);
  const valid: Array<{ index: number; record: CallRecord; destination: string }> = [];
  const seen = new Set<string>();
  input.records.forEach((raw, index) => {
    const parsed = callRecordSchema.safeParse(raw);
    const callId = typeof (raw as { callId?: unknown } | null)?.callId === 'string' ? (raw as { callId: string }).callId : null;
    if (!parsed.success) {
      const errors = parsed.error.issues.map((i) => ({ path: i.code === 'unrecognized_keys' ? i.keys.join(',') : i.path.join('.'), message: i.message }));
      results[index] = { index, callId, status: 'rejected', code: 'validation_failed', detail: errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors };
      return;
    }
    const destination = normaliseNumber(parsed.data.direction === 'outbound' ? parsed.data.to : parsed.data.from);
    if (!destination || !normaliseNumber(parsed.data.direction === 'outbound' ? parsed.data.from : parsed.data.to)) {
      results[index] = { index, callId, status: 'rejected', code: 'validation_failed', detail: 'from and to must be phone numbers', errors: [{ path: normaliseNumber(parsed.data.from) ? 'to' : 'from', message: 'not a phone number' }] };
      return;
    }
    if (seen.has(parsed.data.callId)) {
      results[index] = { index, callId, status: 'duplicate', detail: 'The same call id appears earlier in this batch' };
      return;
    }
    seen.add(parsed.data.callId);
    valid.push({ index, record: parsed.data, destination });
  });

  for (let attempt = 1; ; attempt++) {
    try {
      await chargeBatch(ctx, partnerId, input.records.length, valid, results);
      break;
    } catch (err) {
      if (!(err instanceof ConcurrentDuplicateError) || attempt >= 3) throw err;
    }
  }
  const summary = { received: input.records.length, charged: 0, duplicates: 0, rejected: 0 };
  for (const r of results) {
    if (r.status === 'charged') summary.charged++;
    else if (r.status === 'duplicate') summary.duplicates++;
    else summary.rejected++;
  }
  return { results, summary };
}

async function chargeBatch(
  ctx: Ctx,
  partnerId: string,
  received: number,
  valid: ReadonlyArray<{ index: number; record: CallRecord; destination: string }>,
  results: CallResult[],
): Promise<void> {
  await inScope(ctx.db, { kind: 'partner', partnerId }, async (trx) => {
    const customerIds = [...new Set(valid.map((v) => v.record.customerId))].sort();
    const customers = customerIds.length === 0 ? [] : await trx.selectFrom('customers').select(['id', 'currency', 'status']).where('partnerId', '=', partnerId).where('id', 'in', customerIds).execute();
    const customerById = new Map(customers.map((c) => [c.id, c]));
    const plans = await loadPlans(trx, partnerId, [...new Set(customers.map((c) => c.currency))]);

    // Lock each wallet once, in id order (no deadlocks between batches), before looking for duplicates:
    // a concurrent batch with the same calls has committed or waits behind us.
    const usable = new Map<string, bigint>();
    for (const id of customerIds) {
      const c = customerById.get(id);
      if (!c || c.status !== 'active') continue;
      const plan = plans.get(c.currency);
      const w = await lockWallet(trx, { partnerId, customerId: id, currency: c.currency });
      usable.set(id, plan?.useCreditLimit ? w.usableMicros : w.pointsMicros - w.reservedMicros);
    }
    const existing = valid.length === 0 ? [] : await trx.selectFrom('usageCalls').select('callId').where('partnerId', '=', partnerId).where('callId', 'in', valid.map((v) => v.record.callId)).execute();
    const already = new Set(existing.map((e) => e.callId));

    const auditEventId = await recordAudit(trx, ctx, {
      app: 'usage', action: 'usage.calls_ingested', targetType: 'call_batch', targetId: null, changes: { records: { after: received } },
    });
    const byCurrency = new Map<string, { entries: EntryInput[]; calls: Array<Record<string, unknown>> }>();
    for (const { index, record, destination } of valid) {
      const callId = record.callId;
      if (already.has(callId)) {
        results[index] = { index, callId, status: 'duplicate', detail: 'This call id was charged before; nothing changed' };
        continue;
      }
      const customer = customerById.get(record.customerId);
      if (!customer) {
        results[index] = { index, callId, status: 'rejected', code: 'not_found', detail: 'Customer not found', errors: [{ path: 'customerId', message: 'not found' }] };
        continue;
      }
      if (customer.status !== 'active' || !isCurrency(customer.currency)) {
        results[index] = { index, callId, status: 'rejected', code: 'state_conflict', detail: `Customer is ${customer.status}` };
        continue;
      }
      const plan = plans.get(customer.currency);
      if (!plan) {
        results[index] = { index, callId, status: 'rejected', code: 'rule_violation', detail: `No rate plan in ${customer.currency}` };
        continue;
      }
      const rated = record.direction === 'inbound'
        ? { prefix: null, billedSeconds: 0, priceMicros: 0n, costMicros: 0n }
        : rateCall(plan.plan, plan.table, destination, record.durationSeconds);
      if (!rated) {
        results[index] = { index, callId, status: 'rejected', code: 'rule_violation', detail: `No rate for destination ${record.to}`, errors: [{ path: 'to', message: 'no rate for this destination' }] };
        continue;
      }
      const left = usable.get(customer.id)!;
      if (rated.priceMicros > left) {
        results[index] = { index, callId, status: 'rejected', code: 'insufficient_points', detail: 'Not enough points for this call' };
        continue;
      }
      usable.set(customer.id, left - rated.priceMicros);
      const callRef = newId('cal');
      const group = byCurrency.get(customer.currency) ?? { entries: [], calls: [] };
      byCurrency.set(customer.currency, group);
      let entryId: string | null = null;
      if (rated.priceMicros > 0n || rated.costMicros > 0n) {
        entryId = newId('je');
        const postings = [];
        if (rated.priceMicros > 0n) {
          postings.push({ code: 'points' as const, customerId: customer.id, amountMicros: rated.priceMicros }, { code: 'revenue:usage' as const, amountMicros: -rated.priceMicros });
        }
        if (rated.costMicros > 0n) postings.push({ code: 'cost:usage' as const, amountMicros: rated.costMicros }, { code: 'platform_payable' as const, amountMicros: -rated.costMicros });
        group.entries.push({
          entryId, partnerId, currency: customer.currency, customerId: customer.id, kind: 'call_charge', causeType: 'call', causeId: callRef,
          description: `Call to ${record.to}, ${rated.billedSeconds} s`, auditEventId, postings,
        });
      }
      group.calls.push({
        id: callRef, partnerId, customerId: customer.id, callId, fromNumber: record.from, toNumber: record.to, direction: record.direction,
        startedAt: record.startedAt, durationSeconds: record.durationSeconds, billedSeconds: rated.billedSeconds, prefix: rated.prefix,
        currency: customer.currency, priceMicros: rated.priceMicros.toString(), costMicros: rated.costMicros.toString(), entryId,
      });
      results[index] = { index, callId, status: 'charged', callRef, amount: formatDecimal(rated.priceMicros, customer.currency, 6), currency: customer.currency, billedSeconds: rated.billedSeconds };
    }
    for (const group of byCurrency.values()) {
      for (let i = 0; i < group.calls.length; i += 2000) {
        const inserted = await trx.insertInto('usageCalls').values(group.calls.slice(i, i + 2000) as never).onConflict((oc) => oc.columns(['partnerId', 'callId']).doNothing()).returning('callId').execute();
        // A concurrent batch charged the same call id for another customer: start over (the retry sees it as a duplicate).
        if (inserted.length !== Math.min(2000, group.calls.length - i)) throw new ConcurrentDuplicateError();
      }
      await postEntries(trx, group.entries);
    }
  });
}

export class ConcurrentDuplicateError extends Error {
  constructor() {
    super('a call id of this batch was charged concurrently');
  }
}
