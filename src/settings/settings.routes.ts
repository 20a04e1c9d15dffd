import { z } from 'zod';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf } from '../platform/server.ts';
import { staffApp } from '../platform/access-policy.ts';
import { email, problemSchema, problems } from '../platform/schemas.ts';
import { portalConfigSchema } from './portal-config.ts';
import { getPortalConfig } from './get-portal-config.ts';
import { updatePortalConfig } from './update-portal-config.ts';
import { contactSalesRoutes } from '../contact-sales/contact-sales.routes.ts';

const TAGS = ['Settings'];

/** The Portal Settings app: what the partner's customers see in the user portal, and the staff sign-in rule. */
export function settingsRoutes(app: FolioApp, deps: ServerDeps): void {
  const access = staffApp('settings');

  app.get('/api/v1/settings/portal', {
    config: { access },
    schema: {
      operationId: 'getPortalConfig', tags: TAGS, summary: 'The user-portal configuration (with an ETag for If-Match)',
      response: { 200: portalConfigSchema, ...problems },
    },
  }, async (req, reply) => {
    const { config, etag } = await getPortalConfig(ctxOf(req, deps));
    return reply.header('etag', etag).send(config);
  });

  app.patch('/api/v1/settings/portal', {
    config: { access, audit: 'portal_config.updated' },
    schema: {
      operationId: 'updatePortalConfig', tags: TAGS, summary: 'Change any part of the user-portal configuration; If-Match guards against overwriting',
      headers: z.looseObject({ 'if-match': z.string().max(500).optional() }),
      body: z.strictObject({
        portalTabs: z.strictObject({ invoices: z.boolean(), audit: z.boolean(), services: z.boolean(), points: z.boolean() }).partial().optional(),
        contactSalesEmail: email.nullable().optional(),
        contactSalesReplyToName: z.string().trim().min(1, 'a name, or null for none').max(100).nullable().optional(),
        staffTwoFactorRequired: z.boolean().optional(),
      }),
      response: { 200: portalConfigSchema, ...problems, 412: problemSchema },
    },
  }, async (req, reply) => {
    const { config, etag } = await updatePortalConfig(ctxOf(req, deps), { ...req.body, ifMatch: req.headers['if-match'] });
    return reply.header('etag', etag).send(config);
  });

  contactSalesRoutes(app, deps);
}
