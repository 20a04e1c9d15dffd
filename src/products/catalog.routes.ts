import { z } from 'zod';
import { viewEtag } from '../platform/etag.ts';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf } from '../platform/server.ts';
import { customerPortal, staffApp } from '../platform/access-policy.ts';
import { idempotencyKeyHeaders } from '../platform/idempotency.ts';
import { idOf, listQuery, page, problemSchema, problems } from '../platform/schemas.ts';
import { CURRENCY_CODES, isCurrency, type Currency } from '../money/money.ts';
import { DomainError, type FieldError } from '../platform/errors.ts';
import type { BillingCycle } from './catalog.db-types.ts';
import { pathId } from '../access/route-schemas.ts';
import { BILLING_CYCLES, PRODUCT_TYPES, priceViewSchema, productViewSchema, TAX_CATEGORIES, variantViewSchema } from './catalog.repo.ts';
import { addVariant, archivePrice, createProduct, getProduct, listProducts, setPrice, setProductArchived, updateProduct } from './catalog.ts';
import { portalCatalog, portalCatalogItemSchema } from './portal-catalog.ts';
import { sellableCatalog } from './sellable-catalog.ts';

const TAGS = ['Product'];
const sku = z.string().trim().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" or "-", 1 to 64, starting with a letter or digit');
const productName = z.string().trim().min(1).max(200);
const description = z.string().trim().max(2000);
const amount = z.string().max(40);
const idParams = z.strictObject({ id: pathId });

function pricePath(cycle: string, currency: string): { cycle: BillingCycle; currency: Currency } {
  const errors: FieldError[] = [];
  if (!(BILLING_CYCLES as readonly string[]).includes(cycle)) errors.push({ path: 'cycle', message: `one of: ${BILLING_CYCLES.join(', ')}` });
  if (!isCurrency(currency)) errors.push({ path: 'currency', message: 'a supported ISO 4217 currency code' });
  if (errors.length > 0) throw new DomainError('validation_failed', errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);
  return { cycle: cycle as BillingCycle, currency: currency as Currency };
}

