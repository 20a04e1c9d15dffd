import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { partnerCaller } from './caller.ts';
import { pageOf, type Page } from './paging.ts';
import { selectAccessRequests, toAccessRequest, type AccessRequest } from './access-request-views.ts';

export interface ListAccessRequestsInput {
  limit: number;
  cursor?: string | undefined;
  status?: AccessRequest['status'] | undefined;
}

/** Every access request of the partner's staff, newest first, optionally of one status. */
export async function listAccessRequests(ctx: Ctx, input: ListAccessRequestsInput): Promise<Page<AccessRequest>> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const rows = await selectAccessRequests(trx)
      .where('r.partnerId', '=', partnerId)
      .$if(input.status !== undefined, (qb) => qb.where('r.status', '=', input.status!))
      .$if(input.cursor !== undefined, (qb) => qb.where('r.id', '<', input.cursor!))
      .orderBy('r.id', 'desc')
      .limit(input.limit + 1)
      .execute();
    return pageOf(rows.map(toAccessRequest), input.limit);
  });
}
