import { z } from 'zod';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf } from '../platform/server.ts';
import { customerPortal, staffApp } from '../platform/access-policy.ts';
import { problems } from '../platform/schemas.ts';
import { inScope } from '../platform/database.ts';
import { portalCaller } from '../access/caller.ts';
import {
  contactSalesSentSchema, MESSAGE_MAX, MESSAGES_PER_HOUR, portalContactSales, sendContactSalesTestEmail, SUBJECT_MAX, TEST_EMAILS_PER_HOUR,
} from './contact-sales.ts';

const portalContactSalesSchema = z.object({
  /** False when the partner has set no address: the portal hides its Contact sales action. */
  configured: z.boolean(),
  email: z.string().nullable(),
  name: z.string().nullable(),
});

/** Contact sales (registered by settingsRoutes): the staff's test email, the portal's Contact sales form. */
export function contactSalesRoutes(app: FolioApp, deps: ServerDeps): void {
  app.post('/api/v1/settings/portal/contact-sales-test', {
    config: { access: staffApp('settings'), audit: 'contact_sales.test_email_sent' },
    schema: {
      operationId: 'sendContactSalesTestEmail', tags: ['Settings'],
      summary: 'Send a test email to the saved contact-sales address (through the notifications outbox): 202 with the queued notification',
      description: `409 contact_sales_not_configured when no address is saved; at most ${TEST_EMAILS_PER_HOUR} an hour per partner (429 too_many_requests).`,
      body: z.strictObject({}).optional(),
      response: { 202: contactSalesSentSchema, ...problems },
    },
  }, async (req, reply) => reply.code(202).send(await sendContactSalesTestEmail(ctxOf(req, deps))));

  // Every member of the organisation may write to sales.
  const anyMember = customerPortal();
  app.get('/api/v1/portal/contact-sales', {
    config: { access: anyMember },
    schema: {
      operationId: 'portalGetContactSales', tags: ['Portal'], summary: 'Where the Contact sales form writes to (the partner\'s contact-sales address and name)',
      response: { 200: portalContactSalesSchema, ...problems },
    },
  }, async (req, reply) => {
    const caller = portalCaller(ctxOf(req, deps).principal);
    const row = await inScope(deps.db, { kind: 'customer', partnerId: caller.partnerId, customerId: caller.customerId }, (trx) =>
      trx.selectFrom('partnerSettings').select(['contactSalesEmail', 'contactSalesReplyToName']).where('partnerId', '=', caller.partnerId).executeTakeFirst());
    const email = row?.contactSalesEmail ?? null;
    return reply.send({ configured: email !== null, email, name: email === null ? null : (row?.contactSalesReplyToName ?? null) });
  });

  app.post('/api/v1/portal/contact-sales', {
    config: { access: anyMember, audit: 'contact_sales.message_sent' },
    schema: {
      operationId: 'portalContactSales', tags: ['Portal'],
      summary: 'Write to the partner\'s sales team: the message is emailed to the contact-sales address (202), with you as Reply-To',
      description: `409 contact_sales_not_configured when the partner has set no address; at most ${MESSAGES_PER_HOUR} messages an hour per organisation (429 too_many_requests).`,
      body: z.strictObject({
        subject: z.string().max(SUBJECT_MAX),
        message: z.string().max(MESSAGE_MAX),
      }),
      response: { 202: contactSalesSentSchema, ...problems },
    },
  }, async (req, reply) => reply.code(202).send(await portalContactSales(ctxOf(req, deps), req.body)));
}
