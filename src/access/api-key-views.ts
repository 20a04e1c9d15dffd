import { z } from 'zod';
import type { AppName } from '../platform/db-types.ts';
import { appName, timestamp } from '../platform/schemas.ts';
import { APP_ORDER } from '../auth/describe-session.ts';

export const apiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  /** The first characters of the token, to recognise it; the token itself is shown once, at creation. */
  prefix: z.string(),
  apps: z.array(appName),
  createdAt: timestamp,
  lastUsedAt: timestamp.nullable(),
  revokedAt: timestamp.nullable(),
});
export type ApiKey = z.infer<typeof apiKeySchema>;

export const apiKeyColumns = ['id', 'name', 'tokenPrefix', 'apps', 'createdAt', 'lastUsedAt', 'revokedAt'] as const;

export function toApiKey(row: { id: string; name: string; tokenPrefix: string; apps: AppName[]; createdAt: Date; lastUsedAt: Date | null; revokedAt: Date | null }): ApiKey {
  return {
    id: row.id,
    name: row.name,
    prefix: row.tokenPrefix,
    apps: APP_ORDER.filter((a) => row.apps.includes(a)),
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}
