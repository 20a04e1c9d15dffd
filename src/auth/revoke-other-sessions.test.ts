import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, createTestApp, lastMailTo, partnerIdOf, signIn, userIdOf, type Session, type TestApp } from '../test/harness.ts';
import { systemClock } from '../platform/clock.ts';
import type { Ctx } from '../platform/context.ts';
import { DomainError } from '../platform/errors.ts';
import { revokeOtherSessions } from './revoke-other-sessions.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

const revokeOthers = (who: Session | Record<string, string> | null) => api(t, who, 'POST', '/api/v1/auth/sessions/revoke-others');
const sessionStatus = async (s: Session) => (await api(t, s, 'GET', '/api/v1/auth/session')).statusCode;

describe('signing out of other devices', () => {
  it('ends every other session of a portal user, which then answer 401; the one asking stays signed in', async () => {
    const email = 'owner@acme.test';
    const laptop = await signIn(t, email);
    const sharedComputer = await signIn(t, email);
    const phone = await signIn(t, email);
    const colleague = await signIn(t, 'member@acme.test');
    for (const s of [laptop, sharedComputer, phone, colleague]) expect(await sessionStatus(s)).toBe(200);

    const res = await revokeOthers(laptop);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ revoked: 2 });

    for (const s of [sharedComputer, phone]) {
      const next = await api(t, s, 'GET', '/api/v1/auth/session');
      expect(next.statusCode).toBe(401);
      expect(next.json().code).toBe('not_signed_in');
      // A write from there is refused too.
      expect((await api(t, s, 'PATCH', '/api/v1/auth/me', { name: 'Someone else' })).statusCode).toBe(401);
    }
    expect(await sessionStatus(laptop)).toBe(200);
    expect((await api(t, laptop, 'PATCH', '/api/v1/auth/me', { name: 'Olive Owner' })).statusCode).toBe(200);
    // Another person of the same organisation keeps their session.
    expect(await sessionStatus(colleague)).toBe(200);

    // Said once in the trail, by the person, in their organisation; the portal's Audit shows it under sign-ins.
    const ownerId = await userIdOf(t.db, email);
    const [event] = (await auditEventsOf(t.db, 'auth.other_sessions_revoked')).filter((e) => e.actorId === ownerId);
    expect(event).toMatchObject({ app: 'auth', targetType: 'user', targetId: ownerId, actorLabel: email, changes: { otherSessions: { before: 2, after: 0 } } });
    expect(event!.customerId).not.toBeNull();
    const portalAudit = await api(t, laptop, 'GET', '/api/v1/portal/audit-events?type=sign_in');
    expect(portalAudit.statusCode).toBe(200);
    expect(portalAudit.json().data.map((e: { action: string }) => e.action)).toContain('auth.other_sessions_revoked');

    // Asked again with nothing else signed in: none to end, and the session asking still works.
    const again = await revokeOthers(laptop);
    expect(again.json()).toEqual({ revoked: 0 });
    expect(await sessionStatus(laptop)).toBe(200);
  });

  it('ends a staff member’s other sessions too, and counts only sessions that were still signed in', async () => {
    const email = 'finance@demo.test';
    const office = await signIn(t, email);
    const home = await signIn(t, email);
    const stale = await signIn(t, email);
    const userId = await userIdOf(t.db, email);
    // One session had already run out (idle): it is not counted as signed out now.
    await t.db.owner.db.updateTable('sessions').set({ idleExpiresAt: sql`now() - interval '1 minute'` })
      .where('userId', '=', userId).where('revokedAt', 'is', null).where('csrfToken', '=', stale.csrfToken).execute();
    expect(await sessionStatus(stale)).toBe(401);

    const res = await revokeOthers(home);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ revoked: 1 });
    expect(await sessionStatus(office)).toBe(401);
    expect(await sessionStatus(home)).toBe(200);
  });

  it('refuses a caller who is not signed in (401), or a signed-out session', async () => {
    const res = await revokeOthers(null);
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('not_signed_in');

    const s = await signIn(t, 'owner@globex.test');
    expect((await api(t, s, 'POST', '/api/v1/auth/logout')).statusCode).toBe(200);
    const after = await revokeOthers(s);
    expect(after.statusCode).toBe(401);
  });

  it('refuses an API key with 403 (it has no session), ends nothing and audits nothing; a revoked key is 401', async () => {
    const admin = await signIn(t, 'admin@demo.test');
    const other = await signIn(t, 'admin@demo.test');
    const key = (await api(t, admin, 'POST', '/api/v1/api-keys', { name: 'Ops script', apps: ['access'] })).json();
    const eventsBefore = (await auditEventsOf(t.db, 'auth.other_sessions_revoked')).length;
    const res = await revokeOthers({ authorization: `Bearer ${key.token}` });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'forbidden', detail: expect.stringMatching(/not an API key/) });
    for (const s of [admin, other]) expect(await sessionStatus(s)).toBe(200);
    expect(await auditEventsOf(t.db, 'auth.other_sessions_revoked')).toHaveLength(eventsBefore);

    // The use case answers the same, whoever calls it: a key is a credential with no session, not a caller signed out.
    const asKey: Ctx = {
      db: t.db.app.db, config: t.config, log: t.app.log, requestId: null, ip: null, userAgent: null, clock: systemClock,
      principal: { kind: 'api_key', keyId: key.id, partnerId: await partnerIdOf(t.db, 'demo-telecom'), name: key.name, apps: new Set(['access']) },
    };
    const refused = await revokeOtherSessions(asKey).then(() => null, (err: unknown) => err);
    expect(refused).toBeInstanceOf(DomainError);
    expect(refused).toMatchObject({ code: 'forbidden', status: 403, message: expect.stringContaining('An API key has no session') });
    expect(await auditEventsOf(t.db, 'auth.other_sessions_revoked')).toHaveLength(eventsBefore);

    expect((await api(t, admin, 'POST', `/api/v1/api-keys/${key.id}/revoke`)).statusCode).toBe(200);
    const revoked = await revokeOthers({ authorization: `Bearer ${key.token}` });
    expect(revoked.statusCode).toBe(401);
    expect(revoked.json().code).toBe('not_signed_in');

    // The OpenAPI document tells the two apart.
    const doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{ paths: Record<string, Record<string, { responses: Record<string, { description: string }> }>> }>();
    const responses = doc.paths['/api/v1/auth/sessions/revoke-others']!.post!.responses;
    expect(responses['403']!.description).toContain('An API key, which has no session');
    expect(responses['401']!.description).toContain('No credentials');
  });

  it('without the CSRF header it is refused as every other cookie write is, and ends nothing', async () => {
    const email = 'owner@initech.test';
    const other = await signIn(t, email);
    const s = await signIn(t, email);
    const without = await revokeOthers({ cookie: s.cookie });
    const logoutWithout = await api(t, { cookie: s.cookie }, 'POST', '/api/v1/auth/logout');
    expect(without.statusCode).toBe(403);
    expect(without.json().code).toBe('csrf_token_invalid');
    expect(without.json().code).toBe(logoutWithout.json().code);
    const wrong = await revokeOthers({ cookie: s.cookie, 'x-csrf-token': other.csrfToken });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json().code).toBe('csrf_token_invalid');
    expect(await sessionStatus(other)).toBe(200);
    expect(await sessionStatus(s)).toBe(200);
  });

  it('refuses a body or a query string it does not take', async () => {
    const s = await signIn(t, 'owner@wombat.test');
    const withBody = await api(t, s, 'POST', '/api/v1/auth/sessions/revoke-others', { keepSessionId: 'ses_x' });
    expect(withBody.statusCode).toBe(400);
  });
});

describe('a password reset', () => {
  it('signs the account out everywhere', async () => {
    const who = 'member@acme.test';
    const a = await signIn(t, who);
    const b = await signIn(t, who);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset', payload: { email: who } })).statusCode).toBe(202);
    const token = /token=([^\s&]+)/.exec((await lastMailTo(t.db, who))!.bodyText)![1]!;
    const confirm = await t.app.inject({
      method: 'POST', url: '/api/v1/auth/password-reset/confirm', payload: { token: decodeURIComponent(token), password: 'a-new-password-2026' },
    });
    expect(confirm.statusCode).toBe(200);
    expect(await sessionStatus(a)).toBe(401);
    expect(await sessionStatus(b)).toBe(401);
  });
});
