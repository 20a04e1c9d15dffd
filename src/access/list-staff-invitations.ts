import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { partnerCaller } from './caller.ts';
import { pageOf, type Page } from './paging.ts';
import { invitationColumns, toStaffInvitation, type StaffInvitation } from './staff-views.ts';

/** Invitations of partner staff (not of customers' users), newest first. */
export async function listStaffInvitations(ctx: Ctx, input: { limit: number; cursor?: string | undefined }): Promise<Page<StaffInvitation>> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const rows = await trx
      .selectFrom('invitations')
      .select(invitationColumns)
      .where('partnerId', '=', partnerId)
      .where('customerId', 'is', null)
      .$if(input.cursor !== undefined, (qb) => qb.where('id', '<', input.cursor!))
      .orderBy('id', 'desc')
      .limit(input.limit + 1)
      .execute();
    return pageOf(rows.map(toStaffInvitation), input.limit);
  });
}
