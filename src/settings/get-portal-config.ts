import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { partnerCaller } from '../access/caller.ts';
import { loadPortalConfig, type VersionedPortalConfig } from './portal-config.ts';

/** The partner's user-portal configuration and staff sign-in rule, with the ETag to send back as `If-Match`. */
export async function getPortalConfig(ctx: Ctx): Promise<VersionedPortalConfig> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), (trx) => loadPortalConfig(trx, partnerId, { lock: false }));
}
