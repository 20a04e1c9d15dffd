import { z } from 'zod';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf } from '../platform/server.ts';
import { staffApp } from '../platform/access-policy.ts';
import { idempotencyKeyHeaders } from '../platform/idempotency.ts';
import { idOf, listQuery, page, problems, problemSchema } from '../platform/schemas.ts';
import { CURRENCY_CODES, type Currency } from '../money/money.ts';
import { pathId } from '../access/route-schemas.ts';
import { MAX_RATES_PER_PLAN, ratePlanViewSchema, rateViewSchema, taxCategorySchema } from './rate-plans.repo.ts';
import { createRatePlan } from './create-rate-plan.ts';
import { listRatePlans } from './list-rate-plans.ts';
import { listRates } from './list-rates.ts';
import { replaceRates } from './replace-rates.ts';
import { catalogRoutes } from './catalog.routes.ts';
import { applyRateImport, getRateImport, listRateImports, rateImportViewSchema, uploadRateImport } from './rate-import.ts';

const TAGS = ['Product'];
const currency = z.enum(CURRENCY_CODES as [Currency, ...Currency[]]);
const digits = (max: number) => z.string().regex(new RegExp(`^[0-9]{1,${max}}$`), `1 to ${max} digits`);
const decimal = z.string().max(40);
/** 50,000 rates of up to ~250 bytes each. */
const RATES_BODY_LIMIT = 16 * 1024 * 1024;
/** A CSV of 50,000 rates of up to ~160 bytes a line (prefix, a destination name, two prices), as JSON text. */
const RATE_CSV_BODY_LIMIT = 8 * 1024 * 1024;

/** The Product app, usage part: rate plans and their rate tables. */
export function productRoutes(app: FolioApp, deps: ServerDeps): void {
  const access = staffApp('product');
  catalogRoutes(app, deps);

  app.get('/api/v1/rate-plans', {
    config: { access },
    schema: {
      operationId: 'listRatePlans', tags: TAGS, summary: 'Rate plans, newest first, each with its number of rates; ?currency= filters',
      querystring: listQuery.extend({ cursor: idOf('rpl').optional(), currency: currency.optional() }), response: { 200: page(ratePlanViewSchema), ...problems },
    },
  }, async (req, reply) => reply.send(await listRatePlans(ctxOf(req, deps), req.query)));

  app.post('/api/v1/rate-plans', {
    config: { access, audit: 'rate_plan.created', idempotent: true },
    schema: {
      operationId: 'createRatePlan', tags: TAGS,
      summary: 'Create a rate plan (no rates yet); isDefault makes it the plan calls in its currency are rated on',
      headers: idempotencyKeyHeaders,
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
          taxCategory: taxCategorySchema.optional().describe('Default standard. zero_rated: calls to this prefix pay no tax (ADR 0032)'),
        })).min(1).max(MAX_RATES_PER_PLAN),
      }),
      response: { 200: z.object({ ratePlan: ratePlanViewSchema }), 412: problemSchema, ...problems },
    },
  }, async (req, reply) => {
    const ifMatch = req.headers['if-match'];
    const { etag, ratePlan } = await replaceRates(ctxOf(req, deps), { ratePlanId: req.params.id, rates: req.body.rates, ifMatch });
    return reply.header('etag', etag).send({ ratePlan });
  });

  app.post('/api/v1/rate-plans/:id/imports', {
    config: { access, audit: 'rate_plan.import_uploaded' },
    bodyLimit: RATE_CSV_BODY_LIMIT,
    schema: {
      operationId: 'uploadRateImport', tags: TAGS,
      summary: `Upload a rate table as CSV (prefix, description, pricePerMinute, costPerMinute, optional taxCategory: standard | zero_rated; up to ${MAX_RATES_PER_PLAN} rows): every row is checked and the per-row errors kept; nothing changes until it is applied`,
      params: z.strictObject({ id: pathId }),
      body: z.strictObject({
        fileName: z.string().trim().min(1).max(255),
        csv: z.string().min(1).max(RATE_CSV_BODY_LIMIT).describe('The file\'s text (UTF-8)'),
      }),
      response: { 201: rateImportViewSchema, ...problems },
    },
  }, async (req, reply) => reply.code(201).send(await uploadRateImport(ctxOf(req, deps), { ratePlanId: req.params.id, ...req.body })));

  app.get('/api/v1/rate-plans/:id/imports', {
    config: { access },
    schema: {
      operationId: 'listRateImports', tags: TAGS, summary: "A rate plan's CSV imports, newest first (errors: see getRateImport)",
      params: z.strictObject({ id: pathId }), querystring: listQuery.extend({ cursor: idOf('rim').optional() }), response: { 200: page(rateImportViewSchema), ...problems },
    },
  }, async (req, reply) => reply.send(await listRateImports(ctxOf(req, deps), { ratePlanId: req.params.id, ...req.query })));

  app.get('/api/v1/rate-imports/:id', {
    config: { access },
    schema: {
      operationId: 'getRateImport', tags: TAGS,
      summary: 'A CSV import: status, counts, per-row errors, and processedRows while it is being applied (poll it for progress)',
      params: z.strictObject({ id: pathId }), response: { 200: rateImportViewSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await getRateImport(ctxOf(req, deps), req.params.id)));

  app.post('/api/v1/rate-imports/:id/apply', {
    config: { access, audit: 'rate_plan.rates_imported' },
    schema: {
      operationId: 'applyRateImport', tags: TAGS,
      summary: "Replace the plan's rates with the import's rows, atomically; a file with errors needs onlyValidRows: true (else 422 import_has_errors)",
      params: z.strictObject({ id: pathId }),
      body: z.strictObject({ onlyValidRows: z.boolean().optional().describe('Import the valid rows of a file that has errors, skipping the bad ones') }),
      response: { 200: z.object({ import: rateImportViewSchema, ratePlan: ratePlanViewSchema }), ...problems },
    },
  }, async (req, reply) => reply.send(await applyRateImport(ctxOf(req, deps), { importId: req.params.id, onlyValidRows: req.body.onlyValidRows })));
}
