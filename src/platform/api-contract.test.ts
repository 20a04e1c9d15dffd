import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { Validator } from '@seriousme/openapi-schema-validator';
import { api, createTestApp, signIn, type Session, type TestApp } from '../test/harness.ts';
import type { RouteEntry } from './server.ts';
import { PARTS_MIN_RECORDS } from '../usage/ingest-calls.ts';
import { callRecordSchema } from '../usage/call-record.ts';

/**
 * The API as a whole: a valid OpenAPI 3.1 document listing every route with a unique operationId, and every
 * write route answering malformed, mistyped, oversized and over-specified bodies with a 4xx problem that
 * names the field, writing nothing.
 */
let t: TestApp;
const sessions = new Map<string, Session>();

beforeAll(async () => {
  t = await createTestApp({ bodyLimitBytes: 64 * 1024 });
});
afterAll(async () => t.close());

async function sessionFor(route: RouteEntry): Promise<Record<string, string>> {
  const a = route.access;
  const email =
    a.audience === 'operator' ? 'operator@folio.test'
      : a.audience === 'customer' ? 'owner@acme.test'
        : a.audience === 'staff' && a.app === 'finance' ? 'finance@demo.test'
          : a.audience === 'public' ? null
            : 'admin@demo.test';
  if (!email) return {};
  if (!sessions.has(email)) sessions.set(email, await signIn(t, email));
  return sessions.get(email)!.headers;
}

function concreteUrl(url: string): string {
  return url.replace(/:([A-Za-z]+)/g, (_m, name: string) => (name === 'app' ? 'customer' : name === 'token' ? 'x'.repeat(43) : `xyz_${'0'.repeat(26)}`));
}

