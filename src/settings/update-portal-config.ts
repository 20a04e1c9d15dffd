import { sql } from 'kysely';
import { ifMatchMatches } from '../platform/etag.ts';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from '../access/caller.ts';
import { loadPortalConfig, type PortalConfig, type VersionedPortalConfig } from './portal-config.ts';
import { forgetPortalTabs } from './portal-tabs.ts';

export interface UpdatePortalConfigInput {
  portalTabs?: Partial<PortalConfig['portalTabs']> | undefined;
  contactSalesEmail?: string | null | undefined;
  contactSalesReplyToName?: string | null | undefined;
  staffTwoFactorRequired?: boolean | undefined;
  /** The `If-Match` header: when given and stale, nothing is written (412). `*` matches any version. */
  ifMatch?: string | undefined;
}

/** Change any subset of the portal configuration (tabs may be partial). */
export async function updatePortalConfig(ctx: Ctx, input: UpdatePortalConfigInput): Promise<VersionedPortalConfig> {
  const { partnerId } = partnerCaller(ctx.principal);
  const updated = await inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const before = await loadPortalConfig(trx, partnerId, { lock: true });
    if (input.ifMatch !== undefined && !ifMatchMatches(input.ifMatch, before.etag)) {
      throw new DomainError('precondition_failed', 'The portal configuration changed since you read it; reload and try again');
    }
    const next: PortalConfig = {
      portalTabs: { ...before.config.portalTabs, ...input.portalTabs },
      contactSalesEmail: input.contactSalesEmail === undefined ? before.config.contactSalesEmail : input.contactSalesEmail,
      contactSalesReplyToName: input.contactSalesReplyToName === undefined ? before.config.contactSalesReplyToName : input.contactSalesReplyToName,
      staffTwoFactorRequired: input.staffTwoFactorRequired ?? before.config.staffTwoFactorRequired,
    };
    const changes = diff(before.config, next);
    if (Object.keys(changes).length === 0) return before;
    // Whether staff need a sign-in code is a security rule of Access Control, not a portal setting: turning it off
    // would let a Settings holder weaken the sign-in of every Finance holder.
    if (next.staffTwoFactorRequired !== before.config.staffTwoFactorRequired) {
      const apps = ctx.principal.kind === 'staff' || ctx.principal.kind === 'api_key' ? ctx.principal.apps : new Set<string>();
      if (!apps.has('access')) {
        throw new DomainError('app_not_granted', 'Only staff with the Access Control app change whether staff sign in with a code', [
          { path: 'staffTwoFactorRequired', message: 'needs the Access Control app' },
        ]);
      }
    }
    await trx
      .updateTable('partnerSettings')
      .set({
        portalTabs: JSON.stringify(next.portalTabs),
        contactSalesEmail: next.contactSalesEmail,
        contactSalesReplyToName: next.contactSalesReplyToName,
        staffTwoFactorRequired: next.staffTwoFactorRequired,
        // Strictly later than the previous version, so the ETag always changes.
        updatedAt: sql`greatest(clock_timestamp(), updated_at + interval '1 microsecond')`,
      })
      .where('partnerId', '=', partnerId)
      .execute();
    await recordAudit(trx, ctx, { partnerId, app: 'settings', action: 'portal_config.updated', targetType: 'partner_settings', targetId: partnerId, changes });
    return loadPortalConfig(trx, partnerId, { lock: false });
  });
  forgetPortalTabs(ctx.db, partnerId); // committed: this process's tab checks see the change at once
  return updated;
}
