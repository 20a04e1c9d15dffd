import type { TaskList } from 'graphile-worker';
import { systemClock } from '../../platform/clock.ts';
import { DEFAULT_STATEMENT_BATCH, generateMonthlyStatements, type StatementDeps } from './generate-monthly-statements.ts';
import { monthJustEnded } from './statement-summary.ts';

/**
 * The worker's monthly statement run (wired in src/platform/jobs.ts): a graphile-worker cron task at 00:30 UTC on the
 * 1st of each month, stating the month just ended for every partner. Its own named queue runs one at a time; a second
 * run (a retry, two deployments, a catch-up by hand) writes nothing twice (generate-monthly-statements.ts). Half an hour
 * after midnight leaves any transaction that began before midnight time to commit its postings into the month it
 * belongs to.
 */
export const STATEMENTS_TASK = 'monthly_statements';
export const STATEMENTS_CRONTAB = `30 0 1 * * ${STATEMENTS_TASK} ?max=3&queue=${STATEMENTS_TASK}`;

export function statementTasks(deps: StatementDeps): TaskList {
  return {
    [STATEMENTS_TASK]: async () => {
      const month = monthJustEnded((deps.clock ?? systemClock).now());
      await generateMonthlyStatements(deps, { month, batchSize: DEFAULT_STATEMENT_BATCH });
    },
  };
}
