import { describe, expect, it } from 'vitest';
import { humanize } from './forms.tsx';

describe('a validator message next to a field', () => {
  it('says the bound in words, for text, lists and numbers', () => {
    expect(humanize('Too big: expected string to have <=200 characters')).toBe('At most 200 characters');
    expect(humanize('Too small: expected string to have >=10 characters')).toBe('At least 10 characters');
    expect(humanize('Too small: expected string to have >=1 characters')).toBe('Required');
    expect(humanize('required (empty)')).toBe('Required');
    expect(humanize('required')).toBe('Required');
    expect(humanize('not an email address')).toBe('Enter a valid email address');
    expect(humanize('at most 200 characters')).toBe('at most 200 characters');
    expect(humanize('Too big: expected array to have <=50 items')).toBe('At most 50 items');
    expect(humanize('Too big: expected number to be <=1000')).toBe('At most 1000');
    expect(humanize('Too small: expected number to be >=1')).toBe('At least 1');
  });

  it('keeps a message written for people as it is', () => {
    expect(humanize('not a member of your organisation')).toBe('not a member of your organisation');
    expect(humanize(undefined)).toBeUndefined();
  });
});
