import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { partnerCaller } from '../access/caller.ts';
import { pageOf, type Page } from '../access/paging.ts';
import { rateCounts, ratePlanView, type RatePlanView } from './rate-plans.repo.ts';

/** The partner's rate plans, newest first, each with its number of rates; `currency` filters. */
export async function listRatePlans(ctx: Ctx, input: { limit: number; cursor?: string | undefined; currency?: string | undefined }): Promise<Page<RatePlanView>> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    let q = trx.selectFrom('ratePlans').selectAll().where('partnerId', '=', partnerId).orderBy('id', 'desc').limit(input.limit + 1);
    if (input.cursor) q = q.where('id', '<', input.cursor);
    if (input.currency) q = q.where('currency', '=', input.currency);
    const rows = await q.execute();
    const counts = await rateCounts(trx, partnerId, rows.map((r) => r.id));
    const page = pageOf(rows, input.limit);
    return { data: page.data.map((r) => ratePlanView(r, counts.get(r.id) ?? 0)), nextCursor: page.nextCursor };
  });
}
