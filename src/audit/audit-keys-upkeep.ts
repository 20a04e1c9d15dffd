import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Db } from '../platform/database.ts';
import { startBackgroundLoop, type BackgroundLoop } from '../platform/background-loop.ts';

/**
 * The audit trail's search keys (a GIN index, migration 0038) take new events into the index's pending list, a cheap
 * append; merging that list into the index is the expensive part. PostgreSQL merges it when the list outgrows
 * `gin_pending_list_limit` — in whichever insert fills it, inside that transaction's commit (for a money flow, while it
 * holds its partner's accounts and audit chain) — or when (auto)vacuum runs. Migration 0049 gives the list room (16 MB)
 * and this loop, in the worker, merges it every 2 seconds instead, off every request's path. Every search reads the
 * pending list as well, so it is kept to a few seconds of events (a few MB under heavy load; the inserts' own merges let
 * it reach 4 MB). (ADR 0018, amendment of 2026-12-04, later.)
 */
export const AUDIT_KEYS_UPKEEP_INTERVAL_MS = 2_000;

/** Merge the pending list into the index now; returns how many list pages it emptied (0 when there was nothing). */
export async function mergeAuditKeysPendingList(owner: Db): Promise<number> {
  const { rows } = await sql<{ pages: string }>`select gin_clean_pending_list('audit_events_search_keys'::regclass)::text as pages`.execute(owner);
  return Number(rows[0]!.pages);
}

/** The worker's loop (src/platform/jobs.ts); needs the owner's connection (the index's owner may merge it). */
export function startAuditKeysUpkeep(deps: { owner: Db; log: Logger }, intervalMs = AUDIT_KEYS_UPKEEP_INTERVAL_MS): BackgroundLoop {
  return startBackgroundLoop({
    name: 'audit search keys upkeep', intervalMs, log: deps.log,
    round: async () => {
      const pages = await mergeAuditKeysPendingList(deps.owner);
      if (pages > 0) deps.log.debug({ pages }, 'audit search keys merged into their index');
    },
  });
}
