import { randomBytes, randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case

export type IdPrefix =
  | 'ptn' | 'cus' | 'usr' | 'acr' | 'ivt' | 'utk' | 'ses' | 'lch' | 'key' | 'evt' | 'ntf' | 'req'
  | 'inv' | 'pay' | 'cn' | 'sub' | 'prd' | 'txn' | 'je' | 'acc' | 'alc' | 'top' | 'dsc' | 'cal' | 'rsv' | 'cbt'
  | 'ipy' | 'ipa' | 'stm'
  | 'bst' | 'bsl';

/**
 * Random bytes for ids, drawn from the operating system a pool at a time: one `getrandom` call per 256 ids instead of
 * one per id (a charged call makes several ids; a system call each was ~6% of the API server's CPU under load). Ids
 * are not secrets (`newSecret` draws its own bytes), they only must not collide.
 */
const ID_RANDOM_BYTES = 16;
const idPool = Buffer.alloc(ID_RANDOM_BYTES * 256);
let idPoolOffset = idPool.length;

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
  if (idPoolOffset === idPool.length) {
    randomFillSync(idPool);
    idPoolOffset = 0;
  }
  let randomPart = '';
  for (let i = idPoolOffset; i < idPoolOffset + ID_RANDOM_BYTES; i++) randomPart += ALPHABET[idPool[i]! % 32]!;
  idPoolOffset += ID_RANDOM_BYTES;
  return `${prefix}_${timePart}${randomPart}`;
}

/** A random secret for tokens (session, API key, invitation), URL-safe. */
export function newSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
