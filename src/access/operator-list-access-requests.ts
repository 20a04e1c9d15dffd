import type { Ctx } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { operatorCaller } from './caller.ts';
import { pageOf, type Page } from './paging.ts';
import { selectAccessRequests, toOperatorAccessRequest, type AccessRequest, type OperatorAccessRequest } from './access-request-views.ts';

export interface OperatorListAccessRequestsInput {
  limit: number;
  cursor?: string | undefined;
  status?: AccessRequest['status'] | undefined;
  partnerId?: string | undefined;
}

/** Access requests of every partner, newest first; `status=pending` is the operator's inbox. */
export async function operatorListAccessRequests(ctx: Ctx, input: OperatorListAccessRequestsInput): Promise<Page<OperatorAccessRequest>> {
  operatorCaller(ctx.principal);
  return inScope(ctx.db, { kind: 'system' }, async (trx) => {
    const rows = await selectAccessRequests(trx)
      .$if(input.status !== undefined, (qb) => qb.where('r.status', '=', input.status!))
      .$if(input.partnerId !== undefined, (qb) => qb.where('r.partnerId', '=', input.partnerId!))
      .$if(input.cursor !== undefined, (qb) => qb.where('r.id', '<', input.cursor!))
      .orderBy('r.id', 'desc')
      .limit(input.limit + 1)
      .execute();
    return pageOf(rows.map(toOperatorAccessRequest), input.limit);
  });
}
