import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { containsCardNumber } from '../gateway/card-numbers.ts';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { formatId, newId, newRequestId, newSecret } from './ids.ts';

/** The 10 time characters of an id made at `timeMs`. */
const newIdTime = (timeMs: number) => formatId('x', timeMs, new Uint8Array(16)).slice(2, 12);

describe('newId', () => {
  it('is the prefix, 10 characters of time, 3 letters of sequence and 13 random ones, in lower-case Crockford base32', () => {
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
    const ids = Array.from({ length: 4_000 }, () => newId('req').slice(-13));
    for (let position = 0; position < 13; position++) {
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

  it('sorts in the order made within one millisecond; a millisecond out of numbers, or a clock set back, borrows the next', () => {
    // Last in this file: ids made after it in this process carry its time (an hour ahead), as after a clock set back.
    const at = Date.now() + 3_600_000;
    const clock = vi.spyOn(Date, 'now').mockReturnValue(at);
    try {
      // 25,000 ids in one millisecond: more than the 10,648 its 3 sequence letters number.
      const ids = Array.from({ length: 25_000 }, () => newId('ntf'));
      for (let i = 1; i < ids.length; i++) expect(ids[i - 1]! < ids[i]!).toBe(true);
      const times = [...new Set(ids.map((id) => id.slice(4, 14)))];
      expect(times).toHaveLength(3);
      expect(times).toEqual([newIdTime(at), newIdTime(at + 1), newIdTime(at + 2)]);
      expect(ids[0]!.slice(14, 17)).toBe('aaa');
      for (const id of ids) expect(id.slice(14, 17)).toMatch(/^[a-hjkmnp-tv-z]{3}$/);
      // The clock set back a second: ids still come after the last one.
      clock.mockReturnValue(at - 1_000);
      expect(newId('ntf') > ids.at(-1)!).toBe(true);
    } finally {
      clock.mockRestore();
    }
    // PostgreSQL sorts them the same way (text under the database's collation): checked in database.test.ts.
  });
});

describe('newRequestId', () => {
  it('is an id of this format, unique and in the order made, whose last 13 characters are the same for this process', () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => {
      if (i % 3 === 0) newId('je'); // other ids made between them take their own numbers
      return newRequestId();
    });
    for (const id of ids.slice(0, 50)) expect(id).toMatch(/^req_[0-9abcdefghjkmnpqrstvwxyz]{26}$/);
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 1; i < ids.length; i++) expect(ids[i - 1]! < ids[i]!).toBe(true);
    expect(new Set(ids.map((id) => id.slice(-13))).size).toBe(1);
  });

  it('has another tail in another process', () => {
    const script = `import { newRequestId } from ${JSON.stringify(fileURLToPath(new URL('./ids.ts', import.meta.url)))}; console.log(newRequestId());`;
    const tails = Array.from({ length: 2 }, () => execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim().slice(-13));
    expect(tails[0]).toMatch(/^[0-9a-z]{13}$/);
    expect(tails[0]).not.toBe(tails[1]);
    expect(tails).not.toContain(newRequestId().slice(-13));
  });
});

describe('formatId', () => {
  // Bytes whose base32 characters are the given digits (a byte below 10 is that digit).
  const digitBytes = (digits: string) => Uint8Array.from(digits, (d) => Number(d));

  it('never holds 13 digits in a row, so no id can pass for a card number at the gateway', () => {
    // 4111 1111 1111 1111 passes Luhn: as random bytes it would be a Visa number inside the id.
    const visa = formatId('ipa', Date.UTC(2026, 11, 1), digitBytes('4111111111111111'));
    expect(visa).toMatch(/^ipa_[0-9a-z]{26}$/);
    expect(visa).not.toMatch(/\d{13}/);
    expect(containsCardNumber(`folio-invoice-payment-${visa}`)).toBe(false);
    // A run that starts in the time part: 10 digits of time, then random digits.
    const allDigitTime = formatId('je', 0, digitBytes('2222222222222222'));
    expect(allDigitTime.slice(3, 13)).toBe('0000000000');
    expect(allDigitTime).not.toMatch(/\d{13}/);
    expect(allDigitTime.slice(13)).toMatch(/^\d{2}[a-z]\d{12}[a-z]$/);
  });

  it('keeps every other character as its byte says, digits included, and the same bytes give the same id', () => {
    // Digits and letters mixed, never 13 digits in a row: every byte maps to its own character.
    const bytes = Uint8Array.from({ length: 16 }, (_, i) => (i * 37) % 256);
    expect([...bytes].filter((b) => b % 32 < 10).length).toBeGreaterThan(4);
    const id = formatId('cus', 1_764_547_200_000, bytes);
    expect(id.slice(-16)).toBe([...bytes].map((b) => '0123456789abcdefghjkmnpqrstvwxyz'[b % 32]).join(''));
    expect(formatId('cus', 1_764_547_200_000, bytes)).toBe(id);
  });
});

describe('formatId, whatever the times and bytes', () => {
  const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
  const timeOf = (part: string) => [...part].reduce((t, c) => t * 32 + ALPHABET.indexOf(c), 0);

  it('writes each id’s own time, even when times alternate (the last time part is reused only for the same millisecond)', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 2 ** 45 }), fc.uint8Array({ minLength: 0, maxLength: 24 })), { minLength: 1, maxLength: 20 }),
      (calls) => {
        for (const [timeMs, bytes] of calls) {
          const id = formatId('x', timeMs, bytes);
          expect(id).toHaveLength(2 + 10 + bytes.length);
          expect(timeOf(id.slice(2, 12))).toBe(timeMs);
          expect(id).not.toMatch(/\d{13}/);
          // A random character is its byte's, unless that byte's digit would have made a 13th in a row.
          [...bytes].forEach((b, i) => {
            const c = id[12 + i]!;
            if (c !== ALPHABET[b % 32]) expect(c).toBe(ALPHABET[10 + (b % 22)]);
          });
        }
      },
    ), { numRuns: 300 });
  });
});

describe('newSecret', () => {
  it('is URL-safe and different every time', () => {
    const secrets = Array.from({ length: 1_000 }, () => newSecret());
    expect(new Set(secrets).size).toBe(secrets.length);
    for (const s of secrets.slice(0, 10)) expect(s).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
