import { z } from 'zod';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf } from '../platform/server.ts';
import { customerPortal, staffApp } from '../platform/access-policy.ts';
import { page, problemSchema, problems } from '../platform/schemas.ts';
import { versionEtag } from '../platform/etag.ts';
import { pathId } from '../access/route-schemas.ts';
import {
  removeBody, serviceListQuery, virtualLineCreateBody, virtualLineSchema, virtualLineUpdateBody, wallboardCreateBody, wallboardSchema,
  wallboardUpdateBody,
} from './service-views.ts';
import { listVirtualLines } from './list-virtual-lines.ts';
import { getVirtualLine } from './get-virtual-line.ts';
import { createVirtualLine } from './create-virtual-line.ts';
import { updateVirtualLine } from './update-virtual-line.ts';
import { removeVirtualLine } from './remove-virtual-line.ts';
import { listWallboards } from './list-wallboards.ts';
import { getWallboard } from './get-wallboard.ts';
import { createWallboard } from './create-wallboard.ts';
import { updateWallboard } from './update-wallboard.ts';
import { removeWallboard } from './remove-wallboard.ts';

const idParams = z.strictObject({ id: pathId });
const customerParams = z.strictObject({ customerId: pathId });
// A line or wallboard answers its version as an ETag too (api-conventions, Writes): an edit may name it in If-Match
// (412 when stale) besides the body's version (409 stale_version when stale).
const ifMatchHeaders = z.looseObject({
  'if-match': z.string().max(500).optional().describe('The ETag you read (GET, create or the last edit): if it changed since, 412 and nothing is written'),
});
const stale = { 412: problemSchema.describe('If-Match names another version: it changed since it was read (precondition_failed)') };
const etagOf = (view: { version: number }) => versionEtag(view.version);

/**
 * The customer's services: virtual lines and wallboards. In the user portal every role reads them and owners and admins
 * manage them, behind the Services tab (hidden by the partner: 403 `tab_hidden`). Staff with the Customer app read them.
 */
