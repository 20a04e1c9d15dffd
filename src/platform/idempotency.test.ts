import { createHash } from 'node:crypto';
import http from 'node:http';
import { TestClock } from '../platform/clock.ts';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify from 'fastify';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createTestDb, signIn, testConfig, type Session, type TestApp } from '../test/harness.ts';
import { customerPortal, operatorOnly, publicAccess, staffApp } from './access-policy.ts';
import type { Principal } from './context.ts';
import { sha256Hex } from './crypto.ts';
import { inScope } from './database.ts';
import { DomainError } from './errors.ts';
import { canonicalJson, cleanupExpiredIdempotencyKeys, idempotencyTasks, idempotentRoutes, registerIdempotency } from './idempotency.ts';
import { newId, newSecret } from './ids.ts';
import { problems } from './schemas.ts';
import { buildServer, type FolioApp } from './server.ts';

/**
 * Idempotency-Key on a throwaway route that records one row per side effect, on the real server (access control,
 * CSRF, error handler). The route is registered here before `ready()`; `registerIdempotency` is a no-op if the server
 * already installed it.
 */
let t: TestApp;
let baseUrl: { host: string; port: number };
let demo: string;
let northwind: string;
let acme: string;
const keys: Record<'demoA' | 'demoB' | 'north', Record<string, string>> = { demoA: {}, demoB: {}, north: {} };
let handlerRuns = 0;

const STAFF_URL = (account: string) => `/api/v1/idem-test/accounts/${account}/charges`;
/** An alias of STAFF_URL's route (a renamed path kept answering), sharing its keys. */
const ALIAS_URL = (account: string) => `/api/v1/idem-test/accounts/${account}/charge`;
const STAFF_ROUTE = '/api/v1/idem-test/accounts/:account/charges';
const ALIAS_ROUTE = '/api/v1/idem-test/accounts/:account/charge';
const PORTAL_URL = '/api/v1/portal/idem-test/charges';
const PLAIN_URL = '/api/v1/idem-test/plain-charges';
const OPERATOR_URL = '/api/v1/operator/idem-test/charges';

const chargeBody = z.strictObject({
  amount: z.string().regex(/^\d+\.\d{2}$/),
  outcome: z.enum(['created', 'rejected', 'crash']).default('created'),
  delayMs: z.number().int().min(0).max(3000).default(0),
});
const chargeView = z.object({ id: z.string(), account: z.string(), amount: z.string(), caller: z.string() });

function callerLabel(p: Principal | null): string {
  if (!p) return 'nobody';
  if (p.kind === 'api_key') return `api_key:${p.keyId}`;
  if (p.kind === 'system') return `system:${p.job}`;
  return `${p.kind}:${p.userId}`;
}

/** A handler charging one of these accounts waits until the test opens its gate (a first request still running, however slow the machine). */
const gates = new Map<string, Promise<void>>();

function addTestRoutes(app: FolioApp): void {
  const charge = async (principal: Principal | null, account: string, body: z.infer<typeof chargeBody>) => {
    handlerRuns++;
    if (body.delayMs > 0) await sleep(body.delayMs);
    const gate = gates.get(account);
    if (gate) await gate;
    if (body.outcome === 'crash') throw new Error('the payment gateway fell over');
    if (body.outcome === 'rejected') throw new DomainError('rule_violation', 'The amount is over the limit', [{ path: 'amount', message: 'over the limit' }]);
    const partnerId = principal && 'partnerId' in principal ? principal.partnerId : null;
    const row = await sql<{ id: string }>`insert into idem_test_effects (partner_id, caller, account, amount) values (${partnerId}, ${callerLabel(principal)}, ${account}, ${body.amount}) returning id`.execute(t.db.app.db);
    return { id: `chg_${row.rows[0]!.id}`, account, amount: body.amount, caller: callerLabel(principal) };
  };
  for (const [url, config] of [[STAFF_ROUTE, {}], [ALIAS_ROUTE, { idempotencyScope: STAFF_ROUTE }]] as const) {
    app.post(url, {
      config: { access: staffApp('invoice'), idempotent: true, ...config },
      schema: { hide: true, params: z.strictObject({ account: z.string().min(1).max(40) }), body: chargeBody, response: { 201: chargeView, ...problems } },
    }, async (req, reply) => reply.code(201).send(await charge(req.principal, req.params.account, req.body)));
  }
  app.post('/api/v1/portal/idem-test/charges', {
    config: { access: customerPortal(), idempotent: true },
    schema: { hide: true, body: chargeBody, response: { 201: chargeView, ...problems } },
  }, async (req, reply) => reply.code(201).send(await charge(req.principal, 'portal', req.body)));
  app.post('/api/v1/operator/idem-test/charges', {
    config: { access: operatorOnly, idempotent: true },
    schema: { hide: true, body: chargeBody, response: { 201: chargeView, ...problems } },
  }, async (req, reply) => reply.code(201).send(await charge(req.principal, 'operator', req.body)));
  app.post('/api/v1/idem-test/plain-charges', {
    config: { access: staffApp('invoice') },
    schema: { hide: true, body: chargeBody, response: { 201: chargeView, ...problems } },
  }, async (req, reply) => reply.code(201).send(await charge(req.principal, 'plain', req.body)));
}

