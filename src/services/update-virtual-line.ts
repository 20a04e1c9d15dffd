import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { portalCaller } from '../access/caller.ts';
import { assertEditable, checkDestinationUsers, checkSubscription, lineUserIds, lockVirtualLine, peopleOf, type Owner } from './services.repo.ts';
import { guardNumber, readLineView } from './create-virtual-line.ts';
import { toVirtualLineView, virtualLineAuditFields, type VirtualLineUpdateInput, type VirtualLineView } from './service-views.ts';

/**
 * An owner or admin changes a line: any of number, name, destination, business hours (null: always open), subscription.
 * `version` must be the one stored (409 `stale_version` otherwise: someone else changed it meanwhile). Audited as
 * `virtual_line.updated` with each changed field before and after; a change that changes nothing writes nothing.
 */
export async function updateVirtualLine(ctx: Ctx, id: string, input: VirtualLineUpdateInput, ifMatch?: string): Promise<VirtualLineView> {
  const caller = portalCaller(ctx.principal);
  const owner: Owner = { partnerId: caller.partnerId, customerId: caller.customerId };
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const row = await lockVirtualLine(trx, owner, id);
    assertEditable(row, input.version, 'virtual line', ifMatch);
    const before = toVirtualLineView(row, await peopleOf(trx, owner, lineUserIds(row)));
    await checkDestinationUsers(trx, owner, input.destination, input.businessHours);
    await checkSubscription(trx, owner, input.subscriptionId);

    const next = {
      number: input.number ?? row.number,
      name: input.name ?? row.name,
      destination: input.destination ?? row.destination,
      businessHours: input.businessHours === undefined ? row.businessHours : input.businessHours,
      subscriptionId: input.subscriptionId === undefined ? row.subscriptionId : input.subscriptionId,
    };
    const unchanged = JSON.stringify([next.number, next.name, next.destination, next.businessHours, next.subscriptionId])
      === JSON.stringify([row.number, row.name, row.destination, row.businessHours, row.subscriptionId]);
    if (unchanged) return before;

    await guardNumber(next.number, () =>
      trx.updateTable('virtualLines').set({
        number: next.number, name: next.name, destination: JSON.stringify(next.destination),
        businessHours: next.businessHours ? JSON.stringify(next.businessHours) : null, subscriptionId: next.subscriptionId,
        version: sql<number>`version + 1`, updatedAt: sql<Date>`now()`,
      }).where('partnerId', '=', owner.partnerId).where('customerId', '=', owner.customerId).where('id', '=', id).execute(),
    );
    const after = await readLineView(trx, owner, id);
    await recordAudit(trx, ctx, {
      partnerId: owner.partnerId, customerId: owner.customerId, app: 'portal', action: 'virtual_line.updated',
      targetType: 'virtual_line', targetId: id, changes: diff(virtualLineAuditFields(before), virtualLineAuditFields(after)),
    });
    return after;
  });
}
