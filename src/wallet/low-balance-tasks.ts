import type { TaskList } from 'graphile-worker';
import { runLowBalanceSweep, LOW_BALANCE_BATCH, type LowBalanceSweepDeps } from './low-balance-sweep.ts';

/**
 * The worker's low balance work (wired in src/platform/jobs.ts): `low_balance_sweep`, a graphile-worker cron task every
 * minute, one bounded batch of wallets armed and alerted (low-balance-sweep.ts).
 */
export const LOW_BALANCE_SWEEP_TASK = 'low_balance_sweep';
export const LOW_BALANCE_SWEEP_CRONTAB = `* * * * * ${LOW_BALANCE_SWEEP_TASK} ?max=1`;

export function lowBalanceTasks(deps: LowBalanceSweepDeps): TaskList {
  return {
    [LOW_BALANCE_SWEEP_TASK]: async () => {
      await runLowBalanceSweep(deps, { limit: LOW_BALANCE_BATCH });
    },
  };
}
