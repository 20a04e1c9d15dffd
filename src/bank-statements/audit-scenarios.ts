import type { Scenario, ScenarioKit } from '../test/audit-scenarios.ts';

let seq = 0;

/** Upload a one-line statement paying an Acme invoice by its number; answers the import and its first line. */
async function statementFor(kit: ScenarioKit): Promise<{ statementId: string; lineId: string }> {
  const finance = await kit.signIn('finance@demo.test');
  const invoice = await kit.t.app.inject({
    method: 'POST', url: '/api/v1/invoices', headers: finance.headers,
    payload: { customerId: kit.ids.acme, type: 'purchase', issue: true, lines: [{ description: 'Scenario', quantity: '1', unitPrice: '7.00', taxCategory: 'zero_rated' }] },
  });
  const number = invoice.json<{ number: string }>().number;
  seq += 1;
  const csv = `date,amount,reference\n2026-01-0${1 + (seq % 9)},7.00,Payment ${number} scenario ${seq}\n`;
  const res = await kit.t.app.inject({ method: 'POST', url: '/api/v1/bank-statements', headers: finance.headers, payload: { fileName: `scenario-${seq}.csv`, csv } });
  const statementId = res.json<{ id: string }>().id;
  const detail = await kit.t.app.inject({ method: 'GET', url: `/api/v1/bank-statements/${statementId}`, headers: finance.headers });
  return { statementId, lineId: detail.json<{ lines: { data: Array<{ id: string }> } }>().lines.data[0]!.id };
}

/**
 * One valid call for each state-changing route of the bank statement import (Finance app), for the audit route-walk
 * (`src/platform/audit-coverage.test.ts`). Spread into `scenarios` in `src/test/audit-scenarios.ts`.
 */
export const bankStatementAuditScenarios: Record<string, Scenario> = {
  'POST /api/v1/bank-statements': async (kit) => {
    const finance = await kit.signIn('finance@demo.test');
    return kit.t.app.inject({
      method: 'POST', url: '/api/v1/bank-statements', headers: finance.headers,
      payload: { fileName: 'scenario-upload.csv', csv: 'date,amount,reference,payer\n2026-01-05,12.34,Scenario upload,Nobody Known\n' },
    });
  },

  'POST /api/v1/bank-statements/:statementId/lines/:lineId/accept': async (kit) => {
    const finance = await kit.signIn('finance@demo.test');
    const { statementId, lineId } = await statementFor(kit);
    return kit.t.app.inject({ method: 'POST', url: `/api/v1/bank-statements/${statementId}/lines/${lineId}/accept`, headers: finance.headers, payload: {} });
  },

  'POST /api/v1/bank-statements/:statementId/lines/:lineId/reject': async (kit) => {
    const finance = await kit.signIn('finance@demo.test');
    const { statementId, lineId } = await statementFor(kit);
    return kit.t.app.inject({ method: 'POST', url: `/api/v1/bank-statements/${statementId}/lines/${lineId}/reject`, headers: finance.headers, payload: { reason: 'Scenario' } });
  },

  'POST /api/v1/bank-statements/:statementId/accept-confident': async (kit) => {
    const finance = await kit.signIn('finance@demo.test');
    const { statementId } = await statementFor(kit);
    return kit.t.app.inject({ method: 'POST', url: `/api/v1/bank-statements/${statementId}/accept-confident`, headers: finance.headers, payload: {} });
  },
};
