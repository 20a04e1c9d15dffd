import type { Scenario, ScenarioKit } from '../test/audit-scenarios.ts';
import type { Session, TestApp } from '../test/harness.ts';
import { catalogPrice, givePoints } from './test-support.ts';

/**
 * One valid call for each state-changing subscription route, for the audit route-walk (src/platform/audit-coverage.test.ts).
 * Spread into `scenarios` in src/test/audit-scenarios.ts. They sell to Initech (Demo Telecom, SGD) from a catalog price made
 * here, after giving it points, so the demo data other scenarios use is left alone.
 */
const STAFF = 'admin@demo.test';
const PORTAL_OWNER = 'owner@initech.test';

/** One sign-in per person and test app: signing in (password hash, 2FA) is the slow part of a scenario. */
const sessions = new WeakMap<TestApp, Map<string, Promise<Session>>>();
function signInOnce(kit: ScenarioKit, email: string): Promise<Session> {
  let mine = sessions.get(kit.t);
  if (!mine) sessions.set(kit.t, (mine = new Map()));
  let session = mine.get(email);
  if (!session) mine.set(email, (session = kit.signIn(email)));
  return session;
}

async function initech(kit: ScenarioKit): Promise<string> {
  return (await kit.t.db.owner.db.selectFrom('customers').select('id').where('name', '=', 'Initech Pte Ltd').executeTakeFirstOrThrow()).id;
}

async function setUp(kit: ScenarioKit) {
  const customerId = await initech(kit);
  await givePoints(kit.t, kit.ids.demo, customerId, '200.00');
  const main = await catalogPrice(kit.t, kit.ids.demo, { name: 'Scenario PBX', price: '20.00', cost: '5.00' });
  const extra = await catalogPrice(kit.t, kit.ids.demo, { name: 'Scenario seat', price: '4.00', cost: '1.00' });
  return { customerId, main, extra };
}

async function subscribed(kit: ScenarioKit, withAddOn = false) {
  const s = await setUp(kit);
  const staff = await signInOnce(kit, STAFF);
  const res = await kit.t.app.inject({ method: 'POST', url: `/api/v1/customers/${s.customerId}/subscriptions`, headers: staff.headers, payload: { priceId: s.main.priceId } });
  if (res.statusCode !== 201) throw new Error(`scenario purchase failed: ${res.statusCode} ${res.body}`);
  const subscriptionId = res.json<{ subscription: { id: string } }>().subscription.id;
  let addOnId = '';
  if (withAddOn) {
    const a = await kit.t.app.inject({ method: 'POST', url: `/api/v1/subscriptions/${subscriptionId}/add-ons`, headers: staff.headers, payload: { priceId: s.extra.priceId, quantity: 1 } });
    if (a.statusCode !== 201) throw new Error(`scenario add-on failed: ${a.statusCode} ${a.body}`);
    addOnId = a.json<{ addOns: { id: string }[] }>().addOns[0]!.id;
  }
  return { ...s, staff, subscriptionId, addOnId };
}

/** Expired a moment ago, as the renewal job leaves it. */
async function expired(kit: ScenarioKit) {
  const s = await subscribed(kit);
  await kit.t.db.owner.db.updateTable('subscriptions').set({ status: 'expired', expiredAt: new Date() }).where('id', '=', s.subscriptionId).execute();
  return s;
}

