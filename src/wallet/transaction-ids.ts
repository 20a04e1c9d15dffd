import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { sql } from 'kysely';
import { inScope, type Db } from '../platform/database.ts';

/**
 * A transaction's id in the feed, and the feed's cursor: `txn_` and 22 URL-safe characters, the posting's number
 * enciphered (AES-128 over one block: the number as 8 bytes, then a fixed 8-byte tag) with a key the platform keeps in
 * its database (`platform_keys`, migration 0074). Postings are numbered by one sequence for every partner; an id that
 * showed the number told a customer how many postings the whole platform wrote between two of theirs. Each posting
 * keeps one id for good; a cursor that does not decipher to the tag is not one of ours.
 */
export interface TransactionIds {
  /** The ids of these postings, in order: one cipher for the whole page. */
  idsOf(postingIds: readonly string[]): string[];
  /** The posting a transaction id names; null for anything that is not one of these ids. */
  postingIdOf(transactionId: string): string | null;
}

const PREFIX = 'txn_';
const TAG = Buffer.from('folio-tx', 'latin1');
const BLOCK_BYTES = 16;
const ID_PATTERN = /^txn_([A-Za-z0-9_-]{22})$/;
/** The largest posting number there can be (PostgreSQL's bigint). */
const MAX_POSTING_ID = 2n ** 63n - 1n;

export function transactionIdsWith(key: Buffer): TransactionIds {
  assert(key.length === BLOCK_BYTES, 'a transaction id key is 16 bytes');
  return {
    idsOf(postingIds) {
      if (postingIds.length === 0) return [];
      const blocks = Buffer.alloc(postingIds.length * BLOCK_BYTES);
      postingIds.forEach((id, i) => {
        const n = BigInt(id);
        assert(n >= 0n && n <= MAX_POSTING_ID, 'a posting number is a bigint');
        blocks.writeBigUInt64BE(n, i * BLOCK_BYTES);
        TAG.copy(blocks, i * BLOCK_BYTES + 8);
      });
      const cipher = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
      const sealed = Buffer.concat([cipher.update(blocks), cipher.final()]);
      return postingIds.map((_, i) => PREFIX + sealed.subarray(i * BLOCK_BYTES, (i + 1) * BLOCK_BYTES).toString('base64url'));
    },
    postingIdOf(transactionId) {
      const m = ID_PATTERN.exec(transactionId);
      if (!m) return null;
      const sealed = Buffer.from(m[1]!, 'base64url');
      // 22 characters carry 132 bits: a text whose last 4 bits are not zero is not the writing of 16 bytes.
      if (sealed.length !== BLOCK_BYTES || sealed.toString('base64url') !== m[1]) return null;
      const decipher = createDecipheriv('aes-128-ecb', key, null).setAutoPadding(false);
      const block = Buffer.concat([decipher.update(sealed), decipher.final()]);
      if (!block.subarray(8).equals(TAG)) return null;
      const n = block.readBigUInt64BE(0);
      return n <= MAX_POSTING_ID ? String(n) : null;
    },
  };
}

const loaded = new WeakMap<Db, Promise<TransactionIds>>();

/** The platform's transaction ids, read once per database handle (the key never changes). */
export function transactionIds(db: Db): Promise<TransactionIds> {
  let ids = loaded.get(db);
  if (!ids) {
    ids = inScope(db, { kind: 'system' }, async (trx) => {
      const { rows } = await sql<{ key: Buffer }>`select key from platform_keys where name = 'transaction_ids'`.execute(trx);
      assert(rows[0], 'the transaction id key exists (migration 0074)');
      return transactionIdsWith(rows[0].key);
    });
    // A failed read is not kept: the next request tries again.
    ids.catch(() => loaded.delete(db));
    loaded.set(db, ids);
  }
  return ids;
}
