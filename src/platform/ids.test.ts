import { describe, expect, it } from 'vitest';
import { newId, newSecret } from './ids.ts';

describe('newId', () => {
  it('is the prefix, 10 characters of time and 16 random ones, in lower-case Crockford base32', () => {
    expect(newId('cus')).toMatch(/^cus_[0-9abcdefghjkmnpqrstvwxyz]{26}$/);
    expect(newId('je')).toMatch(/^je_[0-9abcdefghjkmnpqrstvwxyz]{26}$/);
  });

  it('never repeats, across many refills of its random pool', () => {
    const ids = Array.from({ length: 20_000 }, () => newId('evt'));
    expect(new Set(ids).size).toBe(ids.length);
    // The random parts alone are unique too (ids of the same millisecond differ only there).
    expect(new Set(ids.map((id) => id.slice(-16))).size).toBe(ids.length);
  });

  it('uses every character of the alphabet at every random position', () => {
    const ids = Array.from({ length: 4_000 }, () => newId('req').slice(-16));
    for (let position = 0; position < 16; position++) {
      expect(new Set(ids.map((r) => r[position])).size).toBe(32);
    }
  });

  it('sorts by creation time', async () => {
    const first = newId('inv');
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = newId('inv');
    expect(first < second).toBe(true);
    expect(first.slice(4, 14) < second.slice(4, 14)).toBe(true);
  });
});

describe('newSecret', () => {
  it('is URL-safe and different every time', () => {
    const secrets = Array.from({ length: 1_000 }, () => newSecret());
    expect(new Set(secrets).size).toBe(secrets.length);
    for (const s of secrets.slice(0, 10)) expect(s).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
