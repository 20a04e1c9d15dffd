import { z } from 'zod';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf, sendAsBuilt } from '../platform/server.ts';
import { staffApp } from '../platform/access-policy.ts';
import { idempotencyKeyHeaders } from '../platform/idempotency.ts';
import { problems } from '../platform/schemas.ts';
import { ingestCalls, MAX_CALLS_PER_BATCH, PARTS_MIN_RECORDS } from './ingest-calls.ts';
import { callRecordSchema } from './call-record.ts';

/** One record's result. Strict: the tests hold every kind of answer to it, and see any field it does not document. */
const resultSchema = z.discriminatedUnion('status', [
  z.strictObject({
    index: z.number().int(), callId: z.string(), status: z.literal('charged'),
    callRef: z.string(),
    amount: z.string().describe('What the points paid: the price and its tax, to the micro'),
    tax: z.string().describe("The tax included in amount: the partner's tax rate on the price, to the micro (0 without a rate, or for a destination whose rate is zero-rated)"),
    taxCategory: z.enum(['standard', 'zero_rated']).describe("The tax category the call was charged under, as a live call shows it: zero_rated when its destination's rate is zero-rated (no tax whatever the partner's rate), else standard (an inbound call matches no rate)"),
    currency: z.string(), billedSeconds: z.number().int(),
  }),
  z.strictObject({ index: z.number().int(), callId: z.string().nullable(), status: z.literal('duplicate'), detail: z.string() }),
  z.strictObject({
    index: z.number().int(), callId: z.string().nullable(), status: z.literal('rejected'), code: z.string(), detail: z.string(),
    errors: z.array(z.strictObject({ path: z.string(), message: z.string() })).optional(),
  }),
]);
export const ingestAnswerSchema = z.strictObject({
  summary: z.strictObject({ received: z.number().int(), charged: z.number().int(), duplicates: z.number().int(), rejected: z.number().int() }),
  results: z.array(resultSchema),
});

/**
 * A record as the OpenAPI document shows it: `callRecordSchema`'s form. The body takes any value as a record
 * (`z.unknown()`) and `ingestCalls` reads each one by that schema, so a bad record is rejected on its own, with its
 * errors, while the others are charged.
 */
const { $schema: _dialect, ...callRecordForm } = z.toJSONSchema(callRecordSchema, { io: 'input', unrepresentable: 'any' });
const documentedCallRecord = z.unknown().meta({
  ...callRecordForm,
  description: 'One call. A record not of this form is rejected on its own (status rejected, with its errors); the others are still charged',
});

export function usageRoutes(app: FolioApp, deps: ServerDeps): void {
  app.post('/api/v1/usage/calls', {
    // Switches send calls with an API key limited to the Customer app (calls are charged to customers' points).
    config: { access: staffApp('customer'), audit: 'usage.calls_ingested', idempotent: true, bodyTextChecked: true },
    bodyLimit: 8 * 1024 * 1024,
    schema: {
      operationId: 'ingestCalls', tags: ['Usage'],
      summary: `Rate and charge up to ${MAX_CALLS_PER_BATCH} call records; one result per record (charged, duplicate, rejected)`,
      description: 'Each record is checked on its own: a bad one is rejected with its own errors and the others are still charged. A call id '
        + 'charged before is a duplicate and changes nothing. '
        + `A request of ${PARTS_MIN_RECORDS} valid records or more is charged in two transactions at once, split by customer. If one of them `
        + 'fails (a 5xx answer), the other may have committed: send the same request again, and the calls already charged come back as '
        + 'duplicates while the rest are charged. With an Idempotency-Key, a repeated request that succeeded gets its first answer again.',
      headers: idempotencyKeyHeaders,
      body: z.strictObject({ records: z.array(documentedCallRecord).min(1).max(MAX_CALLS_PER_BATCH) }),
      response: {
        200: ingestAnswerSchema,
        ...problems,
      },
    },
  }, async (req, reply) => {
    // Written as `ingestCalls` built it (its types are the schema's): the route's zod encode would check and copy up to
    // 10,000 results first, ~22 ms for a batch of 10,000 against ~7 ms for the JSON alone (ADR 0005 amendment).
    const answer = await ingestCalls(ctxOf(req, deps), req.body);
    return sendAsBuilt(reply, answer);
  });
}
