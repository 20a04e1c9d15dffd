import type { Scenario } from '../test/audit-scenarios.ts';

/** One valid call for each state-changing contact-sales route (src/platform/audit-coverage.test.ts). */
export const contactSalesAuditScenarios: Record<string, Scenario> = {
  'POST /api/v1/settings/portal/contact-sales-test': async (kit) => {
    const admin = await kit.signIn('admin@demo.test');
    return kit.t.app.inject({ method: 'POST', url: '/api/v1/settings/portal/contact-sales-test', headers: admin.headers, payload: {} });
  },
  'POST /api/v1/portal/contact-sales': async (kit) => {
    const member = await kit.signIn('owner@initech.test');
    return kit.t.app.inject({
      method: 'POST', url: '/api/v1/portal/contact-sales', headers: member.headers,
      payload: { subject: 'More lines', message: 'We would like ten more virtual lines.' },
    });
  },
};
