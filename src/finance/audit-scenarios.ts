import type { Scenario } from '../test/audit-scenarios.ts';

/**
 * One valid call for each state-changing route of the Finance app (points, credit limits), for the audit route-walk
 * (`src/platform/audit-coverage.test.ts`). Spread into `scenarios` in `src/test/audit-scenarios.ts`.
 */
export const financeAuditScenarios: Record<string, Scenario> = {
  'POST /api/v1/finance/ledger-check': async (kit) => {
    const finance = await kit.signIn('finance@demo.test');
    return kit.t.app.inject({ method: 'POST', url: '/api/v1/finance/ledger-check', headers: finance.headers });
  },

  'POST /api/v1/customers/:customerId/points/issue': async (kit) => {
    const finance = await kit.signIn('finance@demo.test');
    return kit.t.app.inject({
      method: 'POST', url: `/api/v1/customers/${kit.ids.acme}/points/issue`, headers: finance.headers,
      payload: { amount: '5.00', reason: 'Scenario: goodwill' },
    });
  },

  'POST /api/v1/customers/:customerId/points/take-back': async (kit) => {
    const finance = await kit.signIn('finance@demo.test');
    await kit.t.app.inject({
      method: 'POST', url: `/api/v1/customers/${kit.ids.acme}/points/issue`, headers: finance.headers, payload: { amount: '2.00', reason: 'Scenario: to take back' },
    });
    return kit.t.app.inject({
      method: 'POST', url: `/api/v1/customers/${kit.ids.acme}/points/take-back`, headers: finance.headers,
      payload: { amount: '1.00', reason: 'Scenario: issued by mistake' },
    });
  },

  'PUT /api/v1/customers/:customerId/credit-limit': async (kit) => {
    const finance = await kit.signIn('finance@demo.test');
    return kit.t.app.inject({
      method: 'PUT', url: `/api/v1/customers/${kit.ids.acme}/credit-limit`, headers: finance.headers, payload: { amount: '123.45', expiresAt: null },
    });
  },
};
