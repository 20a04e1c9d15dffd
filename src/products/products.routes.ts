import { z } from 'zod';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf } from '../platform/server.ts';
import { staffApp } from '../platform/access-policy.ts';
import { listQuery, page, problems, problemSchema } from '../platform/schemas.ts';
import { CURRENCY_CODES, type Currency } from '../money/money.ts';
import { pathId } from '../access/route-schemas.ts';
import { MAX_RATES_PER_PLAN, ratePlanViewSchema, rateViewSchema } from './rate-plans.repo.ts';
import { createRatePlan } from './create-rate-plan.ts';
import { listRatePlans } from './list-rate-plans.ts';
import { listRates } from './list-rates.ts';
import { replaceRates } from './replace-rates.ts';

const TAGS = ['Product'];
const currency = z.enum(CURRENCY_CODES as [Currency, ...Currency[]]);
const digits = (max: number) => z.string().regex(new RegExp(`^[0-9]{1,${max}}$`), `1 to ${max} digits`);
const decimal = z.string().max(40);
/** 50,000 rates of up to ~250 bytes each. */
const RATES_BODY_LIMIT = 16 * 1024 * 1024;

/** The Product app, usage part: rate plans and their rate tables. */
export function productRoutes(app: FolioApp, deps: ServerDeps): void {
  const access = staffApp('product');

  app.get('/api/v1/rate-plans', {
    config: { access },
    schema: {
      operationId: 'listRatePlans', tags: TAGS, summary: 'Rate plans, newest first, each with its number of rates; ?currency= filters',
      querystring: listQuery.extend({ currency: currency.optional() }), response: { 200: page(ratePlanViewSchema), ...problems },
    },
  }, async (req, reply) => reply.send(await listRatePlans(ctxOf(req, deps), req.query)));

  app.post('/api/v1/rate-plans', {
    config: { access, audit: 'rate_plan.created', idempotent: true },
    schema: {
      operationId: 'createRatePlan', tags: TAGS,
      summary: 'Create a rate plan (no rates yet); isDefault makes it the plan calls in its currency are rated on',
      body: z.strictObject({
        name: z.string().trim().min(1).max(100),
        currency,
        increment: z.string().max(9).describe('"first/next" billing blocks in seconds: 60/60, 30/6, 1/1, or any pair of 1..3600'),
        minimumCharge: decimal.optional().describe('Charged at least, for any answered call; up to 6 decimals; default 0'),
        whenInsufficient: z.enum(['reject', 'use_credit_limit']).optional().describe('When points do not cover a call: reject it (default), or let the credit limit cover it'),
        isDefault: z.boolean().optional(),
      }),
      response: { 201: ratePlanViewSchema, ...problems },
    },
  }, async (req, reply) => reply.code(201).send(await createRatePlan(ctxOf(req, deps), req.body)));

  app.get('/api/v1/rate-plans/:id/rates', {
    config: { access },
    schema: {
      operationId: 'listRates', tags: TAGS,
      summary: "A rate plan's rates in prefix order, a page at a time (cursor: the last prefix); ?prefix= filters; ETag of the table",
      params: z.strictObject({ id: pathId }),
      querystring: z.strictObject({
        limit: z.coerce.number().int().min(1).max(200).default(50),
        cursor: digits(15).optional(),
        prefix: digits(15).optional(),
      }),
      response: { 200: page(rateViewSchema).extend({ ratesVersion: z.number().int() }), ...problems },
    },
  }, async (req, reply) => {
    const { etag, ...result } = await listRates(ctxOf(req, deps), { ratePlanId: req.params.id, ...req.query });
    return reply.header('etag', etag).send(result);
  });

  app.put('/api/v1/rate-plans/:id/rates', {
    config: { access, audit: 'rate_plan.rates_replaced' },
    bodyLimit: RATES_BODY_LIMIT,
    schema: {
      operationId: 'replaceRates', tags: TAGS,
      summary: `Replace a rate plan's whole rate table (up to ${MAX_RATES_PER_PLAN} prefixes), atomically; If-Match with the table's ETag guards against lost updates`,
      params: z.strictObject({ id: pathId }),
      body: z.strictObject({
        rates: z.array(z.strictObject({
          prefix: digits(15),
          description: z.string().max(200).optional(),
          pricePerMinute: decimal.describe('Up to 6 decimals, e.g. "0.0123"'),
          costPerMinute: decimal.describe('What the platform charges the partner, up to 6 decimals'),
        })).min(1).max(MAX_RATES_PER_PLAN),
      }),
      response: { 200: z.object({ ratePlan: ratePlanViewSchema }), 412: problemSchema, ...problems },
    },
  }, async (req, reply) => {
    const ifMatch = req.headers['if-match'];
    const { etag, ratePlan } = await replaceRates(ctxOf(req, deps), { ratePlanId: req.params.id, rates: req.body.rates, ifMatch });
    return reply.header('etag', etag).send({ ratePlan });
  });
}
