import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import type { AppName } from '../platform/db-types.ts';
import { staffCaller } from './caller.ts';
import { activeGrantors } from './app-holders.ts';

export interface AppGrantor {
  id: string;
  name: string;
  email: string;
}

/**
 * Colleagues who could grant the caller an app they lack (active, holding the app and Access Control): what the admin
 * portal names beside "Request access", so a staff member can ask one of them instead of the operator. Empty for
 * Finance (only the operator grants it) and for an app nobody at the partner can give any more, where the operator's
 * request is the way back (docs/adr/0039, amendment). Any staff member may ask: colleagues' names are no secret
 * within a partner.
 */
export async function listAppGrantors(ctx: Ctx, input: { app: AppName }): Promise<{ data: AppGrantor[] }> {
  const staff = staffCaller(ctx.principal);
  const data = await inScope(ctx.db, scopeOf(ctx.principal), (trx) => activeGrantors(trx, staff.partnerId, input.app));
  return { data };
}
