import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestApp, partnerIdOf, signIn, userIdOf, type Session, type TestApp } from '../test/harness.ts';

let t: TestApp;
let operator: Session;
let demo: string;
let northwind: string;
beforeAll(async () => {
  t = await createTestApp();
  [demo, northwind] = await Promise.all([partnerIdOf(t.db, 'demo-telecom'), partnerIdOf(t.db, 'northwind')]);
  operator = await signIn(t, 'operator@folio.test');
  await signIn(t, 'admin@northwind.test');
});
afterAll(async () => t.close());

interface Event { id: string; seq: number; partnerId: string | null; action: string; occurredAt: string; actor: { id: string | null } }
const list = async (query = '', who: Session | null = operator) => {
  const res = await api(t, who, 'GET', `/api/v1/operator/audit-events${query}`);
  return { res, body: res.json<{ data: Event[]; nextCursor: string | null }>() };
};

describe('operatorListAuditEvents', () => {
  it('lists every trail, newest first', async () => {
    const { res, body } = await list('?limit=200');
    expect(res.statusCode).toBe(200);
    expect(new Set(body.data.map((e) => e.partnerId))).toEqual(new Set([null, demo, northwind]));
    const times = body.data.map((e) => e.occurredAt);
    expect(times).toEqual([...times].sort().reverse());
    expect(body.data[0]).toMatchObject({ partnerId: northwind, action: 'auth.signed_in' });
  });

  it("filters by partner, the platform's own trail, and the usual filters", async () => {
    const nw = (await list(`?partnerId=${northwind}`)).body.data;
    expect(nw.length).toBeGreaterThan(0);
    expect(nw.every((e) => e.partnerId === northwind)).toBe(true);
    expect(nw.map((e) => e.seq)).toEqual([...nw.map((e) => e.seq)].sort((a, b) => b - a));

    const platform = (await list('?partnerId=platform')).body.data;
    expect(platform.length).toBeGreaterThan(0);
    expect(platform.every((e) => e.partnerId === null)).toBe(true);

    const operatorId = await userIdOf(t.db, 'operator@folio.test');
    const mine = (await list(`?actorId=${operatorId}&action=auth.signed_in`)).body.data;
    expect(mine.map((e) => [e.partnerId, e.actor.id])).toEqual([[null, operatorId]]);
  });

  it('pages across partners with limit and cursor', async () => {
    const all = (await list('?limit=200')).body.data.map((e) => e.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { data: Event[]; nextCursor: string | null } = (await list(`?limit=3${cursor ? `&cursor=${cursor}` : ''}`)).body;
      seen.push(...page.data.map((e) => e.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all);
    // A cursor must belong to the filtered trail.
    const demoEvent = (await list(`?partnerId=${demo}&limit=1`)).body.data[0]!;
    expect((await list(`?partnerId=${northwind}&cursor=${demoEvent.id}`)).res.statusCode).toBe(400);
  });

  it('rejects bad query parameters, naming them', async () => {
    for (const [query, field] of [['?partnerId=demo', 'partnerId'], ['?limit=0', 'limit'], ['?x=1', 'x']] as const) {
      const { res } = await list(query);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().errors.map((e: { path: string }) => e.path), query).toContain(field);
    }
    // What the partner filter says: its form, and a parameter given twice.
    const message = async (query: string) => (await list(query)).res.json().errors.find((e: { path: string }) => e.path === 'partnerId')?.message;
    expect(await message('?partnerId=demo')).toBe('a ptn_ id, or platform');
    expect(await message(`?partnerId=${demo}&partnerId=platform`)).toBe('expected a string, got several values');
    // Dates in the wrong order: well-formed, against a rule (docs/adr/0040).
    const order = (await list('?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z')).res;
    expect(order.statusCode).toBe(422);
    expect(order.json()).toMatchObject({ code: 'rule_violation', errors: [{ path: 'to' }] });
  });

  it('is for the operator only', async () => {
    expect((await list('', null)).res.statusCode).toBe(401);
    const staff = await signIn(t, 'admin@demo.test');
    const res = (await list('', staff)).res;
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('forbidden');
  });
});
