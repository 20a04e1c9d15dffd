import type { TaskList } from 'graphile-worker';
import { systemClock, type Clock } from '../../platform/clock.ts';
import type { RenewalDeps } from './renewal-by-card.ts';
import { runRenewals } from './run-renewals.ts';

/**
 * The worker's renewal run (wired in src/platform/jobs.ts): a graphile-worker cron task every hour, at minute 5. Renewal,
 * notice, expiry and termination dates are whole UTC days, so hourly runs act on each within the hour after it comes, and a
 * missed hour (a deploy, a restart) is caught up by the next. The task runs in its own named queue, so one worker runs it
 * at a time; two at once (two deployments) would still charge once (renew-groups.ts locks and rechecks).
 */
export const RENEWALS_TASK = 'subscription_renewals';
export const RENEWALS_CRONTAB = `5 * * * * ${RENEWALS_TASK} ?max=1&queue=${RENEWALS_TASK}`;
/** Organisations renewed per transaction. */
export const RENEWALS_BATCH = 500;

export function renewalTasks(deps: RenewalDeps & { clock?: Clock }): TaskList {
  return {
    [RENEWALS_TASK]: async () => {
      await runRenewals(deps, { asOf: (deps.clock ?? systemClock).now(), batchSize: RENEWALS_BATCH });
    },
  };
}
