import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import type { AppName } from '../platform/db-types.ts';
import { newId, newSecret } from '../platform/ids.ts';
import { sha256Hex } from '../platform/crypto.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { partnerCaller, refuseAppsNotHeld } from './caller.ts';
import { apiKeyColumns, makerNames, toApiKey, type ApiKey } from './api-key-views.ts';

export const API_KEY_PREFIX_LENGTH = 10;

/** A partner API key limited to some apps, each of which the creator holds. The token is returned once and stored only as its hash. */
export async function createApiKey(ctx: Ctx, input: { name: string; apps: readonly AppName[] }): Promise<ApiKey & { token: string }> {
  const caller = partnerCaller(ctx.principal);
  // One answer for every way of giving an app (docs/adr/0039): 403 app_not_held naming `apps.N`. Finance included: a
  // key may use it when its maker holds it.
  refuseAppsNotHeld(caller, input.apps.map((app, i) => ({ app, path: `apps.${i}` })));
  const apps = [...new Set(input.apps)];
  const token = `fk_${newSecret()}`;
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const row = await trx
      .insertInto('apiKeys')
      .values({
        id: newId('key'), partnerId: caller.partnerId, name: input.name, tokenPrefix: token.slice(0, API_KEY_PREFIX_LENGTH),
        tokenHash: sha256Hex(token), apps, createdBy: caller.actorId, lastUsedAt: null, revokedAt: null,
      })
      .returning(apiKeyColumns)
      .executeTakeFirstOrThrow();
    const key = toApiKey(row, await makerNames(trx, caller.partnerId, [row]));
    await recordAudit(trx, ctx, {
      partnerId: caller.partnerId, app: 'access', action: 'api_key.created', targetType: 'api_key', targetId: key.id,
      changes: diff(null, { name: key.name, prefix: key.prefix, apps: key.apps }),
    });
    return { ...key, token };
  });
}
