import { z } from 'zod';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf } from '../platform/server.ts';
import { staffApp } from '../platform/access-policy.ts';
import { problems } from '../platform/schemas.ts';
import { ingestCalls, MAX_CALLS_PER_BATCH, PARTS_MIN_RECORDS } from './ingest-calls.ts';

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
      description: 'Each record is checked on its own: a bad one is rejected with its own errors and the others are still charged. A call id '
        + 'charged before is a duplicate and changes nothing. '
        + `A request of ${PARTS_MIN_RECORDS} valid records or more is charged in two transactions at once, split by customer. If one of them `
        + 'fails (a 5xx answer), the other may have committed: send the same request again, and the calls already charged come back as '
        + 'duplicates while the rest are charged. With an Idempotency-Key, a repeated request that succeeded gets its first answer again.',
      body: z.strictObject({ records: z.array(z.unknown()).min(1).max(MAX_CALLS_PER_BATCH) }),
      response: {
        200: z.object({ summary: z.object({ received: z.number().int(), charged: z.number().int(), duplicates: z.number().int(), rejected: z.number().int() }), results: z.array(resultSchema) }),
        ...problems,
      },
    },
  }, async (req, reply) => reply.send(await ingestCalls(ctxOf(req, deps), req.body)));
}
