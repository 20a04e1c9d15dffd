import type { Scenario, ScenarioKit } from '../test/audit-scenarios.ts';

/**
 * One valid call for each state-changing route of the Customer app added with issue 4 (customer edits, owner invitation,
 * notification resend), for the audit route-walk (`src/platform/audit-coverage.test.ts`). Spread into `scenarios` in
 * `src/test/audit-scenarios.ts`. Each makes its own customer organisation, so it disturbs no demo data.
 */
let sequence = 0;

async function freshCustomer(kit: ScenarioKit): Promise<{ id: string; ownerEmail: string; headers: Record<string, string> }> {
  const admin = await kit.signIn('admin@demo.test');
  const ownerEmail = `owner.${Date.now().toString(36)}${(sequence++).toString(36)}@customer-scenario.test`;
  const res = await kit.t.app.inject({
    method: 'POST', url: '/api/v1/customers', headers: admin.headers,
    payload: { name: 'Customer Scenario Pte Ltd', currency: 'SGD', ownerEmail, ownerName: 'Scenario Owner' },
  });
  return { id: res.json<{ id: string }>().id, ownerEmail, headers: admin.headers };
}

export const customerAuditScenarios: Record<string, Scenario> = {
  'PATCH /api/v1/customers/:id': async (kit) => {
    const c = await freshCustomer(kit);
    return kit.t.app.inject({
      method: 'PATCH', url: `/api/v1/customers/${c.id}`, headers: c.headers,
      payload: { status: 'suspended', billingContact: { name: 'Accounts Payable', email: 'ap@customer-scenario.test' } },
    });
  },

  'POST /api/v1/customers/:id/owner-invitation': async (kit) => {
    const c = await freshCustomer(kit);
    // Another owner in place of the one just invited: the same address gets a new link only 10 minutes after the last.
    return kit.t.app.inject({
      method: 'POST', url: `/api/v1/customers/${c.id}/owner-invitation`, headers: c.headers, payload: { email: `other.${c.ownerEmail}`, name: 'Scenario Owner' },
    });
  },

  'POST /api/v1/notifications/:id/resend': async (kit) => {
    const c = await freshCustomer(kit);
    const invitation = await kit.t.db.owner.db
      .selectFrom('notifications').select('id').where('customerId', '=', c.id).where('kind', '=', 'invitation').executeTakeFirstOrThrow();
    return kit.t.app.inject({ method: 'POST', url: `/api/v1/notifications/${invitation.id}/resend`, headers: c.headers });
  },
};
