import { z } from 'zod';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { publicAccess } from '../platform/access-policy.ts';
import { problemSchema, problems } from '../platform/schemas.ts';
import { gatewayOf } from '../topup/gateway-of.ts';
import { handleGatewayWebhook } from '../topup/handle-gateway-webhook.ts';

/** Webhook bodies are small JSON events; Stripe's are a few kB. */
export const WEBHOOK_BODY_LIMIT = 256 * 1024;

/**
 * The card gateway's webhooks. The signature covers the exact bytes sent, so this route keeps the raw body: its own
 * plugin scope replaces the JSON parser with one that hands the bytes over untouched (only inside this scope; every
 * other route still parses JSON). The gateway checks the signature and its age, then the event completes the top-up it
 * is about, once (src/topup/handle-gateway-webhook.ts). The sandbox's events reach the same code through the worker.
 */
export function gatewayRoutes(app: FolioApp, deps: ServerDeps): void {
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, (_req, body, done) => done(null, body));

    scope.post('/api/v1/gateway/webhooks', {
      config: { rawBody: true, access: publicAccess, audit: ['top_up.succeeded', 'top_up.failed'] },
      bodyLimit: WEBHOOK_BODY_LIMIT,
      schema: {
        operationId: 'gatewayWebhook', tags: ['Finance'],
        summary: 'Card gateway events (signed): a delayed card payment settling completes its pending top-up, once',
        description: 'Called by the card gateway, not by people: the body is the gateway\'s JSON event, exactly as sent, and the signature header '
          + '(`stripe-signature`, or `folio-sandbox-signature` for the sandbox) must match it. Events are idempotent: a repeat is acknowledged and changes nothing.',
        response: {
          200: z.object({ received: z.literal(true), eventType: z.string(), applied: z.boolean(), topUpId: z.string().nullable() }),
          400: problems[400],
          413: problemSchema,
          415: problemSchema,
        },
      },
    }, async (req, reply) => {
      const gateway = gatewayOf(deps);
      const header = req.headers[gateway.signatureHeaderName];
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const result = await handleGatewayWebhook(
        { db: deps.db, gateway, log: req.log as unknown as ServerDeps['log'] },
        { principal: { kind: 'system', job: 'gateway_webhook' }, requestId: req.id, ip: req.ip, userAgent: req.headers['user-agent'] ?? null },
        body,
        typeof header === 'string' ? header : undefined,
      );
      return reply.send(result);
    });
  });
}
