import { sql } from 'kysely';
import type { Db } from '../platform/database.ts';
import { inScope } from '../platform/database.ts';
import type { MailTransport } from './transport.ts';
import { NOTIFICATION_MAX_ATTEMPTS } from './enqueue-notification.ts';

/**
 * The worker's job: send one queued notification. Idempotent: a notification already sent is not sent again.
 * A failure is recorded in the status history and rethrown, so the queue retries it with backoff; the last
 * attempt marks it failed with the reason.
 */
export async function deliverNotification(deps: { db: Db; transport: MailTransport }, notificationId: string): Promise<'sent' | 'skipped'> {
  const notification = await inScope(deps.db, { kind: 'system' }, (trx) =>
    trx.selectFrom('notifications').selectAll().where('id', '=', notificationId).executeTakeFirst(),
  );
  if (!notification || notification.status !== 'queued') return 'skipped';
  try {
    await deps.transport.send({ messageId: notification.id, to: notification.toEmail, subject: notification.subject, text: notification.bodyText });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const attempts = notification.attempts + 1;
    const final = attempts >= NOTIFICATION_MAX_ATTEMPTS;
    await inScope(deps.db, { kind: 'system' }, async (trx) => {
      await trx
        .updateTable('notifications')
        .set({ attempts, lastError: reason.slice(0, 1000), status: final ? 'failed' : 'queued', transport: deps.transport.name })
        .where('id', '=', notification.id)
        .execute();
      await trx
        .insertInto('notificationStatusHistory')
        .values({ notificationId: notification.id, partnerId: notification.partnerId, customerId: notification.customerId, status: final ? 'failed' : 'retrying', detail: reason.slice(0, 1000) })
        .execute();
    });
    throw err;
  }
  await inScope(deps.db, { kind: 'system' }, async (trx) => {
    await trx
      .updateTable('notifications')
      .set({ status: 'sent', sentAt: sql`now()`, attempts: notification.attempts + 1, transport: deps.transport.name, lastError: null })
      .where('id', '=', notification.id)
      .execute();
    await trx
      .insertInto('notificationStatusHistory')
      .values({ notificationId: notification.id, partnerId: notification.partnerId, customerId: notification.customerId, status: 'sent', detail: deps.transport.name })
      .execute();
  });
  return 'sent';
}
