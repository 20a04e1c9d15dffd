import { z } from 'zod';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf } from '../platform/server.ts';
import { customerPortal, staffApp } from '../platform/access-policy.ts';
import { idOf, listQuery, page, problems, isoDay } from '../platform/schemas.ts';
import { IDEMPOTENCY_KEY_HEADER } from '../platform/idempotency.ts';
import { inScope } from '../platform/database.ts';
import { portalCaller } from '../access/caller.ts';
import { CUSTOMER_CURRENCIES } from '../customers/customer-views.ts';
import { gatewayOf } from './gateway-of.ts';
import { portalTopUp } from './portal-top-up.ts';
import { listCustomerTopUps, portalGetTopUp, portalListTopUps } from './list-top-ups.ts';
import { getTopUpPolicyForInvoices, portalGetTopUpPolicy, portalTopUpPolicySchema } from './get-top-up-policy.ts';
import { addTopUpPolicyVersion, listTopUpPolicyVersions, policyVersionSchema, withdrawTopUpPolicyVersion } from './top-up-policy-versions.ts';
import { NOTICE_DAYS } from './top-up-policy-notices.ts';
import { pathId } from '../access/route-schemas.ts';
import { autoTopUpSchema, portalGetAutoTopUp, portalUpdateAutoTopUp } from './auto-top-up-settings.ts';
import { listSavedCards, savedCardSchema, toSavedCardView } from './saved-cards.ts';
import { staffTopUpSchema, topUpSchema } from './top-up-views.ts';
import { removeSavedCard } from './remove-saved-card.ts';

const topUpId = idOf('top');
const cardId = idOf('card');
/**
 * A decimal string; its decimals are checked against the currency by the use case: not a decimal string is a 400 naming
 * the field, a number against the rules (too many decimals, zero, over the most) a 422 rule_violation (docs/adr/0040).
 */
const decimal = z.string().min(1).max(40); // read by parseDecimal, strictly: " 5.00" is refused, not trimmed
const topUpListQuery = listQuery.extend({ status: z.enum(['pending', 'succeeded', 'failed']).optional() });

