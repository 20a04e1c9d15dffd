import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { portalCaller } from '../access/caller.ts';
import { assertEditable, checkSubscription, lockWallboard, type Owner } from './services.repo.ts';
import { readWallboardView } from './create-wallboard.ts';
import { toWallboardView, wallboardAuditFields, type WallboardUpdateInput, type WallboardView } from './service-views.ts';

/**
 * An owner or admin changes a wallboard (any of name, queues, widgets, refresh interval, subscription). `version` must be
 * the one stored (409 `stale_version`). Audited as `wallboard.updated` with before and after; no change writes nothing.
 */
export async function updateWallboard(ctx: Ctx, id: string, input: WallboardUpdateInput, ifMatch?: string): Promise<WallboardView> {
  const caller = portalCaller(ctx.principal);
  const owner: Owner = { partnerId: caller.partnerId, customerId: caller.customerId };
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const row = await lockWallboard(trx, owner, id);
    assertEditable(row, input.version, 'wallboard', ifMatch);
    await checkSubscription(trx, owner, input.subscriptionId);
    const before = toWallboardView(row);
    const next = {
      name: input.name ?? row.name,
      queues: input.queues ?? row.queues,
      widgets: input.widgets ?? row.widgets,
      refreshIntervalSeconds: input.refreshIntervalSeconds ?? row.refreshIntervalSeconds,
      subscriptionId: input.subscriptionId === undefined ? row.subscriptionId : input.subscriptionId,
    };
    const unchanged = JSON.stringify(next)
      === JSON.stringify({ name: row.name, queues: row.queues, widgets: row.widgets, refreshIntervalSeconds: row.refreshIntervalSeconds, subscriptionId: row.subscriptionId });
    if (unchanged) return before;
    await trx.updateTable('wallboards')
      .set({ ...next, version: sql<number>`version + 1`, updatedAt: sql<Date>`now()` })
      .where('partnerId', '=', owner.partnerId).where('customerId', '=', owner.customerId).where('id', '=', id).execute();
    const after = await readWallboardView(trx, owner, id);
    await recordAudit(trx, ctx, {
      partnerId: owner.partnerId, customerId: owner.customerId, app: 'portal', action: 'wallboard.updated',
      targetType: 'wallboard', targetId: id, changes: diff(wallboardAuditFields(before), wallboardAuditFields(after)),
    });
    return after;
  });
}
