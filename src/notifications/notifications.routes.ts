import { z } from 'zod';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf } from '../platform/server.ts';
import { operatorOnly, publicAccess, staffApp } from '../platform/access-policy.ts';
import { idOf, listQuery, page, problems } from '../platform/schemas.ts';
import { notificationKind, notificationSchema, notificationStatus, recipientSearch } from './notification-view.ts';
import { listNotifications } from './list-notifications.ts';
import { listCustomerNotifications } from './list-customer-notifications.ts';
import { PLATFORM, operatorListMailbox } from './operator-list-mailbox.ts';
import { devListMailbox } from './dev-list-mailbox.ts';
import { resendNotification } from './resend-notification.ts';

const limit = listQuery.shape.limit;
const cursor = idOf('ntf').optional();

export function notificationRoutes(app: FolioApp, deps: ServerDeps): void {
  app.get('/api/v1/customers/:id/notifications', {
    config: { access: staffApp('customer') },
    schema: {
      operationId: 'listCustomerNotifications', tags: ['Customer'],
      summary: "Everything sent to one customer's people, newest first, with delivery history; sign-in codes and link tokens masked",
      params: z.strictObject({ id: idOf('cus') }),
      querystring: z.strictObject({ limit, cursor }),
      response: { 200: page(notificationSchema), ...problems },
    },
  }, async (req, reply) => reply.send(await listCustomerNotifications(ctxOf(req, deps), { customerId: req.params.id, ...req.query })));

  app.get('/api/v1/notifications', {
    config: { access: staffApp('customer') },
    schema: {
      operationId: 'listNotifications', tags: ['Customer'],
      summary: 'Everything the partner sent (customers and staff), newest first, with delivery history; sign-in codes and link tokens masked',
      querystring: z.strictObject({ customerId: idOf('cus').optional(), status: notificationStatus.optional(), kind: notificationKind.optional(), limit, cursor }),
      response: { 200: page(notificationSchema), ...problems },
    },
  }, async (req, reply) => reply.send(await listNotifications(ctxOf(req, deps), req.query)));

  app.post('/api/v1/notifications/:id/resend', {
    config: { access: staffApp('customer'), audit: 'notification.resent' },
    schema: {
      operationId: 'resendNotification', tags: ['Customer'],
      summary: 'Send a copy of a notification again (same recipient and text); sign-in codes and password-reset links are refused (409 notification_not_resendable)',
      params: z.strictObject({ id: idOf('ntf') }),
      response: { 201: notificationSchema, ...problems },
    },
  }, async (req, reply) => reply.code(201).send(await resendNotification(ctxOf(req, deps), { notificationId: req.params.id })));

  app.get('/api/v1/operator/mailbox', {
    config: { access: operatorOnly },
    schema: {
      operationId: 'operatorListMailbox', tags: ['Operator'],
      summary: 'Every notification of every partner, newest first, with delivery history; sign-in codes and link tokens masked',
      querystring: z.strictObject({
        to: recipientSearch,
        partnerId: z.union([z.literal(PLATFORM), idOf('ptn')]).optional().describe('a partner id, or "platform" for mail without a partner'),
        limit, cursor,
      }),
      response: { 200: page(notificationSchema.extend({ partnerId: z.string().nullable() })), ...problems },
    },
  }, async (req, reply) => reply.send(await operatorListMailbox(ctxOf(req, deps), req.query)));

  // Tagged Dev, not Auth (sign-in and session, /api/v1/auth/...) nor an app: a local demo's tool, off on a real server.
  app.get('/api/v1/dev/mailbox', {
    config: { access: publicAccess },
    schema: {
      operationId: 'devListMailbox', tags: ['Dev'],
      summary: 'Local demo only (no SMTP server): the newest 50 mails, unmasked; 404 when the dev mailbox is off',
      querystring: z.strictObject({ to: recipientSearch }),
      response: {
        200: z.object({
          data: z.array(notificationSchema.pick({ id: true, toEmail: true, replyTo: true, kind: true, subject: true, bodyText: true, status: true, createdAt: true, history: true })),
        }),
        ...problems,
      },
    },
  }, async (req, reply) => reply.send(await devListMailbox(ctxOf(req, deps), req.query)));
}
