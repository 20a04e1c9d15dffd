import type { Scenario, ScenarioKit } from '../test/audit-scenarios.ts';

/**
 * One valid call for each state-changing route of the Discount app, for the audit route-walk
 * (`src/platform/audit-coverage.test.ts`). Spread into `scenarios` in `src/test/audit-scenarios.ts`.
 */
async function createOne(kit: ScenarioKit, name: string) {
  const admin = await kit.signIn('admin@demo.test');
  const res = await kit.t.app.inject({
    method: 'POST', url: '/api/v1/discounts', headers: admin.headers,
    payload: { name, customerId: kit.ids.acme, scope: 'product_type', productType: name.includes('numbers') ? 'phone_number' : 'app_licence', percentOff: '5' },
  });
  return { admin, res };
}

export const discountAuditScenarios: Record<string, Scenario> = {
  'POST /api/v1/discounts': async (kit) => (await createOne(kit, 'Scenario: licences')).res,

  'POST /api/v1/discounts/preview': async (kit) => {
    const admin = await kit.signIn('admin@demo.test');
    return kit.t.app.inject({
      method: 'POST', url: '/api/v1/discounts/preview', headers: admin.headers,
      payload: { customerId: null, scope: 'product_type', productType: 'service', percentOff: '10' },
    });
  },

  'PATCH /api/v1/discounts/:discountId': async (kit) => {
    const { admin, res } = await createOne(kit, 'Scenario: numbers');
    return kit.t.app.inject({
      method: 'PATCH', url: `/api/v1/discounts/${res.json<{ id: string }>().id}`, headers: admin.headers, payload: { name: 'Scenario: numbers, renamed' },
    });
  },

  'POST /api/v1/discounts/:discountId/end': async (kit) => {
    const admin = await kit.signIn('admin@demo.test');
    const created = await kit.t.app.inject({
      method: 'POST', url: '/api/v1/discounts', headers: admin.headers,
      payload: { name: 'Scenario: to end', customerId: null, scope: 'product_type', productType: 'usage', percentOff: '1' },
    });
    return kit.t.app.inject({ method: 'POST', url: `/api/v1/discounts/${created.json<{ id: string }>().id}/end`, headers: admin.headers });
  },
};
