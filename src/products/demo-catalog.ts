import { sql } from 'kysely';
import type { Trx } from '../platform/database.ts';
import { MICROS_PER_UNIT } from '../money/money.ts';
import { recordAudit } from '../audit/record-audit.ts';
import type { BillingCycle, ProductType } from './catalog.db-types.ts';
import { newPriceId, newProductId, newVariantId } from './catalog.repo.ts';

const SEED_ACTOR = { principal: { kind: 'system' as const, job: 'seed' }, requestId: null, ip: null, userAgent: null };
/** "12.50" -> micros (demo prices are written as the Product app shows them). */
const m = (decimal: string): bigint => {
  const [whole, fraction = ''] = decimal.split('.');
  return BigInt(whole!) * MICROS_PER_UNIT + BigInt(fraction.padEnd(6, '0'));
};

interface DemoPrice { cycle: BillingCycle; price: string; cost: string; activationFee: string }
interface DemoProduct { sku: string; name: string; description: string; type: ProductType; variants: Array<{ name: string; prices: DemoPrice[] }> }

/** Demo Telecom's catalog, in SGD, pre-tax (GST 9% is added on invoices of `standard` products). */
export const DEMO_CATALOG: readonly DemoProduct[] = [
  {
    sku: 'VL', name: 'Virtual Line', type: 'service',
    description: 'A cloud phone line with its own number: rings users, groups or an outside number, with business hours.',
    variants: [
      { name: 'Basic', prices: [
        { cycle: 'monthly', price: '12.00', cost: '5.00', activationFee: '10.00' },
        { cycle: 'yearly', price: '120.00', cost: '50.00', activationFee: '10.00' },
      ] },
      { name: 'Pro', prices: [
        { cycle: 'monthly', price: '20.00', cost: '8.50', activationFee: '10.00' },
        { cycle: 'yearly', price: '200.00', cost: '85.00', activationFee: '10.00' },
      ] },
    ],
  },
  {
    sku: 'WALLBOARD', name: 'Call-centre Wallboard', type: 'service',
    description: 'A live wall display of call queues, agents and service levels.',
    variants: [
      { name: 'Standard', prices: [
        { cycle: 'monthly', price: '45.00', cost: '18.00', activationFee: '50.00' },
        { cycle: 'yearly', price: '450.00', cost: '180.00', activationFee: '50.00' },
      ] },
    ],
  },
  {
    sku: 'DID-SG', name: 'Phone Number', type: 'phone_number',
    description: 'A Singapore local number (DID) for inbound calls.',
    variants: [
      { name: 'Singapore local', prices: [
        { cycle: 'monthly', price: '5.00', cost: '1.50', activationFee: '0.00' },
        { cycle: 'yearly', price: '50.00', cost: '15.00', activationFee: '0.00' },
      ] },
    ],
  },
  {
    sku: 'TEAMS-APP', name: 'Teams App Licence', type: 'app_licence',
    description: 'Calling from Microsoft Teams, per user.',
    variants: [
      { name: 'Per user', prices: [
        { cycle: 'monthly', price: '8.00', cost: '4.00', activationFee: '0.00' },
        { cycle: 'yearly', price: '80.00', cost: '40.00', activationFee: '0.00' },
      ] },
    ],
  },
];

/**
 * The catalog part of the demo data, inside the seed's transaction (as the database owner): Demo Telecom's products
 * (DEMO_CATALOG) with one `product.created` event each, and its GST of 9% (`partner_settings.tax_rate_bps = 900`).
 * Returns the price ids by "SKU/variant/cycle" (e.g. "VL/Basic/monthly"), for other demo data to sell from.
 */
export async function seedCatalogDemo(trx: Trx, ids: { partnerId: string }): Promise<Map<string, string>> {
  await trx.updateTable('partnerSettings').set({ taxRateBps: 900 }).where('partnerId', '=', ids.partnerId).execute();
  const priceIds = new Map<string, string>();
  for (const product of DEMO_CATALOG) {
    const productId = newProductId();
    await trx.insertInto('products').values({
      id: productId, partnerId: ids.partnerId, sku: product.sku, name: product.name, description: product.description, type: product.type,
      taxCategory: 'standard', updatedAt: sql`now()`,
    }).execute();
    for (const [index, variant] of product.variants.entries()) {
      const variantId = newVariantId();
      await trx.insertInto('productVariants').values({ id: variantId, partnerId: ids.partnerId, productId, name: variant.name, position: index + 1 }).execute();
      for (const p of variant.prices) {
        const priceId = newPriceId();
        await trx.insertInto('productPrices').values({
          id: priceId, partnerId: ids.partnerId, variantId, cycle: p.cycle, currency: 'SGD',
          priceMicros: m(p.price), costMicros: m(p.cost), activationFeeMicros: m(p.activationFee), updatedAt: sql`now()`,
        }).execute();
        priceIds.set(`${product.sku}/${variant.name}/${p.cycle}`, priceId);
      }
    }
    await recordAudit(trx, SEED_ACTOR, {
      partnerId: ids.partnerId, app: 'product', action: 'product.created', targetType: 'product', targetId: productId,
      changes: { sku: { after: product.sku }, name: { after: product.name }, type: { after: product.type }, variants: { after: product.variants.map((v) => v.name) } },
    });
  }
  return priceIds;
}
