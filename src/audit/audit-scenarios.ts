import type { Scenario } from '../test/audit-scenarios.ts';

/**
 * One valid call for each state-changing route of the Audit app (the operator's retention), for the audit route-walk
 * (`src/platform/audit-coverage.test.ts`). Spread into `scenarios` in `src/test/audit-scenarios.ts`.
 */
export const auditAppAuditScenarios: Record<string, Scenario> = {
  'PUT /api/v1/operator/partners/:partnerId/audit-retention': async (kit) => {
    const operator = await kit.signIn('operator@folio.test');
    return kit.t.app.inject({
      method: 'PUT', url: `/api/v1/operator/partners/${kit.ids.northwind}/audit-retention`, headers: operator.headers, payload: { retentionYears: 7 },
    });
  },

  'POST /api/v1/operator/partners/:partnerId/audit-retention/cut': async (kit) => {
    const operator = await kit.signIn('operator@folio.test');
    return kit.t.app.inject({
      method: 'POST', url: `/api/v1/operator/partners/${kit.ids.northwind}/audit-retention/cut`, headers: operator.headers, payload: {},
    });
  },
};
