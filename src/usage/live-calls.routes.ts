import { z } from 'zod';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf } from '../platform/server.ts';
import { staffApp } from '../platform/access-policy.ts';
import { idempotencyKeyHeaders } from '../platform/idempotency.ts';
import { problems } from '../platform/schemas.ts';
import { liveCallViewSchema } from './live-calls.repo.ts';
import { startLiveCall, startLiveCallBody } from './live-calls-start.ts';
import { endLiveCall, endLiveCallBody, endLiveCallResultSchema } from './live-calls-end.ts';
import { failLiveCall } from './live-calls-fail.ts';
import { getLiveCall } from './live-calls-get.ts';

const TAGS = ['Usage'];
/** The switch's own call id (the same namespace as `POST /usage/calls`). */
const params = z.strictObject({ callId: z.string().min(1).max(100) });

/** Calls rated in real time: hold when the call starts, charge when it ends, release when it fails. */
export function liveCallRoutes(app: FolioApp, deps: ServerDeps): void {
  // Like the batch: switches call with an API key limited to the Customer app (calls are charged to customers' points).
  const access = staffApp('customer');

  app.post('/api/v1/usage/live-calls', {
    config: { access, audit: 'usage.live_call_started', idempotent: true },
    schema: {
      operationId: 'startLiveCall', tags: TAGS,
      summary: 'A call starts: hold its estimated price on the customer\'s points; the answer says how many seconds the hold covers (cut the call there)',
      headers: idempotencyKeyHeaders, body: startLiveCallBody, response: { 201: liveCallViewSchema, ...problems },
    },
  }, async (req, reply) => reply.code(201).send(await startLiveCall(ctxOf(req, deps), req.body)));

  app.get('/api/v1/usage/live-calls/:callId', {
    config: { access },
    schema: { operationId: 'getLiveCall', tags: TAGS, summary: 'A live call and its hold', params, response: { 200: liveCallViewSchema, ...problems } },
  }, async (req, reply) => reply.send(await getLiveCall(ctxOf(req, deps), req.params)));

  app.post('/api/v1/usage/live-calls/:callId/end', {
    config: { access, audit: 'usage.live_call_ended', idempotent: true },
    schema: {
      operationId: 'endLiveCall', tags: TAGS,
      summary: 'A call ended: charge it (up to the covered seconds) and settle the hold; a call id charged already answers duplicate',
      headers: idempotencyKeyHeaders, params, body: endLiveCallBody, response: { 200: endLiveCallResultSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await endLiveCall(ctxOf(req, deps), { callId: req.params.callId, ...req.body })));

  app.post('/api/v1/usage/live-calls/:callId/fail', {
    config: { access, audit: 'usage.live_call_failed', idempotent: true },
    schema: {
      operationId: 'failLiveCall', tags: TAGS, summary: 'A call failed: release its hold, charge nothing',
      headers: idempotencyKeyHeaders, params, response: { 200: liveCallViewSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await failLiveCall(ctxOf(req, deps), req.params)));
}
