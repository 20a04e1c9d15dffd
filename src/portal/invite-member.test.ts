import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INVITATIONS_PER_HOUR, REINVITE_AFTER_MINUTES } from '../access/invite-user.ts';
import { acceptInvitationFor, api, auditEventsOf, createTestApp, joinOrganisation, lastMailTo, signIn, type Session, type TestApp } from '../test/harness.ts';

let t: TestApp;
let owner: Session;
beforeAll(async () => {
  t = await createTestApp();
  owner = await signIn(t, 'owner@acme.test');
});
afterAll(async () => t.close());

const invite = (who: Session | null, payload: unknown) => api(t, who, 'POST', '/api/v1/portal/members/invitations', payload);

describe('portalInviteMember', () => {
  it('lets the owner invite an admin into the organisation, mailed and audited', async () => {
    const res = await invite(owner, { email: 'Ada@Acme.test', name: 'Ada Admin', role: 'admin' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ id: expect.stringMatching(/^ivt_/), email: 'ada@acme.test', userId: expect.stringMatching(/^usr_/), role: 'admin', expiresAt: expect.any(String) });
    const user = await t.db.owner.db.selectFrom('users').selectAll().where('id', '=', res.json().userId).executeTakeFirstOrThrow();
    const acme = await t.db.owner.db.selectFrom('customers').select(['id', 'partnerId']).where('name', '=', 'Acme Pte Ltd').executeTakeFirstOrThrow();
    expect(user).toMatchObject({ kind: 'customer', customerId: acme.id, partnerId: acme.partnerId, customerRole: 'admin', status: 'invited' });
    expect(await lastMailTo(t.db, 'ada@acme.test')).toMatchObject({ kind: 'invitation', customerId: acme.id });
    const [event] = await auditEventsOf(t.db, 'member.invited');
    expect(event).toMatchObject({ app: 'portal', customerId: acme.id, actorLabel: 'owner@acme.test', changes: { role: { after: 'admin' } } });
  });

  it('lets an admin invite members and guests but not admins', async () => {
    const { session: admin } = await joinOrganisation(t, owner, 'boss@acme.test', 'admin');
    expect((await invite(admin, { email: 'g@acme.test', name: 'G', role: 'guest' })).statusCode).toBe(201);
    const refused = await invite(admin, { email: 'a2@acme.test', name: 'A2', role: 'admin' });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('role_not_allowed');
  });

  it('a closed organisation invites no one (409, nothing sent); reopened, it may again', async () => {
    const initechOwner = await signIn(t, 'owner@initech.test');
    const setStatus = (status: 'active' | 'closed') => t.db.owner.db.updateTable('customers').set({ status }).where('name', '=', 'Initech Pte Ltd').execute();
    await setStatus('closed');
    try {
      const refused = await invite(initechOwner, { email: 'late@initech.test', name: 'Late', role: 'member' });
      expect(refused.statusCode, refused.body).toBe(409);
      expect(refused.json()).toMatchObject({ code: 'state_conflict', detail: expect.stringContaining('closed') });
      expect(await lastMailTo(t.db, 'late@initech.test')).toBeUndefined();
    } finally {
      await setStatus('active');
    }
    expect((await invite(initechOwner, { email: 'late@initech.test', name: 'Late', role: 'member' })).statusCode).toBe(201);
  });

  it('invites back a removed member with a new role; they choose a new password', async () => {
    const { userId, session } = await joinOrganisation(t, owner, 'back@acme.test', 'admin');
    await api(t, owner, 'POST', `/api/v1/portal/members/${userId}/remove`);
    expect((await api(t, session, 'GET', '/api/v1/portal/members')).statusCode).toBe(401);
    const res = await invite(owner, { email: 'back@acme.test', name: 'Back Again', role: 'guest' });
    expect(res.statusCode).toBe(201);
    expect(res.json().userId).toBe(userId);
    await expect(signIn(t, 'back@acme.test')).rejects.toThrow(/401/);
    await acceptInvitationFor(t, 'back@acme.test', 'Back Again');
    expect((await api(t, session, 'GET', '/api/v1/portal/members')).statusCode).toBe(401);
    const again = await signIn(t, 'back@acme.test');
    expect((await api(t, again, 'GET', '/api/v1/auth/session')).json()).toMatchObject({ user: { name: 'Back Again' }, customer: { role: 'guest' } });
  });

  it('refuses members and guests (403), staff (403), its own people\'s addresses (409), owners by invitation and unknown fields (400)', async () => {
    const member = await signIn(t, 'member@acme.test');
    expect((await invite(member, { email: 'm2@acme.test', name: 'M2', role: 'guest' })).json().code).toBe('role_not_allowed');
    expect((await invite(await signIn(t, 'admin@demo.test'), { email: 'm2@acme.test', name: 'M2', role: 'guest' })).statusCode).toBe(403);
    // The organisation's own people (other organisations' addresses are invited as new ones: ADR 0042).
    for (const email of ['member@acme.test', 'OWNER@acme.test']) {
      expect((await invite(owner, { email, name: 'Taken', role: 'member' })).statusCode, email).toBe(409);
    }
    const bad = await invite(owner, { email: 'o2@acme.test', name: 'O2', role: 'owner', customerId: 'cus_x' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['role', 'customerId']));
  });

  it(`sends a pending address a new link at most once in ${REINVITE_AFTER_MINUTES} minutes, and at most ${INVITATIONS_PER_HOUR} invitations an hour per organisation: then 429 with Retry-After, nothing sent`, async () => {
    const mails = (email: string) => t.db.owner.db.selectFrom('notifications').select('id').where('toEmail', '=', email).where('kind', '=', 'invitation').execute();
    const { session: admin } = await joinOrganisation(t, owner, 'gatekeeper@acme.test', 'admin');
    expect((await invite(admin, { email: 'outsider@example.test', name: 'Hello', role: 'guest' })).statusCode).toBe(201);
    const again = await invite(admin, { email: 'outsider@example.test', name: 'Click here: http://evil.test', role: 'guest' });
    expect(again.statusCode).toBe(429);
    expect(again.json().code).toBe('too_many_requests');
    expect(Number(again.headers['retry-after'])).toBeGreaterThan((REINVITE_AFTER_MINUTES - 1) * 60);
    expect(Number(again.headers['retry-after'])).toBeLessThanOrEqual(REINVITE_AFTER_MINUTES * 60);
    expect(await mails('outsider@example.test')).toHaveLength(1);

    const acme = (await t.db.owner.db.selectFrom('customers').select('id').where('name', '=', 'Acme Pte Ltd').executeTakeFirstOrThrow()).id;
    const inTheHour = async () => Number((await t.db.owner.db.selectFrom('invitations').select((eb) => eb.fn.countAll<string>().as('n'))
      .where('customerId', '=', acme).where(sql<boolean>`created_at > now() - interval '1 hour'`).executeTakeFirstOrThrow()).n);
    for (let i = await inTheHour(); i < INVITATIONS_PER_HOUR; i++) {
      expect((await invite(admin, { email: `outsider-${i}@example.test`, name: 'Hello', role: 'guest' })).statusCode).toBe(201);
    }
    const capped = await invite(admin, { email: 'one-more@example.test', name: 'Hello', role: 'guest' });
    expect(capped.statusCode).toBe(429);
    expect(capped.json()).toMatchObject({ code: 'too_many_requests', detail: expect.stringContaining(`${INVITATIONS_PER_HOUR} invitations an hour`) });
    expect(Number(capped.headers['retry-after'])).toBeLessThanOrEqual(3600);
    expect(await mails('one-more@example.test')).toEqual([]);
    // Another organisation is not held back.
    const initech = await signIn(t, 'owner@initech.test');
    expect((await invite(initech, { email: 'newcomer@initech.test', name: 'Newcomer', role: 'member' })).statusCode).toBe(201);
  });

  it('the OpenAPI document shows its 429: the limits in words, problem+json, and the Retry-After header', async () => {
    type Response = { description: string; headers?: Record<string, { description?: string; schema: { type: string } }>; content: Record<string, unknown> };
    const doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{ paths: Record<string, Record<string, { operationId: string; responses: Record<string, Response> }>> }>();
    const ops = Object.values(doc.paths).flatMap((p) => Object.values(p));
    const throttled = ops.find((o) => o.operationId === 'portalInviteMember')!.responses['429']!;
    expect(throttled.description).toContain(`at most ${INVITATIONS_PER_HOUR} invitations an hour`);
    expect(throttled.description).toContain(`once in ${REINVITE_AFTER_MINUTES} minutes`);
    expect(Object.keys(throttled.content)).toEqual(['application/problem+json']);
    expect(throttled.content['application/problem+json']).toMatchObject({ schema: { properties: { code: { type: 'string' } } } });
    expect(throttled.headers?.['Retry-After']).toMatchObject({ description: expect.stringContaining('seconds'), schema: { type: 'integer' } });
    // A route that is not throttled keeps the plain 429 of every route, without the header.
    expect(ops.find((o) => o.operationId === 'portalListMembers')!.responses['429']!.headers).toBeUndefined();
  });
});
