import type { TaskList } from 'graphile-worker';
import { runCreditLimitExpiry, CREDIT_LIMIT_EXPIRY_BATCH, type CreditLimitExpiryDeps } from './credit-limit-expiry.ts';

/**
 * The worker's credit limit work (wired in src/platform/jobs.ts): `credit_limit_expiry`, a graphile-worker cron task
 * every minute, one bounded batch of expired temporary limits cleared and what was spent under them billed
 * (credit-limit-expiry.ts).
 */
export const CREDIT_LIMIT_EXPIRY_TASK = 'credit_limit_expiry';
export const CREDIT_LIMIT_EXPIRY_CRONTAB = `* * * * * ${CREDIT_LIMIT_EXPIRY_TASK} ?max=1`;

export function creditLimitTasks(deps: CreditLimitExpiryDeps): TaskList {
  return {
    [CREDIT_LIMIT_EXPIRY_TASK]: async () => {
      await runCreditLimitExpiry(deps, { limit: CREDIT_LIMIT_EXPIRY_BATCH });
    },
  };
}
