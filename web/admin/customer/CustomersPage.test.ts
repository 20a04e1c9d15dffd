import { describe, expect, it } from 'vitest';
import { sameCustomerName } from './CustomersPage.tsx';

describe('a new customer\'s name beside the existing ones', () => {
  it('is the same name whatever its case and spacing', () => {
    expect(sameCustomerName('  acme   PTE ltd ', 'Acme Pte Ltd')).toBe(true);
    expect(sameCustomerName('Acme\tPte Ltd', 'Acme Pte Ltd')).toBe(true);
  });
  it('is another name when a word differs or is missing, and an empty name matches nothing', () => {
    expect(sameCustomerName('Acme', 'Acme Pte Ltd')).toBe(false);
    expect(sameCustomerName('Acme Pte Ltd.', 'Acme Pte Ltd')).toBe(false);
    expect(sameCustomerName('   ', '')).toBe(false);
  });
});
