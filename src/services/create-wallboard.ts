import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope, type Trx } from '../platform/database.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { portalCaller } from '../access/caller.ts';
import { newWallboardId } from './ids.ts';
import { checkSubscription, type Owner } from './services.repo.ts';
import { toWallboardView, WALLBOARD_COLUMNS, wallboardAuditFields, type WallboardCreateInput, type WallboardView } from './service-views.ts';

export async function readWallboardView(trx: Trx, owner: Owner, id: string): Promise<WallboardView> {
  const row = await trx.selectFrom('wallboards').select(WALLBOARD_COLUMNS)
    .where('partnerId', '=', owner.partnerId).where('customerId', '=', owner.customerId).where('id', '=', id).executeTakeFirstOrThrow();
  return toWallboardView(row);
}

/**
 * An owner or admin adds a wallboard: its name, the queues it shows, its widgets (from a fixed set) and how often it
 * refreshes, optionally linked to the subscription it comes from. Audited as `wallboard.created`.
 */
export async function createWallboard(ctx: Ctx, input: WallboardCreateInput): Promise<WallboardView> {
  const caller = portalCaller(ctx.principal);
  const owner: Owner = { partnerId: caller.partnerId, customerId: caller.customerId };
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    await checkSubscription(trx, owner, input.subscriptionId);
    const id = newWallboardId();
    await trx.insertInto('wallboards').values({
      id, partnerId: owner.partnerId, customerId: owner.customerId, subscriptionId: input.subscriptionId ?? null, name: input.name,
      queues: input.queues, widgets: input.widgets, refreshIntervalSeconds: input.refreshIntervalSeconds, removedAt: null,
    }).execute();
    const view = await readWallboardView(trx, owner, id);
    await recordAudit(trx, ctx, {
      partnerId: owner.partnerId, customerId: owner.customerId, app: 'portal', action: 'wallboard.created',
      targetType: 'wallboard', targetId: id, changes: diff(null, wallboardAuditFields(view)),
    });
    return view;
  });
}
