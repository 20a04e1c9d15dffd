import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { notFound } from '../platform/errors.ts';
import { lineUserIds, peopleOf, readerOwner } from './services.repo.ts';
import { toVirtualLineView, VIRTUAL_LINE_COLUMNS, type VirtualLineView } from './service-views.ts';

/** One virtual line of the caller's organisation (removed ones too); 404 for any other. */
export async function getVirtualLine(ctx: Ctx, id: string): Promise<VirtualLineView> {
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const owner = await readerOwner(trx, ctx.principal, undefined);
    const row = await trx.selectFrom('virtualLines').select(VIRTUAL_LINE_COLUMNS)
      .where('partnerId', '=', owner.partnerId).where('customerId', '=', owner.customerId).where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('Virtual line');
    return toVirtualLineView(row, await peopleOf(trx, owner, lineUserIds(row)));
  });
}
