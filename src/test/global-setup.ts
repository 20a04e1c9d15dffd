import path from 'node:path';
import fs from 'node:fs';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../platform/embedded-postgres.ts';
import { openDatabase } from '../platform/database.ts';
import { migrateToLatest } from '../platform/migrate.ts';
import { seedDemo } from '../platform/seed.ts';

export const TEMPLATE_DB = 'folio_test_template';
export const DEMO_PASSWORD = 'folio-demo-2026';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}

let embedded: EmbeddedDatabase | null = null;

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * One PostgreSQL for the whole run (TEST_DATABASE_URL, or an embedded server under .folio-test/), and one migrated,
 * demo-seeded template database (people, customers, catalog; not their activity: seedDemo `activity: false`) that every
 * test file clones (CREATE DATABASE ... TEMPLATE), so each file starts fresh.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    const port = Number(process.env.FOLIO_TEST_PG_PORT ?? 54330);
    const dataDir = path.resolve('.folio-test', String(port));
    fs.mkdirSync(dataDir, { recursive: true });
    embedded = await startEmbeddedPostgres({ dataDir, port, log: () => {} });
    adminUrl = embedded.url;
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const stale = await admin.query<{ datname: string }>(`select datname from pg_database where datname like 'folio_test_%'`);
  for (const row of stale.rows) await admin.query(`drop database if exists "${row.datname}" with (force)`);
  await admin.query(`create database ${TEMPLATE_DB}`);
  const owner = openDatabase(withDatabase(adminUrl, TEMPLATE_DB), { appRole: false, max: 2 });
  await migrateToLatest(owner);
  await seedDemo(owner.db, DEMO_PASSWORD, { activity: false });
  await owner.close();
  await admin.end();
  project.provide('pgAdminUrl', adminUrl);
  return async () => {
    if (embedded) await embedded.stop();
  };
}
