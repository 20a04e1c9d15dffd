import type { Scenario } from '../test/audit-scenarios.ts';

/**
 * One valid call for each state-changing wallet route, for the audit route-walk (src/platform/audit-coverage.test.ts).
 * Spread into `scenarios` in src/test/audit-scenarios.ts. Globex's alert (Demo Telecom, MYR), which no other scenario uses.
 */
export const walletAuditScenarios: Record<string, Scenario> = {
  'PUT /api/v1/portal/low-balance-alert': async (kit) => {
    const owner = await kit.signIn('owner@globex.test');
    return kit.t.app.inject({ method: 'PUT', url: '/api/v1/portal/low-balance-alert', headers: owner.headers, payload: { enabled: true, threshold: '25.00' } });
  },
};
