import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from '../access/caller.ts';
import {
  currencyOf, deleteRates, findRatePlan, insertRates, parseRates, ratePlanView, ratesDigest, ratesEtag, zeroRatedCount, type RateInput, type RatePlanView,
} from './rate-plans.repo.ts';

export interface ReplaceRatesInput {
  ratePlanId: string;
  rates: readonly RateInput[];
  /** The ETag the caller last read (GET rates); a stale one is 412 and nothing changes. */
  ifMatch?: string | undefined;
}

/**
 * Replace a plan's whole rate table, atomically: the plan row is locked (replacements queue), the old rates go, the new
 * ones come, the rates version goes up by one, and one `rate_plan.rates_replaced` event records the counts (rates, and
 * zero-rated rates), versions and the new table's SHA-256 — all in one transaction. Every bad rate is named before anything is written.
 */
export async function replaceRates(ctx: Ctx, input: ReplaceRatesInput): Promise<{ ratePlan: RatePlanView; etag: string }> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const plan = await findRatePlan(trx, partnerId, input.ratePlanId, { forUpdate: true });
    if (input.ifMatch !== undefined && input.ifMatch.trim() !== '*' && !input.ifMatch.split(',').map((t) => t.trim()).includes(ratesEtag(plan))) {
      throw new DomainError('precondition_failed', `The rates changed since you read them (now ${ratesEtag(plan)})`, [{ path: 'If-Match', message: 'stale ETag' }]);
    }
    const rates = parseRates(input.rates, currencyOf(plan.currency));
    const removed = await deleteRates(trx, partnerId, plan.id);
    await insertRates(trx, partnerId, plan.id, rates);
    const updated = await trx
      .updateTable('ratePlans')
      .set({ ratesVersion: sql`rates_version + 1`, ratesUpdatedAt: sql`now()` })
      .where('partnerId', '=', partnerId).where('id', '=', plan.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(trx, ctx, {
      partnerId, app: 'product', action: 'rate_plan.rates_replaced', targetType: 'rate_plan', targetId: plan.id,
      changes: {
        rateCount: { before: removed.rates, after: rates.length },
        // A table sent without tax categories makes every rate standard: the trail shows how many were zero-rated.
        zeroRatedCount: { before: removed.zeroRated, after: zeroRatedCount(rates) },
        ratesVersion: { before: plan.ratesVersion, after: updated.ratesVersion },
        ratesDigest: { after: ratesDigest(rates) },
      },
    });
    return { ratePlan: ratePlanView(updated, rates.length), etag: ratesEtag(updated) };
  });
}
