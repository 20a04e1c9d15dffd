import { z } from 'zod';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf } from '../platform/server.ts';
import { staffApp } from '../platform/access-policy.ts';
import { problems } from '../platform/schemas.ts';
import { ingestCalls, MAX_CALLS_PER_BATCH } from './ingest-calls.ts';

const resultSchema = z.object({
  index: z.number().int(),
  callId: z.string().nullable(),
  status: z.enum(['charged', 'duplicate', 'rejected']),
  callRef: z.string().optional(),
  amount: z.string().optional(),
  currency: z.string().optional(),
  billedSeconds: z.number().int().optional(),
  code: z.string().optional(),
  detail: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

export function usageRoutes(app: FolioApp, deps: ServerDeps): void {
  app.post('/api/v1/usage/calls', {
    // Switches send calls with an API key limited to the Customer app (calls are charged to customers' points).
    config: { access: staffApp('customer'), audit: 'usage.calls_ingested', idempotent: true },
    bodyLimit: 8 * 1024 * 1024,
    schema: {
      operationId: 'ingestCalls', tags: ['Usage'],
      summary: `Rate and charge up to ${MAX_CALLS_PER_BATCH} call records; one result per record (charged, duplicate, rejected)`,
      body: z.strictObject({ records: z.array(z.unknown()).min(1).max(MAX_CALLS_PER_BATCH) }),
      response: {
        200: z.object({ summary: z.object({ received: z.number().int(), charged: z.number().int(), duplicates: z.number().int(), rejected: z.number().int() }), results: z.array(resultSchema) }),
        ...problems,
      },
    },
  }, async (req, reply) => reply.send(await ingestCalls(ctxOf(req, deps), req.body)));
}
