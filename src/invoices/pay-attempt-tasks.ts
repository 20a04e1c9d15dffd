import type { TaskList } from 'graphile-worker';
import { SETTLE_STALE_PAY_ATTEMPTS_TASK, settleStalePayAttempts, type SettleStalePayAttemptsDeps } from './settle-stale-pay-attempts.ts';

/**
 * The worker's settling of stale portal pay attempts (wired in src/platform/jobs.ts; settle-stale-pay-attempts.ts):
 * every 5 minutes, on its own named queue so runs never overlap (two at once would still settle each attempt once).
 * An attempt is asked about once it is 10 minutes old, so one is settled 10 to 15 minutes after its answer was lost.
 */
export const SETTLE_STALE_PAY_ATTEMPTS_CRONTAB = `*/5 * * * * ${SETTLE_STALE_PAY_ATTEMPTS_TASK} ?max=1&queue=${SETTLE_STALE_PAY_ATTEMPTS_TASK}`;

export function payAttemptTasks(deps: SettleStalePayAttemptsDeps): TaskList {
  return {
    [SETTLE_STALE_PAY_ATTEMPTS_TASK]: async () => {
      const result = await settleStalePayAttempts(deps);
      if (result.examined > 0) deps.log.info({ ...result }, 'stale invoice payments asked about at the card gateway');
    },
  };
}
