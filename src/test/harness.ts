import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { sql } from 'kysely';
import pino from 'pino';
import { expect, inject } from 'vitest';
import { loadConfig, type Config } from '../platform/config.ts';
import { openDatabase, type DatabaseHandle } from '../platform/database.ts';
import { buildServer, type FolioApp } from '../platform/server.ts';
import { TestClock } from '../platform/clock.ts';
import { migrateToLatest } from '../platform/migrate.ts';
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
  return newTestDb(`folio_test_${randomBytes(6).toString('hex')}`, `template ${TEMPLATE_DB}`);
}

/**
 * A database of its own, empty and migrated, as a first start of the app finds it (no template, so no seed): for tests
 * of what the app does on an empty database, e.g. the demo seed with its activity. Drop it when done.
 */
export async function createEmptyTestDb(prefix: string): Promise<TestDb> {
  const db = await newTestDb(`folio_test_${prefix}_${randomBytes(4).toString('hex')}`, '');
  await migrateToLatest(db.owner);
  return db;
}

async function newTestDb(name: string, createOptions: string): Promise<TestDb> {
  const adminUrl = inject('pgAdminUrl');
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name} ${createOptions}`);
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

/**
 * An app-role pool whose messages are recorded as PostgreSQL gets them: the text of each simple-protocol message, and
 * `(sync)` for each extended-protocol round trip. Each entry is one round trip. Close `handle` when done.
 */
export function wireRecordedPool(db: TestDb, max: number): { handle: DatabaseHandle; sent: string[] } {
  const handle = openDatabase(db.url, { appRole: true, max });
  const sent: string[] = [];
  handle.pool.on('connect', (client) => {
    const connection = (client as unknown as { connection: { query(text: string): void; sync(): void } }).connection;
    const query = connection.query.bind(connection);
    const sync = connection.sync.bind(connection);
    Object.assign(connection, {
      query: (text: string) => { sent.push(text); query(text); },
      sync: () => { sent.push('(sync)'); sync(); },
    });
  });
  return { handle, sent };
}

export function testConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({ FOLIO_PUBLIC_URL: 'http://localhost:3000', FOLIO_DEV_MAILBOX: 'true' }), demoPassword: DEMO_PASSWORD, ...overrides };
}

export interface TestApp {
  app: FolioApp;
  db: TestDb;
  config: Config;
  /** The server's clock (`ctx.clock`): follows the system clock until a test sets or advances it. */
  clock: TestClock;
  close(): Promise<void>;
}

/** A server on a fresh database, driven with `app.inject` (no port). */
export async function createTestApp(overrides: Partial<Config> = {}): Promise<TestApp> {
  const db = await createTestDb();
  const config = testConfig(overrides);
  const clock = new TestClock();
  const app = await buildServer({ config, db: db.app.db, log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), clock });
  await app.ready();
  return {
    app, db, config, clock,
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

// --- Helpers for the access, settings, customers and portal tests ---

type InjectMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One API call as a session (cookie + CSRF), an API key (`{ authorization: 'Bearer fk_...' }`), or anonymously (null). */
export function api(t: TestApp, who: Session | Record<string, string> | null, method: InjectMethod, url: string, payload?: unknown) {
  const headers = who === null ? {} : 'headers' in who && typeof who.headers === 'object' ? (who as Session).headers : (who as Record<string, string>);
  return t.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
}

/** The token of the newest invitation link mailed to an address. */
export async function invitationTokenFor(db: TestDb, email: string): Promise<string> {
  const mail = await db.owner.db
    .selectFrom('notifications')
    .select('bodyText')
    .where('toEmail', '=', email)
    .where('kind', '=', 'invitation')
    .orderBy('createdAt', 'desc')
    .orderBy('id', 'desc')
    .executeTakeFirst();
  const token = /accept-invitation\?token=([^\s]+)/.exec(mail?.bodyText ?? '')?.[1];
  if (!token) throw new Error(`no invitation mailed to ${email}`);
  return decodeURIComponent(token);
}

/** Accept the newest invitation mailed to an address, choosing DEMO_PASSWORD, so the person can then `signIn`. */
export async function acceptInvitationFor(t: TestApp, email: string, name = 'Invited Person'): Promise<void> {
  const token = await invitationTokenFor(t.db, email);
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/invitations/accept', payload: { token, name, password: DEMO_PASSWORD } });
  if (res.statusCode !== 200) throw new Error(`accepting the invitation of ${email} failed: ${res.statusCode} ${res.body}`);
}

/** Audit events with this action, newest first (read as the owner, past row-level security). */
export async function auditEventsOf(db: TestDb, action: string) {
  return db.owner.db.selectFrom('auditEvents').selectAll().where('action', '=', action).orderBy('seq', 'desc').execute();
}

/** A user's id by email (owner connection): the address's account, else a row invited with it (ADR 0042: several may be). */
export async function userIdOf(db: TestDb, email: string): Promise<string> {
  const row = await db.owner.db.selectFrom('users').select('id').where('email', '=', email).orderBy(sql`password_hash is null`).orderBy('id').limit(1).executeTakeFirstOrThrow();
  return row.id;
}

// --- Helpers for the notifications and audit tests ---
// (Imports placed with the helpers that need them; ES module imports are hoisted.)
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { runDueJobs } from '../platform/jobs.ts';

/** Run every due graphile-worker job once, as the worker would (owner pool for the queue, app role for the work). */
export async function runJobsOnce(t: TestApp, transport: MailTransport = { name: 'local_mailbox', send: async () => {} }): Promise<void> {
  await runDueJobs({ queuePool: t.db.owner.pool, db: t.db.app.db, transport, log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }) });
}

/** A partner's id by slug, a customer's by name (owner connection). */
export async function partnerIdOf(db: TestDb, slug: string): Promise<string> {
  return (await db.owner.db.selectFrom('partners').select('id').where('slug', '=', slug).executeTakeFirstOrThrow()).id;
}
export async function customerIdOf(db: TestDb, name: string): Promise<string> {
  return (await db.owner.db.selectFrom('customers').select('id').where('name', '=', name).executeTakeFirstOrThrow()).id;
}

export interface ReceivedMail {
  from: string | null;
  to: string[];
  raw: string;
  subject: string | null;
}

export interface SmtpPeer {
  /** `smtp://127.0.0.1:PORT` */
  url: string;
  received: ReceivedMail[];
  /** Refuse recipients from now on with this SMTP reply code (e.g. 451 temporary, 550 permanent); null accepts again. */
  refuseRecipients(code: number | null): void;
  close(): Promise<void>;
}

