import type { Scenario, ScenarioKit } from '../test/audit-scenarios.ts';
import { deliverSandboxWebhooks } from '../test/harness.ts';
import { addDays, utcDay } from './dates.ts';
import { gatewayOf } from './gateway-of.ts';

/**
 * One valid call for each state-changing top-up route, for the audit route-walk (src/platform/audit-coverage.test.ts).
 * Spread into `scenarios` in src/test/audit-scenarios.ts. They top up Initech (Demo Telecom, SGD) through the gateway
 * the server made itself (the configured sandbox), so they leave the demo data the other scenarios use alone.
 */
const OWNER = 'owner@initech.test';

async function topUp(kit: ScenarioKit, payload: object) {
  const owner = await kit.signIn(OWNER);
  return { owner, res: await kit.t.app.inject({ method: 'POST', url: '/api/v1/portal/top-ups', headers: owner.headers, payload }) };
}

export const topUpAuditScenarios: Record<string, Scenario> = {
  'POST /api/v1/portal/top-ups': async (kit) => (await topUp(kit, { amount: '25.00', cardToken: 'tok_sandbox_success' })).res,

  'PUT /api/v1/portal/auto-top-up': async (kit) => {
    const { owner, res } = await topUp(kit, { amount: '30.00', cardToken: 'tok_sandbox_success', saveCard: true });
    const savedCardId = res.json<{ savedCardId: string }>().savedCardId;
    return kit.t.app.inject({
      method: 'PUT', url: '/api/v1/portal/auto-top-up', headers: owner.headers,
      payload: { enabled: true, threshold: '5.00', amount: '30.00', savedCardId },
    });
  },

  'DELETE /api/v1/portal/saved-cards/:cardId': async (kit) => {
    const { owner, res } = await topUp(kit, { amount: '30.00', cardToken: 'tok_sandbox_success', saveCard: true });
    const savedCardId = res.json<{ savedCardId: string }>().savedCardId;
    return kit.t.app.inject({ method: 'DELETE', url: `/api/v1/portal/saved-cards/${savedCardId}`, headers: owner.headers });
  },

  'PUT /api/v1/settings/top-up-policies': async (kit) => {
    const admin = await kit.signIn('admin@demo.test');
    return kit.t.app.inject({
      method: 'PUT', url: '/api/v1/settings/top-up-policies', headers: admin.headers,
      payload: { currency: 'HKD', effectiveFrom: addDays(utcDay(new Date()), 30), minimum: '10.00', feeThreshold: '100.00', fee: '5.00' },
    });
  },

  'POST /api/v1/settings/top-up-policies/:versionId/withdraw': async (kit) => {
    const admin = await kit.signIn('admin@demo.test');
    const added = await kit.t.app.inject({
      method: 'PUT', url: '/api/v1/settings/top-up-policies', headers: admin.headers,
      payload: { currency: 'HKD', effectiveFrom: addDays(utcDay(new Date()), 40), minimum: '20.00', feeThreshold: '0', fee: '0' },
    });
    const { id } = added.json<{ id: string }>();
    return kit.t.app.inject({ method: 'POST', url: `/api/v1/settings/top-up-policies/${id}/withdraw`, headers: admin.headers, payload: {} });
  },

  'POST /api/v1/gateway/webhooks': async (kit) => {
    const pending = (await topUp(kit, { amount: '40.00', cardToken: 'tok_sandbox_delayed' })).res.json<{ id: string }>();
    const answers = await deliverSandboxWebhooks(kit.t, gatewayOf({ db: kit.t.db.app.db }), new Date(Date.now() + 3_600_000));
    const applied = answers.find((a) => a.json<{ topUpId: string | null; applied: boolean }>().topUpId === pending.id && a.json<{ applied: boolean }>().applied);
    if (!applied) throw new Error(`the delayed top-up ${pending.id} was not completed by a webhook`);
    return applied;
  },
};
