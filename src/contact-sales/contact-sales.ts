import { sql } from 'kysely';
import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { inScope, type Trx } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { RetryLater } from '../platform/retry-later.ts';
import { partnerCaller, portalCaller } from '../access/caller.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { enqueueNotification, type NotificationKind } from '../notifications/enqueue-notification.ts';
import type {} from '../topup/top-up-policy.db-types.ts';

/**
 * The partner's contact-sales address (Portal Settings): customers write to it from the portal's Contact sales form,
 * staff check it with a test email. Both go through the notifications outbox like every other email (logged, retried,
 * visible in the Customer app's notifications for a customer's message), with the outbox row, the audit event and
 * the delivery job in one transaction.
 *
 * Throttles (per rolling hour, counted on the outbox itself under a transaction lock, so two requests at once cannot
 * both slip under the limit): a customer sends at most `MESSAGES_PER_HOUR` messages, a partner at most
 * `TEST_EMAILS_PER_HOUR` test emails; beyond that, 429 `too_many_requests` and nothing is written.
 */
export const MESSAGES_PER_HOUR = 5;
export const TEST_EMAILS_PER_HOUR = 5;
export const SUBJECT_MAX = 200;
export const MESSAGE_MAX = 5000;

export const contactSalesSentSchema = z.object({
  /** The outbox entry (`ntf_...`): queued now, sent by the worker. */
  notificationId: z.string(),
  toEmail: z.string(),
  status: z.literal('queued'),
});
export type ContactSalesSent = z.infer<typeof contactSalesSentSchema>;

interface SalesAddress {
  email: string;
  name: string | null;
}

async function salesAddressOf(trx: Trx, partnerId: string): Promise<SalesAddress> {
  const row = await trx
    .selectFrom('partnerSettings')
    .select(['contactSalesEmail', 'contactSalesReplyToName'])
    .where('partnerId', '=', partnerId)
    .executeTakeFirst();
  if (!row?.contactSalesEmail) {
    throw new DomainError('contact_sales_not_configured', 'No contact-sales address is set: Portal Settings > Contact sales', [
      { path: 'contactSalesEmail', message: 'not set' },
    ]);
  }
  return { email: row.contactSalesEmail, name: row.contactSalesReplyToName };
}

interface SentLastHour {
  count: number;
  /** Seconds until the `limit`-th newest send leaves the hour (then fewer than `limit` are counted); null below it. */
  retryAfterSeconds: number | null;
}

/**
 * Refuse when the earlier sends within the last hour reach `limit` (429 with Retry-After: when the oldest of them that
 * counts is an hour old); the lock serialises the check.
 */
async function throttle(trx: Trx, key: string, limit: number, sent: () => Promise<SentLastHour>, what: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(trx);
  const { count, retryAfterSeconds } = await sent();
  if (count >= limit) {
    throw new RetryLater('too_many_requests', `At most ${limit} ${what} an hour; try again later`, retryAfterSeconds ?? 3600);
  }
}

const sinceAnHour = sql<boolean>`created_at > now() - interval '1 hour'`;

async function sentLastHour(trx: Trx, partnerId: string, customerId: string | null, kind: NotificationKind, limit: number): Promise<SentLastHour> {
  const row = await trx
    .selectFrom('notifications')
    .select((eb) => [
      eb.fn.countAll<string>().as('n'),
      sql<number | null>`ceil(extract(epoch from ((array_agg(created_at order by created_at desc))[${limit}] + interval '1 hour' - now())))::int`.as('retryAfterSeconds'),
    ])
    .where('partnerId', '=', partnerId)
    .where('customerId', customerId === null ? 'is' : '=', customerId)
    .where('kind', '=', kind)
    .where(sinceAnHour)
    .executeTakeFirstOrThrow();
  return { count: Number(row.n), retryAfterSeconds: row.retryAfterSeconds };
}

