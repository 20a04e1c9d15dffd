import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { portalCaller } from '../access/caller.ts';
import { assertEditable, lineUserIds, lockVirtualLine, peopleOf, type Owner } from './services.repo.ts';
import { readLineView } from './create-virtual-line.ts';
import { toVirtualLineView, virtualLineAuditFields, type VirtualLineView } from './service-views.ts';

/**
 * An owner or admin removes a line: it stops ringing (status `removed`, its number free again) and stays on record for the
 * audit trail. `version` must be current (409 `stale_version`); removing a removed line is a 409 `state_conflict`.
 */
export async function removeVirtualLine(ctx: Ctx, id: string, input: { version: number }, ifMatch?: string): Promise<VirtualLineView> {
  const caller = portalCaller(ctx.principal);
  const owner: Owner = { partnerId: caller.partnerId, customerId: caller.customerId };
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const row = await lockVirtualLine(trx, owner, id);
    assertEditable(row, input.version, 'virtual line', ifMatch);
    const before = toVirtualLineView(row, await peopleOf(trx, owner, lineUserIds(row)));
    await trx.updateTable('virtualLines')
      .set({ status: 'removed', removedAt: sql<Date>`now()`, version: sql<number>`version + 1`, updatedAt: sql<Date>`now()` })
      .where('partnerId', '=', owner.partnerId).where('customerId', '=', owner.customerId).where('id', '=', id).execute();
    const after = await readLineView(trx, owner, id);
    await recordAudit(trx, ctx, {
      partnerId: owner.partnerId, customerId: owner.customerId, app: 'portal', action: 'virtual_line.removed',
      targetType: 'virtual_line', targetId: id,
      // Which line it was, beside what changed: removed events are read long after.
      changes: { number: { before: before.number }, name: { before: before.name }, ...diff(virtualLineAuditFields(before), virtualLineAuditFields(after)) },
    });
    return after;
  });
}
