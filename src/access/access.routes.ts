import { z } from 'zod';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf } from '../platform/server.ts';
import { staffApp } from '../platform/access-policy.ts';
import { appName, email, idOf, listQuery, page, problemSchema, problems, throttledProblem, timestamp } from '../platform/schemas.ts';
import { INVITATIONS_PER_HOUR, REINVITE_AFTER_MINUTES } from './invite-user.ts';
import { pathId, personName } from './route-schemas.ts';
import { staffInvitationSchema, staffMemberSchema } from './staff-views.ts';
import { apiKeySchema } from './api-key-views.ts';
import { accessRequestSchema, accessRequestStatus } from './access-request-views.ts';
import { listStaff } from './list-staff.ts';
import { inviteStaff } from './invite-staff.ts';
import { listStaffInvitations } from './list-staff-invitations.ts';
import { revokeInvitation } from './revoke-invitation.ts';
import { grantApp } from './grant-app.ts';
import { revokeApp } from './revoke-app.ts';
import { disableStaff } from './disable-staff.ts';
import { enableStaff } from './enable-staff.ts';
import { listApiKeys } from './list-api-keys.ts';
import { createApiKey } from './create-api-key.ts';
import { revokeApiKey } from './revoke-api-key.ts';
import { listAccessRequests } from './list-access-requests.ts';
import { requestAppAccess } from './request-app-access.ts';
import { listMyAccessRequests } from './list-my-access-requests.ts';
import { listAppGrantors } from './list-app-grantors.ts';

const TAGS = ['Access'];
const userParams = z.strictObject({ userId: pathId });
const userAppParams = z.strictObject({ userId: pathId, app: appName });
/** Each list's cursor is the last id of the page before (src/access/paging.ts): an id of what it lists. */
const pagedBy = (prefix: string) => listQuery.extend({ cursor: idOf(prefix).optional() });
const uniqueApps = z.array(appName).max(8).refine((apps) => new Set(apps).size === apps.length, 'each app once');
/** The 403 of giving apps (docs/adr/0039): the caller gives only apps it holds itself. */
const appNotHeld = (field: string) => problemSchema.describe(
  `Without the Access Control app (app_not_granted), or giving an app the caller does not hold itself (app_not_held, naming ${field}): `
  + 'a staff member gives only apps granted to them, an API key only apps it may use (its own, bounded by its maker\'s). Nothing is written.',
);

