import type { Logger } from 'pino';

/**
 * Work a process repeats every few seconds, where graphile-worker's cron (one-minute steps, a queue row and a log line
 * per run) would be too coarse: a timer in the worker process. One round at a time (the next is scheduled when the last
 * ends, never overlapping it); a failed round is logged and the next one tries again.
 */
export interface BackgroundLoop {
  /** Stop the loop and wait for a round in progress to finish. */
  stop(): Promise<void>;
}

export function startBackgroundLoop(options: { name: string; intervalMs: number; log: Logger; round: () => Promise<void> }): BackgroundLoop {
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let current: Promise<void> = Promise.resolve();
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      current = options.round()
        .catch((err: unknown) => options.log.error({ err, loop: options.name }, `${options.name} failed; tried again next round`))
        .finally(schedule);
    }, options.intervalMs);
    timer.unref();
  };
  schedule();
  return {
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current;
    },
  };
}
