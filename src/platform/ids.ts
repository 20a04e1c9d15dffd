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

/** Letters (alphabet indexes 10-31, in sorting order) that number the ids one process makes within one millisecond. */
const SEQUENCE_LETTERS = 22;
const SEQUENCE_CHARS = 3;
const SEQUENCE_MAX = SEQUENCE_LETTERS ** SEQUENCE_CHARS; // 10,648 ids per millisecond
let lastTimeMs = 0;
let sequence = 0;

/**
 * Opaque, type-prefixed, time-sortable id: `cus_` + 10 base32 chars of milliseconds + 16 base32 chars, of which the
 * first 3 are letters numbering the ids this process made in that millisecond and the other 13 are random (65 bits).
 * Sorting ids sorts by creation time, and ids made by one process sort in the order they were made, even within a
 * millisecond (a transaction's audit events or messages list in the order written), so lists can page by id. The
 * clock never goes back for ids: a millisecond that ran out of numbers, or a clock set back, uses the last one + 1.
 */
export function newId(prefix: IdPrefix): string {
  if (idPoolOffset === idPool.length) {
    randomFillSync(idPool);
    idPoolOffset = 0;
  }
  const bytes = idPool.subarray(idPoolOffset, idPoolOffset + ID_RANDOM_BYTES);
  idPoolOffset += ID_RANDOM_BYTES;
  return sequencedId(prefix, bytes);
}

/**
 * The bytes of every request id this process makes: the first SEQUENCE_CHARS are each id's sequence letters, the
 * other 13 the process's tag, drawn once when it starts.
 */
const requestIdBytes = randomBytes(ID_RANDOM_BYTES);

/**
 * A request id (`req_`): the time and sequence of `newId`, then 13 characters that are the same for every request id
 * this process makes (drawn at random when it starts). Unique as every id is: within a process by time and sequence,
 * between processes by the tag (65 random bits). The request ids of requests answered together share most of their
 * trigrams, so the audit event naming them (one per group of call-charging requests, ~16 at 16 clients) adds a few
 * search keys per request instead of ~16 (ADR 0033).
 */
export function newRequestId(): string {
  return sequencedId('req', requestIdBytes);
}

/** `bytes` with its first SEQUENCE_CHARS overwritten by the sequence number, after the time. */
function sequencedId(prefix: IdPrefix, bytes: Uint8Array): string {
  const nowMs = Date.now();
  if (nowMs > lastTimeMs) {
    lastTimeMs = nowMs;
    sequence = 0;
  } else if (++sequence === SEQUENCE_MAX) {
    lastTimeMs++;
    sequence = 0;
  }
  let rest = sequence;
  for (let i = SEQUENCE_CHARS - 1; i >= 0; i--) {
    bytes[i] = 10 + (rest % SEQUENCE_LETTERS);
    rest = Math.floor(rest / SEQUENCE_LETTERS);
  }
  return formatId(prefix, lastTimeMs, bytes);
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
  if (timeMs !== timeCache.ms) {
    let time = timeMs;
    let timePart = '';
    for (let i = 0; i < 10; i++) {
      timePart = ALPHABET[time % 32]! + timePart;
      time = Math.floor(time / 32);
    }
    let digits = 0;
    while (digits < timePart.length && timePart.charCodeAt(timePart.length - 1 - digits) <= 57) digits++;
    timeCache = { ms: timeMs, part: timePart, endingDigits: digits };
  }
  let run = timeCache.endingDigits;
  // The random part as character codes, made into one string at once (a string per character cost the server's
  // batches a tenth of what they allocated).
  const codes = random.length === randomCodes.length ? randomCodes : new Array<number>(random.length);
  for (let i = 0; i < random.length; i++) {
    const byte = random[i]!;
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
    codes[i] = ALPHABET_CODES[index]!;
  }
  return `${prefix}_${timeCache.part}${String.fromCharCode(...codes)}`;
}

/** The time part of the last id made (the ids of one millisecond share it) and how many digits it ends with. */
let timeCache = { ms: Number.NaN, part: '', endingDigits: 0 };
const ALPHABET_CODES = Array.from(ALPHABET, (c) => c.charCodeAt(0));
const randomCodes = new Array<number>(ID_RANDOM_BYTES).fill(0);

/** A random secret for tokens (session, API key, invitation), URL-safe. */
export function newSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
