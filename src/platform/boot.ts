import pino, { type Logger } from 'pino';
import { loadConfig, type Config } from './config.ts';
import { assertAppRole, openDatabase, type DatabaseHandle } from './database.ts';
import { asyncLogDestination } from './log-destination.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './embedded-postgres.ts';
import { migrateToLatest } from './migrate.ts';

export interface Booted {
  config: Config;
  log: Logger;
  /** Owner connection: migrations, the job queue's own tables. */
  owner: DatabaseHandle;
  /** The app role (row-level security applies): every request and job. */
  app: DatabaseHandle;
  embedded: EmbeddedDatabase | null;
  shutdown(): Promise<void>;
}

/** Start (or reach) PostgreSQL, migrate, and open the two pools. */
export async function boot(options: { migrate: boolean } = { migrate: true }): Promise<Booted> {
  const config = loadConfig();
  const log = pino({ level: config.logLevel, base: { service: 'folio' } }, asyncLogDestination({ fd: 1 }));
  let embedded: EmbeddedDatabase | null = null;
  let url = config.databaseUrl;
  if (!url) {
    embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPgPort, log: (m) => log.info(m) });
    url = embedded.url;
  }
  // The error alone: pg-pool hangs the whole client (its prepared statements and all) on an idle connection's error.
  const onError = (err: Error) =>
    log.error({ err: Object.assign(new Error(err.message), { code: (err as { code?: unknown }).code, stack: err.stack }) }, 'database pool error');
  const owner = openDatabase(url, { appRole: false, max: 5, onError, prepareStatements: config.prepareStatements });
  if (options.migrate) {
    const applied = await migrateToLatest(owner);
    if (applied.length > 0) log.info({ applied }, 'migrations applied');
  }
  const app = openDatabase(url, { appRole: true, max: 20, onError, prepareStatements: config.prepareStatements });
  await assertAppRole(app.db);
  return {
    config, log, owner, app, embedded,
    shutdown: async () => {
      await app.close();
      await owner.close();
      if (embedded) await embedded.stop();
    },
  };
}