async function rowCounts(): Promise<Record<string, number>> {
  const tables = await sql<{ name: string }>`select tablename as name from pg_tables where schemaname = 'public' and tablename not like 'kysely%'`.execute(t.db.owner.db);
  const counts: Record<string, number> = {};
  for (const { name } of tables.rows) {
    if (name === 'login_attempts' || name === 'sessions') continue; // sign-ins made by this test itself
    const r = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(name)}`.execute(t.db.owner.db);
    counts[name] = r.rows[0]!.n;
  }
  return counts;
}

describe('OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document with every route and unique operationIds', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<{ openapi: string; paths: Record<string, Record<string, { operationId?: string; tags?: string[] }>> }>();
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe('3.1.0');

    const ids = new Set<string>();
    for (const route of t.app.routeCatalog) {
      const path = route.url.replace(/:([A-Za-z]+)/g, '{$1}');
      const op = doc.paths[path]?.[route.method.toLowerCase()];
      expect(op, `${route.method} ${route.url} in OpenAPI`).toBeDefined();
      expect(op?.operationId, `${route.method} ${route.url} operationId`).toMatch(/^[a-z][A-Za-z]+$/);
      expect(op?.tags?.length, `${route.method} ${route.url} tag`).toBeGreaterThan(0);
      expect(ids.has(op!.operationId!), `duplicate operationId ${op?.operationId}`).toBe(false);
      ids.add(op!.operationId!);
    }
  });

  it('tells callers of the call batch what a 5xx means and how to retry', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{ paths: Record<string, Record<string, { description?: string }>> }>();
    const description = doc.paths['/api/v1/usage/calls']?.post?.description ?? '';
    expect(description).toContain(`A request of ${PARTS_MIN_RECORDS} valid records or more is charged in two transactions at once`);
    expect(description).toContain('the calls already charged come back as duplicates');
  });

  it('names operations as the conventions say: a tag naming an app, portal and operator operations prefixed', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{ paths: Record<string, Record<string, { operationId: string; tags: string[] }>> }>();
    // The conventions' apps, the platform operator's console, and the local demo's tools (the dev mailbox).
    const tags = new Set(['Customer', 'Product', 'Invoice', 'Finance', 'Audit', 'Discount', 'Settings', 'Access', 'Portal', 'Usage', 'Auth', 'Operator', 'Dev']);
    const wrong: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const op of Object.values(operations)) {
        if (op.tags.some((tag) => !tags.has(tag))) wrong.push(`${op.operationId}: tag ${op.tags.join(',')}`);
        // Auth is sign-in and session (/api/v1/auth/...); Dev is what only a local demo serves (/api/v1/dev/...).
        for (const [tag, prefix] of [['Auth', '/api/v1/auth/'], ['Dev', '/api/v1/dev/']] as const) {
          if (op.tags.includes(tag) !== path.startsWith(prefix)) wrong.push(`${op.operationId}: ${path} ${op.tags.includes(tag) ? 'tagged' : 'not tagged'} ${tag}`);
        }
        if (path.startsWith('/api/v1/operator/') && !op.operationId.startsWith('operator')) wrong.push(`${op.operationId}: not operator...`);
        if (path.startsWith('/api/v1/portal/') && !op.operationId.startsWith('portal')) wrong.push(`${op.operationId}: not portal...`);
      }
    }
    expect(wrong).toEqual([]);
    expect(doc.paths['/api/v1/customers/{customerId}/audit-events']?.get?.tags).toEqual(['Audit']);
    expect(doc.paths['/api/v1/dev/mailbox']?.get).toMatchObject({ operationId: 'devListMailbox', tags: ['Dev'] });
  });

  it('documents a 412 on every operation that takes If-Match', async () => {
    type Op = { operationId: string; parameters?: { in: string; name: string }[]; responses: Record<string, unknown> };
    const doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{ paths: Record<string, Record<string, Op>> }>();
    const withIfMatch: string[] = [];
    const missing412: string[] = [];
    for (const operations of Object.values(doc.paths)) {
      for (const op of Object.values(operations)) {
        if (!(op.parameters ?? []).some((p) => p.in === 'header' && p.name.toLowerCase() === 'if-match')) continue;
        withIfMatch.push(op.operationId);
        if (!('412' in op.responses)) missing412.push(op.operationId);
      }
    }
    expect(withIfMatch).toEqual(expect.arrayContaining(['updateProduct', 'updateDiscount', 'updateCustomer', 'updateSubscription', 'portalUpdateSubscription']));
    expect(missing412).toEqual([]);
  });

  it("shows the call batch's records in the call record's form, and still checks each record on its own", async () => {
    type Schema = { type?: string; properties?: Record<string, Schema>; items?: Schema; required?: string[]; additionalProperties?: boolean; enum?: string[]; pattern?: string; maximum?: number; maxLength?: number };
    const doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{ paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: Schema }> } }>> }>();
    const body = doc.paths['/api/v1/usage/calls']?.post?.requestBody?.content['application/json']?.schema;
    const record = body?.properties?.records?.items;
    const fields = Object.keys(callRecordSchema.shape).sort();
    expect(Object.keys(record?.properties ?? {}).sort()).toEqual(fields);
    expect([...(record?.required ?? [])].sort()).toEqual(fields);
    expect(record).toMatchObject({
      type: 'object', additionalProperties: false,
      properties: {
        callId: { type: 'string', maxLength: 100 }, customerId: { type: 'string', pattern: '^cus_[0-9a-z]{10,40}$' }, startedAt: { type: 'string', format: 'date-time' },
        durationSeconds: { type: 'integer', maximum: 86_400 }, direction: { enum: ['outbound', 'inbound'] },
      },
    });

    // Documented, not enforced on the body: a record of another form is rejected alone, with its errors.
    const admin = await signIn(t, 'admin@demo.test');
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/usage/calls', headers: admin.headers, payload: { records: [{ callId: 'c-1' }, 42] } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ summary: { received: 2, rejected: 2 }, results: [{ index: 0, status: 'rejected' }, { index: 1, status: 'rejected' }] });
  });
});

describe('bad input on every write route', () => {
  it('unknown fields, wrong types, malformed JSON and oversized bodies get a 4xx problem and write nothing', async () => {
    const writeRoutes = t.app.routeCatalog.filter((r) => r.hasBody && ['POST', 'PUT', 'PATCH'].includes(r.method));
    expect(writeRoutes.length).toBeGreaterThan(3);
    const failures: string[] = [];
    for (const route of writeRoutes) {
      const headers = await sessionFor(route);
      const before = await rowCounts();
      const url = concreteUrl(route.url);
      const send = (payload: string, extra: Record<string, string> = {}) =>
        t.app.inject({ method: route.method as 'POST', url, payload, headers: { ...headers, 'content-type': 'application/json', ...extra } });

      const unknown = await send(JSON.stringify({ surpriseField: 1 }));
      const wrongTypes = await send(JSON.stringify([1, 2, 3]));
      const malformed = await send('{"a": ');
      const limit = route.bodyLimit ?? 64 * 1024;
      const oversized = await send(JSON.stringify({ filler: 'x'.repeat(limit + 1024) }));
      const notJson = await send('a=b', { 'content-type': 'application/x-www-form-urlencoded' });

      for (const [name, res] of Object.entries({ unknown, wrongTypes, malformed, oversized, notJson })) {
        const ok = res.statusCode >= 400 && res.statusCode < 500 && String(res.headers['content-type']).startsWith('application/problem+json');
        if (!ok) failures.push(`${route.method} ${route.url} ${name}: ${res.statusCode} ${res.body.slice(0, 200)}`);
      }
      if (unknown.statusCode === 400) {
        const paths = unknown.json<{ errors?: Array<{ path: string }> }>().errors?.map((e) => e.path) ?? [];
        // A path parameter this walk cannot make up (a bare `:id`) may be refused first; otherwise the field is named.
        const paramsRefused = paths.length > 0 && paths.every((p) => route.url.includes(`:${p}`));
        if (!paths.includes('surpriseField') && !paramsRefused) failures.push(`${route.method} ${route.url}: unknown field not named (${paths.join(',')})`);
      }
      if (oversized.statusCode !== 413) failures.push(`${route.method} ${route.url}: oversized body got ${oversized.statusCode}`);
      const after = await rowCounts();
      if (JSON.stringify(after) !== JSON.stringify(before)) failures.push(`${route.method} ${route.url}: rows were written by bad input`);
    }
    expect(failures).toEqual([]);
  }, 180_000); // every write route x five bad bodies, counting every table's rows around each: longer than one test's default budget
});

describe('query strings and bodies a route does not take', () => {
  it('are refused, naming the field, rather than ignored while the write goes through', async () => {
    const finance = await signIn(t, 'finance@demo.test');
    const admin = await signIn(t, 'admin@demo.test');
    const customer = (await t.db.owner.db.selectFrom('customers').select('id').where('name', '=', 'Acme Pte Ltd').executeTakeFirstOrThrow()).id;
    const before = await rowCounts();
    const dryRun = await api(t, finance, 'POST', `/api/v1/customers/${customer}/points/issue?dryRun=true`, { amount: '0.01', reason: 'dry run' });
    expect(dryRun.statusCode, dryRun.body).toBe(400);
    expect(dryRun.json().errors.map((e: { path: string }) => e.path)).toContain('dryRun');
    const detail = await api(t, admin, 'GET', `/api/v1/customers/${customer}?expand=users`);
    expect(detail.statusCode).toBe(400);
    expect(detail.json().errors.map((e: { path: string }) => e.path)).toContain('expand');
    const ended = await api(t, admin, 'POST', '/api/v1/discounts/dsc_00000000000000000000000000/end', { endsOn: '2027-01-31' });
    expect(ended.statusCode).toBe(400);
    expect(ended.json().errors.map((e: { path: string }) => e.path)).toContain('endsOn');
    expect(await rowCounts()).toEqual(before);
    // No body, or an empty one, is still fine for a route that takes none; the logo takes the web app's cache-buster.
    expect((await api(t, admin, 'GET', `/api/v1/customers/${customer}`)).statusCode).toBe(200);
    expect((await api(t, admin, 'GET', '/api/v1/settings/invoicing/logo?v=3')).statusCode).not.toBe(400);
  });
});
