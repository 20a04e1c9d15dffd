import { z } from 'zod';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf } from '../platform/server.ts';
import { staffApp } from '../platform/access-policy.ts';
import { email, listQuery, page, problems } from '../platform/schemas.ts';
import { pathId } from '../access/route-schemas.ts';
import { CUSTOMER_CURRENCIES, customerDetailSchema, customerSummarySchema } from './customer-views.ts';
import { listCustomers } from './list-customers.ts';
import { createCustomer } from './create-customer.ts';
import { getCustomer } from './get-customer.ts';

const TAGS = ['Customer'];
const personOrCompanyName = z.string().trim().min(1).max(200);

/** The Customer app, foundation part: customer organisations and their users. */
export function customerRoutes(app: FolioApp, deps: ServerDeps): void {
  const access = staffApp('customer');

  app.get('/api/v1/customers', {
    config: { access },
    schema: {
      operationId: 'listCustomers', tags: TAGS, summary: 'Customer organisations, newest first; q searches the name (or matches an id)',
      querystring: listQuery.extend({ q: z.string().max(200).optional() }), response: { 200: page(customerSummarySchema), ...problems },
    },
  }, async (req, reply) => reply.send(await listCustomers(ctxOf(req, deps), req.query)));

  app.post('/api/v1/customers', {
    config: { access, audit: ['customer.created', 'member.invited'] },
    schema: {
      operationId: 'createCustomer', tags: TAGS, summary: 'Create a customer organisation and invite its owner',
      body: z.strictObject({ name: personOrCompanyName, currency: z.enum(CUSTOMER_CURRENCIES), ownerEmail: email, ownerName: personOrCompanyName }),
      response: { 201: customerDetailSchema, ...problems },
    },
  }, async (req, reply) => reply.code(201).send(await createCustomer(ctxOf(req, deps), req.body)));

  app.get('/api/v1/customers/:id', {
    config: { access },
    schema: {
      operationId: 'getCustomer', tags: TAGS, summary: 'One customer organisation with its users',
      params: z.strictObject({ id: pathId }), response: { 200: customerDetailSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await getCustomer(ctxOf(req, deps), { customerId: req.params.id })));
}
