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
  if (idPoolOffset === idPool.length) {
    randomFillSync(idPool);
    idPoolOffset = 0;
  }
  const id = formatId(prefix, Date.now(), idPool.subarray(idPoolOffset, idPoolOffset + ID_RANDOM_BYTES));
  idPoolOffset += ID_RANDOM_BYTES;
  return id;
}

/** Digits in a row an id never exceeds: card numbers have 13 to 19, and the gateway refuses text holding one. */
const MAX_DIGIT_RUN = 12;

/**
 * An id from its parts: the time in base32, then one base32 character per random byte — except that a digit which
 * would make a 13th digit in a row becomes a letter. Our ids travel in gateway idempotency keys, descriptions and
 * metadata, which refuse anything that looks like a card number (13-19 digits passing Luhn): without this, about one
 * charge in a few million would be refused because of its own ids.
 */
export function formatId(prefix: string, timeMs: number, random: Uint8Array): string {
  let time = timeMs;
  let timePart = '';
  for (let i = 0; i < 10; i++) {
    timePart = ALPHABET[time % 32]! + timePart;
    time = Math.floor(time / 32);
  }
  let run = 0;
  while (run < timePart.length && timePart.charCodeAt(timePart.length - 1 - run) <= 57) run++;
  let randomPart = '';
  for (const byte of random) {
    let index = byte % 32;
    if (index < 10) {
      if (run === MAX_DIGIT_RUN) {
        index = 10 + (byte % 22);
        run = 0;
      } else {
        run++;
      }
    } else {
      run = 0;
    }
    randomPart += ALPHABET[index]!;
  }
  return `${prefix}_${timePart}${randomPart}`;
}

/** A random secret for tokens (session, API key, invitation), URL-safe. */
export function newSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
