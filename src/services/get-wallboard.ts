import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { notFound } from '../platform/errors.ts';
import { readerOwner } from './services.repo.ts';
import { toWallboardView, WALLBOARD_COLUMNS, type WallboardView } from './service-views.ts';

/** One wallboard of the caller's organisation (removed ones too); 404 for any other. */
export async function getWallboard(ctx: Ctx, id: string): Promise<WallboardView> {
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const owner = await readerOwner(trx, ctx.principal, undefined);
    const row = await trx.selectFrom('wallboards').select(WALLBOARD_COLUMNS)
      .where('partnerId', '=', owner.partnerId).where('customerId', '=', owner.customerId).where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('Wallboard');
    return toWallboardView(row);
  });
}
