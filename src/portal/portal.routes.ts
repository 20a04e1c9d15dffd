import { z } from 'zod';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf } from '../platform/server.ts';
import { customerPortal } from '../platform/access-policy.ts';
import { email, okSchema, problems, throttledProblem, timestamp } from '../platform/schemas.ts';
import { INVITATIONS_PER_HOUR, REINVITE_AFTER_MINUTES } from '../access/invite-user.ts';
import { pathId } from '../access/route-schemas.ts';
import { memberSchema } from './member-views.ts';
import { listMembers } from './list-members.ts';
import { inviteMember } from './invite-member.ts';
import { changeMemberRole } from './change-member-role.ts';
import { removeMember } from './remove-member.ts';
import { transferOwnership } from './transfer-ownership.ts';

const TAGS = ['Portal'];
const assignableRole = z.enum(['admin', 'member', 'guest']);
const memberParams = z.strictObject({ userId: pathId });

/** The user portal's members: the organisation's own people and their roles. */
export function portalRoutes(app: FolioApp, deps: ServerDeps): void {
  app.get('/api/v1/portal/members', {
    config: { access: customerPortal() },
    schema: { operationId: 'portalListMembers', tags: TAGS, summary: 'Everyone in your organisation', response: { 200: z.object({ data: z.array(memberSchema) }), ...problems } },
  }, async (req, reply) => reply.send(await listMembers(ctxOf(req, deps))));

  app.post('/api/v1/portal/members/invitations', {
    config: { access: customerPortal({ roles: ['owner', 'admin'] }), audit: 'member.invited' },
    schema: {
      operationId: 'portalInviteMember', tags: TAGS, summary: 'Invite someone into your organisation (admins: member or guest only)',
      body: z.strictObject({ email, name: z.string().trim().min(1).max(200), role: assignableRole }),
      response: {
        201: z.object({ id: z.string(), email: z.string(), userId: z.string(), role: assignableRole, expiresAt: timestamp }), ...problems,
        429: throttledProblem(`An organisation sends at most ${INVITATIONS_PER_HOUR} invitations an hour, and a pending address gets a new link at most once in ${REINVITE_AFTER_MINUTES} minutes.`),
      },
    },
  }, async (req, reply) => {
    const invited = await inviteMember(ctxOf(req, deps), req.body);
    return reply.code(201).send({ id: invited.invitationId, email: invited.email, userId: invited.userId, role: invited.role, expiresAt: invited.expiresAt.toISOString() });
  });

  app.patch('/api/v1/portal/members/:userId', {
    config: { access: customerPortal({ roles: ['owner'] }), audit: 'member.role_changed' },
    schema: {
      operationId: 'portalChangeMemberRole', tags: TAGS, summary: 'Change a member\'s role (owner only)',
      params: memberParams, body: z.strictObject({ role: assignableRole }), response: { 200: memberSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await changeMemberRole(ctxOf(req, deps), { userId: req.params.userId, role: req.body.role })));

  app.post('/api/v1/portal/members/:userId/remove', {
    config: { access: customerPortal({ roles: ['owner', 'admin'] }), audit: 'member.removed' },
    schema: {
      operationId: 'portalRemoveMember', tags: TAGS, summary: 'Remove someone from your organisation (never the owner; admins cannot remove admins)',
      params: memberParams, response: { 200: memberSchema, ...problems },
    },
  }, async (req, reply) => reply.send(await removeMember(ctxOf(req, deps), req.params)));

  app.post('/api/v1/portal/ownership-transfer', {
    config: { access: customerPortal({ roles: ['owner'] }), audit: 'ownership.transferred' },
    schema: {
      operationId: 'portalTransferOwnership', tags: TAGS, summary: 'Make another active member the owner; you become an admin',
      body: z.strictObject({ userId: pathId }), response: { 200: okSchema, ...problems },
    },
  }, async (req, reply) => {
    await transferOwnership(ctxOf(req, deps), req.body);
    return reply.send({ ok: true as const });
  });
}
