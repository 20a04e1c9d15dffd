import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { partnerCaller } from './caller.ts';
import { pageOf, type Page } from './paging.ts';
import { apiKeyColumns, makerNames, toApiKey, type ApiKey } from './api-key-views.ts';

/** The partner's API keys, revoked ones included, newest first. */
export async function listApiKeys(ctx: Ctx, input: { limit: number; cursor?: string | undefined }): Promise<Page<ApiKey>> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const rows = await trx
      .selectFrom('apiKeys')
      .select(apiKeyColumns)
      .where('partnerId', '=', partnerId)
      .$if(input.cursor !== undefined, (qb) => qb.where('id', '<', input.cursor!))
      .orderBy('id', 'desc')
      .limit(input.limit + 1)
      .execute();
    const makers = await makerNames(trx, partnerId, rows);
    return pageOf(rows.map((row) => toApiKey(row, makers)), input.limit);
  });
}
