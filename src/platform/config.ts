import path from 'node:path';

/** Every setting Folio reads from the environment. The README's configuration table mirrors this list. */
export interface Config {
  port: number;
  host: string;
  /** External PostgreSQL; when absent, an embedded server is started under dataDir. */
  databaseUrl: string | undefined;
  dataDir: string;
  embeddedPgPort: number;
  smtpUrl: string | undefined;
  mailFrom: string;
  logLevel: string;
  /** Seed demo data: default on for the embedded database, off for DATABASE_URL unless FOLIO_SEED_DEMO=true. */
  seedDemo: boolean;
  publicUrl: string;
  sessionIdleMinutes: number;
  sessionAbsoluteHours: number;
  secureCookies: boolean;
  bodyLimitBytes: number;
  workerConcurrency: number;
  demoPassword: string;
  /** The public dev mailbox (`GET /api/v1/dev/mailbox`): on for the local demo (embedded database, no SMTP), off otherwise unless FOLIO_DEV_MAILBOX=true. */
  devMailbox: boolean;
  /** FOLIO_DB_PREPARE_STATEMENTS (default true): prepare statements once per connection; set false behind a transaction-pooling proxy (PgBouncer before 1.21). */
  prepareStatements: boolean;
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = intFromEnv(env, 'PORT', 3000, 0, 65535);
  const databaseUrl = env.DATABASE_URL || undefined;
  const seedFlag = env.FOLIO_SEED_DEMO;
  const seedDemo = seedFlag === undefined || seedFlag === '' ? databaseUrl === undefined : seedFlag === 'true' || seedFlag === '1';
  const publicUrl = env.FOLIO_PUBLIC_URL || `http://localhost:${port}`;
  return {
    port,
    host: env.HOST || '0.0.0.0',
    databaseUrl,
    dataDir: path.resolve(env.FOLIO_DATA_DIR || '.folio'),
    embeddedPgPort: intFromEnv(env, 'FOLIO_PG_PORT', 54320, 1024, 65535),
    smtpUrl: env.SMTP_URL || undefined,
    mailFrom: env.MAIL_FROM || 'Folio <no-reply@folio.test>',
    logLevel: env.LOG_LEVEL || 'info',
    seedDemo,
    publicUrl,
    sessionIdleMinutes: intFromEnv(env, 'SESSION_IDLE_MINUTES', 60, 1, 24 * 60),
    sessionAbsoluteHours: intFromEnv(env, 'SESSION_ABSOLUTE_HOURS', 12, 1, 24 * 30),
    secureCookies: env.SECURE_COOKIES ? env.SECURE_COOKIES === 'true' : publicUrl.startsWith('https://'),
    bodyLimitBytes: intFromEnv(env, 'BODY_LIMIT_BYTES', 1_048_576, 1024, 50 * 1_048_576),
    workerConcurrency: intFromEnv(env, 'WORKER_CONCURRENCY', 4, 1, 64),
    demoPassword: env.FOLIO_DEMO_PASSWORD || 'folio-demo-2026',
    devMailbox: env.FOLIO_DEV_MAILBOX ? env.FOLIO_DEV_MAILBOX === 'true' : !env.SMTP_URL && !databaseUrl,
    prepareStatements: env.FOLIO_DB_PREPARE_STATEMENTS !== 'false',
  };
}
