import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf } from '../platform/server.ts';
import { customerPortal, staffApp } from '../platform/access-policy.ts';
import { listQuery, page, problemSchema, problems } from '../platform/schemas.ts';
import { versionEtag } from '../platform/etag.ts';
import { IDEMPOTENCY_KEY_HEADER } from '../platform/idempotency.ts';
import { gatewayOf } from '../topup/gateway-of.ts';
import { isIsoDay } from '../topup/dates.ts';
import { pathId } from '../access/route-schemas.ts';
import { purchaseSubscription } from './purchase-subscription.ts';
import { listSubscriptions, portalListSubscriptions } from './list-subscriptions.ts';
import { getSubscription, portalGetSubscription } from './get-subscription.ts';
import { addAddOn } from './add-add-on.ts';
import { changeAddOnQuantity } from './change-add-on-quantity.ts';
import { updateSubscription } from './update-subscription.ts';
import { terminateSubscription } from './terminate-subscription.ts';
import { quoteTermination, terminationQuoteSchema } from './quote-termination.ts';
import { addOnQuoteSchema, quoteAddOn } from './quote-add-on.ts';
import { reactivateSubscription } from './reactivate-subscription.ts';
import { portalSubscriptionQuoteSchema, quoteSubscription, subscriptionQuoteSchema } from './quote-subscription.ts';
import {
  invoiceSummarySchema, portalSubscriptionDetailSchema, portalSubscriptionViewSchema, subscriptionDetailSchema, subscriptionViewSchema, toPortalView,
} from './subscription-views.ts';

// Path ids: any well-formed id (a wrong type or another tenant's is a 404 from the use case, never saying which).
const subscriptionId = pathId;
const addOnId = pathId;
const customerId = pathId;
const subscriptionCursor = z.string().regex(/^sub_[0-9a-z]{10,40}$/, 'a cursor from this list');
const customerFilter = z.string().regex(/^cus_[0-9a-z]{10,40}$/, 'a cus_ id');
const priceId = z.string().regex(/^prc_[0-9a-z]{10,40}$/, 'a prc_ id (a catalog price)');
const quantity = z.number().int().min(1).max(10_000);
const status = z.enum(['pending_payment', 'active', 'expired', 'terminated']);
const idemHeaders = z.looseObject({ [IDEMPOTENCY_KEY_HEADER]: z.string().max(255).optional() });
// Updates of a subscription (api-conventions, Writes): If-Match with the ETag of its GET (or of an update's answer);
// a subscription changed meanwhile is a 412 naming If-Match, and nothing is written.
const ifMatch = z.string().max(500).optional()
  .describe('The ETag of the subscription as you read it (GET, or the last update\'s answer): if it changed since, 412 and nothing is written');
const ifMatchHeaders = z.looseObject({ 'if-match': ifMatch });
const idemIfMatchHeaders = z.looseObject({ [IDEMPOTENCY_KEY_HEADER]: z.string().max(255).optional(), 'if-match': ifMatch });
const stale = { 412: problemSchema.describe('If-Match names another version: the subscription changed since it was read (precondition_failed)') };
const withEtag = <T extends { version: number }>(reply: FastifyReply, view: T) => reply.header('etag', versionEtag(view.version));

const purchaseBody = z.strictObject({
  priceId,
  quantity: quantity.optional().describe('Units of the price; 1 when absent'),
  autoRenew: z.boolean().optional().describe('true when absent'),
});
const portalPurchaseBody = purchaseBody.omit({ autoRenew: true });
const quoteQuery = z.strictObject({
  priceId,
  quantity: z.coerce.number().int().min(1).max(10_000).optional().describe('Units of the price; 1 when absent'),
});
const purchaseResult = z.object({ subscription: subscriptionViewSchema, invoice: invoiceSummarySchema.nullable() });
const portalPurchaseResult = z.object({ subscription: portalSubscriptionViewSchema, invoice: invoiceSummarySchema.nullable() });
const addOnBody = z.strictObject({ priceId, quantity });
const addOnQuantityBody = z.strictObject({ quantity: z.number().int().min(0).max(10_000).describe('Higher: charged now, pro rata. Lower (0 removes): at the next renewal') });
const updateBody = z.strictObject({ autoRenew: z.boolean().optional(), renewByCard: z.boolean().optional() });
const terminateBody = z.strictObject({ reason: z.string().trim().min(1).max(500) });
const subParams = z.strictObject({ subscriptionId });
const addOnQuoteQuery = z.strictObject({
  priceId,
  quantity: z.coerce.number().int().min(1).max(10_000).optional().describe('Units of the add-on; 1 when absent'),
});
const addOnChangeQuoteQuery = z.strictObject({
  quantity: z.coerce.number().int().min(0).max(10_000).describe('The new quantity, as PATCH .../add-ons/{addOnId} would take it'),
});
const addOnParams = z.strictObject({ subscriptionId, addOnId });

