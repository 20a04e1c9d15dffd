import { sql } from 'kysely';
import { assertIfMatch, viewEtag } from '../platform/etag.ts';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope, type Trx } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { formatDecimal, type Currency } from '../money/money.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from '../access/caller.ts';
import { isUniqueViolation } from '../access/pg-errors.ts';
import type { Page } from '../access/paging.ts';
import type { BillingCycle, ProductType, TaxCategory } from './catalog.db-types.ts';
import {
  catalogCurrency, findProduct, findVariant, loadProductViews, MAX_VARIANTS_PER_PRODUCT, newPriceId, newProductId, newVariantId,
  parseCatalogAmounts, priceView, variantView, type PriceView, type ProductView, type VariantView,
} from './catalog.repo.ts';
import type { ProductRow } from './sellable-price.ts';

/**
 * Product app use cases: each change is one transaction with its audit event (app `product`), before/after in `changes`.
 * Tenancy: every query names the caller's partner; another partner's product is simply not found (404).
 */

const APP = 'product';

function skuTaken(sku: string): DomainError {
  return new DomainError('sku_taken', `SKU ${sku} is already used by another product`, [{ path: 'sku', message: 'already used (SKUs are case-insensitive)' }]);
}

async function viewOf(trx: Trx, partnerId: string, product: ProductRow): Promise<ProductView> {
  return (await loadProductViews(trx, partnerId, [product]))[0]!;
}

const auditFields = (p: ProductRow) => ({ sku: p.sku, name: p.name, description: p.description, type: p.type, taxCategory: p.taxCategory });

export interface CreateProductInput {
  sku: string;
  name: string;
  description?: string | null | undefined;
  type: ProductType;
  taxCategory?: TaxCategory | undefined;
}

/** A description as sent (trimmed at the edge): an empty one is none, as null (it clears it). */
function descriptionOf(sent: string | null | undefined): string | null | undefined {
  return sent === '' ? null : sent;
}

/** A new product, without variants yet. SKU unique per partner, case-insensitive: 409 `sku_taken`. */
export async function createProduct(ctx: Ctx, input: CreateProductInput): Promise<ProductView> {
  const { partnerId } = partnerCaller(ctx.principal);
  try {
    return await inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
      const clash = await trx.selectFrom('products').select('id').where('partnerId', '=', partnerId)
        .where(sql<string>`lower(sku)`, '=', input.sku.toLowerCase()).executeTakeFirst();
      if (clash) throw skuTaken(input.sku);
      const row = await trx
        .insertInto('products')
        .values({
          id: newProductId(), partnerId, sku: input.sku, name: input.name, description: descriptionOf(input.description) ?? null, type: input.type,
          taxCategory: input.taxCategory ?? 'standard', updatedAt: sql`now()`,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await recordAudit(trx, ctx, { partnerId, app: APP, action: 'product.created', targetType: 'product', targetId: row.id, changes: diff(null, auditFields(row)) });
      return viewOf(trx, partnerId, row);
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw skuTaken(input.sku); // a concurrent create with the same SKU
    throw err;
  }
}

export interface ListProductsInput {
  limit: number;
  cursor?: string | undefined;
  /** Part of the SKU or the name, case-insensitive. */
  q?: string | undefined;
  type?: ProductType | undefined;
  /** true: archived only; false: not archived only; absent: both. */
  archived?: boolean | undefined;
}

const likePattern = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** The partner's products, newest first, with their variants and prices. */
export async function listProducts(ctx: Ctx, input: ListProductsInput): Promise<Page<ProductView>> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    let q = trx.selectFrom('products').selectAll().where('partnerId', '=', partnerId).orderBy('id', 'desc').limit(input.limit + 1);
    if (input.cursor) q = q.where('id', '<', input.cursor);
    if (input.type) q = q.where('type', '=', input.type);
    if (input.archived !== undefined) q = q.where('archivedAt', input.archived ? 'is not' : 'is', null);
    const search = input.q?.trim();
    if (search) {
      const pattern = likePattern(search);
      q = q.where((eb) => eb.or([eb('sku', 'ilike', pattern), eb('name', 'ilike', pattern)]));
    }
    const rows = await q.execute();
    const data = rows.slice(0, input.limit);
    return { data: await loadProductViews(trx, partnerId, data), nextCursor: rows.length > input.limit ? data.at(-1)!.id : null };
  });
}