/** Staff: send a test email to the contact-sales address as it is saved now. */
export async function sendContactSalesTestEmail(ctx: Ctx): Promise<ContactSalesSent> {
  const caller = partnerCaller(ctx.principal);
  return inScope(ctx.db, { kind: 'partner', partnerId: caller.partnerId }, async (trx) => {
    const to = await salesAddressOf(trx, caller.partnerId);
    await throttle(trx, `contact_sales_test:${caller.partnerId}`, TEST_EMAILS_PER_HOUR,
      () => sentLastHour(trx, caller.partnerId, null, 'contact_sales_test', TEST_EMAILS_PER_HOUR), 'test emails');
    const partner = await trx.selectFrom('partners').select('name').where('id', '=', caller.partnerId).executeTakeFirstOrThrow();
    const who = ctx.principal.kind === 'staff' ? ctx.principal.name : 'an API key';
    const notificationId = await enqueueNotification(trx, {
      partnerId: caller.partnerId, customerId: null, userId: caller.userId, toEmail: to.email, kind: 'contact_sales_test',
      subject: `Test: ${partner.name}'s contact-sales address works`,
      bodyText: [
        `This is a test email sent from Portal Settings by ${who}.`,
        '',
        `Customers' Contact sales messages from the portal arrive at this address (${to.email}),`,
        `and sales notifications are sent with it as Reply-To${to.name ? `, named "${to.name}"` : ''}.`,
      ].join('\n'),
    });
    await recordAudit(trx, ctx, {
      partnerId: caller.partnerId, app: 'settings', action: 'contact_sales.test_email_sent', targetType: 'notification', targetId: notificationId,
      changes: { toEmail: { after: to.email } },
    });
    return { notificationId, toEmail: to.email, status: 'queued' };
  });
}

export interface PortalContactSalesInput {
  subject: string;
  message: string;
}

/**
 * A portal user writes to the partner's sales team: the message goes to the contact-sales address with the
 * organisation, the writer's name, role and email in it, and the writer as Reply-To so that sales answer them directly.
 */
export async function portalContactSales(ctx: Ctx, input: PortalContactSalesInput): Promise<ContactSalesSent> {
  const caller = portalCaller(ctx.principal);
  const subject = input.subject.trim();
  const message = input.message.trim();
  const errors = [
    ...(subject.length === 0 ? [{ path: 'subject', message: 'required' }] : []),
    ...(message.length === 0 ? [{ path: 'message', message: 'required' }] : []),
  ];
  if (errors.length > 0) throw new DomainError('validation_failed', 'Write a subject and a message', errors);
  return inScope(ctx.db, { kind: 'customer', partnerId: caller.partnerId, customerId: caller.customerId }, async (trx) => {
    const to = await salesAddressOf(trx, caller.partnerId);
    await throttle(trx, `contact_sales:${caller.partnerId}:${caller.customerId}`, MESSAGES_PER_HOUR,
      () => sentLastHour(trx, caller.partnerId, caller.customerId, 'contact_sales_message', MESSAGES_PER_HOUR), 'messages to sales');
    const customer = await trx.selectFrom('customers').select(['name', 'billingEmail']).where('partnerId', '=', caller.partnerId).where('id', '=', caller.customerId).executeTakeFirst();
    if (!customer) throw notFound('Customer');
    const user = await trx.selectFrom('users').select(['name', 'email']).where('id', '=', caller.userId).executeTakeFirstOrThrow();
    const notificationId = await enqueueNotification(trx, {
      partnerId: caller.partnerId, customerId: caller.customerId, userId: caller.userId, toEmail: to.email, kind: 'contact_sales_message',
      subject: `[Contact sales] ${customer.name}: ${subject}`,
      bodyText: [
        `From: ${user.name} <${user.email}> (${caller.role}) at ${customer.name}`,
        `Customer id: ${caller.customerId}${customer.billingEmail ? ` · billing contact ${customer.billingEmail}` : ''}`,
        `Subject: ${subject}`,
        '',
        message,
        '',
        '--',
        'Sent from the customer portal\'s Contact sales form. Reply to this email to answer the customer.',
      ].join('\n'),
      replyToEmail: user.email, replyToName: user.name.slice(0, 200),
    });
    await recordAudit(trx, ctx, {
      partnerId: caller.partnerId, customerId: caller.customerId, app: 'portal', action: 'contact_sales.message_sent',
      targetType: 'notification', targetId: notificationId,
      changes: { toEmail: { after: to.email }, subject: { after: subject }, messageLength: { after: message.length } },
    });
    return { notificationId, toEmail: to.email, status: 'queued' };
  });
}
