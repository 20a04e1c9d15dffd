import type { FindChargeInput, FoundCharge, Gateway } from './gateway.ts';

/** When a charge request was last sent: its record's creation, or a retry that sent it again (`resumed_at`). */
export interface SentAt {
  createdAt: Date | string;
  resumedAt: Date | string | null;
}

/** What the gateway says of a charge whose answer was lost, as the worker's settlers act on it. */
export type StaleChargeAnswer =
  /** The gateway could not be asked: leave it for the next run. */
  | { kind: 'error'; err: unknown }
  /** The gateway's charge under that key is for another amount or currency: leave it for someone to look at. */
  | { kind: 'mismatch'; found: FoundCharge }
  /** No such charge, but the request may not show yet (sent too recently): ask again next run. */
  | { kind: 'too_young' }
  /** Settle it: the charge as the gateway knows it, or null when it never received the request. */
  | { kind: 'settle'; found: FoundCharge | null };

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
): Promise<StaleChargeAnswer> {
  let found: FoundCharge | null;
  try {
    found = await gateway.findCharge(input.lookup);
  } catch (err) {
    return { kind: 'error', err };
  }
  if (found && (found.currency !== input.currency || found.amountMicros !== input.amountMicros)) return { kind: 'mismatch', found };
  if (!found && !missProvesNothingCharged(gateway, input.staleMinutes, input.sent, input.askedAtMs)) return { kind: 'too_young' };
  return { kind: 'settle', found };
}
