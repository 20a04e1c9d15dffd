import { describe, expect, it } from 'vitest';
import { customerOptions } from './customer-options.ts';

describe('customerOptions', () => {
  it('labels each customer by its name, and twins by the end of their ids as well', () => {
    expect(customerOptions([
      { id: 'cus_01aaaaaaaaaaaa111111', name: 'Acme Pte Ltd' },
      { id: 'cus_01bbbbbbbbbbbb222222', name: 'Globex' },
      { id: 'cus_01cccccccccccc333333', name: 'Acme Pte Ltd' },
    ])).toEqual([
      { value: 'cus_01aaaaaaaaaaaa111111', label: 'Acme Pte Ltd · …111111' },
      { value: 'cus_01bbbbbbbbbbbb222222', label: 'Globex' },
      { value: 'cus_01cccccccccccc333333', label: 'Acme Pte Ltd · …333333' },
    ]);
  });

  it('compares the labels the picker shows: the same name in two currencies is no twin', () => {
    const rows = [{ id: 'cus_1', name: 'Acme', currency: 'SGD' }, { id: 'cus_2', name: 'Acme', currency: 'MYR' }];
    expect(customerOptions(rows, (r) => `${r.name} (${r.currency})`).map((o) => o.label)).toEqual(['Acme (SGD)', 'Acme (MYR)']);
  });
});
