import { z } from 'zod';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf } from '../platform/server.ts';
import { operatorOnly } from '../platform/access-policy.ts';
import { idOf, listQuery, page, problems } from '../platform/schemas.ts';
import { pathId } from './route-schemas.ts';
import { accessRequestStatus, operatorAccessRequestSchema } from './access-request-views.ts';
import { operatorListPartners, partnerSummarySchema } from './operator-list-partners.ts';
import { operatorListAccessRequests } from './operator-list-access-requests.ts';
import { approveAccessRequest } from './approve-access-request.ts';
import { declineAccessRequest } from './decline-access-request.ts';

const TAGS = ['Operator'];
const requestParams = z.strictObject({ id: pathId });
/** The body is optional: a decision without a note may send nothing. */
const decisionBody = z.strictObject({ note: z.string().trim().max(1000).optional() }).nullish();

/** The operator console's partners and access-request inbox. */
export function operatorAccessRoutes(app: FolioApp, deps: ServerDeps): void {
  app.get('/api/v1/operator/partners', {
    config: { access: operatorOnly },
    schema: { operationId: 'operatorListPartners', tags: TAGS, summary: 'Every partner, with staff and customer counts', querystring: listQuery.extend({ cursor: idOf('ptn').optional() }), response: { 200: page(partnerSummarySchema), ...problems } },
  }, async (req, reply) => reply.send(await operatorListPartners(ctxOf(req, deps), req.query)));

  app.get('/api/v1/operator/access-requests', {
    config: { access: operatorOnly },
    schema: {
      operationId: 'operatorListAccessRequests', tags: TAGS, summary: 'Access requests of every partner (status=pending: the inbox)',
      querystring: listQuery.extend({ cursor: idOf('acr').optional(), status: accessRequestStatus.optional(), partnerId: pathId.optional() }),
      response: { 200: page(operatorAccessRequestSchema), ...problems },
    },
  }, async (req, reply) => reply.send(await operatorListAccessRequests(ctxOf(req, deps), req.query)));

  app.post('/api/v1/operator/access-requests/:id/approve', {
    config: { access: operatorOnly, audit: ['access_request.approved', 'app.granted'] },
    schema: {
      operationId: 'operatorApproveAccessRequest', tags: TAGS, summary: 'Approve a pending request: grants the app and mails the requester',
      params: requestParams, body: decisionBody, response: { 200: operatorAccessRequestSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await approveAccessRequest(ctxOf(req, deps), { requestId: req.params.id, note: req.body?.note })));

  app.post('/api/v1/operator/access-requests/:id/decline', {
    config: { access: operatorOnly, audit: 'access_request.declined' },
    schema: {
      operationId: 'operatorDeclineAccessRequest', tags: TAGS, summary: 'Decline a pending request and mail the requester',
      params: requestParams, body: decisionBody, response: { 200: operatorAccessRequestSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await declineAccessRequest(ctxOf(req, deps), { requestId: req.params.id, note: req.body?.note })));
}
