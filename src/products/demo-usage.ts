import { sql } from 'kysely';
import type { Trx } from '../platform/database.ts';
import { MICROS_PER_UNIT } from '../money/money.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { insertRates, newRatePlanId, ratesDigest, type ParsedRate } from './rate-plans.repo.ts';

const SEED_ACTOR = { principal: { kind: 'system' as const, job: 'seed' }, requestId: null, ip: null, userAgent: null };
const m = (decimal: string) => {
  const [whole, fraction = ''] = decimal.split('.');
  return BigInt(whole!) * MICROS_PER_UNIT + BigInt(fraction.padEnd(6, '0'));
};

/** Demo Telecom's default SGD rate plan (60/60). */
export const DEMO_SGD_RATES: readonly ParsedRate[] = [
  { prefix: '65', description: 'Singapore fixed', pricePerMinuteMicros: m('0.03'), costPerMinuteMicros: m('0.01'), taxCategory: 'standard' },
  { prefix: '658', description: 'Singapore mobile', pricePerMinuteMicros: m('0.06'), costPerMinuteMicros: m('0.025'), taxCategory: 'standard' },
  { prefix: '659', description: 'Singapore mobile', pricePerMinuteMicros: m('0.06'), costPerMinuteMicros: m('0.025'), taxCategory: 'standard' },
  { prefix: '1', description: 'United States', pricePerMinuteMicros: m('0.02'), costPerMinuteMicros: m('0.008'), taxCategory: 'standard' },
  { prefix: '44', description: 'United Kingdom', pricePerMinuteMicros: m('0.05'), costPerMinuteMicros: m('0.02'), taxCategory: 'standard' },
];

/**
 * The usage part of the demo data, inside the seed's transaction (as the database owner): a default SGD rate plan for
 * Demo Telecom, so the demo has rates to call on (Acme's points and calls: src/invoices/statements/demo-statement.ts).
 */
export async function seedUsageDemo(trx: Trx, ids: { partnerId: string }): Promise<{ ratePlanId: string }> {
  const ratePlanId = newRatePlanId();
  await trx
    .insertInto('ratePlans')
    .values({
      id: ratePlanId, partnerId: ids.partnerId, name: 'Standard SGD', currency: 'SGD', firstIncrementSeconds: 60, nextIncrementSeconds: 60,
      minimumChargeMicros: 0n, whenInsufficient: 'reject', isDefault: true, ratesVersion: 1, ratesUpdatedAt: sql`now()`,
    })
    .execute();
  await insertRates(trx, ids.partnerId, ratePlanId, DEMO_SGD_RATES);
  await recordAudit(trx, SEED_ACTOR, {
    partnerId: ids.partnerId, app: 'product', action: 'rate_plan.created', targetType: 'rate_plan', targetId: ratePlanId,
    changes: { name: { after: 'Standard SGD' }, currency: { after: 'SGD' }, increment: { after: '60/60' }, isDefault: { after: true }, rateCount: { after: DEMO_SGD_RATES.length }, ratesDigest: { after: ratesDigest(DEMO_SGD_RATES) } },
  });
  return { ratePlanId };
}
