import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope, type Trx } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { portalCaller } from '../access/caller.ts';
import { isUniqueViolation } from '../access/pg-errors.ts';
import { newVirtualLineId } from './ids.ts';
import { checkDestinationUsers, checkSubscription, lineUserIds, peopleOf, type Owner } from './services.repo.ts';
import {
  toVirtualLineView, VIRTUAL_LINE_COLUMNS, virtualLineAuditFields, type VirtualLineCreateInput, type VirtualLineView,
} from './service-views.ts';

/** A number rings one active line of the partner: 409 naming `number`. */
export function numberTaken(number: string): DomainError {
  return new DomainError('already_exists', `${number} is already used by another virtual line`, [{ path: 'number', message: 'already used by another virtual line' }]);
}

/** Insert or update, turning the unique-number index's refusal into a 409 naming the number. */
export async function guardNumber<T>(number: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (isUniqueViolation(err)) throw numberTaken(number);
    throw err;
  }
}

export async function readLineView(trx: Trx, owner: Owner, id: string): Promise<VirtualLineView> {
  const row = await trx.selectFrom('virtualLines').select(VIRTUAL_LINE_COLUMNS)
    .where('partnerId', '=', owner.partnerId).where('customerId', '=', owner.customerId).where('id', '=', id).executeTakeFirstOrThrow();
  return toVirtualLineView(row, await peopleOf(trx, owner, lineUserIds(row)));
}

/**
 * An owner or admin adds a virtual line to the organisation: its number, name, where calls go and its business hours, and
 * optionally the subscription it comes from. Audited as `virtual_line.created` (the customer's Audit section shows it).
 */
export async function createVirtualLine(ctx: Ctx, input: VirtualLineCreateInput): Promise<VirtualLineView> {
  const caller = portalCaller(ctx.principal);
  const owner: Owner = { partnerId: caller.partnerId, customerId: caller.customerId };
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    await checkDestinationUsers(trx, owner, input.destination, input.businessHours);
    await checkSubscription(trx, owner, input.subscriptionId);
    const id = newVirtualLineId();
    await guardNumber(input.number, () =>
      trx.insertInto('virtualLines').values({
        id, partnerId: owner.partnerId, customerId: owner.customerId, subscriptionId: input.subscriptionId ?? null,
        number: input.number, name: input.name, destination: JSON.stringify(input.destination),
        businessHours: input.businessHours ? JSON.stringify(input.businessHours) : null, removedAt: null,
      }).execute(),
    );
    const view = await readLineView(trx, owner, id);
    await recordAudit(trx, ctx, {
      partnerId: owner.partnerId, customerId: owner.customerId, app: 'portal', action: 'virtual_line.created',
      targetType: 'virtual_line', targetId: id, changes: diff(null, virtualLineAuditFields(view)),
    });
    return view;
  });
}
