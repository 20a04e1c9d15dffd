import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, createTestApp, DEMO_PASSWORD, signIn, userIdOf, type Session, type TestApp } from '../test/harness.ts';
import { MAX_FAILURES_PER_ACCOUNT } from './login.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

const change = (who: Session | Record<string, string> | null, body: unknown) => api(t, who, 'POST', '/api/v1/auth/password', body);
const login = (email: string, password: string) => api(t, null, 'POST', '/api/v1/auth/login', { email, password });
const sessionStatus = async (s: Session) => (await api(t, s, 'GET', '/api/v1/auth/session')).statusCode;

describe('changing your password while signed in', () => {
  it('takes the current password, ends the other sessions (this one stays), and the new password is the only one that signs in', async () => {
    const email = 'owner@acme.test';
    const laptop = await signIn(t, email);
    const phone = await signIn(t, email);
    const res = await change(laptop, { currentPassword: DEMO_PASSWORD, newPassword: 'a-new-password-2026' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ otherSessionsEnded: 1 });
    expect(await sessionStatus(laptop)).toBe(200);
    expect(await sessionStatus(phone)).toBe(401);
    expect((await login(email, DEMO_PASSWORD)).statusCode).toBe(401);
    expect((await login(email, 'a-new-password-2026')).statusCode).toBe(200);

    const [event] = await auditEventsOf(t.db, 'user.password_changed');
    expect(event).toMatchObject({ app: 'auth', actorType: 'user', targetId: await userIdOf(t.db, email), changes: { password: { before: '[redacted]', after: '[redacted]' }, otherSessions: { before: 1, after: 0 } } });
    expect(JSON.stringify(event)).not.toContain('a-new-password-2026');
    // The portal's own trail shows it to the organisation, under sign-ins.
    const trail = (await api(t, laptop, 'GET', '/api/v1/portal/audit-events?type=sign_in&limit=20')).json().data as Array<{ action: string }>;
    expect(trail.map((e) => e.action)).toContain('user.password_changed');
  });

  it('a wrong current password is a 422 naming it, changes nothing, and counts as a failed sign-in: the fifth locks the account (429)', async () => {
    const email = 'member@acme.test';
    const member = await signIn(t, email);
    for (let i = 0; i < MAX_FAILURES_PER_ACCOUNT; i++) {
      const wrong = await change(member, { currentPassword: 'not-my-password', newPassword: 'taken-over-2026' });
      expect(wrong.statusCode).toBe(422);
      expect(wrong.json()).toMatchObject({ code: 'rule_violation', errors: [{ path: 'currentPassword' }] });
    }
    expect(await sessionStatus(member)).toBe(200);
    // Five failures: even the right password waits now, here and at sign-in.
    const locked = await change(member, { currentPassword: DEMO_PASSWORD, newPassword: 'taken-over-2026' });
    expect(locked.statusCode).toBe(429);
    expect(locked.json().code).toBe('account_locked');
    expect(locked.headers['retry-after']).toBeDefined();
    expect((await login(email, DEMO_PASSWORD)).statusCode).toBe(429);
    expect((await login(email, 'taken-over-2026')).statusCode).toBe(429);
    const memberId = await userIdOf(t.db, email);
    const failures = (await auditEventsOf(t.db, 'auth.sign_in_failed')).filter((e) => e.targetId === memberId && JSON.stringify(e.changes).includes('wrong current password'));
    expect(failures).toHaveLength(MAX_FAILURES_PER_ACCOUNT);
  });

  it('refuses a new password equal to the current one (422) or too short (400), naming newPassword; an API key (403) and no session (401)', async () => {
    const initech = await signIn(t, 'owner@initech.test');
    const same = await change(initech, { currentPassword: DEMO_PASSWORD, newPassword: DEMO_PASSWORD });
    expect(same.statusCode).toBe(422);
    expect(same.json()).toMatchObject({ errors: [{ path: 'newPassword' }] });
    const short = await change(initech, { currentPassword: DEMO_PASSWORD, newPassword: 'short' });
    expect(short.statusCode).toBe(400);
    expect(short.json().errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'newPassword' })]));
    const missing = await change(initech, { newPassword: 'long-enough-2026' });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'currentPassword' })]));
    expect((await login('owner@initech.test', DEMO_PASSWORD)).statusCode).toBe(200);

    const admin = await signIn(t, 'admin@demo.test');
    const key = (await api(t, admin, 'POST', '/api/v1/api-keys', { name: 'Script', apps: ['access'] })).json();
    expect((await change({ authorization: `Bearer ${key.token}` }, { currentPassword: DEMO_PASSWORD, newPassword: 'long-enough-2026' })).statusCode).toBe(403);
    expect((await change(null, { currentPassword: DEMO_PASSWORD, newPassword: 'long-enough-2026' })).statusCode).toBe(401);
  });
});
