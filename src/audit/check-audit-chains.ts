import type { TaskList } from 'graphile-worker';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../platform/clock.ts';
import type { Config } from '../platform/config.ts';
import type { Ctx } from '../platform/context.ts';
import { inScope, type Db, type Trx } from '../platform/database.ts';
import { enqueueNotification } from '../notifications/enqueue-notification.ts';
import { activeAppHolders } from '../access/app-holders.ts';
import { PLATFORM_CHAIN, verifyAuditChain, type ChainPoint, type ChainReport } from './verify-chain.ts';
import type {} from './audit.db-types.ts';

/**
 * The worker's scheduled chain check (wired in src/platform/jobs.ts), every 10 minutes. Each chain is verified
 * incrementally, from the last event verified before (`audit_chain_checks`), or from its newest retention cut, up to
 * its head; and once its last full pass began `FULL_PASS_EVERY_HOURS` ago or more (or never), from its start (or its
 * newest cut) instead, so an older event altered in place is found too (migration 0054: `fully_verified_at`). A run
 * starts full passes oldest-due first while their chains hold at most `FULL_PASS_EVENTS_PER_RUN` events in all (at
 * least one per run); a due chain left out stays incremental this run and comes first in the next.
 * The result is kept per chain: "verified up to event N at time T, fully verified from the start at F", or the first
 * broken link. A new break (another event than the one already on record), found either way, alerts the partner's
 * Audit app holders by email, once.
 *
 * A break stays on record, and later checks start again from the last intact event, so it is found again (and not
 * alerted again) until it is explained; a chain whose problem has gone (e.g. a test restored the row) is marked intact.
 */
export const AUDIT_CHAIN_CHECK_TASK = 'check_audit_chains';
export const AUDIT_CHAIN_CHECK_CRONTAB = `*/10 * * * * ${AUDIT_CHAIN_CHECK_TASK} ?max=1&queue=${AUDIT_CHAIN_CHECK_TASK}`;
/** A chain is due a full pass when its last one began this long ago, or never ran. */
export const FULL_PASS_EVERY_HOURS = 24;
/** A run starts no further full pass once the chains it has chosen hold this many events (the first is always started). */
export const FULL_PASS_EVENTS_PER_RUN = 2_000_000;

export interface ChainCheckDeps {
  db: Db;
  log: Logger;
  config: Config;
  clock?: Clock;
  /** Overrides `FULL_PASS_EVENTS_PER_RUN` (tests). */
  fullPassEventsPerRun?: number;
}

export interface ChainCheckOutcome {
  chain: string;
  ok: boolean;
  checked: number;
  verifiedSeq: number;
  /** Walked from the chain's start (or newest cut) rather than from the last verified event. */
  full: boolean;
  /** A break found now that was not on record before: its alert was sent. */
  alerted: boolean;
}

function systemCtx(deps: ChainCheckDeps): Ctx {
  return {
    db: deps.db, config: deps.config, log: deps.log, principal: { kind: 'system', job: AUDIT_CHAIN_CHECK_TASK },
    requestId: null, ip: null, userAgent: null, clock: deps.clock ?? systemClock,
  };
}

async function chainKeys(trx: Trx): Promise<string[]> {
  const heads = await trx.selectFrom('auditChainHeads').select('chainKey').execute();
  const keys = heads.map((h) => h.chainKey).filter((k) => k !== PLATFORM_CHAIN).sort();
  return heads.some((h) => h.chainKey === PLATFORM_CHAIN) ? [PLATFORM_CHAIN, ...keys] : keys;
}

/** Check every chain (or the given ones): incrementally, or from the start when a full pass is due; record and alert. */
export async function checkAuditChains(deps: ChainCheckDeps, only?: readonly string[]): Promise<ChainCheckOutcome[]> {
  const ctx = systemCtx(deps);
  const chains = only ?? (await inScope(deps.db, { kind: 'system' }, chainKeys));
  const fullPasses = await fullPassesDue(ctx, chains, deps.fullPassEventsPerRun ?? FULL_PASS_EVENTS_PER_RUN);
  const outcomes: ChainCheckOutcome[] = [];
  for (const chain of chains) outcomes.push(await checkOne(ctx, chain, fullPasses.has(chain)));
  return outcomes;
}

/**
 * The chains this run walks from the start: those whose last full pass began `FULL_PASS_EVERY_HOURS` ago or more (or
 * never), oldest first, while their events (head position less the newest cut) stay within `eventBudget`; at least one.
 */
async function fullPassesDue(ctx: Ctx, chains: readonly string[], eventBudget: number): Promise<Set<string>> {
  if (chains.length === 0) return new Set();
  const { rows } = await inScope(ctx.db, { kind: 'system' }, (trx) =>
    sql<{ chainKey: string; fullyVerifiedAt: Date | null; events: string }>`
      select c.chain_key as "chainKey", k.fully_verified_at as "fullyVerifiedAt",
             greatest(coalesce(h.last_seq, 0) - coalesce((select max(u.before_seq) - 1 from audit_cuts u where u.chain_key = c.chain_key), 0), 0)::text as events
      from unnest(${[...chains]}::text[]) as c(chain_key)
      left join audit_chain_checks k on k.chain_key = c.chain_key
      left join audit_chain_heads h on h.chain_key = c.chain_key`.execute(trx),
  );
  const dueBefore = ctx.clock.now().getTime() - FULL_PASS_EVERY_HOURS * 3_600_000;
  const due = rows
    .filter((r) => r.fullyVerifiedAt === null || r.fullyVerifiedAt.getTime() <= dueBefore)
    .sort((a, b) => (a.fullyVerifiedAt?.getTime() ?? -Infinity) - (b.fullyVerifiedAt?.getTime() ?? -Infinity) || (a.chainKey < b.chainKey ? -1 : 1));
  const chosen = new Set<string>();
  let events = 0;
  for (const r of due) {
    if (chosen.size > 0 && events + Number(r.events) > eventBudget) break;
    chosen.add(r.chainKey);
    events += Number(r.events);
  }
  return chosen;
}

