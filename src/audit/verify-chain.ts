import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope, type Scope } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';

import { PLATFORM_CHAIN } from './audit-view.ts';

/** Every partner has its own chain, keyed by its id; events without a partner form the platform's chain. */
export { PLATFORM_CHAIN };
/** Events read per query while walking a chain. */
export const VERIFY_BATCH_SIZE = 1000;
const GENESIS_HASH = '0'.repeat(64);

/**
 * - altered: the event's stored hash is not the hash of its content (it was changed after it was written).
 * - missing: events are gone: a gap in seq, a broken link (prev_hash is not the previous event's hash: the previous
 *   one was removed or replaced), or a chain head that the last event does not match (events removed at the end).
 * - out_of_order: the chain's order and the events' times disagree (an event recorded earlier than the one before it),
 *   or two events claim the same position.
 */
export type ChainProblemKind = 'altered' | 'missing' | 'out_of_order';

export interface ChainProblem {
  /** The event at (or, for events removed at the end, just before) the problem; null only when no event is left at all. */
  eventId: string | null;
  /** The position of the problem: the altered event, or the first missing position. */
  seq: number;
  kind: ChainProblemKind;
  detail: string;
}

/** The last event found intact (its hash is where an incremental check goes on from). */
export interface ChainPoint {
  seq: number;
  hash: string;
  /** `YYYY-MM-DDTHH24:MI:SS.US`, UTC, as the walk compares times. */
  at: string;
  eventId: string | null;
}

export interface ChainReport {
  chain: string;
  ok: boolean;
  /** Events examined (up to and including the first problem). */
  checked: number;
  firstProblem: ChainProblem | null;
  /** The last intact event walked (or the start point when none was walked); null when the chain is empty. */
  verifiedUpTo: ChainPoint | null;
}

export interface VerifyAuditChainResult {
  ok: boolean;
  checked: number;
  chains: ChainReport[];
}

export interface VerifyAuditChainInput {
  /** Operator and system only: one chain (a partner id or 'platform'); all of them when absent. Staff always get their own. */
  chain?: string;
  batchSize?: number;
  /** Go on from an event already verified (its seq, hash and time) instead of the chain's start: an incremental check. */
  from?: ChainPoint;
}

interface EventLink {
  id: string;
  seq: string;
  prev: string;
  hash: string;
  recomputed: string;
  at: string;
}

/**
 * Walk each chain in seq order, in bounded batches, recomputing every event's hash in the database with
 * `audit_event_hash(a)` (the very function the insert trigger uses), and report each chain's FIRST problem.
 *
 * The head is read first and the walk stops at its seq: events appended meanwhile are not yet part of what is checked,
 * so a busy trail does not look truncated. Staff verify their partner's chain through the app role (row-level
 * security applies); `npm run audit:verify` verifies every chain through the owner connection.
 */
export async function verifyAuditChain(ctx: Ctx, input: VerifyAuditChainInput = {}): Promise<VerifyAuditChainResult> {
  const p = ctx.principal;
  const scope = scopeOf(p);
  const batchSize = input.batchSize ?? VERIFY_BATCH_SIZE;
  let chains: string[];
  if (p.kind === 'staff' || p.kind === 'api_key') chains = [p.partnerId];
  else if (p.kind === 'operator' || p.kind === 'system') chains = input.chain !== undefined ? [input.chain] : await allChains(ctx, scope);
  else throw new DomainError('forbidden', 'Only partner staff and the operator can verify the audit trail');

  const reports: ChainReport[] = [];
  for (const chain of chains) reports.push(await verifyOne(ctx, scope, chain, batchSize, chains.length === 1 ? input.from : undefined));
  return { ok: reports.every((r) => r.ok), checked: reports.reduce((n, r) => n + r.checked, 0), chains: reports };
}

/** Every chain that has a head, plus every partner and the platform (a chain whose head was deleted still has a partner). */
async function allChains(ctx: Ctx, scope: Scope): Promise<string[]> {
  return inScope(ctx.db, scope, async (trx) => {
    const heads = await trx.selectFrom('auditChainHeads').select('chainKey').execute();
    const partners = await trx.selectFrom('partners').select('id').execute();
    const keys = new Set<string>([PLATFORM_CHAIN, ...partners.map((r) => r.id), ...heads.map((r) => r.chainKey)]);
    return [PLATFORM_CHAIN, ...[...keys].filter((k) => k !== PLATFORM_CHAIN).sort()];
  });
}

/**
 * The newest retention cut of a chain (events before `beforeSeq` were removed by the operator, ADR 0007): the walk
 * starts there, from the anchor (the hash and time of the last removed event), as from a genesis.
 */
