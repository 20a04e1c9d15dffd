import type { Scenario } from '../../test/audit-scenarios.ts';
import { createPrice, createSubscription, givePoints, monthlyPeriodEndingAt } from './renewals.fixtures.ts';

/**
 * One valid call for each state-changing route of renewals, for the audit route-walk (`src/platform/audit-coverage.test.ts`).
 * Spread into `scenarios` in `src/test/audit-scenarios.ts`.
 */
export const renewalAuditScenarios: Record<string, Scenario> = {
  'POST /api/v1/subscriptions/:id/recover-renewal': async (kit) => {
    const owner = kit.t.db.owner.db;
    const today = new Date();
    const end = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + 3));
    const { anchorAt, periodStart } = monthlyPeriodEndingAt(end);
    const price = await createPrice(owner, { partnerId: kit.ids.demo, name: 'Scenario licence', priceMicros: 5_000_000n, costMicros: 2_000_000n });
    const id = await createSubscription(owner, { partnerId: kit.ids.demo, customerId: kit.ids.acme, price, anchorAt, periodStart, periodEnd: end });
    await owner.updateTable('subscriptions').set({ renewalFailedAt: today, renewalFailureReason: 'Not enough points (scenario)' }).where('id', '=', id).execute();
    await givePoints(kit.t.db.app.db, { partnerId: kit.ids.demo, customerId: kit.ids.acme, micros: 50_000_000n });
    const admin = await kit.signIn('admin@demo.test');
    return kit.t.app.inject({ method: 'POST', url: `/api/v1/subscriptions/${id}/recover-renewal`, headers: admin.headers });
  },
};
