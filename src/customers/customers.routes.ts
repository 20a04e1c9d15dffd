import { z } from 'zod';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf } from '../platform/server.ts';
import { staffApp } from '../platform/access-policy.ts';
import { email, idOf, listQuery, page, problemSchema, problems, throttledProblem } from '../platform/schemas.ts';
import { parseDecimal } from '../money/money.ts';
import { pathId } from '../access/route-schemas.ts';
import { CUSTOMER_CURRENCIES, CUSTOMER_STATUSES, customerDetailSchema, customerSummarySchema } from './customer-views.ts';
import { billingContactBody } from './billing-contact.ts';
import { listCustomers } from './list-customers.ts';
import { createCustomer } from './create-customer.ts';
import { getCustomer } from './get-customer.ts';
import { updateCustomer } from './update-customer.ts';
import { inviteOwner } from './invite-owner.ts';
import { INVITATIONS_PER_HOUR, REINVITE_AFTER_MINUTES } from '../access/invite-user.ts';

const TAGS = ['Customer'];
const personOrCompanyName = z.string().trim().min(1).max(200);
// A negative is allowed (usable points below -5.00: in debt), a negative zero ("-0.00") is not: parseDecimal refuses it.
const decimalAmount = z.string().regex(/^-?\d{1,12}(\.\d{1,6})?$/, 'a decimal amount such as 10.00').refine((v) => !/^-0+(\.0+)?$/.test(v), 'a decimal amount such as 10.00');

/** The Customer app: customer organisations, their profile and billing contact, their users and owner invitation. */
export function customerRoutes(app: FolioApp, deps: ServerDeps): void {
  const access = staffApp('customer');

  app.get('/api/v1/customers', {
    config: { access },
    schema: {
      operationId: 'listCustomers', tags: TAGS,
      summary: 'Customer organisations, newest first, with points; q searches the name and billing email, or any part of an id (4 characters or more); filters combine',
      querystring: listQuery.extend({
        cursor: idOf('cus').optional(),
        q: z.string().max(200).optional(),
        status: z.enum(CUSTOMER_STATUSES).optional(),
        currency: z.enum(CUSTOMER_CURRENCIES).optional(),
        lowPoints: z.enum(['true', 'false']).optional().describe('true: usable points below the low-points threshold of the customer\'s currency; false: at or above it'),
        usableBelow: decimalAmount.optional().describe('usable points below this amount, in each customer\'s own currency'),
      }),
      response: { 200: page(customerSummarySchema), ...problems },
    },
  }, async (req, reply) => {
    const { usableBelow, lowPoints, ...rest } = req.query;
    return reply.send(await listCustomers(ctxOf(req, deps), {
      ...rest,
      ...(lowPoints !== undefined ? { lowPoints: lowPoints === 'true' } : {}),
      ...(usableBelow !== undefined ? { usableBelowMicros: parseDecimal(usableBelow, 'USD', 6)! } : {}),
    }));
  });

  app.post('/api/v1/customers', {
    config: { access, audit: ['customer.created', 'member.invited'] },
    schema: {
      operationId: 'createCustomer', tags: TAGS, summary: 'Create a customer organisation (with its billing contact) and invite its owner',
      body: z.strictObject({
        name: personOrCompanyName, currency: z.enum(CUSTOMER_CURRENCIES), ownerEmail: email, ownerName: personOrCompanyName,
        billingContact: billingContactBody.optional(),
      }),
      response: { 201: customerDetailSchema, ...problems },
    },
  }, async (req, reply) => reply.code(201).send(await createCustomer(ctxOf(req, deps), req.body)));

  app.get('/api/v1/customers/:id', {
    config: { access },
    schema: {
      operationId: 'getCustomer', tags: TAGS, summary: 'One customer organisation with its users and points (with an ETag for If-Match)',
      params: z.strictObject({ id: pathId }), response: { 200: customerDetailSchema, ...problems },
    },
  }, async (req, reply) => {
    const { customer, etag } = await getCustomer(ctxOf(req, deps), { customerId: req.params.id });
    return reply.header('etag', etag).send(customer);
  });

  app.patch('/api/v1/customers/:id', {
    config: { access, audit: 'customer.updated' },
    schema: {
      operationId: 'updateCustomer', tags: TAGS,
      summary: 'Change the name, currency (409 currency_locked once money has moved), status or billing contact; If-Match guards against overwriting',
      params: z.strictObject({ id: pathId }),
      headers: z.looseObject({ 'if-match': z.string().max(500).optional() }),
      body: z.strictObject({
        name: personOrCompanyName.optional(),
        currency: z.enum(CUSTOMER_CURRENCIES).optional(),
        status: z.enum(CUSTOMER_STATUSES).optional(),
        billingContact: billingContactBody.optional(),
      }),
      response: { 200: customerDetailSchema, ...problems, 412: problemSchema },
    },
  }, async (req, reply) => {
    const { customer, etag } = await updateCustomer(ctxOf(req, deps), { customerId: req.params.id, ...req.body, ifMatch: req.headers['if-match'] });
    return reply.header('etag', etag).send(customer);
  });

  app.post('/api/v1/customers/:id/owner-invitation', {
    config: { access, audit: 'member.invited' },
    schema: {
      operationId: 'inviteCustomerOwner', tags: TAGS,
      summary: 'Invite the owner again (fresh link) or invite another owner in place of one who never accepted; 409 customer_has_owner once accepted',
      params: z.strictObject({ id: pathId }),
      body: z.strictObject({ email, name: personOrCompanyName }),
      response: {
        200: customerDetailSchema, ...problems,
        429: throttledProblem(`A customer organisation's invitations (its owner's and its members') are at most ${INVITATIONS_PER_HOUR} an hour, and a pending address gets a new link at most once in ${REINVITE_AFTER_MINUTES} minutes.`),
      },
    },
  }, async (req, reply) => reply.send(await inviteOwner(ctxOf(req, deps), { customerId: req.params.id, ...req.body })));
}
