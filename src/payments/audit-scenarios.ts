import type { Scenario, ScenarioKit } from '../test/audit-scenarios.ts';

async function recordFor(kit: ScenarioKit, customerId: string | undefined): Promise<string> {
  const finance = await kit.signIn('finance@demo.test');
  const res = await kit.t.app.inject({
    method: 'POST', url: '/api/v1/payments', headers: finance.headers,
    payload: { method: 'bank_transfer', amount: '20.00', currency: 'SGD', receivedOn: '2026-01-05', reference: 'Scenario', ...(customerId ? { customerId } : {}) },
  });
  return res.json<{ id: string }>().id;
}

/**
 * One valid call for each state-changing route of payments (Finance app), for the audit route-walk
 * (`src/platform/audit-coverage.test.ts`). Spread into `scenarios` in `src/test/audit-scenarios.ts`.
 */
export const paymentAuditScenarios: Record<string, Scenario> = {
  'POST /api/v1/payments': async (kit) => {
    const finance = await kit.signIn('finance@demo.test');
    return kit.t.app.inject({
      method: 'POST', url: '/api/v1/payments', headers: finance.headers,
      payload: { method: 'cheque', amount: '12.00', currency: 'SGD', receivedOn: '2026-01-05', reference: 'CHQ 1', customerId: kit.ids.acme },
    });
  },

  'POST /api/v1/payments/:paymentId/assign': async (kit) => {
    const finance = await kit.signIn('finance@demo.test');
    const id = await recordFor(kit, undefined);
    return kit.t.app.inject({ method: 'POST', url: `/api/v1/payments/${id}/assign`, headers: finance.headers, payload: { customerId: kit.ids.acme } });
  },

  'POST /api/v1/payments/:paymentId/allocations': async (kit) => {
    const finance = await kit.signIn('finance@demo.test');
    const id = await recordFor(kit, kit.ids.acme);
    return kit.t.app.inject({ method: 'POST', url: `/api/v1/payments/${id}/allocations`, headers: finance.headers, payload: { auto: true, leftover: 'points' } });
  },

  // The deprecated alias of /allocations.
  'POST /api/v1/payments/:paymentId/allocate': async (kit) => {
    const finance = await kit.signIn('finance@demo.test');
    const id = await recordFor(kit, kit.ids.acme);
    return kit.t.app.inject({ method: 'POST', url: `/api/v1/payments/${id}/allocate`, headers: finance.headers, payload: { auto: true, leftover: 'points' } });
  },

  'POST /api/v1/payments/:paymentId/reverse': async (kit) => {
    const finance = await kit.signIn('finance@demo.test');
    const id = await recordFor(kit, kit.ids.acme);
    return kit.t.app.inject({ method: 'POST', url: `/api/v1/payments/${id}/reverse`, headers: finance.headers, payload: { reason: 'Scenario: bounced cheque' } });
  },
};