export async function getProduct(ctx: Ctx, productId: string): Promise<ProductView> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => viewOf(trx, partnerId, await findProduct(trx, partnerId, productId)));
}

export interface UpdateProductInput {
  productId: string;
  /** The `If-Match` header: when given and stale, nothing is written (412). */
  ifMatch?: string | undefined;
  name?: string | undefined;
  /** null clears it. */
  description?: string | null | undefined;
  taxCategory?: TaxCategory | undefined;
}

/** Name, description and tax category change; SKU and type do not (subscriptions and reports refer to them). */
export async function updateProduct(ctx: Ctx, input: UpdateProductInput): Promise<ProductView> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const before = await findProduct(trx, partnerId, input.productId, { forUpdate: true });
    if (input.ifMatch !== undefined) {
      const current = viewEtag(await viewOf(trx, partnerId, before));
      assertIfMatch(input.ifMatch, () => current, 'product');
    }
    const description = descriptionOf(input.description);
    const changes = diff(auditFields(before), {
      ...auditFields(before),
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(description !== undefined ? { description } : {}),
      ...(input.taxCategory !== undefined ? { taxCategory: input.taxCategory } : {}),
    });
    if (Object.keys(changes).length === 0) return viewOf(trx, partnerId, before);
    const after = await trx
      .updateTable('products')
      .set({
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(description !== undefined ? { description } : {}),
        ...(input.taxCategory !== undefined ? { taxCategory: input.taxCategory } : {}),
        updatedAt: sql`now()`,
      })
      .where('partnerId', '=', partnerId).where('id', '=', before.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(trx, ctx, { partnerId, app: APP, action: 'product.updated', targetType: 'product', targetId: after.id, changes: { ...changes, sku: { before: before.sku, after: after.sku } } });
    return viewOf(trx, partnerId, after);
  });
}

/**
 * Archive: no new sales (findSellablePrice refuses it), existing subscriptions go on. Unarchive: on sale again.
 * Archiving an archived product (or the reverse) is a 409 `state_conflict`, nothing written.
 */
export async function setProductArchived(ctx: Ctx, productId: string, archived: boolean): Promise<ProductView> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const before = await findProduct(trx, partnerId, productId, { forUpdate: true });
    if ((before.archivedAt !== null) === archived) {
      throw new DomainError('state_conflict', archived ? 'The product is already archived' : 'The product is not archived');
    }
    const after = await trx
      .updateTable('products')
      .set({ archivedAt: archived ? sql`now()` : null, updatedAt: sql`now()` })
      .where('partnerId', '=', partnerId).where('id', '=', before.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(trx, ctx, {
      partnerId, app: APP, action: archived ? 'product.archived' : 'product.unarchived', targetType: 'product', targetId: after.id,
      changes: { sku: { before: before.sku, after: after.sku }, archived: { before: !archived, after: archived } },
    });
    return viewOf(trx, partnerId, after);
  });
}

/** A new variant (plan) of a product, after the existing ones; names are unique within the product, case-insensitive. */
export async function addVariant(ctx: Ctx, input: { productId: string; name: string }): Promise<VariantView> {
  const { partnerId } = partnerCaller(ctx.principal);
  const taken = () => new DomainError('already_exists', `The product already has a variant named ${input.name}`, [{ path: 'name', message: 'already used in this product' }]);
  try {
    return await inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
      // Lock the product: concurrent additions get consecutive positions.
      const product = await findProduct(trx, partnerId, input.productId, { forUpdate: true });
      const existing = await trx.selectFrom('productVariants').select(['name', 'position']).where('partnerId', '=', partnerId).where('productId', '=', product.id).execute();
      if (existing.some((v) => v.name.toLowerCase() === input.name.toLowerCase())) throw taken();
      if (existing.length >= MAX_VARIANTS_PER_PRODUCT) {
        throw new DomainError('rule_violation', `A product has at most ${MAX_VARIANTS_PER_PRODUCT} variants`);
      }
      const row = await trx
        .insertInto('productVariants')
        .values({ id: newVariantId(), partnerId, productId: product.id, name: input.name, position: Math.max(0, ...existing.map((v) => v.position)) + 1 })
        .returningAll()
        .executeTakeFirstOrThrow();
      await recordAudit(trx, ctx, {
        partnerId, app: APP, action: 'product_variant.created', targetType: 'product_variant', targetId: row.id,
        changes: { productId: { after: product.id }, sku: { after: product.sku }, ...diff(null, { name: row.name, position: row.position }) },
      });
      return variantView(row, []);
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw taken();
    throw err;
  }
}