/** A real SMTP server on 127.0.0.1 and a random port, keeping what it receives (no TLS, no auth). */
export async function startSmtpPeer(): Promise<SmtpPeer> {
  const received: ReceivedMail[] = [];
  let refuseWith: number | null = null;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(_address, _session, callback) {
      if (refuseWith === null) return callback();
      const err = new Error(refuseWith >= 500 ? 'mailbox unavailable' : 'try again later') as Error & { responseCode: number };
      err.responseCode = refuseWith;
      return callback(err);
    },
    onData(stream, session, callback) {
      const parts: Buffer[] = [];
      stream.on('data', (c: Buffer) => parts.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(parts).toString('utf8');
        const from = session.envelope.mailFrom;
        received.push({
          from: from ? from.address : null,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          subject: /^Subject: (.*)$/im.exec(raw)?.[1]?.trim() ?? null,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    refuseRecipients: (code) => {
      refuseWith = code;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A new user-portal member: invited by `inviter` (owner or admin) with `role`, accepted, and signed in. */
export async function joinOrganisation(t: TestApp, inviter: Session, email: string, role: 'admin' | 'member' | 'guest'): Promise<{ userId: string; session: Session }> {
  const res = await api(t, inviter, 'POST', '/api/v1/portal/members/invitations', { email, name: `${role} ${email}`, role });
  if (res.statusCode !== 201) throw new Error(`inviting ${email} failed: ${res.statusCode} ${res.body}`);
  await acceptInvitationFor(t, email, `${role} ${email}`);
  return { userId: res.json<{ userId: string }>().userId, session: await signIn(t, email) };
}

// --- Helpers for the top-up and gateway tests ---
import type { LightMyRequestResponse } from 'fastify';
import type { Gateway } from '../gateway/gateway.ts';
import { SandboxGateway } from '../gateway/sandbox.ts';

export const TEST_SANDBOX_WEBHOOK_SECRET = 'whsec_folio_sandbox_test';

export interface TestAppWithGateway extends TestApp {
  gateway: SandboxGateway;
}

/** A server whose card gateway is a sandbox the test holds (passed through ServerDeps), to settle delayed cards itself. */
export async function createTestAppWithGateway(options: { settleAfterMs?: number; config?: Partial<Config> } = {}): Promise<TestAppWithGateway> {
  const db = await createTestDb();
  const config = testConfig(options.config);
  const gateway = new SandboxGateway({ db: db.app.db, webhookSecret: TEST_SANDBOX_WEBHOOK_SECRET, settleAfterMs: options.settleAfterMs ?? 5_000 });
  const clock = new TestClock();
  const app = await buildServer({ config, db: db.app.db, log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), gateway, clock });
  await app.ready();
  return {
    app, db, config, gateway, clock,
    close: async () => {
      await app.close();
      await db.drop();
    },
  };
}

/**
 * Settle the sandbox's delayed charges due at `at` and deliver every due webhook event to `POST /api/v1/gateway/webhooks`
 * over HTTP, as the gateway would. Returns the route's answers, in delivery order.
 */
export async function deliverSandboxWebhooks(t: TestApp, gateway: Gateway, at: Date = new Date()): Promise<LightMyRequestResponse[]> {
  const answers: LightMyRequestResponse[] = [];
  await gateway.deliverDueEvents!(async (d) => {
    const res = await t.app.inject({
      method: 'POST', url: '/api/v1/gateway/webhooks', payload: d.rawBody,
      headers: { 'content-type': 'application/json', [gateway.signatureHeaderName]: d.signatureHeader },
    });
    answers.push(res);
    if (res.statusCode >= 300) throw new Error(`webhook answered ${res.statusCode}: ${res.body}`);
  }, { now: at });
  return answers;
}

/**
 * A fresh owner connection (no plan cached yet) in a transaction that is rolled back: nothing it writes stays. The
 * server's notices (auto_explain's plans, when a test sends them to the client) are collected in `notices`.
 */
export async function inRolledBackOwner<T>(db: TestDb, work: (client: pg.Client, notices: string[]) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: db.url });
  const notices: string[] = [];
  client.on('notice', (n) => notices.push(n.message ?? ''));
  await client.connect();
  try {
    await client.query('begin');
    return await work(client, notices);
  } finally {
    await client.query('rollback').catch(() => {});
    await client.end();
  }
}

/**
 * An unknown id and another partner's (or customer's) id given in a body or query: each a 422 `code` naming `path`, and the
 * two answers alike but for their request ids, so the answer never tells whether the id exists elsewhere (docs/adr/0037).
 */
export function expectUnknownId(responses: readonly LightMyRequestResponse[], code: string, path: string): void {
  const bodies = responses.map((res) => {
    expect(res.statusCode, res.body).toBe(422);
    const { requestId: _requestId, ...rest } = res.json<Record<string, unknown>>();
    return rest;
  });
  expect(bodies[0]).toMatchObject({ status: 422, code, errors: [{ path }] });
  for (const body of bodies.slice(1)) expect(body).toEqual(bodies[0]);
}
