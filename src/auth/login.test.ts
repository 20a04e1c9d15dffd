import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, lastMailTo, signIn, type TestApp, DEMO_PASSWORD } from '../test/harness.ts';
import { FAILED_SIGN_IN_FLOOR_MS } from './login.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

const login = (payload: unknown, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: payload as object, headers });

describe('sign-in', () => {
  it('asks partner staff for an emailed code, then opens a session with rotating cookie', async () => {
    const res = await login({ email: 'Admin@Demo.test', password: DEMO_PASSWORD });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.status).toBe('two_factor_required');
    expect(res.headers['set-cookie']).toBeUndefined();
    const mail = await lastMailTo(t.db, 'admin@demo.test');
    expect(mail?.kind).toBe('two_factor_code');
    const code = /(\d{6})/.exec(mail!.subject)![1]!;

    const wrong = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login/verify', payload: { challengeId: body.challengeId, code: code === '000000' ? '111111' : '000000' } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().code).toBe('two_factor_invalid');

    const ok = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login/verify', payload: { challengeId: body.challengeId, code } });
    expect(ok.statusCode).toBe(200);
    const cookie = String(ok.headers['set-cookie']);
    expect(cookie).toMatch(/folio_session=/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);

    const reuse = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login/verify', payload: { challengeId: body.challengeId, code } });
    expect(reuse.statusCode).toBe(401);

    const session = await t.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: cookie.split(';')[0]! } });
    expect(session.statusCode).toBe(200);
    expect(session.json().apps).toEqual(['customer', 'product', 'invoice', 'audit', 'discount', 'settings', 'access']);
  });

  it('signs a customer in without a code and shows their portal tabs', async () => {
    const s = await signIn(t, 'owner@acme.test');
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: s.cookie } });
    expect(res.json()).toMatchObject({ user: { email: 'owner@acme.test', kind: 'customer' }, customer: { name: 'Acme Pte Ltd', role: 'owner', status: 'active' }, portalTabs: { invoices: true } });
  });

  it("tells a customer user that their organisation is closed (the portal then offers only what the API still allows)", async () => {
    const s = await signIn(t, 'owner@initech.test');
    await t.db.owner.db.updateTable('customers').set({ status: 'closed' }).where('name', '=', 'Initech Pte Ltd').execute();
    try {
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: s.cookie } });
      expect(res.statusCode).toBe(200);
      expect(res.json().customer).toMatchObject({ name: 'Initech Pte Ltd', status: 'closed' });
    } finally {
      await t.db.owner.db.updateTable('customers').set({ status: 'active' }).where('name', '=', 'Initech Pte Ltd').execute();
    }
  });

  it('refuses a wrong password with the same answer as an unknown email, each taking at least the same floor of time', async () => {
    const timed = async (email: string) => {
      const started = performance.now();
      const res = await login({ email, password: 'wrong-password' });
      return { res, ms: performance.now() - started };
    };
    const { res: a, ms: aMs } = await timed('member@acme.test');
    const { res: b, ms: bMs } = await timed('nobody@acme.test');
    // The known account's refusal also writes an audit event: both wait out FAILED_SIGN_IN_FLOOR_MS, so neither tells.
    expect(Math.min(aMs, bMs)).toBeGreaterThanOrEqual(FAILED_SIGN_IN_FLOOR_MS - 5);
    expect(a.statusCode).toBe(401);
    expect(b.statusCode).toBe(401);
    expect(a.json().code).toBe('invalid_credentials');
    expect(b.json().detail).toBe(a.json().detail);
  });

  it('puts a refused sign-in of a known account, and a wrong code, on that account\'s trail (its organisation sees them)', async () => {
    const failedEvents = () => t.db.owner.db.selectFrom('auditEvents').selectAll().where('action', '=', 'auth.sign_in_failed').orderBy('occurredAt').execute();
    const already = (await failedEvents()).length;
    expect((await login({ email: 'member@acme.test', password: 'wrong-password' }, { 'user-agent': 'probe/1' })).statusCode).toBe(401);
    expect((await login({ email: 'nobody@acme.test', password: 'wrong-password' })).statusCode).toBe(401);
    const member = await t.db.owner.db.selectFrom('users').select(['id', 'partnerId', 'customerId']).where('email', '=', 'member@acme.test').executeTakeFirstOrThrow();
    const failed = (await failedEvents()).slice(already);
    expect(failed).toHaveLength(1); // the unknown email belongs to no trail
    expect(failed[0]).toMatchObject({
      partnerId: member.partnerId, customerId: member.customerId, targetType: 'user', targetId: member.id, actorId: member.id, userAgent: 'probe/1',
      changes: { reason: { after: 'wrong password' } },
    });
    // The organisation's owner sees it in the portal's Audit section, under sign-ins.
    const owner = await signIn(t, 'owner@acme.test');
    const portal = await t.app.inject({ method: 'GET', url: '/api/v1/portal/audit-events?type=sign_in', headers: owner.headers });
    expect(portal.statusCode).toBe(200);
    expect(portal.json().data.map((e: { action: string }) => e.action)).toContain('auth.sign_in_failed');

    // A wrong emailed code, too.
    const first = (await login({ email: 'finance@demo.test', password: DEMO_PASSWORD })).json();
    expect(first.status).toBe('two_factor_required');
    const mail = await lastMailTo(t.db, 'finance@demo.test');
    const code = /(\d{6})/.exec(mail!.subject)![1]!;
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/login/verify', payload: { challengeId: first.challengeId, code: code === '000000' ? '111111' : '000000' } })).statusCode).toBe(401);
    const wrongCode = await t.db.owner.db.selectFrom('auditEvents').selectAll().where('action', '=', 'auth.two_factor_failed').where('actorLabel', '=', 'finance@demo.test').execute();
    expect(wrongCode).toHaveLength(1);
    expect(wrongCode[0]!.changes).toEqual({ attempt: { after: 1 } });
  });

  it('locks an account after five failures, even with the right password, saying in Retry-After when it opens again', async () => {
    for (let i = 0; i < 5; i++) expect((await login({ email: 'owner@initech.test', password: 'nope-nope-nope' })).statusCode).toBe(401);
    const locked = await login({ email: 'owner@initech.test', password: DEMO_PASSWORD });
    expect(locked.statusCode).toBe(429);
    expect(locked.json().code).toBe('account_locked');
    // The failures were just now: the lock lasts the whole window (15 minutes).
    const wait = Number(locked.headers['retry-after']);
    expect(wait).toBeGreaterThan(14 * 60);
    expect(wait).toBeLessThanOrEqual(15 * 60);
    // Ten minutes later (the failures moved back), five are left.
    const moveFailures = (minutes: number) => t.db.owner.db.updateTable('loginAttempts')
      .set({ at: sql`at - make_interval(mins => ${minutes})` }).where('email', '=', 'owner@initech.test').execute();
    await moveFailures(10);
    const later = await login({ email: 'owner@initech.test', password: DEMO_PASSWORD });
    expect(later.statusCode).toBe(429);
    expect(Number(later.headers['retry-after'])).toBeGreaterThan(4 * 60);
    expect(Number(later.headers['retry-after'])).toBeLessThanOrEqual(5 * 60);
    expect(later.json().detail).toContain('try again in 5 minutes');
    // And once that wait has passed, the right password signs in again.
    await moveFailures(5);
    expect((await login({ email: 'owner@initech.test', password: DEMO_PASSWORD })).statusCode).toBe(200);
  });

  it('rejects malformed bodies naming the field, and unknown fields', async () => {
    const res = await login({ email: 'not-an-email', password: 'x', extra: true });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    const body = res.json();
    expect(body.code).toBe('validation_failed');
    expect(body.errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['email', 'extra']));
    const notJson = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: '{"email":', headers: { 'content-type': 'application/json' } });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().code).toBe('malformed_request');
  });

  it('wrong sign-in codes count against the account: a new sign-in ends the code before it, and five wrong codes lock it', async () => {
    const email = 'admin@northwind.test';
    const verify = (challengeId: string, code: string) => t.app.inject({ method: 'POST', url: '/api/v1/auth/login/verify', payload: { challengeId, code } });
    const codeOf = async () => /(\d{6})/.exec((await lastMailTo(t.db, email))!.subject)![1]!;
    const wrongFor = (code: string) => (code === '000000' ? '111111' : '000000');
    const a = (await login({ email, password: DEMO_PASSWORD })).json();
    const codeA = await codeOf();
    for (let i = 0; i < 3; i++) expect((await verify(a.challengeId, wrongFor(codeA))).json().detail).toBe('The code is wrong');
    const b = (await login({ email, password: DEMO_PASSWORD })).json();
    const codeB = await codeOf();
    // The first code ended when the second was sent, right or wrong.
    expect((await verify(a.challengeId, codeA)).json().detail).toMatch(/expired/);
    for (let i = 0; i < 2; i++) expect((await verify(b.challengeId, wrongFor(codeB))).statusCode).toBe(401);
    // Five wrong codes: even the right one is refused now, and no new code is sent.
    const locked = await verify(b.challengeId, codeB);
    expect(locked.statusCode).toBe(429);
    expect(locked.json().code).toBe('account_locked');
    const again = await login({ email, password: DEMO_PASSWORD });
    expect(again.statusCode).toBe(429);
    expect(await codeOf()).toBe(codeB);
  });

  it('a password reset ends every other reset link sent before it and lifts the lock', async () => {
    const email = 'owner@globex.test';
    for (let i = 0; i < 5; i++) expect((await login({ email, password: 'nope-nope-nope' })).statusCode).toBe(401);
    expect((await login({ email, password: DEMO_PASSWORD })).statusCode).toBe(429);
    const tokenOfLastMail = async () => /token=([^\s&]+)/.exec((await lastMailTo(t.db, email))!.bodyText)![1]!;
    const reset = () => t.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset', payload: { email } });
    const confirm = (token: string, password: string) => t.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset/confirm', payload: { token: decodeURIComponent(token), password } });
    expect((await reset()).statusCode).toBeLessThan(300);
    const first = await tokenOfLastMail();
    expect((await reset()).statusCode).toBeLessThan(300);
    const second = await tokenOfLastMail();
    expect(second).not.toBe(first);
    expect((await confirm(second, 'globex-new-pass-2026')).statusCode).toBe(200);
    const stale = await confirm(first, 'attacker-pass-2026');
    expect(stale.statusCode).toBe(422);
    expect(stale.json().code).toBe('token_invalid');
    // The lock the five wrong passwords set is lifted by the reset, as its message says.
    expect((await login({ email, password: 'globex-new-pass-2026' })).statusCode).toBe(200);
    expect((await login({ email, password: 'attacker-pass-2026' })).statusCode).toBe(401);
  });

  it('needs the CSRF header for cookie-authenticated writes', async () => {
    const s = await signIn(t, 'member@acme.test');
    const without = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { cookie: s.cookie } });
    expect(without.statusCode).toBe(403);
    expect(without.json().code).toBe('csrf_token_invalid');
    const withIt = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: s.headers });
    expect(withIt.statusCode).toBe(200);
    const after = await t.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: s.cookie } });
    expect(after.statusCode).toBe(401);
  });
});
