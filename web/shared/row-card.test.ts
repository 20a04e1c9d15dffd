import { describe, expect, it } from 'vitest';
import { cardLayout, type CardColumn } from './row-card.ts';

const keys = (cs: { key: string }[]) => cs.map((c) => c.key);

describe('a list row as a card on a phone', () => {
  it('puts each column where it says, in the table’s order, and leaves out the columns without a place', () => {
    const columns: CardColumn[] = [
      { key: 'number', header: 'Number', card: 'title' },
      { key: 'customer', header: 'Customer', card: 'field' },
      { key: 'type', header: 'Type' },
      { key: 'status', header: 'Status', card: 'status' },
      { key: 'issued', header: 'Issued' },
      { key: 'due', header: 'Due', card: 'field' },
      { key: 'amount', header: 'Amount due', card: 'field' },
      { key: 'open', header: null, card: 'actions' },
    ];
    const layout = cardLayout(columns)!;
    expect(keys(layout.title)).toEqual(['number']);
    expect(keys(layout.status)).toEqual(['status']);
    expect(layout.fields.map((f) => [f.column.key, f.label])).toEqual([['customer', 'Customer'], ['due', 'Due'], ['amount', 'Amount due']]);
    expect(keys(layout.actions)).toEqual(['open']);
  });

  it('labels a field by its card label when its header is not plain text, or says it otherwise', () => {
    const layout = cardLayout([
      { key: 'what', header: 'What', card: 'title' },
      { key: 'when', header: 'When', card: 'field', cardLabel: 'At' },
      { key: 'usable', header: { type: 'span' } as unknown as CardColumn['header'], card: 'field', cardLabel: 'Usable' },
    ])!;
    expect(layout.fields.map((f) => f.label)).toEqual(['At', 'Usable']);
  });

  it('keeps the table on a phone when no column has a place in a card', () => {
    expect(cardLayout([{ key: 'name', header: 'Name' }, { key: 'status', header: 'Status' }])).toBeNull();
    expect(cardLayout([])).toBeNull();
  });

  it('refuses a card without a title, a field without a label, and more than four fields', () => {
    expect(() => cardLayout([{ key: 'status', header: 'Status', card: 'status' }])).toThrow(/needs a title column/);
    expect(() => cardLayout([{ key: 'name', header: 'Name', card: 'title' }, { key: 'open', header: null, card: 'field' }])).toThrow(/open needs a cardLabel/);
    expect(() => cardLayout([{ key: 'name', header: 'Name', card: 'title' }, { key: 'blank', header: ' ', card: 'field' }])).toThrow(/blank needs a cardLabel/);
    const fields = ['a', 'b', 'c', 'd', 'e'].map((k): CardColumn => ({ key: k, header: k.toUpperCase(), card: 'field' }));
    expect(() => cardLayout([{ key: 'name', header: 'Name', card: 'title' }, ...fields])).toThrow(/at most 4 fields, not 5/);
    expect(cardLayout([{ key: 'name', header: 'Name', card: 'title' }, ...fields.slice(0, 4)])!.fields).toHaveLength(4);
  });
});