async function addApiKey(partnerId: string): Promise<Record<string, string>> {
  const token = `fk_${newSecret()}`;
  await t.db.owner.db
    .insertInto('apiKeys')
    .values({ id: newId('key'), partnerId, name: 'idempotency test', tokenPrefix: token.slice(0, 10), tokenHash: sha256Hex(token), apps: ['invoice'], createdBy: null, lastUsedAt: null, revokedAt: null })
    .execute();
  return { authorization: `Bearer ${token}` };
}

beforeAll(async () => {
  const db = await createTestDb();
  const config = testConfig();
  const app = await buildServer({ config, db: db.app.db, log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }) });
  registerIdempotency(app, db.app.db);
  addTestRoutes(app);
  await app.ready();
  await app.listen({ host: '127.0.0.1', port: 0 });
  baseUrl = { host: '127.0.0.1', port: (app.server.address() as AddressInfo).port };
  t = { app, db, config, clock: new TestClock(), close: async () => { await app.close(); await db.drop(); } };

  await sql`create table idem_test_effects (id bigint generated always as identity primary key, partner_id text, caller text not null, account text not null, amount text not null)`.execute(db.owner.db);
  await sql`grant select, insert on idem_test_effects to folio_app`.execute(db.owner.db);
  demo = (await db.owner.db.selectFrom('partners').select('id').where('slug', '=', 'demo-telecom').executeTakeFirstOrThrow()).id;
  northwind = (await db.owner.db.selectFrom('partners').select('id').where('slug', '=', 'northwind').executeTakeFirstOrThrow()).id;
  acme = (await db.owner.db.selectFrom('customers').select('id').where('name', '=', 'Acme Pte Ltd').executeTakeFirstOrThrow()).id;
  keys.demoA = await addApiKey(demo);
  keys.demoB = await addApiKey(demo);
  keys.north = await addApiKey(northwind);
});
afterAll(async () => t.close());

function post(url: string, who: Record<string, string> | Session, idempotencyKey: string | null, payload: unknown) {
  const headers = { ...('headers' in who && typeof who.headers === 'object' ? (who as Session).headers : (who as Record<string, string>)) };
  if (idempotencyKey !== null) headers['idempotency-key'] = idempotencyKey;
  return t.app.inject({ method: 'POST', url, headers, payload: payload as object });
}

async function effects(where: { account?: string; amount?: string } = {}): Promise<number> {
  let q = t.db.owner.db.selectFrom(sql<{ account: string; amount: string }>`idem_test_effects`.as('e')).select((eb) => eb.fn.countAll<string>().as('n'));
  if (where.account) q = q.where('e.account', '=', where.account);
  if (where.amount) q = q.where('e.amount', '=', where.amount);
  return Number((await q.executeTakeFirstOrThrow()).n);
}

async function keyRow(key: string) {
  return t.db.owner.db.selectFrom('idempotencyKeys').selectAll().where('key', '=', key).execute();
}

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * `n` POSTs over `n` separate TCP connections, their headers sent first and every body finished in the same tick,
 * so the server sees them at the same moment.
 */
async function simultaneous(n: number, url: string, headers: Record<string, string | string[]>, payload: unknown): Promise<RawResponse[]> {
  const data = Buffer.from(JSON.stringify(payload));
  const pending = Array.from({ length: n }, () => {
    const req = http.request({
      ...baseUrl, path: url, method: 'POST', agent: false,
      headers: { 'content-type': 'application/json', 'content-length': String(data.length), ...headers },
    });
    const response = new Promise<RawResponse>((resolve, reject) => {
      req.on('error', reject);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
    });
    const connected = new Promise<void>((resolve) => req.on('socket', (s) => (s.connecting ? s.once('connect', () => resolve()) : resolve())));
    req.flushHeaders();
    return { req, response, connected };
  });
  await Promise.all(pending.map((p) => p.connected));
  await sleep(20);
  for (const p of pending) p.req.end(data);
  return Promise.all(pending.map((p) => p.response));
}