export const subscriptionAuditScenarios: Record<string, Scenario> = {
  'POST /api/v1/customers/:customerId/subscriptions': async (kit) => {
    const s = await setUp(kit);
    const staff = await signInOnce(kit, STAFF);
    return kit.t.app.inject({ method: 'POST', url: `/api/v1/customers/${s.customerId}/subscriptions`, headers: staff.headers, payload: { priceId: s.main.priceId, quantity: 2 } });
  },

  'POST /api/v1/subscriptions/:subscriptionId/add-ons': async (kit) => {
    const s = await subscribed(kit);
    return kit.t.app.inject({ method: 'POST', url: `/api/v1/subscriptions/${s.subscriptionId}/add-ons`, headers: s.staff.headers, payload: { priceId: s.extra.priceId, quantity: 2 } });
  },

  'PATCH /api/v1/subscriptions/:subscriptionId/add-ons/:addOnId': async (kit) => {
    const s = await subscribed(kit, true);
    return kit.t.app.inject({ method: 'PATCH', url: `/api/v1/subscriptions/${s.subscriptionId}/add-ons/${s.addOnId}`, headers: s.staff.headers, payload: { quantity: 3 } });
  },

  'PATCH /api/v1/subscriptions/:subscriptionId': async (kit) => {
    const s = await subscribed(kit);
    return kit.t.app.inject({ method: 'PATCH', url: `/api/v1/subscriptions/${s.subscriptionId}`, headers: s.staff.headers, payload: { autoRenew: false } });
  },

  'POST /api/v1/subscriptions/:subscriptionId/terminate': async (kit) => {
    const s = await subscribed(kit);
    return kit.t.app.inject({ method: 'POST', url: `/api/v1/subscriptions/${s.subscriptionId}/terminate`, headers: s.staff.headers, payload: { reason: 'Scenario: not needed' } });
  },

  'POST /api/v1/subscriptions/:subscriptionId/reactivate': async (kit) => {
    const s = await expired(kit);
    return kit.t.app.inject({ method: 'POST', url: `/api/v1/subscriptions/${s.subscriptionId}/reactivate`, headers: s.staff.headers });
  },

  'POST /api/v1/portal/subscriptions': async (kit) => {
    const s = await setUp(kit);
    const owner = await signInOnce(kit, PORTAL_OWNER);
    return kit.t.app.inject({ method: 'POST', url: '/api/v1/portal/subscriptions', headers: owner.headers, payload: { priceId: s.main.priceId } });
  },

  'PATCH /api/v1/portal/subscriptions/:subscriptionId': async (kit) => {
    const s = await subscribed(kit);
    const owner = await signInOnce(kit, PORTAL_OWNER);
    return kit.t.app.inject({ method: 'PATCH', url: `/api/v1/portal/subscriptions/${s.subscriptionId}`, headers: owner.headers, payload: { autoRenew: false } });
  },

  'POST /api/v1/portal/subscriptions/:subscriptionId/add-ons': async (kit) => {
    const s = await subscribed(kit);
    const owner = await signInOnce(kit, PORTAL_OWNER);
    return kit.t.app.inject({ method: 'POST', url: `/api/v1/portal/subscriptions/${s.subscriptionId}/add-ons`, headers: owner.headers, payload: { priceId: s.extra.priceId, quantity: 1 } });
  },

  'PATCH /api/v1/portal/subscriptions/:subscriptionId/add-ons/:addOnId': async (kit) => {
    const s = await subscribed(kit, true);
    const owner = await signInOnce(kit, PORTAL_OWNER);
    return kit.t.app.inject({ method: 'PATCH', url: `/api/v1/portal/subscriptions/${s.subscriptionId}/add-ons/${s.addOnId}`, headers: owner.headers, payload: { quantity: 0 } });
  },

  'POST /api/v1/portal/subscriptions/:subscriptionId/terminate': async (kit) => {
    const s = await subscribed(kit);
    const owner = await signInOnce(kit, PORTAL_OWNER);
    return kit.t.app.inject({ method: 'POST', url: `/api/v1/portal/subscriptions/${s.subscriptionId}/terminate`, headers: owner.headers, payload: { reason: 'Scenario: done' } });
  },

  'POST /api/v1/portal/subscriptions/:subscriptionId/reactivate': async (kit) => {
    const s = await expired(kit);
    const owner = await signInOnce(kit, PORTAL_OWNER);
    return kit.t.app.inject({ method: 'POST', url: `/api/v1/portal/subscriptions/${s.subscriptionId}/reactivate`, headers: owner.headers });
  },
};