export interface SetPriceInput {
  variantId: string;
  cycle: BillingCycle;
  currency: Currency;
  price: string;
  cost: string;
  /** Default "0" (PUT replaces the whole price). */
  activationFee?: string | undefined;
}

const priceAudit = (p: { priceMicros: string | bigint; costMicros: string | bigint; activationFeeMicros: string | bigint; archivedAt: Date | null }, currency: Currency) => ({
  price: formatDecimal(BigInt(p.priceMicros), currency),
  cost: formatDecimal(BigInt(p.costMicros), currency),
  activationFee: formatDecimal(BigInt(p.activationFeeMicros), currency),
  archived: p.archivedAt !== null,
});

/**
 * Create or change the price of a variant for one billing cycle and currency (one row per variant x cycle x currency).
 * Setting an archived price puts it on sale again. Subscriptions already sold keep the amounts they recorded.
 */
export async function setPrice(ctx: Ctx, input: SetPriceInput): Promise<PriceView> {
  const { partnerId } = partnerCaller(ctx.principal);
  const amounts = parseCatalogAmounts({ price: input.price, cost: input.cost, activationFee: input.activationFee ?? '0' }, input.currency);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const variant = await findVariant(trx, partnerId, input.variantId);
    const product = await findProduct(trx, partnerId, variant.productId, { forUpdate: true }); // one price change at a time per product
    const before = await trx
      .selectFrom('productPrices').selectAll()
      .where('partnerId', '=', partnerId).where('variantId', '=', variant.id).where('cycle', '=', input.cycle).where('currency', '=', input.currency)
      .executeTakeFirst();
    const values = { priceMicros: amounts.price, costMicros: amounts.cost, activationFeeMicros: amounts.activationFee, archivedAt: null };
    const row = before
      ? await trx.updateTable('productPrices').set({ ...values, updatedAt: sql`now()` })
        .where('partnerId', '=', partnerId).where('id', '=', before.id).returningAll().executeTakeFirstOrThrow()
      : await trx.insertInto('productPrices')
        .values({ id: newPriceId(), partnerId, variantId: variant.id, cycle: input.cycle, currency: input.currency, ...values, updatedAt: sql`now()` })
        .returningAll().executeTakeFirstOrThrow();
    const changes = diff(before ? priceAudit(before, input.currency) : null, priceAudit(row, input.currency));
    if (Object.keys(changes).length > 0) {
      await recordAudit(trx, ctx, {
        partnerId, app: APP, action: 'product_price.set', targetType: 'product_price', targetId: row.id,
        changes: {
          ...changes,
          sku: { after: product.sku }, variant: { after: variant.name }, cycle: { after: row.cycle }, currency: { after: row.currency },
        },
      });
    }
    return priceView(row);
  });
}

/** Take one price off sale (the variant's other cycles and currencies stay); set it again to put it back. */
export async function archivePrice(ctx: Ctx, priceId: string): Promise<PriceView> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const before = await trx.selectFrom('productPrices').selectAll().where('partnerId', '=', partnerId).where('id', '=', priceId).forUpdate().executeTakeFirst();
    if (!before) throw notFound('Price');
    if (before.archivedAt !== null) throw new DomainError('state_conflict', 'The price is already archived');
    const row = await trx.updateTable('productPrices').set({ archivedAt: sql`now()`, updatedAt: sql`now()` })
      .where('partnerId', '=', partnerId).where('id', '=', priceId).returningAll().executeTakeFirstOrThrow();
    const variant = await findVariant(trx, partnerId, row.variantId);
    const product = await findProduct(trx, partnerId, variant.productId);
    await recordAudit(trx, ctx, {
      partnerId, app: APP, action: 'product_price.archived', targetType: 'product_price', targetId: row.id,
      changes: {
        archived: { before: false, after: true }, sku: { after: product.sku }, variant: { after: variant.name },
        cycle: { after: row.cycle }, currency: { after: row.currency },
        price: { before: formatDecimal(BigInt(row.priceMicros), catalogCurrency(row.currency)) },
      },
    });
    return priceView(row);
  });
}
