import { newId } from '../platform/ids.ts';

/**
 * Saved cards are `card_...` (time-sortable like every Folio id). `IdPrefix` in src/platform/ids.ts has no `card` yet,
 * so the id is made from a `top_` id with its prefix swapped; the shape (prefix + 26 base32 characters) is the same.
 */
export function newSavedCardId(): string {
  return `card_${newId('top').slice('top_'.length)}`;
}