async function latestCut(ctx: Ctx, scope: Scope, chain: string): Promise<ChainPoint | null> {
  const { rows } = await inScope(ctx.db, scope, (trx) =>
    sql<{ beforeSeq: string; anchorHash: string; at: string }>`
      select before_seq::text as "beforeSeq", anchor_hash as "anchorHash",
             to_char(anchor_occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') as at
      from audit_cuts where chain_key = ${chain} order by before_seq desc limit 1`.execute(trx),
  );
  const cut = rows[0];
  return cut ? { seq: Number(cut.beforeSeq) - 1, hash: cut.anchorHash, at: cut.at, eventId: null } : null;
}

async function verifyOne(ctx: Ctx, scope: Scope, chain: string, batchSize: number, from?: ChainPoint): Promise<ChainReport> {
  const head = await inScope(ctx.db, scope, (trx) =>
    trx.selectFrom('auditChainHeads').select(['lastSeq', 'lastHash']).where('chainKey', '=', chain).executeTakeFirst(),
  );
  const upTo = head ? Number(head.lastSeq) : Number.MAX_SAFE_INTEGER;
  const ownChain = chain === PLATFORM_CHAIN ? sql`a.partner_id is null` : sql`a.partner_id = ${chain}`;
  const cut = await latestCut(ctx, scope, chain);
  const start = from && (!cut || from.seq >= cut.seq) ? from : cut;

  let checked = 0;
  let expectedSeq = start ? start.seq + 1 : 1;
  let prevHash = start ? start.hash : GENESIS_HASH;
  let prevAt: string | null = start ? start.at : null;
  let lastId: string | null = start ? start.eventId : null;
  const point = (): ChainPoint | null => (expectedSeq > 1 ? { seq: expectedSeq - 1, hash: prevHash, at: prevAt ?? '', eventId: lastId } : null);
  const report = (problem: ChainProblem): ChainReport => ({ chain, ok: false, checked, firstProblem: problem, verifiedUpTo: point() });

  for (;;) {
    const after = expectedSeq - 1;
    const batch = await inScope(ctx.db, scope, async (trx) => {
      const { rows } = await sql<EventLink>`
        select a.id, a.seq::text as seq, a.prev_hash as prev, a.hash, audit_event_hash(a) as recomputed,
               to_char(a.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') as at
        from audit_events a
        where coalesce(a.partner_id, 'platform') = ${chain} and ${ownChain}
          and a.seq > ${after} and a.seq <= ${upTo}
        order by a.seq
        limit ${batchSize}`.execute(trx);
      return rows;
    });
    for (const e of batch) {
      checked += 1;
      const seq = Number(e.seq);
      if (seq < expectedSeq) {
        return report({ eventId: e.id, seq, kind: 'out_of_order', detail: `event ${e.id} claims position ${seq}, which is already taken` });
      }
      if (seq > expectedSeq) {
        const range = seq - 1 === expectedSeq ? `event ${expectedSeq} is` : `events ${expectedSeq} to ${seq - 1} are`;
        return report({ eventId: e.id, seq: expectedSeq, kind: 'missing', detail: `${range} missing before ${e.id}` });
      }
      if (e.hash !== e.recomputed) {
        return report({ eventId: e.id, seq, kind: 'altered', detail: `event ${e.id} was changed after it was recorded (its hash no longer matches its content)` });
      }
      if (e.prev !== prevHash) {
        return report({ eventId: e.id, seq, kind: 'missing', detail: `event ${e.id} does not link to the event before it: that event was removed or replaced` });
      }
      if (prevAt !== null && e.at < prevAt) {
        return report({ eventId: e.id, seq, kind: 'out_of_order', detail: `event ${e.id} is recorded earlier than the event before it` });
      }
      expectedSeq = seq + 1;
      prevHash = e.hash;
      prevAt = e.at;
      lastId = e.id;
    }
    if (batch.length < batchSize) break;
  }

  const lastSeq = expectedSeq - 1;
  if (!head) {
    if (lastSeq === 0) return { chain, ok: true, checked, firstProblem: null, verifiedUpTo: null };
    return report({ eventId: lastId, seq: lastSeq, kind: 'missing', detail: `the chain's head record is missing (last event ${lastId})` });
  }
  if (lastSeq < upTo) {
    const range = lastSeq + 1 === upTo ? `event ${upTo} is` : `events ${lastSeq + 1} to ${upTo} are`;
    return report({ eventId: lastId, seq: lastSeq + 1, kind: 'missing', detail: `${range} missing at the end of the chain${lastId ? ` (after ${lastId})` : ''}` });
  }
  if (lastSeq > 0 && prevHash !== head.lastHash) {
    return report({ eventId: lastId, seq: lastSeq, kind: 'missing', detail: `the last event ${lastId} is not the one the chain's head recorded: it was replaced` });
  }
  return { chain, ok: true, checked, firstProblem: null, verifiedUpTo: point() };
}
