import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { partnerCaller } from './caller.ts';
import { pageOf, type Page } from './paging.ts';
import { appsByUser, staffColumns, toStaffMember, type StaffMember } from './staff-views.ts';

/** The partner's staff, newest first, with the apps each holds. */
export async function listStaff(ctx: Ctx, input: { limit: number; cursor?: string | undefined }): Promise<Page<StaffMember>> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const rows = await trx
      .selectFrom('users')
      .select(staffColumns)
      .where('partnerId', '=', partnerId)
      .where('kind', '=', 'staff')
      .$if(input.cursor !== undefined, (qb) => qb.where('id', '<', input.cursor!))
      .orderBy('id', 'desc')
      .limit(input.limit + 1)
      .execute();
    const apps = await appsByUser(trx, partnerId, rows.map((r) => r.id));
    return pageOf(rows.map((r) => toStaffMember(r, apps.get(r.id) ?? [])), input.limit);
  });
}
