import { sql } from 'kysely';
import { z } from 'zod';
import type { Trx } from '../platform/database.ts';
import { sha256Hex } from '../platform/crypto.ts';
import type {} from '../topup/top-up-policy.db-types.ts';

export const portalTabsSchema = z.object({ invoices: z.boolean(), audit: z.boolean(), services: z.boolean(), points: z.boolean() });

export const portalConfigSchema = z.object({
  /** User-portal tabs the partner shows to its customers. */
  portalTabs: portalTabsSchema,
  /** The "contact sales" address customers see and reply to. */
  contactSalesEmail: z.string().nullable(),
  /** The name shown with it (Reply-To of sales notifications, the portal's Contact sales action). */
  contactSalesReplyToName: z.string().nullable(),
  /** Staff must sign in with an emailed code. */
  staffTwoFactorRequired: z.boolean(),
});
export type PortalConfig = z.infer<typeof portalConfigSchema>;

export interface VersionedPortalConfig {
  config: PortalConfig;
  /** A strong ETag: a hash of the settings row's `updated_at` (to the microsecond). */
  etag: string;
}

/** The partner's settings row, locked when asked; created with the defaults if the partner has none yet. */
export async function loadPortalConfig(trx: Trx, partnerId: string, options: { lock: boolean }): Promise<VersionedPortalConfig> {
  await trx.insertInto('partnerSettings').values({ partnerId, contactSalesEmail: null, updatedAt: sql`now()` }).onConflict((oc) => oc.column('partnerId').doNothing()).execute();
  const row = await trx
    .selectFrom('partnerSettings')
    .select(['portalTabs', 'contactSalesEmail', 'contactSalesReplyToName', 'staffTwoFactorRequired', sql<string>`(extract(epoch from updated_at) * 1000000)::bigint::text`.as('version')])
    .where('partnerId', '=', partnerId)
    .$if(options.lock, (qb) => qb.forUpdate())
    .executeTakeFirstOrThrow();
  return {
    config: {
      portalTabs: row.portalTabs, contactSalesEmail: row.contactSalesEmail, contactSalesReplyToName: row.contactSalesReplyToName,
      staffTwoFactorRequired: row.staffTwoFactorRequired,
    },
    etag: `"${sha256Hex(`${partnerId}:${row.version}`).slice(0, 32)}"`,
  };
}
