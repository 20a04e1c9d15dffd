import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../platform/clock.ts';
import { sql } from 'kysely';
import { api, createTestApp, customerIdOf, partnerIdOf, signIn, userIdOf, type Session, type TestApp } from '../test/harness.ts';
import { inScope } from '../platform/database.ts';
import type { Ctx } from '../platform/context.ts';
import { recordAudit } from './record-audit.ts';
import { exportAuditEventsCsv } from './export-audit-events-csv.ts';

let t: TestApp;
let admin: Session;
let demo: string;
let northwind: string;
let acme: string;
let wombat: string;
const BULK = 505; // more than one CSV batch (500)

/** Append events through the app role, as a use case would. */
async function record(partnerId: string, customerId: string | null, count: number, extra: Partial<Parameters<typeof recordAudit>[2]> = {}) {
  const actor = { principal: { kind: 'system' as const, job: 'test' }, requestId: 'req_test', ip: '10.0.0.1', userAgent: 'vitest' };
  await inScope(t.db.app.db, { kind: 'partner', partnerId }, async (trx) => {
    for (let i = 0; i < count; i++) {
      await recordAudit(trx, actor, { partnerId, customerId, app: 'customer', action: 'test.bulk', targetType: 'customer', targetId: customerId, changes: { n: { after: i } }, ...extra });
    }
  });
}

beforeAll(async () => {
  t = await createTestApp();
  [demo, northwind] = await Promise.all([partnerIdOf(t.db, 'demo-telecom'), partnerIdOf(t.db, 'northwind')]);
  [acme, wombat] = await Promise.all([customerIdOf(t.db, 'Acme Pte Ltd'), customerIdOf(t.db, 'Wombat Pty Ltd')]);
  admin = await signIn(t, 'admin@demo.test');
  await signIn(t, 'admin@northwind.test');
  await record(demo, acme, BULK);
  await record(northwind, wombat, 3);
  await record(demo, acme, 1, {
    action: 'customer.renamed', targetId: acme,
    actor: { actorType: 'user', actorId: 'usr_attacker', actorLabel: '=HYPERLINK("http://evil.test","click")' },
    changes: { name: { before: 'Acme, "the best"', after: '+Acme\nLtd' } },
  });
});
afterAll(async () => t.close());

interface Event {
  id: string; seq: number; occurredAt: string; actor: { type: string; id: string | null; label: string | null }; app: string; action: string;
  customerId: string | null; target: { type: string; id: string | null }; changes: Record<string, unknown>; requestId: string | null; ip: string | null; userAgent: string | null;
}
const list = async (query = '', who: Session | null = admin) => {
  const res = await api(t, who, 'GET', `/api/v1/audit-events${query}`);
  return { res, body: res.json<{ data: Event[]; nextCursor: string | null }>() };
};