describe('Idempotency-Key', () => {
  it('runs as usual without the header', async () => {
    const body = { amount: '1.01' };
    expect((await post(STAFF_URL('no-header'), keys.demoA, null, body)).statusCode).toBe(201);
    expect((await post(STAFF_URL('no-header'), keys.demoA, null, body)).statusCode).toBe(201);
    expect(await effects({ account: 'no-header' })).toBe(2);
  });

  it('the same key and body: one side effect, the first answer replayed byte for byte', async () => {
    const before = handlerRuns;
    const first = await post(STAFF_URL('acc1'), keys.demoA, 'key-same-1', { amount: '10.00' });
    const second = await post(STAFF_URL('acc1'), keys.demoA, 'key-same-1', { amount: '10.00' });
    expect(first.statusCode).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(second.statusCode).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body).toBe(first.body);
    expect(second.headers['content-type']).toBe(first.headers['content-type']);
    expect(second.headers['x-request-id']).not.toBe(first.headers['x-request-id']);
    expect(handlerRuns - before).toBe(1);
    expect(await effects({ account: 'acc1' })).toBe(1);

    const [row] = await keyRow('key-same-1');
    expect(row).toMatchObject({ status: 'completed', responseStatus: 201, principalKind: 'api_key', partnerId: demo, customerId: null, claimToken: null });
    expect(row!.requestRoute).toBe('/api/v1/idem-test/accounts/:account/charges');
    expect(row!.expiresAt.getTime() - row!.createdAt.getTime()).toBeGreaterThanOrEqual(24 * 3600 * 1000);
  });

  it('the same body with its fields in another order is the same request', async () => {
    const first = await post(STAFF_URL('acc-order'), keys.demoA, 'key-order', { amount: '3.00', delayMs: 0 });
    const second = await post(STAFF_URL('acc-order'), keys.demoA, 'key-order', { delayMs: 0, amount: '3.00' });
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body).toBe(first.body);
    expect(await effects({ account: 'acc-order' })).toBe(1);
  });

  it('the same key with a different body, or for another resource, is a 422', async () => {
    await post(STAFF_URL('acc2'), keys.demoA, 'key-reused', { amount: '20.00' });
    const otherBody = await post(STAFF_URL('acc2'), keys.demoA, 'key-reused', { amount: '21.00' });
    expect(otherBody.statusCode).toBe(422);
    expect(otherBody.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(otherBody.json()).toMatchObject({ code: 'idempotency_key_reused', status: 422, errors: [{ path: 'Idempotency-Key' }] });
    const otherAccount = await post(STAFF_URL('acc3'), keys.demoA, 'key-reused', { amount: '20.00' });
    expect(otherAccount.statusCode).toBe(422);
    expect(otherAccount.json<{ code: string }>().code).toBe('idempotency_key_reused');
    expect(await effects({ account: 'acc2' })).toBe(1);
    expect(await effects({ account: 'acc3' })).toBe(0);
    // The first answer is still there for the original request.
    const again = await post(STAFF_URL('acc2'), keys.demoA, 'key-reused', { amount: '20.00' });
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
  });

  it('an alias sharing a route\'s keys (idempotencyScope): the same key and body on either path, in either order, is one request kept under the route', async () => {
    for (const [first, then, account] of [[ALIAS_URL, STAFF_URL, 'alias-1'], [STAFF_URL, ALIAS_URL, 'alias-2']] as const) {
      const before = handlerRuns;
      const key = `key-${account}`;
      const one = await post(first(account), keys.demoA, key, { amount: '16.00' });
      const two = await post(then(account), keys.demoA, key, { amount: '16.00' });
      expect(one.statusCode, one.body).toBe(201);
      expect(two.statusCode, two.body).toBe(201);
      expect(two.headers['idempotent-replayed']).toBe('true');
      expect(two.body).toBe(one.body);
      expect(handlerRuns - before).toBe(1);
      expect(await effects({ account })).toBe(1);
      const rows = await keyRow(key);
      expect(rows.map((r) => r.requestRoute)).toEqual([STAFF_ROUTE]);

      // Another body, or another resource, on either path is another request.
      for (const url of [STAFF_URL, ALIAS_URL]) {
        const otherBody = await post(url(account), keys.demoA, key, { amount: '16.01' });
        expect([otherBody.statusCode, otherBody.json<{ code: string }>().code], url(account)).toEqual([422, 'idempotency_key_reused']);
        expect((await post(url(`${account}-other`), keys.demoA, key, { amount: '16.00' })).statusCode, url(account)).toBe(422);
      }
      expect(await effects({ account })).toBe(1);
      expect(await effects({ account: `${account}-other` })).toBe(0);
    }
    // Without a key, each path runs as usual.
    expect((await post(ALIAS_URL('alias-3'), keys.demoA, null, { amount: '16.00' })).statusCode).toBe(201);
    expect((await post(STAFF_URL('alias-3'), keys.demoA, null, { amount: '16.00' })).statusCode).toBe(201);
    expect(await effects({ account: 'alias-3' })).toBe(2);
  });

  it('a key kept under an alias\'s own URL, before it shared the route\'s keys, still answers its request on both paths', async () => {
    const body = { amount: '17.00' };
    const hashAs = (route: string, account: string, b: unknown) =>
      createHash('sha256').update(canonicalJson({ method: 'POST', route, params: { account }, query: {}, body: b })).digest('hex');
    const first = await post(STAFF_URL('legacy'), keys.demoA, 'key-legacy', body);
    expect(first.statusCode).toBe(201);
    const [row] = await keyRow('key-legacy');
    expect(row!.requestHash).toBe(hashAs(STAFF_ROUTE, 'legacy', body)); // the fingerprint as this test takes it
    // As the alias kept it while its keys were its own: its URL, and the request hashed under it.
    const keptByAlias = () =>
      sql`update idempotency_keys set request_route = ${ALIAS_ROUTE}, request_hash = ${hashAs(ALIAS_ROUTE, 'legacy', body)} where key = 'key-legacy'`.execute(t.db.owner.db);
    await keptByAlias();
    for (const url of [ALIAS_URL, STAFF_URL]) {
      const again = await post(url('legacy'), keys.demoA, 'key-legacy', body);
      expect(again.statusCode, url('legacy')).toBe(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toBe(first.body);
      expect((await post(url('legacy'), keys.demoA, 'key-legacy', { amount: '17.01' })).statusCode, url('legacy')).toBe(422);
    }
    expect(await effects({ account: 'legacy' })).toBe(1);

    // Its claim, left behind by a crashed process, is taken over once stale by the same request on either path.
    await keptByAlias();
    await sql`update idempotency_keys set status = 'in_progress', claim_token = 'dead-process', response_status = null, response_content_type = null,
                response_body = null, completed_at = null, claimed_at = now() - interval '10 minutes' where key = 'key-legacy'`.execute(t.db.owner.db);
    expect((await post(STAFF_URL('legacy'), keys.demoA, 'key-legacy', { amount: '17.01' })).statusCode).toBe(422);
    const retaken = await post(STAFF_URL('legacy'), keys.demoA, 'key-legacy', body);
    expect(retaken.statusCode, retaken.body).toBe(201);
    expect(retaken.headers['idempotent-replayed']).toBeUndefined();
    expect(await effects({ account: 'legacy' })).toBe(2);
    expect((await keyRow('key-legacy'))[0]).toMatchObject({ status: 'completed', requestRoute: STAFF_ROUTE });
  });

  it('a 4xx answer is kept and replayed; a 5xx releases the key so a retry runs', async () => {
    const before = handlerRuns;
    const rejected = await post(STAFF_URL('acc4'), keys.demoA, 'key-4xx', { amount: '99.00', outcome: 'rejected' });
    expect(rejected.statusCode).toBe(422);
    expect(rejected.json<{ code: string }>().code).toBe('rule_violation');
    const replayed = await post(STAFF_URL('acc4'), keys.demoA, 'key-4xx', { amount: '99.00', outcome: 'rejected' });
    expect(replayed.statusCode).toBe(422);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(replayed.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(replayed.body).toBe(rejected.body);
    expect(handlerRuns - before).toBe(1);

    const crashed = await post(STAFF_URL('acc5'), keys.demoA, 'key-5xx', { amount: '5.00', outcome: 'crash' });
    expect(crashed.statusCode).toBe(500);
    expect(await keyRow('key-5xx')).toEqual([]);
    const retried = await post(STAFF_URL('acc5'), keys.demoA, 'key-5xx', { amount: '5.00', outcome: 'crash' });
    expect(retried.statusCode).toBe(500);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect(handlerRuns - before).toBe(3);
  });

  it('a malformed key is a 400 naming the header, and nothing runs', async () => {
    const before = handlerRuns;
    for (const bad of ['', 'x'.repeat(256), 'tab\there', 'caf\u00e9']) {
      const res = await post(STAFF_URL('acc6'), keys.demoA, bad, { amount: '6.00' });
      expect(res.statusCode, JSON.stringify(bad)).toBe(400);
      expect(res.json()).toMatchObject({ code: 'malformed_request', errors: [{ path: 'Idempotency-Key' }] });
      expect(res.json<{ detail: string }>().detail).toContain('Idempotency-Key');
    }
    const [twice] = await simultaneous(1, STAFF_URL('acc6'), { ...keys.demoA, 'idempotency-key': ['k-1', 'k-2'] }, { amount: '6.00' });
    expect(twice!.status).toBe(400);
    expect(JSON.parse(twice!.body)).toMatchObject({ code: 'malformed_request', errors: [{ path: 'Idempotency-Key' }] });
    expect(handlerRuns - before).toBe(0);
    // 255 printable characters, spaces and symbols included, are fine.
    const longest = `${'k'.repeat(250)} ~!@#`;
    expect((await post(STAFF_URL('acc6'), keys.demoA, longest, { amount: '6.00' })).statusCode).toBe(201);
  });

  it('a route that did not opt in ignores the header', async () => {
    expect((await post(PLAIN_URL, keys.demoA, 'key-plain', { amount: '7.00' })).statusCode).toBe(201);
    const second = await post(PLAIN_URL, keys.demoA, 'key-plain', { amount: '7.00' });
    expect(second.statusCode).toBe(201);
    expect(second.headers['idempotent-replayed']).toBeUndefined();
    expect(await effects({ account: 'plain' })).toBe(2);
    expect(await keyRow('key-plain')).toEqual([]);
  });

  it('different callers with the same key do not collide: API keys, staff members, a customer user', async () => {
    const body = { amount: '8.00' };
    const a = await post(STAFF_URL('shared'), keys.demoA, 'key-shared', body);
    const b = await post(STAFF_URL('shared'), keys.demoB, 'key-shared', body);
    const admin = await signIn(t, 'admin@demo.test');
    const finance = await signIn(t, 'finance@demo.test');
    const owner = await signIn(t, 'owner@acme.test');
    const s1 = await post(STAFF_URL('shared'), admin, 'key-shared', body);
    const s2 = await post(STAFF_URL('shared'), finance, 'key-shared', body);
    const c = await post(PORTAL_URL, owner, 'key-shared', body);
    for (const res of [a, b, s1, s2, c]) {
      expect(res.statusCode, res.body).toBe(201);
      expect(res.headers['idempotent-replayed']).toBeUndefined();
    }
    expect(await effects({ account: 'shared' })).toBe(4);
    expect(await effects({ account: 'portal', amount: '8.00' })).toBe(1);
    const rows = await keyRow('key-shared');
    expect(rows.map((r) => r.principalKind).sort()).toEqual(['api_key', 'api_key', 'customer', 'staff', 'staff']);
    expect(rows.find((r) => r.principalKind === 'customer')?.customerId).toBe(acme);

    // Each caller gets its own answer back.
    const sAgain = await post(STAFF_URL('shared'), admin, 'key-shared', body);
    expect(sAgain.headers['idempotent-replayed']).toBe('true');
    expect(sAgain.body).toBe(s1.body);
    const cAgain = await post(PORTAL_URL, owner, 'key-shared', body);
    expect(cAgain.headers['idempotent-replayed']).toBe('true');
    expect(cAgain.body).toBe(c.body);
  });

  it('the operator, who has no partner, has keys of its own', async () => {
    const operator = await signIn(t, 'operator@folio.test');
    const first = await post(OPERATOR_URL, operator, 'key-shared', { amount: '8.50' });
    const second = await post(OPERATOR_URL, operator, 'key-shared', { amount: '8.50' });
    expect(first.statusCode, first.body).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body).toBe(first.body);
    expect((await post(OPERATOR_URL, operator, 'key-shared', { amount: '8.75' })).statusCode).toBe(422);
    expect(await effects({ account: 'operator' })).toBe(1);
    const rows = (await keyRow('key-shared')).filter((r) => r.principalKind === 'operator');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ partnerId: null, customerId: null, status: 'completed' });
  });

  it('different partners with the same key do not collide, and row-level security keeps their keys apart', async () => {
    const body = { amount: '9.00' };
    const d = await post(STAFF_URL('cross'), keys.demoA, 'key-cross', body);
    const n = await post(STAFF_URL('cross'), keys.north, 'key-cross', body);
    expect(d.statusCode).toBe(201);
    expect(n.statusCode).toBe(201);
    expect(n.headers['idempotent-replayed']).toBeUndefined();
    expect(n.body).not.toBe(d.body);
    expect(await effects({ account: 'cross' })).toBe(2);

    const seenByNorthwind = await inScope(t.db.app.db, { kind: 'partner', partnerId: northwind }, (trx) => trx.selectFrom('idempotencyKeys').select('partnerId').execute());
    expect(seenByNorthwind.length).toBeGreaterThan(0);
    expect(seenByNorthwind.every((r) => r.partnerId === northwind)).toBe(true);
    const seenByAcme = await inScope(t.db.app.db, { kind: 'customer', partnerId: demo, customerId: acme }, (trx) =>
      trx.selectFrom('idempotencyKeys').select(['customerId', 'principalKind']).execute(),
    );
    expect(seenByAcme.length).toBeGreaterThan(0);
    expect(seenByAcme.every((r) => r.customerId === acme && r.principalKind === 'customer')).toBe(true);
  });

  it('a twin arriving while the first still runs gets 409 with Retry-After, then the replay', async () => {
    const body = { amount: '11.00' };
    let open!: () => void;
    gates.set('twin', new Promise<void>((resolve) => (open = resolve)));
    const first = post(STAFF_URL('twin'), keys.demoA, 'key-twin', body);
    try {
      for (let i = 0; i < 500 && (await keyRow('key-twin')).length === 0; i++) await sleep(10);
      const twin = await post(STAFF_URL('twin'), keys.demoA, 'key-twin', body);
      expect(twin.statusCode).toBe(409);
      expect(twin.headers['retry-after']).toBe('1');
      expect(twin.json()).toMatchObject({ code: 'idempotency_key_in_progress', status: 409 });
      // A different body under the same key is still refused as reuse, even while the first runs.
      expect((await post(STAFF_URL('twin'), keys.demoA, 'key-twin', { ...body, amount: '12.00' })).statusCode).toBe(422);
      expect(await effects({ account: 'twin' })).toBe(0);
    } finally {
      open(); // a failed check above fails the test instead of leaving the first request waiting
      gates.delete('twin');
    }
    const done = await first;
    expect(done.statusCode).toBe(201);
    const after = await post(STAFF_URL('twin'), keys.demoA, 'key-twin', body);
    expect(after.headers['idempotent-replayed']).toBe('true');
    expect(after.body).toBe(done.body);
    expect(await effects({ account: 'twin' })).toBe(1);
  });

  for (const n of [2, 8]) {
    for (const delayMs of [0, 150]) {
      it(`${n} identical requests at the same moment over ${n} connections (handler ${delayMs} ms): exactly one side effect`, async () => {
        for (let round = 0; round < 3; round++) {
          const account = `race-${n}-${delayMs}-${round}`;
          const responses = await simultaneous(n, STAFF_URL(account), { ...keys.demoB, 'idempotency-key': `key-${account}` }, { amount: '12.34', delayMs });
          expect(await effects({ account })).toBe(1);
          const created = responses.filter((r) => r.status === 201);
          const busy = responses.filter((r) => r.status === 409);
          expect(created.length + busy.length, responses.map((r) => `${r.status} ${r.body}`).join('\n')).toBe(n);
          expect(created.filter((r) => r.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
          expect(new Set(created.map((r) => r.body)).size).toBe(1);
          for (const r of busy) {
            expect(r.headers['retry-after']).toBe('1');
            expect(JSON.parse(r.body)).toMatchObject({ code: 'idempotency_key_in_progress' });
          }
          // Retrying after the answer is kept always replays it.
          const [retry] = await simultaneous(1, STAFF_URL(account), { ...keys.demoB, 'idempotency-key': `key-${account}` }, { amount: '12.34', delayMs });
          expect(retry!.status).toBe(201);
          expect(retry!.headers['idempotent-replayed']).toBe('true');
          expect(retry!.body).toBe(created[0]!.body);
        }
      });
    }
  }

  it('a claim left behind by a crashed process is taken over once stale, never while fresh', async () => {
    const body = { amount: '13.00' };
    const first = await post(STAFF_URL('stale'), keys.demoA, 'key-stale', body);
    expect(first.statusCode).toBe(201);
    const abandon = (claimedAgo: string) =>
      sql`update idempotency_keys set status = 'in_progress', claim_token = 'dead-process', response_status = null, response_content_type = null,
            response_body = null, completed_at = null, claimed_at = now() - ${claimedAgo}::interval where key = 'key-stale'`.execute(t.db.owner.db);

    await abandon('10 seconds');
    expect((await post(STAFF_URL('stale'), keys.demoA, 'key-stale', body)).statusCode).toBe(409);
    await abandon('10 minutes');
    expect((await post(STAFF_URL('stale'), keys.demoA, 'key-stale', { amount: '13.50' })).statusCode).toBe(422);
    const retaken = await post(STAFF_URL('stale'), keys.demoA, 'key-stale', body);
    expect(retaken.statusCode).toBe(201);
    expect(retaken.headers['idempotent-replayed']).toBeUndefined();
    expect(await effects({ account: 'stale' })).toBe(2);
    expect((await keyRow('key-stale'))[0]).toMatchObject({ status: 'completed', claimToken: null });
  });

  it('expired keys are free again, and the cleanup deletes them in bounded batches', async () => {
    for (const k of ['exp-1', 'exp-2', 'exp-3']) expect((await post(STAFF_URL(k), keys.demoA, k, { amount: '14.00' })).statusCode).toBe(201);
    expect((await post(STAFF_URL('keep'), keys.demoA, 'exp-keep', { amount: '14.00' })).statusCode).toBe(201);
    await sql`update idempotency_keys set created_at = now() - interval '25 hours', expires_at = now() - interval '1 hour' where key in ('exp-1', 'exp-2', 'exp-3')`.execute(t.db.owner.db);

    // Expired but not yet cleaned up: a new request may use the key (no 422, no replay).
    const reused = await post(STAFF_URL('exp-1-new'), keys.demoA, 'exp-1', { amount: '15.00' });
    expect(reused.statusCode).toBe(201);
    expect(reused.headers['idempotent-replayed']).toBeUndefined();
    expect((await keyRow('exp-1'))[0]).toMatchObject({ requestRoute: '/api/v1/idem-test/accounts/:account/charges', status: 'completed' });

    const total = Number((await t.db.owner.db.selectFrom('idempotencyKeys').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
    expect(await cleanupExpiredIdempotencyKeys(t.db.app.db, 1)).toBe(1);
    expect(await cleanupExpiredIdempotencyKeys(t.db.app.db, 1)).toBe(1);
    expect(await cleanupExpiredIdempotencyKeys(t.db.app.db, 1)).toBe(0);
    const remaining = await t.db.owner.db.selectFrom('idempotencyKeys').select('key').execute();
    expect(remaining).toHaveLength(total - 2);
    expect(remaining.map((r) => r.key)).toEqual(expect.arrayContaining(['exp-1', 'exp-keep', 'key-same-1']));
    expect(remaining.map((r) => r.key)).not.toContain('exp-2');
    expect(remaining.map((r) => r.key)).not.toContain('exp-3');

    // The worker task loops over batches until a short one.
    await sql`update idempotency_keys set created_at = now() - interval '30 hours', expires_at = now() - interval '1 second' where key like 'key-race-%'`.execute(t.db.owner.db);
    const expired = Number((await t.db.owner.db.selectFrom('idempotencyKeys').select((eb) => eb.fn.countAll<string>().as('n')).where('key', 'like', 'key-race-%').executeTakeFirstOrThrow()).n);
    expect(expired).toBe(12);
    const task = idempotencyTasks({ db: t.db.app.db, log: pino({ level: 'silent' }), batchSize: 5, maxBatches: 10 }).idempotency_keys_cleanup!;
    await task({}, {} as Parameters<typeof task>[1]);
    expect(await t.db.owner.db.selectFrom('idempotencyKeys').select('key').where('key', 'like', 'key-race-%').execute()).toEqual([]);
  });

  it('the database refuses keys that would live less than 24 hours', async () => {
    await expect(
      sql`insert into idempotency_keys (partner_id, principal_kind, principal_id, key, request_method, request_route, request_hash, claim_token, expires_at)
          values (${demo}, 'api_key', 'key_x', 'short', 'POST', '/x', ${'0'.repeat(64)}, 'tok', now() + interval '23 hours')`.execute(t.db.owner.db),
    ).rejects.toThrow(/check constraint/);
  });

  it('a body nested too deep to fingerprint is a 400 naming the field, never a 500; one at the bound is answered as without a key', async () => {
    // The calls batch leaves each record to its own check, so its schema does not bound how deep a record nests.
    const admin = await signIn(t, 'admin@demo.test');
    const nested = (levels: number) => `{"records":[${'['.repeat(levels)}1${']'.repeat(levels)}]}`;
    const send = (key: string | null, payload: string) => t.app.inject({
      method: 'POST', url: '/api/v1/usage/calls', payload,
      headers: { ...admin.headers, 'content-type': 'application/json', ...(key === null ? {} : { 'idempotency-key': key }) },
    });

    const deep = nested(100_000);
    const withoutKey = await send(null, deep);
    expect(withoutKey.statusCode, withoutKey.body).toBe(200);
    expect(withoutKey.json()).toMatchObject({ summary: { received: 1, rejected: 1 } });
    const refused = await send('key-deep', deep);
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: `records.${'0.'.repeat(30)}0`, message: expect.stringContaining('32 levels') }] });
    expect(await keyRow('key-deep')).toEqual([]);

    // The body, its records array and 30 arrays: 32 levels, as deep as a request with a key may nest.
    const atBound = await send('key-deep-ok', nested(30));
    expect(atBound.statusCode, atBound.body).toBe(200);
    expect(atBound.json()).toMatchObject({ summary: { received: 1, rejected: 1 } });
    expect((await send('key-deep-ok', nested(30))).headers['idempotent-replayed']).toBe('true');
    expect((await send('key-deep-one-more', nested(31))).statusCode).toBe(400);
  });

  it('every route that honours the key shows the header in the OpenAPI document', async () => {
    type Operation = { operationId?: string; parameters?: { in: string; name: string; required?: boolean }[] };
    const doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{ paths: Record<string, Record<string, Operation>> }>();
    const routes = idempotentRoutes(t.app).filter((r) => !r.url.includes('/idem-test/')); // this file's own routes are hidden
    const operations = routes.map((r) => ({ route: `${r.method} ${r.url}`, op: doc.paths[r.url.replace(/:([A-Za-z]+)/g, '{$1}')]?.[r.method.toLowerCase()] }));
    const ids = operations.map((o) => o.op?.operationId ?? o.route);
    expect(ids).toEqual(expect.arrayContaining([
      'recordPayment', 'allocatePayment', 'assignPayment', 'reversePayment', 'issuePoints', 'takeBackPoints', 'ingestCalls', 'startLiveCall',
      'endLiveCall', 'failLiveCall', 'createProduct', 'createRatePlan', 'acceptBankStatementLine', 'acceptConfidentBankStatementLines',
      'createInvoice', 'portalPayInvoice', 'portalTopUp',
    ]));
    const undocumented = operations
      .filter((o) => !o.op?.parameters?.some((p) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key' && !p.required))
      .map((o) => o.op?.operationId ?? o.route);
    expect(undocumented).toEqual([]);
  });

  it('only signed-in writes can opt in', () => {
    const bare = Fastify() as unknown as FolioApp;
    registerIdempotency(bare, t.db.app.db);
    expect(() => bare.post('/api/v1/x', { config: { access: publicAccess, idempotent: true } }, async () => ({}))).toThrow(/no signed-in caller/);
    expect(() => bare.get('/api/v1/y', { config: { access: staffApp('invoice'), idempotent: true } }, async () => ({}))).toThrow(/not a write/);
  });

  it('a route shares the keys only of an idempotent route of the same method registered before it, one level deep', () => {
    const bare = Fastify() as unknown as FolioApp;
    registerIdempotency(bare, t.db.app.db);
    const access = staffApp('invoice');
    const route = (method: 'post' | 'put', url: string, config: { idempotent?: boolean; idempotencyScope?: string }) =>
      () => bare[method](url, { config: { access, ...config } }, async () => ({}));
    expect(route('post', '/api/v1/new', { idempotent: true, idempotencyScope: '/api/v1/later' })).toThrow(/registered before it/);
    expect(route('post', '/api/v1/later', { idempotent: true })).not.toThrow();
    expect(route('post', '/api/v1/plain', {})).not.toThrow();
    expect(route('post', '/api/v1/of-plain', { idempotent: true, idempotencyScope: '/api/v1/plain' })).toThrow(/registered before it, idempotent/);
    expect(route('post', '/api/v1/not-idempotent', { idempotencyScope: '/api/v1/later' })).toThrow(/not idempotent/);
    expect(route('put', '/api/v1/other-method', { idempotent: true, idempotencyScope: '/api/v1/later' })).toThrow(/PUT \/api\/v1\/later/);
    expect(route('post', '/api/v1/alias', { idempotent: true, idempotencyScope: '/api/v1/later' })).not.toThrow();
    expect(route('post', '/api/v1/alias-of-alias', { idempotent: true, idempotencyScope: '/api/v1/alias' })).toThrow(/sharing no other's keys/);
  });
});
