import type { Scenario, ScenarioKit } from '../test/audit-scenarios.ts';

async function issuedInvoice(kit: ScenarioKit): Promise<{ headers: Record<string, string>; invoiceId: string }> {
  const finance = await kit.signIn('finance@demo.test');
  const res = await kit.t.app.inject({
    method: 'POST', url: '/api/v1/invoices', headers: finance.headers,
    payload: { customerId: kit.ids.acme, type: 'purchase', issue: true, lines: [{ description: 'Scenario service', quantity: '2', unitPrice: '10.00' }] },
  });
  return { headers: finance.headers, invoiceId: res.json<{ id: string }>().id };
}

async function draftFor(kit: ScenarioKit): Promise<{ headers: Record<string, string>; id: string }> {
  const { headers, invoiceId } = await issuedInvoice(kit);
  const res = await kit.t.app.inject({
    method: 'POST', url: '/api/v1/credit-notes', headers,
    payload: { invoiceId, mode: 'lines', lines: [{ position: 1, quantity: '1' }], reason: 'service_issue', outcome: 'reduce_due' },
  });
  return { headers, id: res.json<{ id: string }>().id };
}

/**
 * One valid call for each state-changing route of credit notes (Finance app), for the audit route-walk
 * (`src/platform/audit-coverage.test.ts`). Spread into `scenarios` in `src/test/audit-scenarios.ts`.
 */
export const creditNoteAuditScenarios: Record<string, Scenario> = {
  'POST /api/v1/credit-notes': async (kit) => {
    const { headers, invoiceId } = await issuedInvoice(kit);
    return kit.t.app.inject({
      method: 'POST', url: '/api/v1/credit-notes', headers,
      payload: { invoiceId, mode: 'whole', reason: 'cancellation', outcome: 'reduce_due', issue: true },
    });
  },

  'PATCH /api/v1/credit-notes/:creditNoteId': async (kit) => {
    const { headers, id } = await draftFor(kit);
    return kit.t.app.inject({ method: 'PATCH', url: `/api/v1/credit-notes/${id}`, headers, payload: { memo: 'Scenario memo', reason: 'billing_error' } });
  },

  'POST /api/v1/credit-notes/:creditNoteId/issue': async (kit) => {
    const { headers, id } = await draftFor(kit);
    return kit.t.app.inject({ method: 'POST', url: `/api/v1/credit-notes/${id}/issue`, headers, payload: {} });
  },

  'POST /api/v1/credit-notes/:creditNoteId/void': async (kit) => {
    const { headers, id } = await draftFor(kit);
    return kit.t.app.inject({ method: 'POST', url: `/api/v1/credit-notes/${id}/void`, headers, payload: { reason: 'Scenario: raised by mistake' } });
  },
};
