import { newId } from '../platform/ids.ts';

/**
 * Virtual lines are `vln_...` and wallboards `wbd_...` (time-sortable like every Folio id). `IdPrefix` in
 * src/platform/ids.ts has neither, so the id is made from another id with its prefix swapped, as src/topup/ids.ts does;
 * the shape (prefix + 26 base32 characters) is the same, and sorting ids still sorts by creation time.
 */
export function newVirtualLineId(): string {
  return `vln_${newId('txn').slice('txn_'.length)}`;
}

export function newWallboardId(): string {
  return `wbd_${newId('txn').slice('txn_'.length)}`;
}
