import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { listWallboardRows, readerOwner } from './services.repo.ts';
import { toWallboardView, type ServiceListQuery, type WallboardView } from './service-views.ts';

/** An organisation's wallboards, newest first (active by default); portal users their own, staff (Customer app) any customer's. */
export async function listWallboards(ctx: Ctx, query: ServiceListQuery & { customerId?: string }): Promise<{ data: WallboardView[]; nextCursor: string | null }> {
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const owner = await readerOwner(trx, ctx.principal, query.customerId);
    const page = await listWallboardRows(trx, owner, query);
    return { data: page.rows.map(toWallboardView), nextCursor: page.nextCursor };
  });
}
