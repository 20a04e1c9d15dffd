import { run, type Runner, type TaskList } from 'graphile-worker';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { Db } from './database.ts';
import { deliverNotification } from '../notifications/deliver-notification.ts';
import { createMailTransport } from '../notifications/transport.ts';

/** The background worker: graphile-worker on the same PostgreSQL; jobs are enqueued inside business transactions. */
export async function startWorker(deps: { queuePool: pg.Pool; db: Db; config: Config; log: Logger }): Promise<Runner> {
  const transport = createMailTransport(deps.config.smtpUrl, deps.config.mailFrom);
  const taskList: TaskList = {
    deliver_notification: async (payload) => {
      const { notificationId } = payload as { notificationId: string };
      await deliverNotification({ db: deps.db, transport }, notificationId);
    },
  };
  return run({
    pgPool: deps.queuePool,
    taskList,
    concurrency: deps.config.workerConcurrency,
    noHandleSignals: true,
    pollInterval: 1000,
  });
}
