import type { Session } from '../test/harness.ts';
import type { Scenario, ScenarioKit } from '../test/audit-scenarios.ts';

/**
 * One valid call for each state-changing route of the customer's services (virtual lines, wallboards), for the audit
 * route-walk (src/platform/audit-coverage.test.ts). Spread into `scenarios` in src/test/audit-scenarios.ts. They work on
 * Initech's services (created here), leaving Acme's demo lines alone.
 */
const OWNER = 'owner@initech.test';

/** One sign-in per route walk, not one per scenario: the walk runs every scenario inside one test's time limit. */
const sessions = new WeakMap<ScenarioKit, Promise<Session>>();
function ownerOf(kit: ScenarioKit): Promise<Session> {
  let session = sessions.get(kit);
  if (!session) {
    session = kit.signIn(OWNER);
    sessions.set(kit, session);
  }
  return session;
}

async function newLine(kit: ScenarioKit, number: string) {
  const owner = await ownerOf(kit);
  const res = await kit.t.app.inject({
    method: 'POST', url: '/api/v1/portal/virtual-lines', headers: owner.headers,
    payload: { number, name: 'Scenario line', destination: { type: 'external', number: '+6590001111' } },
  });
  return { owner, res, line: res.json<{ id: string; version: number }>() };
}

async function newWallboard(kit: ScenarioKit) {
  const owner = await ownerOf(kit);
  const res = await kit.t.app.inject({
    method: 'POST', url: '/api/v1/portal/wallboards', headers: owner.headers,
    payload: { name: 'Scenario board', queues: ['Sales'], widgets: ['calls_waiting'], refreshIntervalSeconds: 15 },
  });
  return { owner, res, board: res.json<{ id: string; version: number }>() };
}

export const serviceAuditScenarios: Record<string, Scenario> = {
  'POST /api/v1/portal/virtual-lines': async (kit) => (await newLine(kit, '+6560000001')).res,

  'PATCH /api/v1/portal/virtual-lines/:id': async (kit) => {
    const { owner, line } = await newLine(kit, '+6560000002');
    return kit.t.app.inject({ method: 'PATCH', url: `/api/v1/portal/virtual-lines/${line.id}`, headers: owner.headers, payload: { version: line.version, name: 'Renamed' } });
  },

  'POST /api/v1/portal/virtual-lines/:id/remove': async (kit) => {
    const { owner, line } = await newLine(kit, '+6560000003');
    return kit.t.app.inject({ method: 'POST', url: `/api/v1/portal/virtual-lines/${line.id}/remove`, headers: owner.headers, payload: { version: line.version } });
  },

  'POST /api/v1/portal/wallboards': async (kit) => (await newWallboard(kit)).res,

  'PATCH /api/v1/portal/wallboards/:id': async (kit) => {
    const { owner, board } = await newWallboard(kit);
    return kit.t.app.inject({ method: 'PATCH', url: `/api/v1/portal/wallboards/${board.id}`, headers: owner.headers, payload: { version: board.version, refreshIntervalSeconds: 60 } });
  },

  'POST /api/v1/portal/wallboards/:id/remove': async (kit) => {
    const { owner, board } = await newWallboard(kit);
    return kit.t.app.inject({ method: 'POST', url: `/api/v1/portal/wallboards/${board.id}/remove`, headers: owner.headers, payload: { version: board.version } });
  },
};
