import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { lineUserIds, listVirtualLineRows, peopleOf, readerOwner } from './services.repo.ts';
import { toVirtualLineView, type ServiceListQuery, type VirtualLineView } from './service-views.ts';

/**
 * An organisation's virtual lines, newest first (active by default; `status=removed|all` for the record). Portal users read
 * their own organisation's (every role); staff with the Customer app read any of the partner's customers' (`customerId`).
 */
export async function listVirtualLines(ctx: Ctx, query: ServiceListQuery & { customerId?: string }): Promise<{ data: VirtualLineView[]; nextCursor: string | null }> {
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const owner = await readerOwner(trx, ctx.principal, query.customerId);
    const page = await listVirtualLineRows(trx, owner, query);
    const people = await peopleOf(trx, owner, page.rows.flatMap(lineUserIds));
    return { data: page.rows.map((r) => toVirtualLineView(r, people)), nextCursor: page.nextCursor };
  });
}
