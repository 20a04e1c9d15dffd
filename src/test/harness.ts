import { randomBytes } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../platform/config.ts';
import { openDatabase, type DatabaseHandle } from '../platform/database.ts';
import { buildServer, type FolioApp } from '../platform/server.ts';
import { deliverNotification } from '../notifications/deliver-notification.ts';
import type { MailTransport } from '../notifications/transport.ts';

export const DEMO_PASSWORD = 'folio-demo-2026';
const TEMPLATE_DB = 'folio_test_template';

export interface TestDb {
  name: string;
  url: string;
  /** Database owner: bypasses row-level security (use it to inspect, never as the app would). */
  owner: DatabaseHandle;
  /** The app role, as the server uses it. */
  app: DatabaseHandle;
  drop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** A fresh database for one test file, cloned from the migrated, demo-seeded template. */
export async function createTestDb(): Promise<TestDb> {
  const adminUrl = inject('pgAdminUrl');
  const name = `folio_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name} template ${TEMPLATE_DB}`);
  await admin.end();
  const url = withDatabase(adminUrl, name);
  const owner = openDatabase(url, { appRole: false, max: 3 });
  const app = openDatabase(url, { appRole: true, max: 10 });
  return {
    name, url, owner, app,
    drop: async () => {
      await app.close();
      await owner.close();
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export function testConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({ FOLIO_PUBLIC_URL: 'http://localhost:3000', FOLIO_DEV_MAILBOX: 'true' }), demoPassword: DEMO_PASSWORD, ...overrides };
}

export interface TestApp {
  app: FolioApp;
  db: TestDb;
  config: Config;
  close(): Promise<void>;
}

/** A server on a fresh database, driven with `app.inject` (no port). */
export async function createTestApp(overrides: Partial<Config> = {}): Promise<TestApp> {
  const db = await createTestDb();
  const config = testConfig(overrides);
  const app = await buildServer({ config, db: db.app.db, log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }) });
  await app.ready();
  return {
    app, db, config,
    close: async () => {
      await app.close();
      await db.drop();
    },
  };
}

/** Deliver every queued notification through a transport (the local mailbox by default), as the worker would. */
export async function deliverQueued(db: TestDb, transport: MailTransport = { name: 'local_mailbox', send: async () => {} }): Promise<number> {
  const queued = await db.owner.db.selectFrom('notifications').select('id').where('status', '=', 'queued').orderBy('createdAt').execute();
  for (const n of queued) await deliverNotification({ db: db.app.db, transport }, n.id);
  return queued.length;
}

/** The newest notification sent to an address (the owner connection reads it, as a test looking into the mailbox). */
export async function lastMailTo(db: TestDb, email: string) {
  return db.owner.db.selectFrom('notifications').selectAll().where('toEmail', '=', email).orderBy('createdAt', 'desc').orderBy('id', 'desc').executeTakeFirst();
}

export interface Session {
  cookie: string;
  csrfToken: string;
  headers: Record<string, string>;
}

/** Sign in through the API, reading the 2FA code from the outbox when one is asked for. */
export async function signIn(t: TestApp, email: string, password = DEMO_PASSWORD): Promise<Session> {
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password } });
  if (res.statusCode !== 200) throw new Error(`login ${email} failed: ${res.statusCode} ${res.body}`);
  let body = res.json<{ status: string; csrfToken?: string; challengeId?: string }>();
  let setCookie = res.headers['set-cookie'];
  if (body.status === 'two_factor_required') {
    const mail = await lastMailTo(t.db, email);
    const code = /\b(\d{6})\b/.exec(mail?.subject ?? '')?.[1];
    if (!code) throw new Error(`no sign-in code mailed to ${email}`);
    const verify = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login/verify', payload: { challengeId: body.challengeId, code } });
    if (verify.statusCode !== 200) throw new Error(`2FA for ${email} failed: ${verify.statusCode} ${verify.body}`);
    body = verify.json<typeof body>();
    setCookie = verify.headers['set-cookie'];
  }
  const raw = Array.isArray(setCookie) ? setCookie[0]! : setCookie!;
  const cookie = raw.split(';')[0]!;
  return { cookie, csrfToken: body.csrfToken!, headers: { cookie, 'x-csrf-token': body.csrfToken! } };
}
