import type { Scenario } from '../test/audit-scenarios.ts';

/** One valid call for each state-changing route of the Product app's rate plans (see src/platform/audit-coverage.test.ts). */
export const productAuditScenarios: Record<string, Scenario> = {
  'POST /api/v1/rate-plans': async (kit) => {
    const admin = await kit.signIn('admin@demo.test');
    return kit.t.app.inject({
      method: 'POST', url: '/api/v1/rate-plans', headers: admin.headers, payload: { name: 'Scenario plan', currency: 'USD', increment: '30/6' },
    });
  },

  'PUT /api/v1/rate-plans/:id/rates': async (kit) => {
    const admin = await kit.signIn('admin@demo.test');
    const plan = await kit.t.app.inject({
      method: 'POST', url: '/api/v1/rate-plans', headers: admin.headers, payload: { name: 'Scenario rates', currency: 'USD', increment: '1/1' },
    });
    return kit.t.app.inject({
      method: 'PUT', url: `/api/v1/rate-plans/${plan.json<{ id: string }>().id}/rates`, headers: admin.headers,
      payload: { rates: [{ prefix: '1', description: 'United States', pricePerMinute: '0.02', costPerMinute: '0.008' }] },
    });
  },
};