async function checkOne(ctx: Ctx, chain: string, fullPassDue: boolean): Promise<ChainCheckOutcome> {
  const partnerId = chain === PLATFORM_CHAIN ? null : chain;
  const startedAt = ctx.clock.now();
  const previous = fullPassDue ? undefined : await inScope(ctx.db, { kind: 'system' }, async (trx) => {
    const { rows } = await sql<{ seq: string; hash: string; at: string | null; eventId: string | null }>`
      select verified_seq::text as seq, verified_hash as hash, verified_event_id as "eventId",
             to_char(verified_occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') as at
      from audit_chain_checks where chain_key = ${chain}`.execute(trx);
    return rows[0];
  });
  const from: ChainPoint | undefined =
    previous && Number(previous.seq) > 0 && previous.at ? { seq: Number(previous.seq), hash: previous.hash, at: previous.at, eventId: previous.eventId } : undefined;
  // Without a point to go on from, the walk starts at the chain's start (or newest cut): a full pass either way.
  const full = from === undefined;
  const result = await verifyAuditChain(ctx, { chain, ...(from ? { from } : {}) });
  const report = result.chains[0]!;
  const alerted = await record(ctx, chain, partnerId, report, full ? startedAt : null);
  if (!report.ok) ctx.log.error({ chain, full, problem: report.firstProblem }, 'audit chain broken');
  return { chain, ok: report.ok, checked: report.checked, verifiedSeq: report.verifiedUpTo?.seq ?? 0, full, alerted };
}

/**
 * Store the outcome (a full pass also its start, `fullyVerifiedAt`); on a break not already on record, notify the
 * partner's Audit holders (same transaction).
 */
async function record(ctx: Ctx, chain: string, partnerId: string | null, report: ChainReport, fullyVerifiedAt: Date | null): Promise<boolean> {
  return inScope(ctx.db, { kind: 'system' }, async (trx) => {
    const existing = await trx.selectFrom('auditChainChecks').select(['problemEventId', 'problemSeq', 'problemKind']).where('chainKey', '=', chain).forUpdate().executeTakeFirst();
    const point = report.verifiedUpTo;
    // The event's time is kept with microseconds: the next check compares times at that precision.
    const verified = {
      verifiedSeq: point?.seq ?? 0,
      verifiedHash: point?.hash ?? '0'.repeat(64),
      verifiedEventId: point?.eventId ?? null,
      verifiedOccurredAt: point?.at ? sql<Date>`(${point.at}::timestamp at time zone 'UTC')` : null,
      checkedAt: sql<Date>`clock_timestamp()`,
      ...(fullyVerifiedAt ? { fullyVerifiedAt } : {}),
    };
    const problem = report.firstProblem;
    const sameBreak = problem !== null && existing?.problemKind === problem.kind && Number(existing.problemSeq) === problem.seq
      && (existing.problemEventId ?? null) === problem.eventId;
    const problemColumns = problem
      ? sameBreak ? {} : {
        problemSeq: problem.seq, problemEventId: problem.eventId, problemKind: problem.kind, problemDetail: problem.detail,
        problemDetectedAt: sql<Date>`clock_timestamp()`, problemAlertedAt: null,
      }
      : { problemSeq: null, problemEventId: null, problemKind: null, problemDetail: null, problemDetectedAt: null, problemAlertedAt: null };
    const values = { ...verified, ...problemColumns };
    if (existing) await trx.updateTable('auditChainChecks').set(values).where('chainKey', '=', chain).execute();
    else await trx.insertInto('auditChainChecks').values({ chainKey: chain, partnerId, ...values }).execute();

    if (!problem || sameBreak || partnerId === null) return false;
    const holders = await activeAppHolders(trx, partnerId, 'audit');
    for (const holder of holders) {
      await enqueueNotification(trx, {
        partnerId, customerId: null, userId: holder.id, toEmail: holder.email, kind: 'audit_chain_broken',
        subject: 'Audit trail: a broken link was found',
        bodyText:
          `The scheduled check of your audit trail found a problem at event ${problem.eventId ?? '(none)'} (position ${problem.seq}): ` +
          `${problem.detail}.\nThe trail is verified up to position ${point?.seq ?? 0}. Open the Audit app for the chain status.`,
      });
    }
    await trx.updateTable('auditChainChecks').set({ problemAlertedAt: sql<Date>`clock_timestamp()` }).where('chainKey', '=', chain).execute();
    return true;
  });
}

export function auditChainTasks(deps: ChainCheckDeps): TaskList {
  return {
    [AUDIT_CHAIN_CHECK_TASK]: async () => {
      const outcomes = await checkAuditChains(deps);
      const broken = outcomes.filter((o) => !o.ok).map((o) => o.chain);
      const fullPasses = outcomes.filter((o) => o.full).length;
      deps.log.info({ chains: outcomes.length, fullPasses, checked: outcomes.reduce((n, o) => n + o.checked, 0), broken }, 'audit chains checked');
    },
  };
}
