/**
 * Time is injectable (issue 4): use cases read `ctx.clock.now()`, never `new Date()` or the database's `now()`, for any
 * instant that a rule depends on (periods, renewals, expiry, refunds, due dates). Production runs on `systemClock`;
 * tests hold a `TestClock` and move it through renewals, expiry and termination instead of waiting.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = {
  now: () => new Date(),
};

/**
 * A clock a test sets and moves. Until `set` is called it follows the system clock, so a test that never touches it
 * behaves as before; once set, time stands still except when moved with `set`/`advance`.
 */
export class TestClock implements Clock {
  private fixed: Date | null = null;

  now(): Date {
    return this.fixed ? new Date(this.fixed.getTime()) : new Date();
  }

  /** Stand still at this instant (a Date or an RFC 3339 string). */
  set(at: Date | string): void {
    const d = typeof at === 'string' ? new Date(at) : new Date(at.getTime());
    if (Number.isNaN(d.getTime())) throw new Error(`not a time: ${String(at)}`);
    this.fixed = d;
  }

  /** Move forward (or back, with a negative amount) from the current reading, then stand still there. */
  advance(by: { days?: number; hours?: number; minutes?: number; seconds?: number; ms?: number }): void {
    const ms = (by.days ?? 0) * 86_400_000 + (by.hours ?? 0) * 3_600_000 + (by.minutes ?? 0) * 60_000 + (by.seconds ?? 0) * 1000 + (by.ms ?? 0);
    this.fixed = new Date(this.now().getTime() + ms);
  }

  /** Follow the system clock again. */
  reset(): void {
    this.fixed = null;
  }
}
