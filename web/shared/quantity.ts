/**
 * The units one subscription purchase takes in the portal's Buy dialog: the API's bounds (`quantity` in
 * src/subscriptions/subscriptions.routes.ts, 1 to 10,000; the Customer app's Sell dialog has the same), so the dialog
 * never refuses what the API takes, nor sends what it refuses.
 */
export const PURCHASE_MIN_QUANTITY = 1;
export const PURCHASE_MAX_QUANTITY = 10_000;

/**
 * What is wrong with a typed quantity, said next to its field: null when it is a whole number from `min` to `max`.
 * The value is what Mantine's NumberInput gives: a number, or its text while it is empty or not (yet) a number.
 * Never corrected silently: an empty field, 0 or -3 is not taken as 1.
 */
export function quantityProblem(value: number | string, min: number, max: number): string | null {
  const text = typeof value === 'number' ? String(value) : value.trim();
  if (text === '') return `Enter a quantity of at least ${min}`;
  const n = typeof value === 'number' ? value : Number(text);
  if (!Number.isFinite(n)) return 'Enter a whole number';
  if (n < min) return `At least ${min}`;
  if (n > max) return `At most ${max}`;
  if (!Number.isInteger(n)) return 'Enter a whole number';
  return null;
}

/** The quantity to send when it has no problem, else null. */
export function validQuantity(value: number | string, min: number, max: number): number | null {
  return quantityProblem(value, min, max) === null ? Number(value) : null;
}
