/**
 * Answers that must not tell which emails have an account take at least a floor of time, whatever they did: a known
 * address writes a token, an email and an audit event; an unknown one nothing. Injectable so tests see the wait asked
 * for without waiting it.
 */
export interface Timing {
  /** A monotonic reading, in milliseconds. */
  nowMs(): number;
  sleep(ms: number): Promise<void>;
}

export const realTiming: Timing = {
  nowMs: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Run `work`, then wait until `floorMs` have passed since it started (also when it threw). */
export async function withTimeFloor<T>(floorMs: number, work: () => Promise<T>, timing: Timing = realTiming): Promise<T> {
  const startedMs = timing.nowMs();
  try {
    return await work();
  } finally {
    const waitMs = floorMs - (timing.nowMs() - startedMs);
    if (waitMs > 0) await timing.sleep(waitMs);
  }
}
