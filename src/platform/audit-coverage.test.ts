import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestApp, signIn, type TestApp } from '../test/harness.ts';
import { mailedToken, scenarios, type ScenarioKit } from '../test/audit-scenarios.ts';
import { isCatalogued } from '../audit/audit-catalog.ts';

/**
 * Walks every route that changes state and proves each one writes the audit event(s) it declares, in the
 * same transaction as its change. New routes join automatically: without a scenario, or without a declared
 * audit action, this test fails.
 */
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

let t: TestApp;
let kit: ScenarioKit;
beforeAll(async () => {
  t = await createTestApp();
  const owner = t.db.owner.db;
  const partner = async (slug: string) => (await owner.selectFrom('partners').select('id').where('slug', '=', slug).executeTakeFirstOrThrow()).id;
  const customer = async (name: string) => (await owner.selectFrom('customers').select('id').where('name', '=', name).executeTakeFirstOrThrow()).id;
  kit = {
    t,
    signIn: (email) => signIn(t, email),
    mailedToken: (email) => mailedToken(t, email),
    ids: { demo: await partner('demo-telecom'), northwind: await partner('northwind'), acme: await customer('Acme Pte Ltd') },
  };
});
afterAll(async () => t.close());

function mutatingRoutes() {
  return t.app.routeCatalog.filter((r) => MUTATING.has(r.method)).map((r) => ({ ...r, key: `${r.method} ${r.url}` }));
}

describe('audit coverage', () => {
  it('every state-changing route declares its audit action and has a scenario', () => {
    const routes = mutatingRoutes();
    expect(routes.length).toBeGreaterThan(5);
    const undeclared = routes.filter((r) => !r.audit).map((r) => r.key);
    expect(undeclared, 'routes without config.audit').toEqual([]);
    const missing = routes.filter((r) => !scenarios[r.key]).map((r) => r.key);
    expect(missing, 'routes without a scenario in src/test/audit-scenarios.ts').toEqual([]);
    const stale = Object.keys(scenarios).filter((k) => !routes.some((r) => r.key === k));
    expect(stale, 'scenarios for routes that no longer exist').toEqual([]);
  });

  it('each state-changing route writes its audit event', async () => {
    const failures: string[] = [];
    for (const route of mutatingRoutes()) {
      const scenario = scenarios[route.key];
      if (!scenario || !route.audit) continue;
      const { rows } = await sql<{ now: Date }>`select clock_timestamp() as now`.execute(t.db.owner.db);
      const since = rows[0]!.now;
      const res = await scenario(kit);
      if (res.statusCode >= 300) {
        failures.push(`${route.key}: scenario answered ${res.statusCode} ${res.body.slice(0, 300)}`);
        continue;
      }
      const expected: string[] = [route.audit].flat();
      const written = await t.db.owner.db
        .selectFrom('auditEvents')
        .select(['app', 'action', 'requestId'])
        .where('occurredAt', '>=', since)
        .execute();
      const requestId = res.headers['x-request-id'];
      if (!written.some((e) => e.requestId === requestId && expected.includes(e.action))) {
        failures.push(`${route.key}: no ${expected.join('|')} event with the request id ${String(requestId)}`);
      }
      // Every event the scenario wrote is filed under an app and action of the Audit app's catalog (src/audit/audit-catalog.ts).
      for (const e of written.filter((w) => !isCatalogued(w.app, w.action))) {
        failures.push(`${route.key}: wrote app "${e.app}" action "${e.action}", not in src/audit/audit-catalog.ts`);
      }
    }
    expect(failures).toEqual([]);
  }, 180_000); // walks every state-changing route, each signing in: longer than one test's default budget
});