/** The Product app, catalog part (docs/contracts/catalog-subscriptions-api.md), and the portal's read of the catalog. */
export function catalogRoutes(app: FolioApp, deps: ServerDeps): void {
  const access = staffApp('product');

  app.get('/api/v1/customers/:customerId/sellable-products', {
    config: { access: staffApp('customer') },
    schema: {
      operationId: 'listSellableProducts', tags: ['Customer'],
      summary: "What can be sold to this customer (Customer app): products on sale with their prices in the customer's currency, cost and margin",
      params: z.strictObject({ customerId: idOf('cus') }),
      response: { 200: page(productViewSchema), ...problems },
    },
  }, async (req, reply) => reply.send(await sellableCatalog(ctxOf(req, deps), { customerId: req.params.customerId })));

  app.get('/api/v1/products', {
    config: { access },
    schema: {
      operationId: 'listProducts', tags: TAGS,
      summary: 'Products, newest first, with variants and prices; ?q= searches SKU and name, ?type= and ?archived=true|false filter',
      querystring: listQuery.extend({
        cursor: idOf('prd').optional(),
        q: z.string().max(100).optional(),
        type: z.enum(PRODUCT_TYPES).optional(),
        archived: z.enum(['true', 'false']).optional().transform((v) => (v === undefined ? undefined : v === 'true')),
      }),
      response: { 200: page(productViewSchema), ...problems },
    },
  }, async (req, reply) => reply.send(await listProducts(ctxOf(req, deps), req.query)));

  app.post('/api/v1/products', {
    config: { access, audit: 'product.created', idempotent: true },
    schema: {
      operationId: 'createProduct', tags: TAGS,
      summary: 'Create a product (no variants yet); the SKU is unique per partner, case-insensitive (409 sku_taken)',
      headers: idempotencyKeyHeaders,
      body: z.strictObject({
        sku, name: productName, description: description.nullable().optional(),
        type: z.enum(PRODUCT_TYPES), taxCategory: z.enum(TAX_CATEGORIES).optional().describe('Default standard (the partner\'s tax rate applies)'),
      }),
      response: { 201: productViewSchema, ...problems },
    },
  }, async (req, reply) => reply.code(201).send(await createProduct(ctxOf(req, deps), req.body)));

  app.get('/api/v1/products/:id', {
    config: { access },
    schema: {
      operationId: 'getProduct', tags: TAGS, summary: 'A product with its variants and prices (price, cost, margin per cycle and currency)',
      params: idParams, response: { 200: productViewSchema, ...problems },
    },
  }, async (req, reply) => {
    const product = await getProduct(ctxOf(req, deps), req.params.id);
    return reply.header('etag', viewEtag(product)).send(product);
  });

  app.patch('/api/v1/products/:id', {
    config: { access, audit: 'product.updated' },
    schema: {
      operationId: 'updateProduct', tags: TAGS, summary: 'Change a product\'s name, description (null clears it) or tax category; SKU and type do not change; If-Match (the ETag of GET) guards against overwriting (412)',
      params: idParams, headers: z.looseObject({ 'if-match': z.string().max(500).optional() }),
      body: z.strictObject({ name: productName.optional(), description: description.nullable().optional(), taxCategory: z.enum(TAX_CATEGORIES).optional() }),
      response: { 200: productViewSchema, ...problems, 412: problemSchema.describe('If-Match names another version: the product changed since it was read (precondition_failed)') },
    },
  }, async (req, reply) => {
    const product = await updateProduct(ctxOf(req, deps), { productId: req.params.id, ...req.body, ifMatch: req.headers['if-match'] });
    return reply.header('etag', viewEtag(product)).send(product);
  });

  app.post('/api/v1/products/:id/archive', {
    config: { access, audit: 'product.archived' },
    schema: {
      operationId: 'archiveProduct', tags: TAGS, summary: 'Take a product off sale (existing subscriptions go on); products are never deleted',
      params: idParams, response: { 200: productViewSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await setProductArchived(ctxOf(req, deps), req.params.id, true)));

  app.post('/api/v1/products/:id/unarchive', {
    config: { access, audit: 'product.unarchived' },
    schema: {
      operationId: 'unarchiveProduct', tags: TAGS, summary: 'Put an archived product on sale again',
      params: idParams, response: { 200: productViewSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await setProductArchived(ctxOf(req, deps), req.params.id, false)));

  app.post('/api/v1/products/:id/variants', {
    config: { access, audit: 'product_variant.created' },
    schema: {
      operationId: 'createVariant', tags: TAGS, summary: 'Add a variant (plan, e.g. "Basic", "Pro") to a product; names unique within the product',
      params: idParams, body: z.strictObject({ name: productName }), response: { 201: variantViewSchema, ...problems },
    },
  }, async (req, reply) => reply.code(201).send(await addVariant(ctxOf(req, deps), { productId: req.params.id, name: req.body.name })));

  app.put('/api/v1/variants/:id/prices/:cycle/:currency', {
    config: { access, audit: 'product_price.set' },
    schema: {
      operationId: 'setPrice', tags: TAGS,
      summary: 'Create or change a variant\'s price for one billing cycle and currency: pre-tax price, cost, one-time activation fee (whole minor units, 0 or more)',
      // cycle and currency are checked by the use case (400 naming them), after the body: a bad body is named even on a bad path.
      params: z.strictObject({
        id: pathId,
        cycle: z.string().max(40).describe(BILLING_CYCLES.join(' | ')),
        currency: z.string().max(40).describe(`ISO 4217: ${CURRENCY_CODES.join(', ')}`),
      }),
      body: z.strictObject({
        price: amount.describe('Pre-tax price per cycle, e.g. "25.00"'),
        cost: amount.describe('What the platform charges the partner per cycle'),
        activationFee: amount.optional().describe('One-time fee on purchase; default "0"'),
      }),
      response: { 200: priceViewSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await setPrice(ctxOf(req, deps), { variantId: req.params.id, ...pricePath(req.params.cycle, req.params.currency), ...req.body })));

  app.post('/api/v1/prices/:id/archive', {
    config: { access, audit: 'product_price.archived' },
    schema: {
      operationId: 'archivePrice', tags: TAGS, summary: 'Take one price off sale; setting it again (PUT) puts it back',
      params: idParams, response: { 200: priceViewSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await archivePrice(ctxOf(req, deps), req.params.id)));

  app.get('/api/v1/portal/catalog', {
    config: { access: customerPortal({ roles: ['owner', 'admin', 'member', 'guest'] }) },
    schema: {
      operationId: 'portalListCatalog', tags: ['Portal'],
      summary: 'What the organisation can buy: products on sale with their prices in its currency (never cost or margin)',
      response: { 200: page(portalCatalogItemSchema), ...problems },
    },
  }, async (req, reply) => reply.send(await portalCatalog(ctxOf(req, deps))));
}
