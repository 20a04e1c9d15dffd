import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { staffCaller } from './caller.ts';
import { pageOf, type Page } from './paging.ts';
import { selectAccessRequests, toAccessRequest, type AccessRequest } from './access-request-views.ts';

/** The caller's own access requests, newest first. */
export async function listMyAccessRequests(ctx: Ctx, input: { limit: number; cursor?: string | undefined }): Promise<Page<AccessRequest>> {
  const staff = staffCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const rows = await selectAccessRequests(trx)
      .where('r.partnerId', '=', staff.partnerId)
      .where('r.userId', '=', staff.userId)
      .$if(input.cursor !== undefined, (qb) => qb.where('r.id', '<', input.cursor!))
      .orderBy('r.id', 'desc')
      .limit(input.limit + 1)
      .execute();
    return pageOf(rows.map(toAccessRequest), input.limit);
  });
}
