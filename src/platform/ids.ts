import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case

export type IdPrefix =
  | 'ptn' | 'cus' | 'usr' | 'acr' | 'ivt' | 'utk' | 'ses' | 'lch' | 'key' | 'evt' | 'ntf' | 'req'
  | 'inv' | 'pay' | 'cn' | 'sub' | 'prd' | 'txn' | 'je' | 'acc' | 'alc' | 'top' | 'dsc' | 'cal' | 'rsv' | 'cbt'
  | 'ipy' | 'ipa' | 'stm'
  | 'bst' | 'bsl';

/**
 * Opaque, type-prefixed, time-sortable id: `cus_` + 10 base32 chars of milliseconds + 16 random base32 chars.
 * Sorting ids sorts by creation time, so lists can page by id.
 */
export function newId(prefix: IdPrefix): string {
  let time = Date.now();
  let timePart = '';
  for (let i = 0; i < 10; i++) {
    timePart = ALPHABET[time % 32]! + timePart;
    time = Math.floor(time / 32);
  }
  const bytes = randomBytes(16);
  let randomPart = '';
  for (const byte of bytes) randomPart += ALPHABET[byte % 32]!;
  return `${prefix}_${timePart}${randomPart}`;
}

/** A random secret for tokens (session, API key, invitation), URL-safe. */
export function newSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
