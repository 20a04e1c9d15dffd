import { z } from 'zod';
import type { FastifyReply } from 'fastify';
import type { FolioApp, ServerDeps } from '../platform/server.ts';
import { ctxOf } from '../platform/server.ts';
import { publicAccess, signedIn } from '../platform/access-policy.ts';
import { email, okSchema, password, problemSchema, problems, timestamp } from '../platform/schemas.ts';
import { inScope } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { login, verifyTwoFactor } from './login.ts';
import { requestPasswordReset, resetPassword } from './password-reset.ts';
import { resendVerification, verifyEmail } from './verify-email.ts';
import { SESSION_COOKIE, revokeSessionByTokenFor } from './session-cookie.ts';
import { describeSession, sessionSchema } from './describe-session.ts';
import { revokeOtherSessions } from './revoke-other-sessions.ts';
import { changePassword } from './change-password.ts';
import type { NewSession } from './sessions.ts';

const TAGS = ['Auth'];

export function authRoutes(app: FolioApp, deps: ServerDeps): void {
  const setSessionCookie = (reply: FastifyReply, session: NewSession) =>
    reply.setCookie(SESSION_COOKIE, session.token, {
      httpOnly: true, sameSite: 'lax', secure: deps.config.secureCookies, path: '/', expires: session.absoluteExpiresAt,
    });

  app.post('/api/v1/auth/login', {
    config: { access: publicAccess, audit: ['auth.signed_in', 'auth.two_factor_code_sent', 'auth.sign_in_failed'] },
    schema: {
      operationId: 'login', tags: TAGS, summary: 'Sign in with email and password',
      body: z.strictObject({ email, password: z.string().min(1).max(200) }),
      response: {
        200: z.discriminatedUnion('status', [
          z.object({ status: z.literal('signed_in'), csrfToken: z.string() }),
          z.object({ status: z.literal('two_factor_required'), challengeId: z.string(), expiresAt: timestamp }),
        ]),
        ...problems,
      },
    },
  }, async (req, reply) => {
    const oldToken = req.cookies[SESSION_COOKIE];
    const result = await login(ctxOf(req, deps), req.body);
    if (result.status === 'two_factor_required') {
      return reply.send({ status: 'two_factor_required', challengeId: result.challengeId, expiresAt: result.expiresAt.toISOString() });
    }
    if (oldToken) await revokeSessionByTokenFor(deps.db, oldToken);
    setSessionCookie(reply, result.session);
    return reply.send({ status: 'signed_in', csrfToken: result.session.csrfToken });
  });

  app.post('/api/v1/auth/login/verify', {
    config: { access: publicAccess, audit: ['auth.signed_in', 'auth.two_factor_failed'] },
    schema: {
      operationId: 'verifyTwoFactor', tags: TAGS, summary: 'Finish signing in with the emailed one-time code',
      body: z.strictObject({ challengeId: z.string().min(1).max(100), code: z.string().regex(/^\d{6}$/, 'six digits') }),
      response: { 200: z.object({ status: z.literal('signed_in'), csrfToken: z.string() }), ...problems },
    },
  }, async (req, reply) => {
    const oldToken = req.cookies[SESSION_COOKIE];
    const { session } = await verifyTwoFactor(ctxOf(req, deps), req.body);
    if (oldToken) await revokeSessionByTokenFor(deps.db, oldToken);
    setSessionCookie(reply, session);
    return reply.send({ status: 'signed_in', csrfToken: session.csrfToken });
  });

  app.post('/api/v1/auth/logout', {
    config: { access: signedIn, audit: 'auth.signed_out' },
    schema: { operationId: 'logout', tags: TAGS, summary: 'Sign out of this session', response: { 200: okSchema, ...problems } },
  }, async (req, reply) => {
    const ctx = ctxOf(req, deps);
    const token = req.cookies[SESSION_COOKIE];
    const p = ctx.principal;
    if (!token || (p.kind !== 'staff' && p.kind !== 'customer' && p.kind !== 'operator')) throw new DomainError('not_signed_in', 'No session');
    await inScope(deps.db, { kind: 'system' }, async (trx) => {
      await revokeSessionByTokenFor(trx, token);
      await recordAudit(trx, ctx, {
        partnerId: p.kind === 'operator' ? null : p.partnerId, app: 'auth', action: 'auth.signed_out', targetType: 'session', targetId: p.sessionId,
      });
    });
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.send({ ok: true as const });
  });

  app.post('/api/v1/auth/sessions/revoke-others', {
    config: { access: signedIn, audit: 'auth.other_sessions_revoked' },
    schema: {
      operationId: 'revokeOtherSessions', tags: TAGS,
      summary: 'Sign out of every other device: end all your sessions except this one (answers how many ended)',
      response: {
        200: z.object({ revoked: z.number().int().nonnegative() }), ...problems,
        401: problemSchema.describe('No credentials, an ended session, or an unknown or revoked API key (not_signed_in)'),
        403: problemSchema.describe('An API key, which has no session (forbidden), or a cookie write without its CSRF token (csrf_token_invalid)'),
      },
    },
  }, async (req, reply) => reply.send(await revokeOtherSessions(ctxOf(req, deps))));

  app.post('/api/v1/auth/password', {
    config: { access: signedIn, audit: 'user.password_changed' },
    schema: {
      operationId: 'changePassword', tags: TAGS,
      summary: 'Change your password, giving the current one; your other sessions end (answers how many)',
      description: 'A wrong current password is a 422 naming currentPassword and counts as a failed sign-in of the account: after five in '
        + '15 minutes, 429 account_locked with Retry-After. The new password must differ from the current one.',
      body: z.strictObject({ currentPassword: z.string().min(1, 'required').max(200), newPassword: password }),
      response: {
        200: z.object({ otherSessionsEnded: z.number().int().nonnegative() }), ...problems,
        401: problemSchema.describe('No credentials or an ended session (not_signed_in)'),
        403: problemSchema.describe('An API key, which has no password (forbidden), or a cookie write without its CSRF token (csrf_token_invalid)'),
      },
    },
  }, async (req, reply) => reply.send(await changePassword(ctxOf(req, deps), req.body)));

  app.get('/api/v1/auth/session', {
    config: { access: signedIn },
    schema: { operationId: 'getSession', tags: TAGS, summary: 'Who is signed in, their apps or portal tabs, and the CSRF token', response: { 200: sessionSchema, ...problems } },
  }, async (req, reply) => reply.send(await describeSession(ctxOf(req, deps), req.csrfToken ?? '')));

  app.post('/api/v1/auth/password-reset', {
    config: { access: publicAccess, audit: 'auth.password_reset_requested' },
    schema: {
      operationId: 'requestPasswordReset', tags: TAGS, summary: 'Email a password-reset link (answers the same whether or not the address exists)',
      body: z.strictObject({ email }), response: { 202: okSchema, ...problems },
    },
  }, async (req, reply) => {
    await requestPasswordReset(ctxOf(req, deps), req.body);
    return reply.code(202).send({ ok: true as const });
  });

  app.post('/api/v1/auth/password-reset/confirm', {
    config: { access: publicAccess, audit: 'user.password_reset' },
    schema: {
      operationId: 'resetPassword', tags: TAGS, summary: 'Set a new password from a reset link',
      body: z.strictObject({ token: z.string().min(10).max(200), password }), response: { 200: okSchema, ...problems },
    },
  }, async (req, reply) => {
    await resetPassword(ctxOf(req, deps), req.body);
    return reply.send({ ok: true as const });
  });

  app.post('/api/v1/auth/verify-email', {
    config: { access: publicAccess, audit: 'user.email_verified' },
    schema: {
      operationId: 'verifyEmail', tags: TAGS, summary: 'Confirm an email address from its verification link',
      body: z.strictObject({ token: z.string().min(10).max(200) }), response: { 200: okSchema, ...problems },
    },
  }, async (req, reply) => {
    await verifyEmail(ctxOf(req, deps), req.body);
    return reply.send({ ok: true as const });
  });

  app.post('/api/v1/auth/verify-email/resend', {
    config: { access: signedIn, audit: 'auth.verification_sent' },
    schema: { operationId: 'resendVerificationEmail', tags: TAGS, summary: 'Send the verification link again', response: { 202: okSchema, ...problems } },
  }, async (req, reply) => {
    const ctx = ctxOf(req, deps);
    const p = ctx.principal;
    if (p.kind !== 'staff' && p.kind !== 'customer' && p.kind !== 'operator') throw new DomainError('forbidden', 'Only people have email addresses to verify');
    await resendVerification(ctx, p.userId);
    return reply.code(202).send({ ok: true as const });
  });
}
