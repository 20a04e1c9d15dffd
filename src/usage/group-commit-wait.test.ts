import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { awaitReturningCallers, RETURN_GAP_MS, RETURN_WAIT_MAX_MS, type Job, type PartnerQueue } from './ingest-calls.ts';

// The group commit's wait for the callers a transaction just answered (ADR 0018, amendment of 2026-12-04, later), on
// fake timers: which arrivals end it, and the two bounds that keep an idle or bursty partner from waiting long.

function queueWith(waiting: number): PartnerQueue {
  return { jobs: Array.from({ length: waiting }, () => ({}) as Job), running: true };
}

/** A request joins the queue as `enqueue` adds it: pushed, then the waiting runner told. */
function arrive(queue: PartnerQueue): void {
  queue.jobs.push({} as Job);
  queue.arrived?.();
}

function watch(promise: Promise<void>): { done: () => boolean } {
  let done = false;
  void promise.then(() => (done = true));
  return { done: () => done };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('waiting for the callers just answered', () => {
  it('goes as soon as as many requests as it answered have come back, on top of those already waiting', async () => {
    const queue = queueWith(1);
    const wait = watch(awaitReturningCallers(queue, 3));
    for (let i = 0; i < 2; i++) {
      await vi.advanceTimersByTimeAsync(RETURN_GAP_MS / 2);
      arrive(queue);
      await vi.advanceTimersByTimeAsync(0);
      expect(wait.done()).toBe(false);
    }
    arrive(queue);
    await vi.advanceTimersByTimeAsync(0);
    expect(wait.done()).toBe(true);
    expect(queue.jobs).toHaveLength(4);
    // It stops listening: later arrivals only queue.
    expect(queue.arrived).toBeUndefined();
  });

  it('goes when no request has arrived for RETURN_GAP_MS: the callers are not coming back', async () => {
    const queue = queueWith(0);
    const wait = watch(awaitReturningCallers(queue, 5));
    await vi.advanceTimersByTimeAsync(RETURN_GAP_MS - 1);
    expect(wait.done()).toBe(false);
    arrive(queue);
    // Each arrival gives the others another gap's time.
    await vi.advanceTimersByTimeAsync(RETURN_GAP_MS - 1);
    expect(wait.done()).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(wait.done()).toBe(true);
    expect(queue.jobs).toHaveLength(1);
    expect(queue.arrived).toBeUndefined();
  });

  it('never waits longer than RETURN_WAIT_MAX_MS, however steadily requests trickle in', async () => {
    const queue = queueWith(0);
    const wait = watch(awaitReturningCallers(queue, 1_000));
    let waitedMs = 0;
    while (!wait.done()) {
      await vi.advanceTimersByTimeAsync(1);
      waitedMs++;
      arrive(queue);
      expect(waitedMs).toBeLessThanOrEqual(RETURN_WAIT_MAX_MS);
    }
    expect(waitedMs).toBe(RETURN_WAIT_MAX_MS);
    expect(RETURN_WAIT_MAX_MS).toBeGreaterThan(RETURN_GAP_MS);
  });
});
