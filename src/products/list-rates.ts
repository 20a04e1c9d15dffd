import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { formatDecimal } from '../money/money.ts';
import { partnerCaller } from '../access/caller.ts';
import type { Page } from '../access/paging.ts';
import { currencyOf, findRatePlan, RATE_DECIMALS, ratesEtag, type RateView } from './rate-plans.repo.ts';

export interface ListRatesInput {
  ratePlanId: string;
  limit: number;
  /** The last prefix of the previous page. */
  cursor?: string | undefined;
  /** Only prefixes starting with these digits. */
  prefix?: string | undefined;
}

/**
 * A plan's rates in prefix order (not newest first: a rate table is read like a price list), a page at a time, with the
 * table's ETag (it changes with every replacement; send it as If-Match to `replaceRates`).
 */
export async function listRates(ctx: Ctx, input: ListRatesInput): Promise<Page<RateView> & { etag: string; ratesVersion: number }> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const plan = await findRatePlan(trx, partnerId, input.ratePlanId);
    const currency = currencyOf(plan.currency);
    let q = trx
      .selectFrom('rates').select(['prefix', 'description', 'pricePerMinuteMicros', 'costPerMinuteMicros', 'taxCategory'])
      .where('partnerId', '=', partnerId).where('ratePlanId', '=', plan.id)
      .orderBy('prefix').limit(input.limit + 1);
    if (input.cursor) q = q.where('prefix', '>', input.cursor);
    if (input.prefix) q = q.where('prefix', 'like', `${input.prefix}%`);
    const rows = await q.execute();
    const data = rows.slice(0, input.limit).map((r) => ({
      prefix: r.prefix, description: r.description,
      pricePerMinute: formatDecimal(BigInt(r.pricePerMinuteMicros), currency, RATE_DECIMALS),
      costPerMinute: formatDecimal(BigInt(r.costPerMinuteMicros), currency, RATE_DECIMALS),
      currency,
      taxCategory: r.taxCategory,
    }));
    return { data, nextCursor: rows.length > input.limit ? data.at(-1)!.prefix : null, etag: ratesEtag(plan), ratesVersion: plan.ratesVersion };
  });
}
