import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../platform/crypto.ts';
import { INVITATIONS_PER_HOUR, REINVITE_AFTER_MINUTES } from './invite-user.ts';
import { api, auditEventsOf, createTestApp, invitationTokenFor, lastMailTo, signIn, userIdOf, type Session, type TestApp } from '../test/harness.ts';

let t: TestApp;
let admin: Session;
beforeAll(async () => {
  t = await createTestApp();
  admin = await signIn(t, 'admin@demo.test');
});
afterAll(async () => t.close());

const invite = (who: Session | Record<string, string> | null, payload: unknown) => api(t, who, 'POST', '/api/v1/staff/invitations', payload);
/** Every invitation made so far, as if sent `minutes` earlier. */
const sendInvitationsBack = (minutes: number) =>
  t.db.owner.db.updateTable('invitations').set({ createdAt: sql`created_at - make_interval(mins => ${minutes})` }).execute();
const invitationMails = (email: string) =>
  t.db.owner.db.selectFrom('notifications').select('id').where('toEmail', '=', email).where('kind', '=', 'invitation').execute();

describe('inviteStaff', () => {
  it('creates an invited user with their apps, mails a 7-day link and stores only the token hash', async () => {
    const res = await invite(admin, { email: 'New.Staff@Demo.test', name: 'Nina New', apps: ['customer', 'invoice'] });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ email: 'new.staff@demo.test', id: expect.stringMatching(/^ivt_/), userId: expect.stringMatching(/^usr_/) });
    const days = (new Date(body.expiresAt).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThanOrEqual(7);

    const user = await t.db.owner.db.selectFrom('users').selectAll().where('id', '=', body.userId).executeTakeFirstOrThrow();
    expect(user).toMatchObject({ kind: 'staff', status: 'invited', passwordHash: null, emailVerifiedAt: null, name: 'Nina New' });
    const grants = await t.db.owner.db.selectFrom('appGrants').select('app').where('userId', '=', body.userId).execute();
    expect(grants.map((g) => g.app).sort()).toEqual(['customer', 'invoice']);

    const mail = await lastMailTo(t.db, 'new.staff@demo.test');
    expect(mail).toMatchObject({ kind: 'invitation', userId: body.userId });
    expect(mail!.bodyText).toContain(`${t.config.publicUrl}/accept-invitation?token=`);
    const token = await invitationTokenFor(t.db, 'new.staff@demo.test');
    const stored = await t.db.owner.db.selectFrom('invitations').selectAll().where('id', '=', body.id).executeTakeFirstOrThrow();
    expect(stored.tokenHash).toBe(sha256Hex(token));
    expect(JSON.stringify(stored)).not.toContain(token);

    const [event] = await auditEventsOf(t.db, 'staff.invited');
    expect(event).toMatchObject({ app: 'access', targetType: 'user', targetId: body.userId, actorLabel: 'admin@demo.test' });
    expect(event!.changes).toMatchObject({ email: { after: 'new.staff@demo.test' }, apps: { after: ['customer', 'invoice'] } });
  });

  it('invites again someone who has not accepted: a fresh link, the old one dead', async () => {
    const first = await invite(admin, { email: 'twice@demo.test', name: 'Tw Ice', apps: ['customer'] });
    const oldToken = await invitationTokenFor(t.db, 'twice@demo.test');
    await sendInvitationsBack(REINVITE_AFTER_MINUTES + 1); // a new link is sent at most once in REINVITE_AFTER_MINUTES
    const second = await invite(admin, { email: 'twice@demo.test', name: 'Twice Again', apps: ['audit'] });
    expect(second.statusCode).toBe(201);
    expect(second.json().userId).toBe(first.json().userId);
    expect((await api(t, null, 'GET', `/api/v1/auth/invitations/${oldToken}`)).statusCode).toBe(404);
    const newToken = await invitationTokenFor(t.db, 'twice@demo.test');
    expect((await api(t, null, 'GET', `/api/v1/auth/invitations/${newToken}`)).json()).toMatchObject({ name: 'Twice Again' });
    const grants = await t.db.owner.db.selectFrom('appGrants').select('app').where('userId', '=', first.json().userId).execute();
    expect(grants.map((g) => g.app)).toEqual(['audit']);
  });

  it('refuses Finance (422), addresses of its own users (409), bad and unknown fields (400)', async () => {
    const finance = await invite(admin, { email: 'f@demo.test', name: 'F', apps: ['customer', 'finance'] });
    expect(finance.statusCode).toBe(422);
    expect(finance.json()).toMatchObject({ code: 'rule_violation', errors: [{ path: 'apps' }] });

    // Its own staff and its customers' people: the partner sees them (another tenant's are invited as new: ADR 0042).
    for (const taken of ['finance@demo.test', 'member@acme.test', 'OWNER@globex.test']) {
      const res = await invite(admin, { email: taken, name: 'Someone', apps: [] });
      expect(res.statusCode, taken).toBe(409);
      expect(res.json().code).toBe('already_exists');
    }

    const bad = await invite(admin, { email: 'not-an-email', name: '', apps: ['nope'], extra: 1 });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['email', 'name', 'apps.0', 'extra']));
    const twice = await invite(admin, { email: 'x@demo.test', name: 'X', apps: ['audit', 'audit'] });
    expect(twice.statusCode).toBe(400);
    expect(twice.json().errors[0].path).toBe('apps');

    const users = await t.db.owner.db.selectFrom('users').select('email').where('email', 'in', ['f@demo.test', 'x@demo.test', 'not-an-email']).execute();
    expect(users).toEqual([]);
  });

  it('needs the Access Control app (403), a staff caller, and a session (401)', async () => {
    const finance = await signIn(t, 'finance@demo.test');
    const noApp = await invite(finance, { email: 'y@demo.test', name: 'Y', apps: [] });
    expect(noApp.statusCode).toBe(403);
    expect(noApp.json().code).toBe('app_not_granted');
    const customer = await signIn(t, 'owner@acme.test');
    expect((await invite(customer, { email: 'y@demo.test', name: 'Y', apps: [] })).statusCode).toBe(403);
    expect((await invite(null, { email: 'y@demo.test', name: 'Y', apps: [] })).statusCode).toBe(401);
  });

  it('invites only with apps the caller holds: otherwise 403 app_not_held naming apps.N, nothing written or sent', async () => {
    // Fiona holds Customer, Invoice and Finance; given Access Control, she may invite, with those apps only.
    const financeId = await userIdOf(t.db, 'finance@demo.test');
    expect((await api(t, admin, 'PUT', `/api/v1/staff/${financeId}/apps/access`)).statusCode).toBe(200);
    try {
      const finance = await signIn(t, 'finance@demo.test');
      const invitedBefore = (await auditEventsOf(t.db, 'staff.invited')).length;
      const refused = await invite(finance, { email: 'escalate@demo.test', name: 'Esca Late', apps: ['customer', 'audit', 'settings'] });
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toMatchObject({
        code: 'app_not_held', detail: expect.stringContaining('you do not hold: audit, settings'),
        errors: [{ path: 'apps.1', message: expect.stringContaining('audit') }, { path: 'apps.2', message: expect.stringContaining('settings') }],
      });
      expect(await t.db.owner.db.selectFrom('users').select('id').where('email', '=', 'escalate@demo.test').execute()).toEqual([]);
      expect(await invitationMails('escalate@demo.test')).toEqual([]);
      expect(await auditEventsOf(t.db, 'staff.invited')).toHaveLength(invitedBefore);

      const allowed = await invite(finance, { email: 'escalate@demo.test', name: 'Esca Late', apps: ['customer', 'access'] });
      expect(allowed.statusCode).toBe(201);
      const grants = await t.db.owner.db.selectFrom('appGrants').select(['app', 'grantedBy']).where('userId', '=', allowed.json().userId).execute();
      expect(grants.map((g) => g.app).sort()).toEqual(['access', 'customer']);
      expect(grants.every((g) => g.grantedBy === financeId)).toBe(true);
    } finally {
      expect((await api(t, admin, 'DELETE', `/api/v1/staff/${financeId}/apps/access`)).statusCode).toBe(200);
    }
  });

  it('an API key invites only with apps it may use: its maker\'s apps bound it (403 app_not_held), and so do its own', async () => {
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    const financeId = await userIdOf(t.db, 'finance@demo.test');
    expect((await api(t, admin, 'PUT', `/api/v1/staff/${financeId}/apps/access`)).statusCode).toBe(200);
    try {
      const finance = await signIn(t, 'finance@demo.test');
      const key = (await api(t, finance, 'POST', '/api/v1/api-keys', { name: 'HR sync', apps: ['access', 'customer', 'invoice'] })).json();
      expect((await invite(bearer(key.token), { email: 'by-key@demo.test', name: 'By Key', apps: ['invoice'] })).statusCode).toBe(201);
      // Its maker loses Invoice: the key, which was given it, no longer gives it.
      expect((await api(t, admin, 'DELETE', `/api/v1/staff/${financeId}/apps/invoice`)).statusCode).toBe(200);
      const makerLacks = await invite(bearer(key.token), { email: 'by-key-2@demo.test', name: 'By Key', apps: ['customer', 'invoice'] });
      expect(makerLacks.statusCode).toBe(403);
      expect(makerLacks.json()).toMatchObject({ code: 'app_not_held', detail: expect.stringContaining('this API key may not use: invoice'), errors: [{ path: 'apps.1' }] });
      // A key limited to Access Control gives nothing else, though the admin who made it holds every other app.
      const accessOnly = (await api(t, admin, 'POST', '/api/v1/api-keys', { name: 'Access only', apps: ['access'] })).json();
      const keyLacks = await invite(bearer(accessOnly.token), { email: 'by-key-2@demo.test', name: 'By Key', apps: ['product'] });
      expect(keyLacks.json()).toMatchObject({ code: 'app_not_held', errors: [{ path: 'apps.0' }] });
      expect(await t.db.owner.db.selectFrom('users').select('id').where('email', '=', 'by-key-2@demo.test').execute()).toEqual([]);
      expect((await invite(bearer(accessOnly.token), { email: 'by-key-2@demo.test', name: 'By Key', apps: ['access'] })).statusCode).toBe(201);
    } finally {
      await api(t, admin, 'PUT', `/api/v1/staff/${financeId}/apps/invoice`);
      expect((await api(t, admin, 'DELETE', `/api/v1/staff/${financeId}/apps/access`)).statusCode).toBe(200);
    }
  });

  it(`sends a pending address a new link at most once in ${REINVITE_AFTER_MINUTES} minutes: then 429 with Retry-After, nothing sent`, async () => {
    expect((await invite(admin, { email: 'eager@demo.test', name: 'Eager', apps: [] })).statusCode).toBe(201);
    const again = await invite(admin, { email: 'eager@demo.test', name: 'Eager Again', apps: [] });
    expect(again.statusCode).toBe(429);
    expect(again.json()).toMatchObject({ code: 'too_many_requests' });
    const wait = Number(again.headers['retry-after']);
    expect(wait).toBeGreaterThan((REINVITE_AFTER_MINUTES - 1) * 60);
    expect(wait).toBeLessThanOrEqual(REINVITE_AFTER_MINUTES * 60);
    expect(await invitationMails('eager@demo.test')).toHaveLength(1);
    const user = await t.db.owner.db.selectFrom('users').select('name').where('email', '=', 'eager@demo.test').executeTakeFirstOrThrow();
    expect(user.name).toBe('Eager');
    await sendInvitationsBack(REINVITE_AFTER_MINUTES);
    expect((await invite(admin, { email: 'eager@demo.test', name: 'Eager Again', apps: [] })).statusCode).toBe(201);
    expect(await invitationMails('eager@demo.test')).toHaveLength(2);
  });

  it(`sends at most ${INVITATIONS_PER_HOUR} staff invitations an hour per partner: then 429 with Retry-After, nothing written`, async () => {
    const partnerId = (await t.db.owner.db.selectFrom('users').select('partnerId').where('email', '=', 'admin@demo.test').executeTakeFirstOrThrow()).partnerId!;
    const inTheHour = async () => Number((await t.db.owner.db.selectFrom('invitations').select((eb) => eb.fn.countAll<string>().as('n'))
      .where('partnerId', '=', partnerId).where('customerId', 'is', null).where(sql<boolean>`created_at > now() - interval '1 hour'`).executeTakeFirstOrThrow()).n);
    for (let i = await inTheHour(); i < INVITATIONS_PER_HOUR; i++) {
      expect((await invite(admin, { email: `many-${i}@demo.test`, name: 'Many', apps: [] })).statusCode).toBe(201);
    }
    const refused = await invite(admin, { email: 'one-too-many@demo.test', name: 'Any text at all', apps: [] });
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ code: 'too_many_requests', detail: expect.stringContaining(`${INVITATIONS_PER_HOUR} invitations an hour`) });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(3600);
    expect(await invitationMails('one-too-many@demo.test')).toEqual([]);
    expect(await t.db.owner.db.selectFrom('users').select('id').where('email', '=', 'one-too-many@demo.test').execute()).toEqual([]);
    // A customer's members are another organisation: the owner of Acme still invites.
    const owner = await signIn(t, 'owner@acme.test');
    expect((await api(t, owner, 'POST', '/api/v1/portal/members/invitations', { email: 'teammate@acme.test', name: 'Teammate', role: 'member' })).statusCode).toBe(201);
    // An hour later, the partner invites again.
    await sendInvitationsBack(60);
    expect((await invite(admin, { email: 'one-too-many@demo.test', name: 'Late', apps: [] })).statusCode).toBe(201);
  });

  it('the OpenAPI document shows its 429: the limits in words, problem+json, and the Retry-After header', async () => {
    type Response = { description: string; headers?: Record<string, { description?: string; schema: { type: string } }>; content: Record<string, unknown> };
    const doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{ paths: Record<string, Record<string, { operationId: string; responses: Record<string, Response> }>> }>();
    const ops = Object.values(doc.paths).flatMap((p) => Object.values(p));
    const throttled = ops.find((o) => o.operationId === 'inviteStaff')!.responses['429']!;
    expect(throttled.description).toContain(`at most ${INVITATIONS_PER_HOUR} invitations an hour`);
    expect(throttled.description).toContain(`once in ${REINVITE_AFTER_MINUTES} minutes`);
    expect(Object.keys(throttled.content)).toEqual(['application/problem+json']);
    expect(throttled.content['application/problem+json']).toMatchObject({ schema: { properties: { code: { type: 'string' } } } });
    expect(throttled.headers?.['Retry-After']).toMatchObject({ description: expect.stringContaining('seconds'), schema: { type: 'integer' } });
    // A route that is not throttled keeps the plain 429 of every route, without the header.
    expect(ops.find((o) => o.operationId === 'revokeInvitation')!.responses['429']!.headers).toBeUndefined();
  });

  it('the OpenAPI document says inviting and granting answer 403 app_not_held for an app the caller does not hold', async () => {
    type Response = { description: string };
    const doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{ paths: Record<string, Record<string, { operationId: string; responses: Record<string, Response> }>> }>();
    const ops = Object.values(doc.paths).flatMap((p) => Object.values(p));
    for (const [operationId, field] of [['inviteStaff', 'apps.N'], ['grantApp', 'app']] as const) {
      const forbidden = ops.find((o) => o.operationId === operationId)!.responses['403']!;
      expect(forbidden.description, operationId).toContain(`app_not_held, naming ${field}`);
    }
  });
});
