import { parseAmount, type Currency } from '../money/money.ts';
import { inScope } from '../platform/database.ts';
import { newPriceId, newProductId, newVariantId } from '../products/catalog.repo.ts';
import type { BillingCycle, ProductType, TaxCategory } from '../products/catalog.db-types.ts';
import { creditWallet } from '../wallet/charge-wallet.ts';
import { readWallet } from '../wallet/wallets.repo.ts';
import { checkLedger } from '../ledger/check-ledger.ts';
import type { TestApp } from '../test/harness.ts';

/** Test helpers for the subscription tests (not a test file): catalog rows, points, balances. */

export interface CatalogPrice {
  productId: string;
  variantId: string;
  priceId: string;
}

/** A product with one variant and one price, written as the owner (the catalog's own API is tested elsewhere). */
export async function catalogPrice(t: TestApp, partnerId: string, input: {
  name: string; cycle?: BillingCycle; currency?: Currency; price: string; cost: string; activationFee?: string;
  taxCategory?: TaxCategory; type?: ProductType; archived?: boolean; variantName?: string;
}): Promise<CatalogPrice> {
  const currency = input.currency ?? 'SGD';
  const productId = newProductId();
  const variantId = newVariantId();
  const priceId = newPriceId();
  const db = t.db.owner.db;
  const archivedAt = input.archived ? new Date() : null;
  await db.insertInto('products').values({
    id: productId, partnerId, sku: `SKU-${productId.slice(-8)}`, name: input.name, description: null, type: input.type ?? 'app_licence',
    taxCategory: input.taxCategory ?? 'standard', archivedAt, updatedAt: new Date(),
  }).execute();
  await db.insertInto('productVariants').values({ id: variantId, partnerId, productId, name: input.variantName ?? 'Standard', archivedAt: null }).execute();
  await db.insertInto('productPrices').values({
    id: priceId, partnerId, variantId, cycle: input.cycle ?? 'monthly', currency,
    priceMicros: parseAmount(input.price, currency, 'price'), costMicros: parseAmount(input.cost, currency, 'cost'),
    activationFeeMicros: parseAmount(input.activationFee ?? '0', currency, 'activationFee'), archivedAt: null, updatedAt: new Date(),
  }).execute();
  return { productId, variantId, priceId };
}

/** Give a customer points as a card top-up would (Dr card_clearing, Cr points). */
export async function givePoints(t: TestApp, partnerId: string, customerId: string, amount: string, currency: Currency = 'SGD'): Promise<void> {
  const micros = parseAmount(amount, currency, 'amount');
  await inScope(t.db.app.db, { kind: 'partner', partnerId }, (trx) => creditWallet(trx, {
    wallet: { partnerId, customerId, currency }, amountMicros: micros,
    entry: { kind: 'top_up', causeType: 'test', causeId: `test_${Date.now()}`, description: 'Test points', auditEventId: null },
    counterPostings: [{ code: 'card_clearing', amountMicros: micros }],
  }));
}

/** The customer's points (balance) and usable points, as decimal micros. */
export async function pointsOf(t: TestApp, partnerId: string, customerId: string, currency = 'SGD'): Promise<{ points: bigint; usable: bigint }> {
  const w = await inScope(t.db.app.db, { kind: 'partner', partnerId }, (trx) => readWallet(trx, { partnerId, customerId, currency }));
  return { points: w?.pointsMicros ?? 0n, usable: w?.usableMicros ?? 0n };
}

/** Balance (debit positive) of one of the partner's accounts in a currency. */
export async function accountBalance(t: TestApp, partnerId: string, code: string, currency = 'SGD', customerId: string | null = null): Promise<bigint> {
  let q = t.db.owner.db.selectFrom('ledgerAccounts').select('balanceMicros').where('partnerId', '=', partnerId).where('currency', '=', currency).where('code', '=', code as never);
  q = customerId ? q.where('customerId', '=', customerId) : q.where('customerId', 'is', null);
  const row = await q.executeTakeFirst();
  return row ? BigInt(row.balanceMicros) : 0n;
}

/** The books hold (every invariant of checkLedger). */
export async function ledgerProblems(t: TestApp): Promise<unknown[]> {
  return checkLedger(t.db.owner.db);
}

export const sgd = (amount: string): bigint => parseAmount(amount, 'SGD', 'amount');
