import type { TaskList } from 'graphile-worker';
import type { Logger } from 'pino';
import type { Db } from '../platform/database.ts';
import { deliverNotification } from './deliver-notification.ts';
import type { MailTransport } from './transport.ts';

/**
 * The notification jobs the worker runs. Delivery is told the queue's attempt number, so the job's last attempt marks
 * the notification failed even when our own attempt counter lags behind (e.g. an attempt that died before recording).
 */
export function notificationTasks(deps: { db: Db; transport: MailTransport; log: Logger }): TaskList {
  return {
    deliver_notification: async (payload, helpers) => {
      const notificationId = (payload as { notificationId?: unknown } | null)?.notificationId;
      if (typeof notificationId !== 'string') {
        deps.log.error({ payload }, 'deliver_notification job without a notificationId; dropped');
        return;
      }
      await deliverNotification({ db: deps.db, transport: deps.transport, log: deps.log }, notificationId, {
        attempt: helpers.job.attempts,
        maxAttempts: helpers.job.max_attempts,
      });
    },
  };
}
