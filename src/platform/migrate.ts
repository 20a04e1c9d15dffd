import { Migrator, type MigrationProvider } from 'kysely/migration';
import { runMigrations } from 'graphile-worker';
import type { DatabaseHandle } from './database.ts';
import { migrations } from './migrations/index.ts';

const provider: MigrationProvider = { getMigrations: async () => migrations };

/** Apply our migrations and graphile-worker's, (the app role enqueues through folio_enqueue_job). Safe to run on every start. */
export async function migrateToLatest(owner: DatabaseHandle): Promise<string[]> {
  const migrator = new Migrator({ db: owner.db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(`migration failed: ${JSON.stringify(error)}`);
  await runMigrations({ pgPool: owner.pool });
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
