import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { portalCaller } from '../access/caller.ts';
import { assertEditable, lockWallboard, type Owner } from './services.repo.ts';
import { readWallboardView } from './create-wallboard.ts';
import { toWallboardView, wallboardAuditFields, type WallboardView } from './service-views.ts';

/** An owner or admin removes a wallboard: status `removed`, kept on record. `version` must be current (409 `stale_version`). */
export async function removeWallboard(ctx: Ctx, id: string, input: { version: number }, ifMatch?: string): Promise<WallboardView> {
  const caller = portalCaller(ctx.principal);
  const owner: Owner = { partnerId: caller.partnerId, customerId: caller.customerId };
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const row = await lockWallboard(trx, owner, id);
    assertEditable(row, input.version, 'wallboard', ifMatch);
    const before = toWallboardView(row);
    await trx.updateTable('wallboards')
      .set({ status: 'removed', removedAt: sql<Date>`now()`, version: sql<number>`version + 1`, updatedAt: sql<Date>`now()` })
      .where('partnerId', '=', owner.partnerId).where('customerId', '=', owner.customerId).where('id', '=', id).execute();
    const after = await readWallboardView(trx, owner, id);
    await recordAudit(trx, ctx, {
      partnerId: owner.partnerId, customerId: owner.customerId, app: 'portal', action: 'wallboard.removed', targetType: 'wallboard', targetId: id,
      changes: { name: { before: before.name }, ...diff(wallboardAuditFields(before), wallboardAuditFields(after)) },
    });
    return after;
  });
}
