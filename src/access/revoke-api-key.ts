import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from './caller.ts';
import { forgetPartnerApiKeys } from '../auth/resolve-principal.ts';
import { apiKeyColumns, makerNames, toApiKey, type ApiKey } from './api-key-views.ts';

/** Revoke an API key: its next request to this server is refused (401); other server processes follow within API_KEY_CACHE_MS. */
export async function revokeApiKey(ctx: Ctx, input: { keyId: string }): Promise<ApiKey> {
  const { partnerId } = partnerCaller(ctx.principal);
  const revoked = await inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const before = await trx.selectFrom('apiKeys').select(apiKeyColumns).where('partnerId', '=', partnerId).where('id', '=', input.keyId).forUpdate().executeTakeFirst();
    if (!before) throw notFound('API key');
    if (before.revokedAt) throw new DomainError('state_conflict', 'This API key is already revoked');
    const after = await trx
      .updateTable('apiKeys')
      .set({ revokedAt: sql`now()` })
      .where('partnerId', '=', partnerId)
      .where('id', '=', before.id)
      .returning(apiKeyColumns)
      .executeTakeFirstOrThrow();
    await recordAudit(trx, ctx, {
      partnerId, app: 'access', action: 'api_key.revoked', targetType: 'api_key', targetId: before.id,
      changes: diff({ revokedAt: before.revokedAt }, { revokedAt: after.revokedAt }),
    });
    return toApiKey(after, await makerNames(trx, partnerId, [after]));
  });
  // The keys it made stop with it (resolveApiKey walks the makers): forget the partner's cached keys, not only this one.
  forgetPartnerApiKeys(ctx.db, partnerId);
  return revoked;
}
