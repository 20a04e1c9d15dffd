import type { Logger } from 'pino';
import type { FindChargeInput, FoundCharge, Gateway } from './gateway.ts';

/** When a charge request was last sent: its record's creation, or a retry that sent it again (`resumed_at`). */
export interface SentAt {
  createdAt: Date | string;
  resumedAt: Date | string | null;
}

/**
 * What the gateway says of a charge whose answer was lost, as the worker's settlers act on it: settle it (the charge as
 * the gateway knows it, or null when it never received the request), or skip it this run, counted as an error (the
 * gateway could not be asked) or untouched (a charge of another amount or currency, left for someone to look at; or no
 * such charge yet from a request too recent for a miss to prove anything).
 */
export type StaleChargeAnswer =
  | { kind: 'settle'; found: FoundCharge | null }
  | { kind: 'skip'; counted: 'errors' | 'untouched' };

/**
 * Whether a miss at the gateway proves "never charged" for a request `sent` then, asked about at `askedAtMs`: only when
 * it was sent longer ago than `staleMinutes` and the gateway's lookup lag, counted from its last sending.
 */
export function missProvesNothingCharged(gateway: Pick<Gateway, 'chargeLookupLagMs'>, staleMinutes: number, sent: SentAt, askedAtMs: number): boolean {
  const missProvesAfterMs = Math.max(staleMinutes * 60_000, gateway.chargeLookupLagMs);
  const lastSentMs = Math.max(new Date(sent.createdAt).getTime(), sent.resumedAt === null ? 0 : new Date(sent.resumedAt).getTime());
  return lastSentMs + missProvesAfterMs <= askedAtMs;
}

/**
 * Ask the gateway about a charge whose answer was lost (the shared first step of src/invoices/settle-stale-pay-attempts.ts
 * and src/topup/settle-stale-top-ups.ts): the charge requested under `lookup`, checked against what was asked for.
 */
export async function askAboutStaleCharge(
  gateway: Gateway,
  input: { lookup: FindChargeInput; currency: string; amountMicros: bigint; staleMinutes: number; sent: SentAt; askedAtMs: number },
  /** The settler's log, and what it settles in words ("invoice payment", "top-up"). */
  log: Logger,
  what: string,
): Promise<StaleChargeAnswer> {
  let found: FoundCharge | null;
  try {
    found = await gateway.findCharge(input.lookup);
  } catch (err) {
    log.warn({ err }, `could not ask the card gateway about a stale ${what}; left pending for the next run`);
    return { kind: 'skip', counted: 'errors' };
  }
  if (found && (found.currency !== input.currency || found.amountMicros !== input.amountMicros)) {
    log.error({ chargeRef: found.chargeRef, status: found.status }, `the gateway's charge for a stale ${what} does not match its amount or currency; left pending for someone to look at`);
    return { kind: 'skip', counted: 'untouched' };
  }
  // No such charge yet: the gateway may not show it yet; asked again next run.
  if (!found && !missProvesNothingCharged(gateway, input.staleMinutes, input.sent, input.askedAtMs)) return { kind: 'skip', counted: 'untouched' };
  return { kind: 'settle', found };
}

/** What a settler's run did, by outcome. */
export interface StaleSettleCounts {
  /** Completed from the gateway's answer: paid, failed at the gateway, delayed (its charge recorded), never received (failed). */
  succeeded: number;
  failed: number;
  pending: number;
  notReceived: number;
  /** Left as they were: settled meanwhile by someone else, too young for a miss to prove anything, or not matching. */
  untouched: number;
  /** Left for the next run: the gateway or the settling threw. */
  errors: number;
}

/** Count one settled (or, `settled` false, left untouched: settled meanwhile) and log what the gateway said. */
export function countSettled(counts: StaleSettleCounts, found: FoundCharge | null, settled: boolean, log: Logger, what: string): void {
  if (!settled) {
    counts.untouched++;
    return;
  }
  if (!found) counts.notReceived++;
  else counts[found.status]++;
  log.info({ outcome: found ? found.status : 'not_received', chargeRef: found?.chargeRef ?? null }, `stale ${what} settled from what the card gateway knows`);
}
