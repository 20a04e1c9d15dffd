import { z } from 'zod';
import type { AppName } from '../platform/db-types.ts';
import { appName, timestamp } from '../platform/schemas.ts';
import { APP_ORDER } from '../auth/describe-session.ts';
import type { Trx } from '../platform/database.ts';

export const apiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  /** The first characters of the token, to recognise it; the token itself is shown once, at creation. */
  prefix: z.string(),
  apps: z.array(appName),
  createdAt: timestamp,
  lastUsedAt: timestamp.nullable(),
  revokedAt: timestamp.nullable(),
  /**
   * Who made the key: a staff member or another API key (null: made by Folio itself, e.g. the demo seed). A key works
   * only while its maker does: it uses the apps it was given that its maker still holds (src/auth/resolve-principal.ts).
   */
  createdBy: z.object({ kind: z.enum(['user', 'api_key']), id: z.string(), name: z.string() }).nullable(),
});
export type ApiKey = z.infer<typeof apiKeySchema>;

export const apiKeyColumns = ['id', 'name', 'tokenPrefix', 'apps', 'createdAt', 'lastUsedAt', 'revokedAt', 'createdBy'] as const;

interface ApiKeyRow {
  id: string;
  name: string;
  tokenPrefix: string;
  apps: AppName[];
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  createdBy: string | null;
}

/** The makers' names of some keys (staff members and keys of the same partner), by id. */
export async function makerNames(trx: Trx, partnerId: string, rows: readonly ApiKeyRow[]): Promise<Map<string, string>> {
  const ids = [...new Set(rows.map((r) => r.createdBy).filter((id): id is string => id !== null))];
  if (ids.length === 0) return new Map();
  const [users, keys] = await Promise.all([
    trx.selectFrom('users').select(['id', 'name']).where('partnerId', '=', partnerId).where('id', 'in', ids).execute(),
    trx.selectFrom('apiKeys').select(['id', 'name']).where('partnerId', '=', partnerId).where('id', 'in', ids).execute(),
  ]);
  return new Map([...users, ...keys].map((r) => [r.id, r.name]));
}

export function toApiKey(row: ApiKeyRow, makers: ReadonlyMap<string, string>): ApiKey {
  return {
    id: row.id,
    name: row.name,
    prefix: row.tokenPrefix,
    apps: APP_ORDER.filter((a) => row.apps.includes(a)),
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    createdBy: row.createdBy === null
      ? null
      : { kind: row.createdBy.startsWith('key_') ? 'api_key' : 'user', id: row.createdBy, name: makers.get(row.createdBy) ?? 'unknown' },
  };
}
