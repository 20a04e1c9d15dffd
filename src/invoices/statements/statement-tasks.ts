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
/**
 * Attempts of one month's run. graphile-worker waits e^min(attempt, 10) seconds before the next (2.7 s, 7 s, 20 s ...
 * then ~6 h each): 20 attempts cover ~2.7 days, time for a partner's staff to change a number format the run was refused
 * on (its `statement.generation_failed` audit event says which) and still get the month's statements without anyone
 * running anything by hand.
 */
export const STATEMENTS_MAX_ATTEMPTS = 20;
export const STATEMENTS_CRONTAB = `30 0 1 * * ${STATEMENTS_TASK} ?max=${STATEMENTS_MAX_ATTEMPTS}&queue=${STATEMENTS_TASK}`;

export function statementTasks(deps: StatementDeps): TaskList {
  return {
    [STATEMENTS_TASK]: async () => {
      const month = monthJustEnded((deps.clock ?? systemClock).now());
      const result = await generateMonthlyStatements(deps, { month, batchSize: DEFAULT_STATEMENT_BATCH });
      // The other partners' statements are written; failing the job has the worker run it again later, with a growing
      // delay (its attempts in the crontab), and each run writes only what is still missing.
      if (result.failed.length > 0) {
        throw new Error(`monthly statements for ${month} not generated for ${result.failed.length} partner(s): `
          + result.failed.map((f) => `${f.partnerId} (${f.code})`).join(', '));
      }
    },
  };
}