/** The Access Control app (staff, their apps, invitations, API keys, access requests) and the staff's own access requests. */
export function accessRoutes(app: FolioApp, deps: ServerDeps): void {
  const access = staffApp('access');

  app.get('/api/v1/staff', {
    config: { access },
    schema: { operationId: 'listStaff', tags: TAGS, summary: 'The partner\'s staff and the apps each holds', querystring: pagedBy('usr'), response: { 200: page(staffMemberSchema), ...problems } },
  }, async (req, reply) => reply.send(await listStaff(ctxOf(req, deps), req.query)));

  app.post('/api/v1/staff/invitations', {
    config: { access, audit: 'staff.invited' },
    schema: {
      operationId: 'inviteStaff', tags: TAGS, summary: 'Invite a staff member by email, with apps you hold (never Finance)',
      body: z.strictObject({ email, name: personName, apps: uniqueApps }),
      response: {
        201: z.object({ id: z.string(), email: z.string(), expiresAt: timestamp, userId: z.string() }), ...problems,
        403: appNotHeld('apps.N'),
        429: throttledProblem(`The partner's staff send at most ${INVITATIONS_PER_HOUR} invitations an hour, and a pending address gets a new link at most once in ${REINVITE_AFTER_MINUTES} minutes.`),
      },
    },
  }, async (req, reply) => {
    const invited = await inviteStaff(ctxOf(req, deps), req.body);
    return reply.code(201).send({ id: invited.invitationId, email: invited.email, expiresAt: invited.expiresAt.toISOString(), userId: invited.userId });
  });

  app.get('/api/v1/staff/invitations', {
    config: { access },
    schema: { operationId: 'listStaffInvitations', tags: TAGS, summary: 'Staff invitations and their state', querystring: pagedBy('ivt'), response: { 200: page(staffInvitationSchema), ...problems } },
  }, async (req, reply) => reply.send(await listStaffInvitations(ctxOf(req, deps), req.query)));

  app.post('/api/v1/staff/invitations/:id/revoke', {
    config: { access, audit: 'invitation.revoked' },
    schema: {
      operationId: 'revokeInvitation', tags: TAGS, summary: 'Withdraw a pending staff invitation',
      params: z.strictObject({ id: pathId }), response: { 200: staffInvitationSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await revokeInvitation(ctxOf(req, deps), { invitationId: req.params.id })));

  app.put('/api/v1/staff/:userId/apps/:app', {
    config: { access, audit: 'app.granted' },
    schema: {
      operationId: 'grantApp', tags: TAGS, summary: 'Grant a staff member an app you hold (Finance only through an access request)',
      params: userAppParams, response: { 200: staffMemberSchema, ...problems, 403: appNotHeld('app') },
    },
  }, async (req, reply) => reply.send(await grantApp(ctxOf(req, deps), req.params)));

  app.delete('/api/v1/staff/:userId/apps/:app', {
    config: { access, audit: 'app.revoked' },
    schema: {
      operationId: 'revokeApp', tags: TAGS, summary: 'Take an app away from a staff member',
      params: userAppParams, response: { 200: staffMemberSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await revokeApp(ctxOf(req, deps), req.params)));

  app.post('/api/v1/staff/:userId/disable', {
    config: { access, audit: 'staff.disabled' },
    schema: {
      operationId: 'disableStaff', tags: TAGS, summary: 'Disable a staff member and sign them out everywhere',
      params: userParams, response: { 200: staffMemberSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await disableStaff(ctxOf(req, deps), req.params)));

  app.post('/api/v1/staff/:userId/enable', {
    config: { access, audit: 'staff.enabled' },
    schema: {
      operationId: 'enableStaff', tags: TAGS, summary: 'Enable a disabled staff member again, with the apps they held (Finance included)',
      params: userParams,
      response: {
        200: staffMemberSchema, ...problems,
        403: problemSchema.describe(
          'Without the Access Control app (app_not_granted), or when the staff member holds an app other than Finance that the caller does not hold itself '
          + '(app_not_held, the detail naming each): enabling gives their apps back, and a staff member gives only apps granted to them, an API key only apps '
          + 'it may use. Nothing is written; take those apps away first, or ask someone who holds them.',
        ),
      },
    },
  }, async (req, reply) => reply.send(await enableStaff(ctxOf(req, deps), req.params)));

  app.get('/api/v1/api-keys', {
    config: { access },
    schema: { operationId: 'listApiKeys', tags: TAGS, summary: 'The partner\'s API keys', querystring: pagedBy('key'), response: { 200: page(apiKeySchema), ...problems } },
  }, async (req, reply) => reply.send(await listApiKeys(ctxOf(req, deps), req.query)));

  app.post('/api/v1/api-keys', {
    config: { access, audit: 'api_key.created' },
    schema: {
      operationId: 'createApiKey', tags: TAGS, summary: 'Create an API key limited to apps you hold (403 app_not_held naming apps.N otherwise); the token is shown once',
      body: z.strictObject({ name: z.string().trim().min(1).max(100), apps: uniqueApps.min(1) }),
      response: { 201: apiKeySchema.extend({ token: z.string() }), ...problems },
    },
  }, async (req, reply) => reply.code(201).send(await createApiKey(ctxOf(req, deps), req.body)));

  app.post('/api/v1/api-keys/:id/revoke', {
    config: { access, audit: 'api_key.revoked' },
    schema: {
      operationId: 'revokeApiKey', tags: TAGS, summary: 'Revoke an API key',
      params: z.strictObject({ id: pathId }), response: { 200: apiKeySchema, ...problems },
    },
  }, async (req, reply) => reply.send(await revokeApiKey(ctxOf(req, deps), { keyId: req.params.id })));

  app.get('/api/v1/access-requests', {
    config: { access },
    schema: {
      operationId: 'listAccessRequests', tags: TAGS, summary: 'Requests of the partner\'s staff to the platform operator for apps',
      querystring: pagedBy('acr').extend({ status: accessRequestStatus.optional() }), response: { 200: page(accessRequestSchema), ...problems },
    },
  }, async (req, reply) => reply.send(await listAccessRequests(ctxOf(req, deps), req.query)));

  app.post('/api/v1/access-requests', {
    config: { access: staffApp(null), audit: 'access_request.created' },
    schema: {
      operationId: 'requestAppAccess', tags: TAGS,
      summary: 'Ask the platform operator for an app you do not hold (Finance only this way; any other also from a colleague holding it and Access Control)',
      body: z.strictObject({ app: appName, note: z.string().trim().max(1000).optional() }),
      response: {
        201: accessRequestSchema, ...problems,
        409: problemSchema.describe('The app is already held, or a request of yours for it is still pending (conflict). Nothing is written.'),
      },
    },
  }, async (req, reply) => reply.code(201).send(await requestAppAccess(ctxOf(req, deps), req.body)));

  app.get('/api/v1/apps/:app/grantors', {
    config: { access: staffApp(null) },
    schema: {
      operationId: 'listAppGrantors', tags: TAGS,
      summary: 'Colleagues who can grant an app (active, holding it and Access Control; the first 20 by name); none for Finance, which only the operator grants',
      params: z.strictObject({ app: appName }),
      response: { 200: z.object({ data: z.array(z.object({ id: z.string(), name: z.string(), email: z.string() })) }), ...problems },
    },
  }, async (req, reply) => reply.send(await listAppGrantors(ctxOf(req, deps), req.params)));

  app.get('/api/v1/me/access-requests', {
    config: { access: staffApp(null) },
    schema: { operationId: 'listMyAccessRequests', tags: TAGS, summary: 'Your own access requests', querystring: pagedBy('acr'), response: { 200: page(accessRequestSchema), ...problems } },
  }, async (req, reply) => reply.send(await listMyAccessRequests(ctxOf(req, deps), req.query)));
}
