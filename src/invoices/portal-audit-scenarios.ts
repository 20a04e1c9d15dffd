import type { Scenario } from '../test/audit-scenarios.ts';
import { customerIdOf, partnerIdOf } from '../test/harness.ts';
import { inScope } from '../platform/database.ts';
import { givePoints } from '../subscriptions/renewals/renewals.fixtures.ts';
import { issueInvoice } from './issue-invoice.ts';

/**
 * One valid call for each state-changing portal invoice route, for the audit route-walk (src/platform/audit-coverage.test.ts).
 * Initech (Demo Telecom, SGD) gets points and an unpaid Purchase invoice, and its owner pays it with points.
 */
export const portalInvoiceAuditScenarios: Record<string, Scenario> = {
  'POST /api/v1/portal/invoices/:invoiceId/pay': async (kit) => {
    const partnerId = await partnerIdOf(kit.t.db, 'demo-telecom');
    const customerId = await customerIdOf(kit.t.db, 'Initech Pte Ltd');
    await givePoints(kit.t.db.app.db, { partnerId, customerId, micros: 20_000_000n });
    const invoice = await inScope(kit.t.db.app.db, { kind: 'partner', partnerId }, (trx) => issueInvoice(trx, {
      partnerId, customerId, type: 'purchase', currency: 'SGD', issuedAt: new Date(),
      lines: [{ kind: 'product', description: 'Audit scenario', amountMicros: 10_000_000n, taxMicros: 900_000n, taxCategory: 'standard', taxRateBps: 900, revenueCode: 'revenue:one_time' }],
      entry: { kind: 'invoice_issued', causeType: 'invoice', causeId: 'audit_scenario', description: 'Audit scenario invoice', auditEventId: null },
    }));
    const owner = await kit.signIn('owner@initech.test');
    return kit.t.app.inject({ method: 'POST', url: `/api/v1/portal/invoices/${invoice.id}/pay`, headers: owner.headers, payload: {} });
  },
};
