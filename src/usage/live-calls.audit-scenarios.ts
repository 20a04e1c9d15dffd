import type { ScenarioKit, Scenario } from '../test/audit-scenarios.ts';
import { sha256Hex } from '../platform/crypto.ts';
import { inScope } from '../platform/database.ts';
import { creditWallet } from '../wallet/charge-wallet.ts';

/** One valid call for each state-changing live-call route (see src/platform/audit-coverage.test.ts). */
const TOKEN = 'fk_audit_scenario_live_calls_key_0000';
let sequence = 0;

/** A switch API key, a default SGD rate plan with a rate for Singapore, and points for Acme: made once per test database. */
async function switchFor(kit: ScenarioKit): Promise<Record<string, string>> {
  const owner = kit.t.db.owner.db;
  const key = await owner.selectFrom('apiKeys').select('id').where('id', '=', 'key_auditscenario000000002').executeTakeFirst();
  if (!key) {
    await owner.insertInto('apiKeys').values({
      id: 'key_auditscenario000000002', partnerId: kit.ids.demo, name: 'Live switch', tokenPrefix: TOKEN.slice(0, 10), tokenHash: sha256Hex(TOKEN),
      apps: ['customer'], createdBy: null, lastUsedAt: null, revokedAt: null,
    }).execute();
    const hasDefault = await owner.selectFrom('ratePlans').select('id').where('partnerId', '=', kit.ids.demo).where('currency', '=', 'SGD').where('isDefault', '=', true).executeTakeFirst();
    if (!hasDefault) {
      const admin = await kit.signIn('admin@demo.test');
      const plan = await kit.t.app.inject({
        method: 'POST', url: '/api/v1/rate-plans', headers: admin.headers, payload: { name: 'Scenario SGD', currency: 'SGD', increment: '60/60', isDefault: true },
      });
      await kit.t.app.inject({
        method: 'PUT', url: `/api/v1/rate-plans/${plan.json<{ id: string }>().id}/rates`, headers: admin.headers,
        payload: { rates: [{ prefix: '65', pricePerMinute: '0.03', costPerMinute: '0.01' }] },
      });
    }
    await inScope(kit.t.db.app.db, { kind: 'partner', partnerId: kit.ids.demo }, (trx) => creditWallet(trx, {
      wallet: { partnerId: kit.ids.demo, customerId: kit.ids.acme, currency: 'SGD' }, amountMicros: 10_000_000n,
      entry: { kind: 'top_up', causeType: 'test', causeId: 'top_live_call_scenarios', description: 'Scenario top-up', auditEventId: null },
      counterPostings: [{ code: 'card_clearing', amountMicros: 10_000_000n }],
    }));
  }
  return { authorization: `Bearer ${TOKEN}` };
}

async function started(kit: ScenarioKit): Promise<{ headers: Record<string, string>; callId: string; res: Awaited<ReturnType<Scenario>> }> {
  const headers = await switchFor(kit);
  const callId = `scenario-live-${Date.now().toString(36)}-${sequence++}`;
  const res = await kit.t.app.inject({
    method: 'POST', url: '/api/v1/usage/live-calls', headers,
    payload: { callId, customerId: kit.ids.acme, from: '+6561234567', to: '+6562223333', startedAt: '2026-11-30T04:32:00Z', direction: 'outbound', maxSeconds: 120 },
  });
  return { headers, callId, res };
}

export const liveCallAuditScenarios: Record<string, Scenario> = {
  'POST /api/v1/usage/live-calls': async (kit) => (await started(kit)).res,

  'POST /api/v1/usage/live-calls/:callId/end': async (kit) => {
    const { headers, callId } = await started(kit);
    return kit.t.app.inject({ method: 'POST', url: `/api/v1/usage/live-calls/${callId}/end`, headers, payload: { durationSeconds: 42 } });
  },

  'POST /api/v1/usage/live-calls/:callId/fail': async (kit) => {
    const { headers, callId } = await started(kit);
    return kit.t.app.inject({ method: 'POST', url: `/api/v1/usage/live-calls/${callId}/fail`, headers });
  },
};
