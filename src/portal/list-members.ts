import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { portalCaller } from '../access/caller.ts';
import { ROLE_ORDER, selectMembers, toMember, type Member } from './member-views.ts';

/** Everyone in the caller's organisation, owner first, then by role and name. */
export async function listMembers(ctx: Ctx): Promise<{ data: Member[] }> {
  const org = portalCaller(ctx.principal);
  const rows = await inScope(ctx.db, scopeOf(ctx.principal), (trx) => selectMembers(trx, org).orderBy('name').orderBy('id').execute());
  const data = rows.map(toMember).sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role]);
  return { data };
}
