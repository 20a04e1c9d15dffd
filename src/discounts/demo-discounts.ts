import type { Trx } from '../platform/database.ts';
import { newId } from '../platform/ids.ts';
import { recordAudit } from '../audit/record-audit.ts';

const SEED_ACTOR = { principal: { kind: 'system' as const, job: 'seed' }, requestId: null, ip: null, userAgent: null };

/**
 * Demo Telecom's demo discount (inside the seed's transaction): Initech gets 10% off every variant of the Teams App
 * Licence, from the seed day, unlimited. A customer-specific, product-wide discount: the Discount app has one row to show and
 * the Customer app shows it on Initech. Returns its id, or null when the catalog has no such product.
 */
export async function seedDiscountsDemo(trx: Trx, ids: { partnerId: string; initechId: string; at?: Date }): Promise<string | null> {
  const product = await trx.selectFrom('products').select(['id', 'type']).where('partnerId', '=', ids.partnerId).where('sku', '=', 'TEAMS-APP').executeTakeFirst();
  if (!product) return null;
  const at = ids.at ?? new Date();
  const id = newId('dsc');
  const name = 'Initech: 10% off Teams licences';
  await trx.insertInto('discounts').values({
    id, partnerId: ids.partnerId, customerId: ids.initechId, name, scope: 'product', productType: product.type, productId: product.id,
    kind: 'percent', percentBps: 1000, startsOn: at.toISOString().slice(0, 10), endsOn: null, createdBy: 'seed', createdAt: at, updatedAt: at,
  }).execute();
  await recordAudit(trx, SEED_ACTOR, {
    partnerId: ids.partnerId, customerId: ids.initechId, app: 'discount', action: 'discount.created', targetType: 'discount', targetId: id,
    changes: { name: { after: name }, target: { after: `Initech Pte Ltd (${ids.initechId})` }, scope: { after: 'All variants of Teams App Licence' }, percentOff: { after: '10' }, startsOn: { after: at.toISOString().slice(0, 10) } },
  });
  return id;
}
