import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Db, Trx } from '../platform/database.ts';
import { inScope } from '../platform/database.ts';
import { MailDeliveryError, type MailTransport } from './transport.ts';
import { NOTIFICATION_MAX_ATTEMPTS, SALES_NOTIFICATION_KINDS, type NotificationKind } from './enqueue-notification.ts';

export interface DeliveryDeps {
  db: Db;
  transport: MailTransport;
  log?: Logger;
}

/** The queue's view of this run, when the worker runs it: attempt number (1-based) and the job's limit. */
export interface QueueAttempt {
  attempt: number;
  maxAttempts: number;
}

export type DeliveryOutcome = 'sent' | 'skipped' | 'failed';

const MAX_REASON = 1000;

function reasonOf(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return (text || 'unknown error').slice(0, MAX_REASON);
}

async function recordStatus(
  trx: Trx,
  n: { id: string; partnerId: string | null; customerId: string | null },
  status: 'sent' | 'retrying' | 'failed',
  detail: string,
): Promise<void> {
  await trx
    .insertInto('notificationStatusHistory')
    .values({ notificationId: n.id, partnerId: n.partnerId, customerId: n.customerId, status, detail })
    .execute();
}

/**
 * The Reply-To of a notification: its own, or for a sales notification the partner's contact-sales address and name
 * as they are when it is sent (none when the partner has not set one).
 */
async function replyToOf(
  trx: Trx,
  n: { partnerId: string | null; kind: string; replyToEmail: string | null; replyToName: string | null },
): Promise<{ address: string; name: string | null } | null> {
  if (n.replyToEmail) return { address: n.replyToEmail, name: n.replyToName };
  if (n.partnerId === null || !SALES_NOTIFICATION_KINDS.has(n.kind as NotificationKind)) return null;
  const settings = await trx
    .selectFrom('partnerSettings').select(['contactSalesEmail', 'contactSalesReplyToName'])
    .where('partnerId', '=', n.partnerId)
    .executeTakeFirst();
  return settings?.contactSalesEmail ? { address: settings.contactSalesEmail, name: settings.contactSalesReplyToName } : null;
}

/**
 * The worker's job: send one queued notification.
 *
 * - Idempotent: the notification's row is locked for the whole attempt, so two runs for the same notification are
 *   serialised and the second sees it already sent (or failed) and skips it. Delivery is still at-least-once: if the
 *   database fails after the server accepted the mail, the retry sends it again.
 * - A failure is recorded (attempts, last error, a `retrying` history entry) and rethrown, so the queue retries it with
 *   backoff. The last attempt — ours or the queue's, whichever comes first — or a permanent rejection marks it
 *   `failed` with the reason and does not throw: there is nothing left to retry.
 */
export async function deliverNotification(deps: DeliveryDeps, notificationId: string, queue?: QueueAttempt): Promise<DeliveryOutcome> {
  const log = deps.log?.child({ notificationId });
  const result = await inScope(deps.db, { kind: 'system' }, async (trx) => {
    const n = await trx
      .selectFrom('notifications')
      .select(['id', 'partnerId', 'customerId', 'kind', 'toEmail', 'subject', 'bodyText', 'status', 'attempts', 'replyToEmail', 'replyToName'])
      .where('id', '=', notificationId)
      .forUpdate()
      .executeTakeFirst();
    if (!n || n.status !== 'queued') return { outcome: 'skipped' as const };
    const attempts = n.attempts + 1;
    const replyTo = await replyToOf(trx, n);
    try {
      await deps.transport.send({ messageId: n.id, to: n.toEmail, subject: n.subject, text: n.bodyText, replyTo });
    } catch (err) {
      const reason = reasonOf(err);
      const permanent = err instanceof MailDeliveryError && err.permanent;
      const last = attempts >= NOTIFICATION_MAX_ATTEMPTS || (queue !== undefined && queue.attempt >= queue.maxAttempts);
      const final = permanent || last;
      await trx
        .updateTable('notifications')
        .set({ attempts, lastError: reason, status: final ? 'failed' : 'queued', transport: deps.transport.name })
        .where('id', '=', n.id)
        .execute();
      await recordStatus(trx, n, final ? 'failed' : 'retrying', reason);
      return final ? { outcome: 'failed' as const, reason, attempts } : { outcome: 'retry' as const, err, reason, attempts };
    }
    await trx
      .updateTable('notifications')
      .set({
        status: 'sent', sentAt: sql`now()`, attempts, transport: deps.transport.name, lastError: null,
        // The log shows the Reply-To the message went out with.
        replyToEmail: replyTo?.address ?? null, replyToName: replyTo?.name ?? null,
      })
      .where('id', '=', n.id)
      .execute();
    await recordStatus(trx, n, 'sent', deps.transport.name);
    return { outcome: 'sent' as const, attempts };
  });
  switch (result.outcome) {
    case 'sent':
      log?.info({ attempts: result.attempts, transport: deps.transport.name }, 'notification sent');
      return 'sent';
    case 'skipped':
      log?.debug('notification not queued; nothing to send');
      return 'skipped';
    case 'failed':
      log?.error({ attempts: result.attempts, reason: result.reason }, 'notification failed for good');
      return 'failed';
    case 'retry':
      log?.warn({ attempts: result.attempts, reason: result.reason }, 'notification delivery failed; will retry');
      throw result.err;
  }
}