/** Top-up: buying points by card in the portal, auto top-up, the partner's dated top-up policy. */
export function topUpRoutes(app: FolioApp, deps: ServerDeps): void {
  // Members and guests cannot see or use company credits (domain.md): owners and admins, behind the Points tab.
  const companyCredits = customerPortal({ roles: ['owner', 'admin'], tab: 'points' });
  const withGateway = (req: Parameters<typeof ctxOf>[0]) => ({ ...ctxOf(req, deps), gateway: gatewayOf(deps) });

  app.post('/api/v1/portal/top-ups', {
    config: { access: companyCredits, idempotent: true, audit: ['top_up.succeeded', 'top_up.pending', 'top_up.failed'] },
    schema: {
      operationId: 'portalTopUp', tags: ['Portal'],
      summary: 'Buy points by card: 201 when added, 202 while the card payment is pending; a declined card is 422 card_declined / insufficient_funds',
      description: 'The amount is a decimal string in your organisation\'s currency (at most its minor unit), at most what one card payment carries '
        + '(99,999,999 minor units: 999,999.99 SGD). The partner\'s top-up policy in force today applies: '
        + 'below its minimum the top-up is refused (422 rule_violation), below its fee threshold an admin fee is added to the card charge. '
        + 'Send exactly one of `cardToken` (from the card form; `saveCard` keeps the card for later) or `savedCardId`. Honours Idempotency-Key. '
        + 'When the partner\'s next Top-up invoice number is one already issued (a format changed before formats were checked), the top-up is '
        + 'refused before the card is charged: 409 document_number_taken, nothing written. Should that number be issued while the card is '
        + 'charged, the charge is kept: 202 with the top-up pending, completed (points and paid invoice) by the charge\'s confirmation once '
        + 'the partner has changed the format.',
      headers: z.looseObject({ [IDEMPOTENCY_KEY_HEADER]: z.string().max(255).optional() }),
      body: z.strictObject({
        amount: decimal,
        cardToken: z.string().min(1).max(255).optional(),
        savedCardId: cardId.optional(),
        saveCard: z.boolean().optional(),
      }),
      response: { 201: topUpSchema, 202: topUpSchema, ...problems },
    },
  }, async (req, reply) => {
    const key = req.headers[IDEMPOTENCY_KEY_HEADER];
    const result = await portalTopUp(withGateway(req), { ...req.body, requestKey: typeof key === 'string' ? key : null });
    return reply.code(result.httpStatus).send(result.topUp);
  });

  app.get('/api/v1/portal/top-ups', {
    config: { access: companyCredits },
    schema: {
      operationId: 'portalListTopUps', tags: ['Portal'], summary: 'Your organisation\'s top-ups, newest first, failed ones with their reason',
      querystring: topUpListQuery, response: { 200: page(topUpSchema), ...problems },
    },
  }, async (req, reply) => reply.send(await portalListTopUps(ctxOf(req, deps), req.query)));

  app.get('/api/v1/portal/top-ups/:topUpId', {
    config: { access: companyCredits },
    schema: {
      operationId: 'portalGetTopUp', tags: ['Portal'], summary: 'One top-up (follow a pending one)',
      params: z.strictObject({ topUpId }), response: { 200: topUpSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await portalGetTopUp(ctxOf(req, deps), req.params)));

  app.get('/api/v1/portal/top-up-policy', {
    config: { access: companyCredits },
    schema: {
      operationId: 'portalGetTopUpPolicy', tags: ['Portal'], summary: 'The top-up policy in force today (minimum, fee threshold, fee), and the next version if one is planned',
      response: { 200: portalTopUpPolicySchema, ...problems },
    },
  }, async (req, reply) => reply.send(await portalGetTopUpPolicy(ctxOf(req, deps))));

  app.get('/api/v1/portal/saved-cards', {
    config: { access: companyCredits },
    schema: {
      operationId: 'portalListSavedCards', tags: ['Portal'], summary: 'Your organisation\'s saved cards (brand, last 4, expiry)',
      response: { 200: z.object({ data: z.array(savedCardSchema) }), ...problems },
    },
  }, async (req, reply) => {
    const caller = portalCaller(ctxOf(req, deps).principal);
    const key = { partnerId: caller.partnerId, customerId: caller.customerId };
    const cards = await inScope(deps.db, { kind: 'customer', ...key }, (trx) => listSavedCards(trx, key, gatewayOf(deps).name));
    return reply.send({ data: cards.map(toSavedCardView) });
  });

  app.delete('/api/v1/portal/saved-cards/:cardId', {
    config: { access: companyCredits, audit: 'saved_card.removed' },
    schema: {
      operationId: 'portalRemoveSavedCard', tags: ['Portal'],
      summary: 'Remove a saved card: never charged again; an auto top-up that used it is switched off',
      params: z.strictObject({ cardId }),
      response: { 200: z.object({ id: z.string(), autoTopUpDisabled: z.boolean() }), ...problems },
    },
  }, async (req, reply) => reply.send(await removeSavedCard(ctxOf(req, deps), { cardId: req.params.cardId })));

  app.get('/api/v1/portal/auto-top-up', {
    config: { access: companyCredits },
    schema: { operationId: 'portalGetAutoTopUp', tags: ['Portal'], summary: 'Your organisation\'s auto top-up', response: { 200: autoTopUpSchema, ...problems } },
  }, async (req, reply) => reply.send(await portalGetAutoTopUp(ctxOf(req, deps))));

  app.put('/api/v1/portal/auto-top-up', {
    config: { access: companyCredits, audit: 'auto_top_up.updated' },
    schema: {
      operationId: 'portalUpdateAutoTopUp', tags: ['Portal'],
      summary: 'Set auto top-up: when usable points fall to the threshold, the saved card is charged for the amount, at most once a day',
      description: 'A closed organisation\'s auto top-up can be read and turned off (enabled false, threshold, amount and card as they are), but not otherwise changed: 409 state_conflict, nothing written (a suspended one may change it).',
      body: z.strictObject({ enabled: z.boolean(), threshold: decimal, amount: decimal, savedCardId: cardId.nullable() }),
      response: { 200: autoTopUpSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await portalUpdateAutoTopUp(withGateway(req), req.body)));

  app.get('/api/v1/customers/:customerId/top-ups', {
    config: { access: staffApp('customer') },
    schema: {
      operationId: 'listCustomerTopUps', tags: ['Customer'], summary: 'A customer\'s top-ups, newest first, with the gateway\'s references and failure reasons',
      params: z.strictObject({ customerId: idOf('cus') }), querystring: topUpListQuery, response: { 200: page(staffTopUpSchema), ...problems },
    },
  }, async (req, reply) => reply.send(await listCustomerTopUps(ctxOf(req, deps), { ...req.query, customerId: req.params.customerId })));

  // The Invoice app's read-only view: what issuing a Top-up invoice today will add or refuse (as /api/v1/invoices/settings).
  app.get('/api/v1/invoices/top-up-policy', {
    config: { access: staffApp('invoice') },
    schema: {
      operationId: 'getInvoiceTopUpPolicy', tags: ['Invoice'],
      summary: 'The top-up policy a Top-up invoice in this currency follows if issued today (minimum, fee threshold, fee), and the next version if one is planned',
      querystring: z.strictObject({ currency: z.enum(CUSTOMER_CURRENCIES) }),
      response: { 200: portalTopUpPolicySchema, ...problems },
    },
  }, async (req, reply) => reply.send(await getTopUpPolicyForInvoices(ctxOf(req, deps), req.query)));

  const settings = staffApp('settings');
  app.get('/api/v1/settings/top-up-policies', {
    config: { access: settings },
    schema: {
      operationId: 'listTopUpPolicies', tags: ['Settings'], summary: 'Every version of the minimum top-up policy, by currency, newest date first',
      querystring: listQuery.extend({ currency: z.enum(CUSTOMER_CURRENCIES).optional() }), response: { 200: page(policyVersionSchema), ...problems },
    },
  }, async (req, reply) => reply.send(await listTopUpPolicyVersions(ctxOf(req, deps), req.query)));

  app.put('/api/v1/settings/top-up-policies', {
    config: { access: settings, audit: 'top_up_policy.version_added' },
    schema: {
      operationId: 'addTopUpPolicyVersion', tags: ['Settings'],
      summary: 'Add a version of the top-up policy for a currency, from today or a later date (versions are never edited): 201, or 200 when the same version exists',
      description: 'A minimum top-up, and/or an admin fee added to top-ups below a threshold (a fee needs a threshold and a threshold a fee). '
        + 'A date in the past is 422 naming effectiveFrom; amounts are decimal strings (else 400 naming the field) with at most the currency\'s decimals, zero or more, within what one card payment carries (else 422 rule_violation naming the field). '
        + `Customers of that currency get a notice ${NOTICE_DAYS} days before the date, or at once when it is closer.`,
      body: z.strictObject({
        currency: z.enum(CUSTOMER_CURRENCIES), effectiveFrom: isoDay, minimum: decimal, feeThreshold: decimal, fee: decimal,
      }),
      response: { 200: policyVersionSchema, 201: policyVersionSchema, ...problems },
    },
  }, async (req, reply) => {
    const { created, version } = await addTopUpPolicyVersion(ctxOf(req, deps), req.body);
    return reply.code(created ? 201 : 200).send(version);
  });

  app.post('/api/v1/settings/top-up-policies/:versionId/withdraw', {
    config: { access: settings, audit: 'top_up_policy.version_withdrawn' },
    schema: {
      operationId: 'withdrawTopUpPolicyVersion', tags: ['Settings'],
      summary: 'Withdraw a version before it takes effect: it never applies, and customers already told of it are told it will not happen',
      description: 'Only a version dated after today: one in force or past is 409 policy_version_in_effect. Withdrawing a withdrawn version changes nothing (200).',
      params: z.strictObject({ versionId: pathId }),
      body: z.strictObject({}).optional(),
      response: { 200: policyVersionSchema, ...problems },
    },
  }, async (req, reply) => reply.send((await withdrawTopUpPolicyVersion(ctxOf(req, deps), req.params)).version));
}
