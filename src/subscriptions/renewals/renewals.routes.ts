import { z } from 'zod';
import type { FolioApp, ServerDeps } from '../../platform/server.ts';
import { ctxOf } from '../../platform/server.ts';
import { staffApp } from '../../platform/access-policy.ts';
import { problems } from '../../platform/schemas.ts';
import { idempotencyKeyHeaders } from '../../platform/idempotency.ts';
import { pathId } from '../../access/route-schemas.ts';
import { gatewayOf } from '../../topup/gateway-of.ts';
import { recoverRenewal } from './recover-renewal.ts';

const recoveredSchema = z.object({
  outcome: z.enum(['renewed', 'pending']).describe('renewed: paid and the period advanced; pending: a card charge that settles later'),
  subscriptionIds: z.array(z.string()).describe("every subscription of the organisation's renewal group (same expiry): they renew together"),
  total: z.string().describe('the renewal total of the group, tax included, decimal string'),
  currency: z.string(),
  invoiceNumber: z.string().nullable(),
  topUpId: z.string().nullable().describe('renewal by card: the top-up that paid the fee'),
});

/** Renewals (src/subscriptions/renewals): staff retry a failed renewal. The renewal run itself is a worker task (renewals-tasks.ts). */
export function renewalRoutes(app: FolioApp, deps: ServerDeps): void {
  app.post('/api/v1/subscriptions/:id/recover-renewal', {
    config: { access: staffApp('customer'), audit: 'subscription.renewal_recovered', idempotent: true },
    schema: {
      operationId: 'recoverSubscriptionRenewal', tags: ['Customer'],
      summary: "Retry a failed renewal now, for the organisation's whole renewal group: from points, else by card (renew-by-card); 422 insufficient_points / card_declined when it fails again; honours Idempotency-Key",
      headers: idempotencyKeyHeaders, params: z.strictObject({ id: pathId }),
      response: { 200: recoveredSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await recoverRenewal({ ...ctxOf(req, deps), gateway: gatewayOf(deps) }, { subscriptionId: req.params.id })));
}
