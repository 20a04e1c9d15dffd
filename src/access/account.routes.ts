import { z } from 'zod';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf } from '../platform/server.ts';
import { publicAccess, signedIn } from '../platform/access-policy.ts';
import { okSchema, password, problems, timestamp } from '../platform/schemas.ts';
import { describeSession, sessionSchema } from '../auth/describe-session.ts';
import { getInvitation } from './get-invitation.ts';
import { acceptInvitation } from './accept-invitation.ts';
import { updateMyProfile } from './update-my-profile.ts';

const TAGS = ['Auth'];
const token = z.string().min(10).max(200);

/** Invitation links (public: the token is the credential) and the signed-in person's own profile. */
export function accountRoutes(app: FolioApp, deps: ServerDeps): void {
  app.get('/api/v1/auth/invitations/:token', {
    config: { access: publicAccess },
    schema: {
      operationId: 'getInvitation', tags: TAGS, summary: 'Who an invitation link is for (404 when unknown, used, revoked or expired)',
      params: z.strictObject({ token }),
      response: {
        200: z.object({
          email: z.string(), name: z.string(), partnerName: z.string(), customerName: z.string().nullable(), expiresAt: timestamp,
          addressHasAccount: z.boolean().describe('The address already has a Folio account (one address holds one account): this invitation cannot be accepted'),
        }),
        ...problems,
      },
    },
  }, async (req, reply) => reply.send(await getInvitation(ctxOf(req, deps), req.params)));

  app.post('/api/v1/auth/invitations/accept', {
    config: { access: publicAccess, audit: 'invitation.accepted' },
    schema: {
      operationId: 'acceptInvitation', tags: TAGS, summary: 'Accept an invitation: choose your name and password',
      description: 'One address holds one Folio account: when the invited address already has one (with another provider or organisation), '
        + 'the invitation cannot be accepted (409 already_exists, nothing written).',
      body: z.strictObject({ token, name: z.string().trim().min(1).max(200), password }),
      response: { 200: okSchema, ...problems },
    },
  }, async (req, reply) => {
    await acceptInvitation(ctxOf(req, deps), req.body);
    return reply.send({ ok: true as const });
  });

  app.patch('/api/v1/auth/me', {
    config: { access: signedIn, audit: 'user.profile_updated' },
    schema: {
      operationId: 'updateMyProfile', tags: TAGS, summary: 'Change your own name or two-factor sign-in',
      body: z
        .strictObject({ name: z.string().trim().min(1).max(200).optional(), twoFactorEnabled: z.boolean().optional() })
        .refine((b) => b.name !== undefined || b.twoFactorEnabled !== undefined, 'send name or twoFactorEnabled'),
      response: { 200: sessionSchema, ...problems },
    },
  }, async (req, reply) => {
    const ctx = ctxOf(req, deps);
    await updateMyProfile(ctx, req.body);
    return reply.send(await describeSession(ctx, req.csrfToken ?? ''));
  });
}
