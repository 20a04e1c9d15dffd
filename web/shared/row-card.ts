import type { ReactNode } from 'react';

/**
 * Where a list column's cell goes in its row's card on a phone (below Mantine's `sm`, where the admin lists' tables ran
 * past the screen and a staff member had to pan to a row's status or buttons): the card's title (the row's main text), its
 * status badge beside the title, one of its label/value fields (2-4 of them: what a phone cannot do without), or its
 * action buttons at the foot. A column with none is left out of the card (the row's own page has it).
 */
export type CardPlace = 'title' | 'status' | 'field' | 'actions';

/** What the card needs of a column: `DataTable`'s `Column` has these. */
export interface CardColumn {
  key: string;
  header: ReactNode;
  card?: CardPlace;
  /** The field's label in the card when the header is not plain text (or says it differently). */
  cardLabel?: string;
}

export interface CardLayout<C extends CardColumn> {
  title: C[];
  status: C[];
  fields: { column: C; label: string }[];
  actions: C[];
}

/** A card shows at most this many fields: more read as the table again, one column high. */
export const MAX_CARD_FIELDS = 4;

/**
 * The columns of a list as its phone card lays them out, each part in the table's column order; null when no column has
 * a place in a card (the list stays a table on a phone, as the portal's do). A card without a title, a field without a
 * label or more than `MAX_CARD_FIELDS` fields is a mistake of the page, said at once rather than drawn half-right.
 */
export function cardLayout<C extends CardColumn>(columns: readonly C[]): CardLayout<C> | null {
  if (!columns.some((c) => c.card)) return null;
  const layout: CardLayout<C> = { title: [], status: [], fields: [], actions: [] };
  for (const column of columns) {
    if (column.card === 'title') layout.title.push(column);
    else if (column.card === 'status') layout.status.push(column);
    else if (column.card === 'actions') layout.actions.push(column);
    else if (column.card === 'field') {
      const label = column.cardLabel ?? (typeof column.header === 'string' && column.header.trim() !== '' ? column.header : null);
      if (label === null) throw new Error(`The card field ${column.key} needs a cardLabel: its header is not plain text`);
      layout.fields.push({ column, label });
    }
  }
  if (layout.title.length === 0) throw new Error(`A row card needs a title column (columns: ${columns.map((c) => c.key).join(', ')})`);
  if (layout.fields.length > MAX_CARD_FIELDS) {
    throw new Error(`A row card shows at most ${MAX_CARD_FIELDS} fields, not ${layout.fields.length} (${layout.fields.map((f) => f.column.key).join(', ')})`);
  }
  return layout;
}