const staffListQuery = listQuery.extend({
  cursor: subscriptionCursor.optional(),
  customerId: customerFilter.optional(),
  status: status.optional(),
  renewalDueBefore: z.string().refine(isIsoDay, 'a date, YYYY-MM-DD').optional()
    .describe('Active, auto-renewing subscriptions whose renewal day (7 days before expiry) is on or before this day'),
  renewalFailed: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
});
const customerListQuery = listQuery.extend({ cursor: subscriptionCursor.optional(), status: status.optional() });

/**
 * Subscriptions (issue 4 §2, docs/contracts/catalog-subscriptions-api.md): staff in the Customer app; portal users read
 * their organisation's, owners and admins buy and change them. The scheduled part (renewals, expiry) is in ./renewals.
 */
export function subscriptionRoutes(app: FolioApp, deps: ServerDeps): void {
  const staff = staffApp('customer');
  const portalRead = customerPortal();
  const portalWrite = customerPortal({ roles: ['owner', 'admin'] });
  const TAGS = ['Customer'];
  const PORTAL = ['Portal'];
  const gatewayName = () => gatewayOf(deps).name;

  // --- Staff (Customer app) ---
  app.get('/api/v1/subscriptions', {
    config: { access: staff },
    schema: {
      operationId: 'listSubscriptions', tags: TAGS, summary: 'The partner\'s subscriptions, newest first, with renewal price, cost and margin',
      querystring: staffListQuery, response: { 200: page(subscriptionViewSchema), ...problems },
    },
  }, async (req, reply) => reply.send(await listSubscriptions(ctxOf(req, deps), req.query)));

  app.get('/api/v1/customers/:customerId/subscriptions', {
    config: { access: staff },
    schema: {
      operationId: 'listCustomerSubscriptions', tags: TAGS, summary: 'One customer\'s subscriptions, newest first',
      params: z.strictObject({ customerId }), querystring: customerListQuery, response: { 200: page(subscriptionViewSchema), ...problems },
    },
  }, async (req, reply) => reply.send(await listSubscriptions(ctxOf(req, deps), { ...req.query, customerId: req.params.customerId })));

  app.post('/api/v1/customers/:customerId/subscriptions', {
    config: { access: staff, audit: 'subscription.purchased', idempotent: true },
    schema: {
      operationId: 'purchaseSubscription', tags: TAGS,
      summary: 'Sell a subscription to a customer: charged from points with a paid Purchase invoice, or pending on an unpaid one when points fall short',
      description: 'First period x quantity + activation fee + tax (partner rate, `standard` products). 404 for another partner\'s customer (the path), 422 price_not_found naming priceId for an unknown or another partner\'s price, '
        + '409 product_archived, 422 currency_mismatch (the price must be in the customer\'s currency). Honours Idempotency-Key.',
      headers: idemHeaders, params: z.strictObject({ customerId }), body: purchaseBody, response: { 201: purchaseResult, ...problems },
    },
  }, async (req, reply) => reply.code(201).send(await purchaseSubscription(ctxOf(req, deps), { ...req.body, customerId: req.params.customerId })));

  app.get('/api/v1/customers/:customerId/subscriptions/quote', {
    config: { access: staff },
    schema: {
      operationId: 'quoteSubscription', tags: TAGS,
      summary: 'What selling a subscription would charge the customer today (after its discount, with activation fee and tax), and whether its points cover it',
      description: 'Reads only; the same refusals as purchaseSubscription (404 for the customer, 422 price_not_found, 409 product_archived, 422 currency_mismatch).',
      params: z.strictObject({ customerId }), querystring: quoteQuery, response: { 200: subscriptionQuoteSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await quoteSubscription(ctxOf(req, deps), { ...req.query, customerId: req.params.customerId })));

  app.get('/api/v1/subscriptions/:subscriptionId', {
    config: { access: staff },
    schema: {
      operationId: 'getSubscription', tags: TAGS, summary: 'One subscription with renewal price, cost, margin, add-ons and its history; its ETag is what updates\' If-Match names',
      params: subParams, response: { 200: subscriptionDetailSchema, ...problems },
    },
  }, async (req, reply) => {
    const view = await getSubscription(ctxOf(req, deps), req.params);
    return withEtag(reply, view).send(view);
  });

  app.post('/api/v1/subscriptions/:subscriptionId/add-ons', {
    config: { access: staff, audit: 'subscription.add_on_added', idempotent: true },
    schema: {
      operationId: 'addSubscriptionAddOn', tags: TAGS,
      summary: 'Add an add-on (a price in the subscription\'s currency and cycle), charged from points pro rata to the expiry plus its activation fee',
      headers: idemIfMatchHeaders, params: subParams, body: addOnBody, response: { 201: subscriptionViewSchema, ...problems, ...stale },
    },
  }, async (req, reply) => {
    const view = await addAddOn(ctxOf(req, deps), { ...req.params, ...req.body, ifMatch: req.headers['if-match'] });
    return withEtag(reply, view).code(201).send(view);
  });

  app.get('/api/v1/subscriptions/:subscriptionId/add-ons/quote', {
    config: { access: staff },
    schema: {
      operationId: 'quoteSubscriptionAddOn', tags: TAGS,
      summary: 'What adding an add-on would charge now (pro rata to the expiry, activation fee, discount, tax) and whether points cover it; writes nothing',
      params: subParams, querystring: addOnQuoteQuery, response: { 200: addOnQuoteSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await quoteAddOn(ctxOf(req, deps), { ...req.params, priceId: req.query.priceId, quantity: req.query.quantity ?? 1 })));

  app.get('/api/v1/subscriptions/:subscriptionId/add-ons/:addOnId/quote', {
    config: { access: staff },
    schema: {
      operationId: 'quoteSubscriptionAddOnChange', tags: TAGS,
      summary: 'What changing an add-on\'s quantity would do: more units charged now (how much, and whether points cover it), fewer at the next renewal; writes nothing',
      params: addOnParams, querystring: addOnChangeQuoteQuery, response: { 200: addOnQuoteSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await quoteAddOn(ctxOf(req, deps), { ...req.params, quantity: req.query.quantity })));

  app.patch('/api/v1/subscriptions/:subscriptionId/add-ons/:addOnId', {
    config: { access: staff, audit: 'subscription.add_on_changed', idempotent: true },
    schema: {
      operationId: 'changeSubscriptionAddOn', tags: TAGS,
      summary: 'Change an add-on\'s quantity: up is charged now, pro rata; down (0 removes) takes effect at the next renewal, no refund',
      headers: idemIfMatchHeaders, params: addOnParams, body: addOnQuantityBody, response: { 200: subscriptionViewSchema, ...problems, ...stale },
    },
  }, async (req, reply) => {
    const view = await changeAddOnQuantity(ctxOf(req, deps), { ...req.params, ...req.body, ifMatch: req.headers['if-match'] });
    return withEtag(reply, view).send(view);
  });

  app.patch('/api/v1/subscriptions/:subscriptionId', {
    config: { access: staff, audit: 'subscription.updated' },
    schema: {
      operationId: 'updateSubscription', tags: TAGS, summary: 'Turn auto-renew or renewal by card on or off (renewal by card needs a saved card: 422 saved_card_required); If-Match (the ETag of GET) guards against overwriting (412)',
      headers: ifMatchHeaders, params: subParams, body: updateBody, response: { 200: subscriptionViewSchema, ...problems, ...stale },
    },
  }, async (req, reply) => {
    const view = await updateSubscription(ctxOf(req, deps), { ...req.params, ...req.body, ifMatch: req.headers['if-match'] }, { gatewayName: gatewayName() });
    return withEtag(reply, view).send(view);
  });

  app.get('/api/v1/subscriptions/:subscriptionId/termination-quote', {
    config: { access: staff },
    schema: {
      operationId: 'quoteSubscriptionTermination', tags: TAGS,
      summary: 'What terminating the subscription now would give back (the refund into points, or the invoice a pending purchase voids), computed as the termination does, writing nothing; 409 when it cannot be terminated',
      params: subParams, response: { 200: terminationQuoteSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await quoteTermination(ctxOf(req, deps), req.params)));

  app.post('/api/v1/subscriptions/:subscriptionId/terminate', {
    config: { access: staff, audit: 'subscription.terminated', idempotent: true },
    schema: {
      operationId: 'terminateSubscription', tags: TAGS,
      summary: 'Terminate on request, refunding into points: in full within 14 days of activation or renewal, otherwise the remaining whole months',
      headers: idemIfMatchHeaders, params: subParams, body: terminateBody, response: { 200: subscriptionViewSchema, ...problems, ...stale },
    },
  }, async (req, reply) => {
    const view = await terminateSubscription(ctxOf(req, deps), { ...req.params, ...req.body, ifMatch: req.headers['if-match'] });
    return withEtag(reply, view).send(view);
  });

  app.post('/api/v1/subscriptions/:subscriptionId/reactivate', {
    config: { access: staff, audit: 'subscription.reactivated', idempotent: true },
    schema: {
      operationId: 'reactivateSubscription', tags: TAGS,
      summary: 'Reactivate an expired subscription within 28 days of expiry: the full fee from points, the original anchor date kept',
      headers: idemIfMatchHeaders, params: subParams, response: { 200: subscriptionViewSchema, ...problems, ...stale },
    },
  }, async (req, reply) => {
    const view = await reactivateSubscription(ctxOf(req, deps), { ...req.params, ifMatch: req.headers['if-match'] });
    return withEtag(reply, view).send(view);
  });

  // --- Portal (read: every role; write: owner and admin) ---
  app.get('/api/v1/portal/subscriptions', {
    config: { access: portalRead },
    schema: {
      operationId: 'portalListSubscriptions', tags: PORTAL, summary: 'Your organisation\'s subscriptions and their renewal dates, newest first',
      querystring: customerListQuery, response: { 200: page(portalSubscriptionViewSchema), ...problems },
    },
  }, async (req, reply) => reply.send(await portalListSubscriptions(ctxOf(req, deps), req.query)));

  app.post('/api/v1/portal/subscriptions', {
    config: { access: portalWrite, audit: 'subscription.purchased', idempotent: true },
    schema: {
      operationId: 'portalPurchaseSubscription', tags: PORTAL,
      summary: 'Buy a subscription (owners and admins): from points with a paid Purchase invoice, or pending on an unpaid one when points fall short',
      headers: idemHeaders, body: portalPurchaseBody, response: { 201: portalPurchaseResult, ...problems },
    },
  }, async (req, reply) => {
    const result = await purchaseSubscription(ctxOf(req, deps), req.body);
    return reply.code(201).send({ subscription: toPortalView(result.subscription), invoice: result.invoice });
  });

  app.get('/api/v1/portal/subscriptions/quote', {
    config: { access: portalWrite },
    schema: {
      operationId: 'portalQuoteSubscription', tags: PORTAL,
      summary: 'What buying a subscription would charge today (after your discount, with activation fee and tax), and whether your points cover it (owners and admins)',
      querystring: quoteQuery, response: { 200: portalSubscriptionQuoteSchema, ...problems },
    },
  }, async (req, reply) => {
    const { cost: _cost, margin: _margin, marginPercent: _percent, ...quote } = await quoteSubscription(ctxOf(req, deps), req.query);
    return reply.send(quote);
  });

  app.get('/api/v1/portal/subscriptions/:subscriptionId', {
    config: { access: portalRead },
    schema: {
      operationId: 'portalGetSubscription', tags: PORTAL, summary: 'One of your subscriptions with its add-ons and history; its ETag is what updates\' If-Match names',
      params: subParams, response: { 200: portalSubscriptionDetailSchema, ...problems },
    },
  }, async (req, reply) => {
    const view = await portalGetSubscription(ctxOf(req, deps), req.params);
    return withEtag(reply, view).send(view);
  });

  app.patch('/api/v1/portal/subscriptions/:subscriptionId', {
    config: { access: portalWrite, audit: 'subscription.updated' },
    schema: {
      operationId: 'portalUpdateSubscription', tags: PORTAL, summary: 'Turn auto-renew or renewal by card on or off (owners and admins); If-Match (the ETag of GET) guards against overwriting (412)',
      headers: ifMatchHeaders, params: subParams, body: updateBody, response: { 200: portalSubscriptionViewSchema, ...problems, ...stale },
    },
  }, async (req, reply) => {
    const view = await updateSubscription(ctxOf(req, deps), { ...req.params, ...req.body, ifMatch: req.headers['if-match'] }, { gatewayName: gatewayName() });
    return withEtag(reply, view).send(toPortalView(view));
  });

  app.post('/api/v1/portal/subscriptions/:subscriptionId/add-ons', {
    config: { access: portalWrite, audit: 'subscription.add_on_added', idempotent: true },
    schema: {
      operationId: 'portalAddSubscriptionAddOn', tags: PORTAL, summary: 'Add an add-on, charged from points pro rata to the expiry (owners and admins)',
      headers: idemIfMatchHeaders, params: subParams, body: addOnBody, response: { 201: portalSubscriptionViewSchema, ...problems, ...stale },
    },
  }, async (req, reply) => {
    const view = await addAddOn(ctxOf(req, deps), { ...req.params, ...req.body, ifMatch: req.headers['if-match'] });
    return withEtag(reply, view).code(201).send(toPortalView(view));
  });

  app.get('/api/v1/portal/subscriptions/:subscriptionId/add-ons/quote', {
    config: { access: portalWrite },
    schema: {
      operationId: 'portalQuoteSubscriptionAddOn', tags: PORTAL,
      summary: 'What adding an add-on would charge from your points now (pro rata to the expiry, activation fee, discount, tax), and whether they cover it (owners and admins); writes nothing',
      params: subParams, querystring: addOnQuoteQuery, response: { 200: addOnQuoteSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await quoteAddOn(ctxOf(req, deps), { ...req.params, priceId: req.query.priceId, quantity: req.query.quantity ?? 1 })));

  app.get('/api/v1/portal/subscriptions/:subscriptionId/add-ons/:addOnId/quote', {
    config: { access: portalWrite },
    schema: {
      operationId: 'portalQuoteSubscriptionAddOnChange', tags: PORTAL,
      summary: 'What changing an add-on\'s quantity would do (owners and admins): more units charged from your points now, fewer at the next renewal; writes nothing',
      params: addOnParams, querystring: addOnChangeQuoteQuery, response: { 200: addOnQuoteSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await quoteAddOn(ctxOf(req, deps), { ...req.params, quantity: req.query.quantity })));

  app.patch('/api/v1/portal/subscriptions/:subscriptionId/add-ons/:addOnId', {
    config: { access: portalWrite, audit: 'subscription.add_on_changed', idempotent: true },
    schema: {
      operationId: 'portalChangeSubscriptionAddOn', tags: PORTAL, summary: 'Change an add-on\'s quantity (owners and admins): up now, pro rata; down at the next renewal',
      headers: idemIfMatchHeaders, params: addOnParams, body: addOnQuantityBody, response: { 200: portalSubscriptionViewSchema, ...problems, ...stale },
    },
  }, async (req, reply) => {
    const view = await changeAddOnQuantity(ctxOf(req, deps), { ...req.params, ...req.body, ifMatch: req.headers['if-match'] });
    return withEtag(reply, view).send(toPortalView(view));
  });

  app.get('/api/v1/portal/subscriptions/:subscriptionId/termination-quote', {
    config: { access: portalWrite },
    schema: {
      operationId: 'portalQuoteSubscriptionTermination', tags: PORTAL,
      summary: 'What terminating one of your subscriptions now would refund to your points (owners and admins), writing nothing; 409 when it cannot be terminated',
      params: subParams, response: { 200: terminationQuoteSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await quoteTermination(ctxOf(req, deps), req.params)));

  app.post('/api/v1/portal/subscriptions/:subscriptionId/terminate', {
    config: { access: portalWrite, audit: 'subscription.terminated', idempotent: true },
    schema: {
      operationId: 'portalTerminateSubscription', tags: PORTAL, summary: 'Terminate a subscription (owners and admins), refunding into points by the refund rule',
      headers: idemIfMatchHeaders, params: subParams, body: terminateBody, response: { 200: portalSubscriptionViewSchema, ...problems, ...stale },
    },
  }, async (req, reply) => {
    const view = await terminateSubscription(ctxOf(req, deps), { ...req.params, ...req.body, ifMatch: req.headers['if-match'] });
    return withEtag(reply, view).send(toPortalView(view));
  });

  app.post('/api/v1/portal/subscriptions/:subscriptionId/reactivate', {
    config: { access: portalWrite, audit: 'subscription.reactivated', idempotent: true },
    schema: {
      operationId: 'portalReactivateSubscription', tags: PORTAL, summary: 'Reactivate an expired subscription within 28 days (owners and admins): full fee from points',
      headers: idemIfMatchHeaders, params: subParams, response: { 200: portalSubscriptionViewSchema, ...problems, ...stale },
    },
  }, async (req, reply) => {
    const view = await reactivateSubscription(ctxOf(req, deps), { ...req.params, ifMatch: req.headers['if-match'] });
    return withEtag(reply, view).send(toPortalView(view));
  });
}
