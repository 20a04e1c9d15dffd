/**
 * Lists page by id: ids are time-sortable, so "newest first" is `order by id desc`, and the cursor is the last id sent
 * (a route's query schema checks it is an id of what it lists: `idOf(prefix)`, a 400 naming `cursor` otherwise).
 * Queries fetch `limit + 1` rows; the extra row only tells whether another page exists.
 */
export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export function pageOf<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  const data = rows.slice(0, limit);
  const last = data.at(-1);
  return { data, nextCursor: rows.length > limit && last ? last.id : null };
}
