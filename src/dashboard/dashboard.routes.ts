import { z } from 'zod';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf } from '../platform/server.ts';
import { staffApp } from '../platform/access-policy.ts';
import { isoDay, problems, timestamp } from '../platform/schemas.ts';
import { CUSTOMER_CURRENCIES } from '../customers/customer-views.ts';
import { getDashboard } from './get-dashboard.ts';

/** A UTC day, years 0001-9999, a real date (2026-02-30 is refused). */
const day = isoDay;
const renewalItem = z.object({
  subscriptionId: z.string(), customerId: z.string(), customerName: z.string(), productName: z.string(), variantName: z.string(),
  currency: z.string(), quantity: z.number().int(), autoRenew: z.boolean(), status: z.string(),
  currentPeriodEnd: timestamp, renewalAt: timestamp, failedAt: timestamp.nullable(), failureReason: z.string().nullable(),
});
const dashboardSchema = z.object({
  currency: z.string(),
  from: z.string(),
  to: z.string(),
  granularity: z.enum(['day', 'month']),
  series: z.array(z.object({ period: z.string(), revenue: z.string(), cost: z.string(), margin: z.string() })),
  totals: z.object({
    revenue: z.string(), cost: z.string(), margin: z.string(), marginPercent: z.string().nullable(),
    byAccount: z.array(z.object({ account: z.string(), amount: z.string() })),
  }),
  lowPoints: z.object({
    threshold: z.string(),
    count: z.number().int(),
    customers: z.array(z.object({ id: z.string(), name: z.string(), status: z.string(), points: z.string(), usable: z.string() })),
  }),
  renewals: z.object({
    dueThisWeek: z.object({ count: z.number().int(), items: z.array(renewalItem) }),
    failed: z.object({ count: z.number().int(), items: z.array(renewalItem) }),
  }).nullable(),
});

/** The partner dashboard, shown on the admin home to staff holding the Customer app. */
export function dashboardRoutes(app: FolioApp, deps: ServerDeps): void {
  app.get('/api/v1/dashboard', {
    config: { access: staffApp('customer') },
    schema: {
      operationId: 'getDashboard', tags: ['Customer'],
      summary: 'Revenue, cost and margin per day or month from the ledger (UTC days, to included), low-points customers, renewals due this week and failed',
      querystring: z.strictObject({
        from: day.optional().describe('first day, default 29 days before to'),
        to: day.optional().describe('last day (included), default today (UTC)'),
        currency: z.enum(CUSTOMER_CURRENCIES).optional().describe("default: the partner's default currency"),
        granularity: z.enum(['day', 'month']).optional().describe('default: day up to 92 days, else month'),
      }),
      response: { 200: dashboardSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await getDashboard(ctxOf(req, deps), req.query)));
}