/** RFC 4180 reader, enough for the tests. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; }
    else if (c === '\r' && text[i + 1] === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; i++; }
    else cell += c;
  }
  if (cell !== '' || row.length > 0) { row.push(cell); rows.push(row); }
  return rows;
}

describe('listAuditEvents', () => {
  it("lists the partner's events newest first in chain order, with actor, target, changes and request details", async () => {
    const { res, body } = await list('?limit=200');
    expect(res.statusCode).toBe(200);
    expect(body.data).toHaveLength(200);
    const seqs = body.data.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect(new Set(seqs).size).toBe(seqs.length);
    const times = body.data.map((e) => e.occurredAt);
    expect(times).toEqual([...times].sort().reverse());

    const renamed = body.data[0]!;
    expect(renamed).toMatchObject({
      action: 'customer.renamed', app: 'customer', customerId: acme, target: { type: 'customer', id: acme },
      actor: { type: 'user', id: 'usr_attacker' }, changes: { name: { before: 'Acme, "the best"', after: '+Acme\nLtd' } },
      requestId: 'req_test', ip: '10.0.0.1', userAgent: 'vitest',
    });
    expect(renamed.id).toMatch(/^evt_/);
  });

  it('filters by customer, app, action, actor, target and time', async () => {
    const byAction = await list('?action=auth.signed_in');
    expect(byAction.body.data.length).toBeGreaterThan(0);
    expect(byAction.body.data.every((e) => e.action === 'auth.signed_in')).toBe(true);

    const adminId = await userIdOf(t.db, 'admin@demo.test');
    const byActor = (await list(`?actorId=${adminId}`)).body.data;
    expect(byActor.map((e) => e.action).sort()).toEqual(['auth.signed_in', 'auth.two_factor_code_sent']);
    const byTarget = (await list(`?targetId=${adminId}&app=auth`)).body.data;
    expect(byTarget.map((e) => e.action)).toEqual(['auth.two_factor_code_sent']);

    const byCustomer = (await list(`?customerId=${acme}&limit=5`)).body.data;
    expect(byCustomer.every((e) => e.customerId === acme)).toBe(true);

    const all = (await list('?limit=200')).body.data;
    const pivot = all[100]!.occurredAt;
    const since = (await list(`?from=${pivot}&limit=200`)).body.data;
    expect(since.every((e) => e.occurredAt >= pivot)).toBe(true);
    expect(since.length).toBeGreaterThanOrEqual(101);
    const before = (await list(`?to=${pivot}&limit=5`)).body.data;
    expect(before.every((e) => e.occurredAt < pivot)).toBe(true);
    const window = (await list(`?from=2020-01-01T00:00:00%2B08:00&to=2020-01-02T00:00:00Z`)).body;
    expect(window).toEqual({ data: [], nextCursor: null });
  });

  it('pages with limit and cursor through the whole trail without gaps or repeats', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { data: Event[]; nextCursor: string | null } = (await list(`?limit=150${cursor ? `&cursor=${cursor}` : ''}`)).body;
      seen.push(...page.data.map((e) => e.id));
      cursor = page.nextCursor;
    } while (cursor);
    const total = await t.db.owner.db.selectFrom('auditEvents').select(sql<number>`count(*)::int`.as('n')).where('partnerId', '=', demo).executeTakeFirstOrThrow();
    expect(seen).toHaveLength(total.n);
    expect(new Set(seen).size).toBe(total.n);
    expect((await list('?limit=50')).body.nextCursor).toBe(seen[49]);
  });

  it("never shows another partner's events, even when given that partner's customer id", async () => {
    const foreign = await list(`?customerId=${wombat}`);
    expect(foreign.res.statusCode).toBe(200);
    expect(foreign.body).toEqual({ data: [], nextCursor: null });
    const northwindIds = await t.db.owner.db.selectFrom('auditEvents').select('id').where('partnerId', '=', northwind).execute();
    const everything = (await list('?limit=200&action=test.bulk')).body.data.map((e) => e.id);
    expect(everything.some((id) => northwindIds.some((n) => n.id === id))).toBe(false);
    // A cursor pointing into another partner's trail is refused rather than followed.
    const foreignCursor = await list(`?cursor=${northwindIds[0]!.id}`);
    expect(foreignCursor.res.statusCode).toBe(400);
    expect(foreignCursor.res.json().errors).toEqual([{ path: 'cursor', message: 'not an event of this list' }]);
  });

  it('rejects bad query parameters, naming each', async () => {
    for (const [query, field] of [
      ['?limit=0', 'limit'], ['?limit=999', 'limit'], ['?customerId=acme', 'customerId'], ['?action=Delete', 'action'], ['?app=Customer!', 'app'],
      ['?from=yesterday', 'from'], ['?to=2026-13-01T00:00:00Z', 'to'],
      ['?cursor=nope', 'cursor'], ['?cursor=evt_0000000000000000000000000', 'cursor'], ['?format=xml', 'format'], ['?sort=asc', 'sort'],
    ] as const) {
      const { res } = await list(query);
      expect(res.statusCode, query).toBe(400);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.json().errors.map((e: { path: string }) => e.path), query).toContain(field);
    }
    // A from after to is well-formed but breaks a rule: 422 naming to (docs/adr/0040).
    const order = (await list('?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z')).res;
    expect(order.statusCode).toBe(422);
    expect(order.json()).toMatchObject({ code: 'rule_violation', errors: [{ path: 'to', message: 'must be later than from' }] });
  });

  it('needs the Audit app', async () => {
    expect((await list('', null)).res.statusCode).toBe(401);
    const finance = await signIn(t, 'finance@demo.test'); // holds finance, invoice and customer, not audit
    const res = (await list('', finance)).res;
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('app_not_granted');
    const owner = await signIn(t, 'owner@acme.test');
    expect((await list('', owner)).res.statusCode).toBe(403);
  });
});

describe('listAuditEvents as CSV', () => {
  it('streams every page (more than one batch) with `?format=csv`, same filters, same order', async () => {
    const res = await api(t, admin, 'GET', '/api/v1/audit-events?format=csv&action=test.bulk&limit=1');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="audit-events-\d{4}-\d{2}-\d{2}\.csv"$/);
    const rows = parseCsv(res.body);
    expect(rows[0]).toEqual(['id', 'seq', 'occurredAt', 'actorType', 'actorId', 'actorLabel', 'app', 'action', 'customerId', 'targetType', 'targetId', 'changes', 'requestId', 'ip', 'userAgent', 'authMethod']);
    const data = rows.slice(1);
    expect(data).toHaveLength(BULK);
    expect(data.every((r) => r[7] === 'test.bulk' && r[8] === acme)).toBe(true);
    const seqs = data.map((r) => Number(r[1]));
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect(new Set(data.map((r) => r[0])).size).toBe(BULK);
    expect(JSON.parse(data[0]![11]!)).toEqual({ n: { after: BULK - 1 } });
  });

  it('answers CSV to `Accept: text/csv`, quoting per RFC 4180 and defusing formulas', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/audit-events?action=customer.renamed', headers: { ...admin.headers, accept: 'text/csv' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.body.endsWith('\r\n')).toBe(true);
    const [, row] = parseCsv(res.body);
    expect(row![5]).toBe(`'=HYPERLINK("http://evil.test","click")`);
    expect(JSON.parse(row![11]!)).toEqual({ name: { before: 'Acme, "the best"', after: '+Acme\nLtd' } });
    expect(res.body).toContain(`"'=HYPERLINK(""http://evil.test"",""click"")"`);

    const json = await t.app.inject({ method: 'GET', url: '/api/v1/audit-events?format=json&action=customer.renamed', headers: { ...admin.headers, accept: 'text/csv' } });
    expect(json.headers['content-type']).toMatch(/^application\/json/);
  });

  it("streams only the caller's partner, and checks the query before streaming", async () => {
    const foreign = await api(t, admin, 'GET', `/api/v1/audit-events?format=csv&customerId=${wombat}`);
    expect(parseCsv(foreign.body)).toHaveLength(1); // the header only
    const bad = await api(t, admin, 'GET', '/api/v1/audit-events?format=csv&cursor=evt_0000000000000000000000000');
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    const finance = await signIn(t, 'finance@demo.test');
    expect((await api(t, finance, 'GET', '/api/v1/audit-events?format=csv')).statusCode).toBe(403);
  });

  it('reads in bounded batches that together equal the JSON list', async () => {
    const staff = { kind: 'staff' as const, userId: 'usr_x', partnerId: demo, email: 'x@demo.test', name: 'X', apps: new Set(['audit' as const]), sessionId: 'ses_x' };
    const ctx: Ctx = { db: t.db.app.db, config: t.config, log: t.app.log, principal: staff, requestId: null, ip: null, userAgent: null, clock: systemClock };
    let text = '';
    for await (const chunk of await exportAuditEventsCsv(ctx, { customerId: acme, batchSize: 7 })) text += chunk;
    const csvIds = parseCsv(text).slice(1).map((r) => r[0]);
    const jsonIds: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { data: Event[]; nextCursor: string | null } = (await list(`?customerId=${acme}&limit=200${cursor ? `&cursor=${cursor}` : ''}`)).body;
      jsonIds.push(...page.data.map((e) => e.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(csvIds).toEqual(jsonIds);
  });

  it('equals the JSON list too for filters read one batch at a time (action, free text), and from a cursor on', async () => {
    const staff = { kind: 'staff' as const, userId: 'usr_x', partnerId: demo, email: 'x@demo.test', name: 'X', apps: new Set(['audit' as const]), sessionId: 'ses_x' };
    const ctx: Ctx = { db: t.db.app.db, config: t.config, log: t.app.log, principal: staff, requestId: null, ip: null, userAgent: null, clock: systemClock };
    const jsonIdsOf = async (query: string) => {
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { data: Event[]; nextCursor: string | null } = (await list(`?${query}&limit=200${cursor ? `&cursor=${cursor}` : ''}`)).body;
        ids.push(...page.data.map((e) => e.id));
        cursor = page.nextCursor;
      } while (cursor);
      return ids;
    };
    const csvIdsOf = async (input: Parameters<typeof exportAuditEventsCsv>[1]) => {
      let text = '';
      for await (const chunk of await exportAuditEventsCsv(ctx, input)) text += chunk;
      return parseCsv(text).slice(1).map((r) => r[0]);
    };
    const bulk = await jsonIdsOf('action=test.bulk');
    expect(bulk.length).toBe(BULK);
    expect(await csvIdsOf({ action: 'test.bulk', batchSize: 50 })).toEqual(bulk);
    // "vitest" is the user agent of every recorded event here: free text over several batches.
    expect(await csvIdsOf({ q: 'vitest', customerId: acme, batchSize: 60 })).toEqual(await jsonIdsOf(`q=vitest&customerId=${acme}`));
    // From a cursor: everything after that event, in both ways of reading.
    expect(await csvIdsOf({ action: 'test.bulk', cursor: bulk[99]!, batchSize: 50 })).toEqual(bulk.slice(100));
    const all = await jsonIdsOf(`customerId=${acme}`);
    expect(await csvIdsOf({ customerId: acme, cursor: all[120]!, batchSize: 50 })).toEqual(all.slice(121));
  });
});