export function serviceRoutes(app: FolioApp, deps: ServerDeps): void {
  const read = customerPortal({ tab: 'services' });
  const manage = customerPortal({ roles: ['owner', 'admin'], tab: 'services' });
  const TAGS = ['Portal'];

  app.get('/api/v1/portal/virtual-lines', {
    config: { access: read },
    schema: {
      operationId: 'portalListVirtualLines', tags: TAGS, summary: "Your organisation's virtual lines, newest first (active unless status says otherwise)",
      querystring: serviceListQuery, response: { 200: page(virtualLineSchema), ...problems },
    },
  }, async (req, reply) => reply.send(await listVirtualLines(ctxOf(req, deps), req.query)));

  app.post('/api/v1/portal/virtual-lines', {
    config: { access: manage, audit: 'virtual_line.created' },
    schema: {
      operationId: 'portalCreateVirtualLine', tags: TAGS, summary: 'Add a virtual line: number, name, where calls go, business hours (owners and admins)',
      body: virtualLineCreateBody, response: { 201: virtualLineSchema, ...problems },
    },
  }, async (req, reply) => {
    const line = await createVirtualLine(ctxOf(req, deps), req.body);
    return reply.header('etag', etagOf(line)).code(201).send(line);
  });

  app.get('/api/v1/portal/virtual-lines/:id', {
    config: { access: read },
    schema: { operationId: 'portalGetVirtualLine', tags: TAGS, summary: 'One of your virtual lines', params: idParams, response: { 200: virtualLineSchema, ...problems } },
  }, async (req, reply) => {
    const line = await getVirtualLine(ctxOf(req, deps), req.params.id);
    return reply.header('etag', etagOf(line)).send(line);
  });

  app.patch('/api/v1/portal/virtual-lines/:id', {
    config: { access: manage, audit: 'virtual_line.updated' },
    schema: {
      operationId: 'portalUpdateVirtualLine', tags: TAGS,
      summary: 'Change a virtual line (owners and admins); send the version you read: a stale one gets 409 stale_version (a stale If-Match, 412)',
      headers: ifMatchHeaders, params: idParams, body: virtualLineUpdateBody, response: { 200: virtualLineSchema, ...problems, ...stale },
    },
  }, async (req, reply) => {
    const line = await updateVirtualLine(ctxOf(req, deps), req.params.id, req.body, req.headers['if-match']);
    return reply.header('etag', etagOf(line)).send(line);
  });

  app.post('/api/v1/portal/virtual-lines/:id/remove', {
    config: { access: manage, audit: 'virtual_line.removed' },
    schema: {
      operationId: 'portalRemoveVirtualLine', tags: TAGS, summary: 'Remove a virtual line (kept on record as removed); owners and admins',
      headers: ifMatchHeaders, params: idParams, body: removeBody, response: { 200: virtualLineSchema, ...problems, ...stale },
    },
  }, async (req, reply) => {
    const line = await removeVirtualLine(ctxOf(req, deps), req.params.id, req.body, req.headers['if-match']);
    return reply.header('etag', etagOf(line)).send(line);
  });

  app.get('/api/v1/portal/wallboards', {
    config: { access: read },
    schema: {
      operationId: 'portalListWallboards', tags: TAGS, summary: "Your organisation's wallboards, newest first (active unless status says otherwise)",
      querystring: serviceListQuery, response: { 200: page(wallboardSchema), ...problems },
    },
  }, async (req, reply) => reply.send(await listWallboards(ctxOf(req, deps), req.query)));

  app.post('/api/v1/portal/wallboards', {
    config: { access: manage, audit: 'wallboard.created' },
    schema: {
      operationId: 'portalCreateWallboard', tags: TAGS, summary: 'Add a wallboard: name, queues, widgets, refresh interval (owners and admins)',
      body: wallboardCreateBody, response: { 201: wallboardSchema, ...problems },
    },
  }, async (req, reply) => {
    const board = await createWallboard(ctxOf(req, deps), req.body);
    return reply.header('etag', etagOf(board)).code(201).send(board);
  });

  app.get('/api/v1/portal/wallboards/:id', {
    config: { access: read },
    schema: { operationId: 'portalGetWallboard', tags: TAGS, summary: 'One of your wallboards', params: idParams, response: { 200: wallboardSchema, ...problems } },
  }, async (req, reply) => {
    const board = await getWallboard(ctxOf(req, deps), req.params.id);
    return reply.header('etag', etagOf(board)).send(board);
  });

  app.patch('/api/v1/portal/wallboards/:id', {
    config: { access: manage, audit: 'wallboard.updated' },
    schema: {
      operationId: 'portalUpdateWallboard', tags: TAGS,
      summary: 'Change a wallboard (owners and admins); send the version you read: a stale one gets 409 stale_version (a stale If-Match, 412)',
      headers: ifMatchHeaders, params: idParams, body: wallboardUpdateBody, response: { 200: wallboardSchema, ...problems, ...stale },
    },
  }, async (req, reply) => {
    const board = await updateWallboard(ctxOf(req, deps), req.params.id, req.body, req.headers['if-match']);
    return reply.header('etag', etagOf(board)).send(board);
  });

  app.post('/api/v1/portal/wallboards/:id/remove', {
    config: { access: manage, audit: 'wallboard.removed' },
    schema: {
      operationId: 'portalRemoveWallboard', tags: TAGS, summary: 'Remove a wallboard (kept on record as removed); owners and admins',
      headers: ifMatchHeaders, params: idParams, body: removeBody, response: { 200: wallboardSchema, ...problems, ...stale },
    },
  }, async (req, reply) => {
    const board = await removeWallboard(ctxOf(req, deps), req.params.id, req.body, req.headers['if-match']);
    return reply.header('etag', etagOf(board)).send(board);
  });

  // The Customer app: read only.
  const staff = staffApp('customer');
  app.get('/api/v1/customers/:customerId/virtual-lines', {
    config: { access: staff },
    schema: {
      operationId: 'listCustomerVirtualLines', tags: ['Customer'], summary: "A customer's virtual lines, newest first (read only)",
      params: customerParams, querystring: serviceListQuery, response: { 200: page(virtualLineSchema), ...problems },
    },
  }, async (req, reply) => reply.send(await listVirtualLines(ctxOf(req, deps), { ...req.query, customerId: req.params.customerId })));

  app.get('/api/v1/customers/:customerId/wallboards', {
    config: { access: staff },
    schema: {
      operationId: 'listCustomerWallboards', tags: ['Customer'], summary: "A customer's wallboards, newest first (read only)",
      params: customerParams, querystring: serviceListQuery, response: { 200: page(wallboardSchema), ...problems },
    },
  }, async (req, reply) => reply.send(await listWallboards(ctxOf(req, deps), { ...req.query, customerId: req.params.customerId })));
}
