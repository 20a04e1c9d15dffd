import { z } from 'zod';
import { viewEtag } from '../platform/etag.ts';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf } from '../platform/server.ts';
import { staffApp } from '../platform/access-policy.ts';
import { page, problemSchema, problems } from '../platform/schemas.ts';
import { pathId } from '../access/route-schemas.ts';
import { discountBody, previewBody } from './discount-input.ts';
import { discountViewSchema } from './discount-views.ts';
import { createDiscount } from './create-discount.ts';
import { updateDiscount, updateDiscountBody } from './update-discount.ts';
import { endDiscount } from './end-discount.ts';
import { listCustomerDiscounts, listDiscounts, listDiscountsQuery } from './list-discounts.ts';
import { discountHistory, discountHistoryQuery, discountHistorySchema, getDiscount } from './get-discount.ts';
import { previewDiscount, previewSchema } from './preview-discount.ts';
import { customerLookupQuery, customerLookupSchema, discountCatalog, discountCatalogSchema, lookupCustomers } from './discount-lookups.ts';

const TAGS = ['Discount'];
const params = z.strictObject({ discountId: pathId });

/**
 * The Discount app (staff granted Discount, or API keys limited to it): discounts by customer and catalog scope, their margin
 * preview, history and end. The Customer app reads the discounts of one customer (Customer grant). docs/adr/0016.
 */
export function discountRoutes(app: FolioApp, deps: ServerDeps): void {
  const access = staffApp('discount');

  app.get('/api/v1/discounts', {
    config: { access },
    schema: {
      operationId: 'listDiscounts', tags: TAGS, summary: 'The partner\'s discounts, newest first; filters: customer, target, scope, status, product',
      querystring: listDiscountsQuery, response: { 200: page(discountViewSchema), ...problems },
    },
  }, async (req, reply) => reply.send(await listDiscounts(ctxOf(req, deps), req.query)));

  app.post('/api/v1/discounts', {
    config: { access, audit: 'discount.created' },
    schema: {
      operationId: 'createDiscount', tags: TAGS,
      summary: 'Create a discount: one customer or all, a catalog scope, percent or (on one billing cycle) a fixed amount, dates; 409 discount_overlap for the same target and scope on the same days',
      body: discountBody, response: { 201: discountViewSchema, ...problems },
    },
  }, async (req, reply) => reply.code(201).send(await createDiscount(ctxOf(req, deps), req.body)));

  app.post('/api/v1/discounts/preview', {
    config: { access, audit: 'discount.previewed' },
    schema: {
      operationId: 'previewDiscount', tags: TAGS,
      summary: 'Before saving: the active subscriptions a discount would touch, their renewal price, cost and margin after it, and a warning below cost; nothing is saved',
      body: previewBody, response: { 200: previewSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await previewDiscount(ctxOf(req, deps), req.body)));

  app.get('/api/v1/discounts/catalog', {
    config: { access },
    schema: {
      operationId: 'getDiscountCatalog', tags: TAGS, summary: 'The catalog a discount\'s scope is picked from: products, variants, billing cycles with price and cost',
      response: { 200: discountCatalogSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await discountCatalog(ctxOf(req, deps))));

  app.get('/api/v1/discounts/customers', {
    config: { access },
    schema: {
      operationId: 'lookupDiscountCustomers', tags: TAGS, summary: 'Customers to target, by name (at most 20)',
      querystring: customerLookupQuery, response: { 200: customerLookupSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await lookupCustomers(ctxOf(req, deps), req.query.q)));

  app.get('/api/v1/discounts/:discountId', {
    config: { access },
    schema: { operationId: 'getDiscount', tags: TAGS, summary: 'One discount (with an ETag for If-Match)', params, response: { 200: discountViewSchema, ...problems } },
  }, async (req, reply) => {
    const discount = await getDiscount(ctxOf(req, deps), req.params.discountId);
    return reply.header('etag', viewEtag(discount)).send(discount);
  });

  app.patch('/api/v1/discounts/:discountId', {
    config: { access, audit: 'discount.changed' },
    schema: {
      operationId: 'updateDiscount', tags: TAGS,
      summary: 'Change a discount\'s name or end; a scheduled one also its rate and start (409 discount_started once it has started: end it and create a new one); If-Match guards against overwriting (412)',
      params, headers: z.looseObject({ 'if-match': z.string().max(500).optional() }), body: updateDiscountBody, response: { 200: discountViewSchema, ...problems, 412: problemSchema.describe('If-Match names another version: the discount changed since it was read (precondition_failed)') },
    },
  }, async (req, reply) => {
    const discount = await updateDiscount(ctxOf(req, deps), req.params.discountId, req.body, req.headers['if-match']);
    return reply.header('etag', viewEtag(discount)).send(discount);
  });

  app.post('/api/v1/discounts/:discountId/end', {
    config: { access, audit: 'discount.ended' },
    schema: {
      operationId: 'endDiscount', tags: TAGS,
      summary: 'End a discount now (its last day becomes yesterday; a scheduled one is withdrawn); issued invoices keep their discount',
      params, response: { 200: discountViewSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await endDiscount(ctxOf(req, deps), req.params.discountId)));

  app.get('/api/v1/discounts/:discountId/history', {
    config: { access },
    schema: {
      operationId: 'getDiscountHistory', tags: TAGS, summary: 'A discount\'s history from the audit trail: created, changed, ended; newest first, a page at a time',
      params, querystring: discountHistoryQuery, response: { 200: discountHistorySchema, ...problems },
    },
  }, async (req, reply) => reply.send(await discountHistory(ctxOf(req, deps), req.params.discountId, req.query)));

  app.get('/api/v1/customers/:customerId/discounts', {
    config: { access: staffApp('customer') },
    schema: {
      operationId: 'listCustomerDiscounts', tags: ['Customer'],
      summary: 'The discounts in force or scheduled for a customer (its own and those for every customer), most specific first; managed in the Discount app',
      params: z.strictObject({ customerId: pathId }), response: { 200: z.object({ data: z.array(discountViewSchema) }), ...problems },
    },
  }, async (req, reply) => reply.send(await listCustomerDiscounts(ctxOf(req, deps), req.params.customerId)));
}
