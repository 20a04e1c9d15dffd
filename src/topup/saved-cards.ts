import { z } from 'zod';
import type { Executor, Trx } from '../platform/database.ts';
import type { GatewayName } from '../platform/db-types.ts';
import { unknownId } from '../platform/errors.ts';
import { timestamp } from '../platform/schemas.ts';
import type { SavedCard } from '../gateway/gateway.ts';
import { newSavedCardId } from './ids.ts';

/**
 * A customer's cards saved at the gateway (migration 0014): the gateway's customer and payment-method references,
 * brand, last 4 and expiry, as the gateway reports them. Never a card number.
 */
export const savedCardSchema = z.object({
  id: z.string(),
  brand: z.string(),
  last4: z.string(),
  expMonth: z.number().int(),
  expYear: z.number().int(),
  createdAt: timestamp,
});
export type SavedCardView = z.infer<typeof savedCardSchema>;

export interface SavedCardRow {
  id: string;
  gateway: GatewayName;
  gatewayCustomerRef: string;
  methodRef: string;
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
  createdAt: Date;
}

const COLUMNS = ['id', 'gateway', 'gatewayCustomerRef', 'methodRef', 'brand', 'last4', 'expMonth', 'expYear', 'createdAt'] as const;

export function toSavedCardView(row: SavedCardRow): SavedCardView {
  return { id: row.id, brand: row.brand, last4: row.last4, expMonth: row.expMonth, expYear: row.expYear, createdAt: row.createdAt.toISOString() };
}

/**
 * The customer's card `id` on this gateway, not removed; otherwise 422 `saved_card_not_found` naming `savedCardId`, the
 * body field every caller reads it from (another customer's card is not found either: docs/adr/0037).
 */
export async function usableSavedCard(db: Executor, key: { partnerId: string; customerId: string }, gateway: GatewayName, id: string): Promise<SavedCardRow> {
  const card = await db
    .selectFrom('savedCards').select(COLUMNS)
    .where('partnerId', '=', key.partnerId).where('customerId', '=', key.customerId).where('id', '=', id)
    .where('gateway', '=', gateway).where('removedAt', 'is', null)
    .executeTakeFirst();
  if (!card) throw unknownId('saved_card_not_found', 'savedCardId', 'Saved card');
  return card;
}

export async function listSavedCards(db: Executor, key: { partnerId: string; customerId: string }, gateway: GatewayName): Promise<SavedCardRow[]> {
  return db
    .selectFrom('savedCards').select(COLUMNS)
    .where('partnerId', '=', key.partnerId).where('customerId', '=', key.customerId)
    .where('gateway', '=', gateway).where('removedAt', 'is', null)
    .orderBy('id', 'desc')
    .execute();
}

/** A card the gateway saved for this customer, as the gateway reported it. */
export interface CardToRecord extends SavedCard {
  customerRef: string;
}

/** Record a card the gateway saved (once per payment method: a retry finds the first row). */
export async function recordSavedCard(
  trx: Trx,
  input: { partnerId: string; customerId: string; gateway: GatewayName; card: CardToRecord; createdBy: string | null },
): Promise<string> {
  const existing = await trx
    .selectFrom('savedCards').select('id')
    .where('partnerId', '=', input.partnerId).where('gateway', '=', input.gateway).where('methodRef', '=', input.card.methodRef)
    .executeTakeFirst();
  if (existing) return existing.id;
  const id = newSavedCardId();
  await trx
    .insertInto('savedCards')
    .values({
      id, partnerId: input.partnerId, customerId: input.customerId, gateway: input.gateway, gatewayCustomerRef: input.card.customerRef,
      methodRef: input.card.methodRef, brand: input.card.brand.slice(0, 40), last4: input.card.last4, expMonth: input.card.expMonth, expYear: input.card.expYear,
      createdBy: input.createdBy, removedAt: null,
    })
    .execute();
  return id;
}
