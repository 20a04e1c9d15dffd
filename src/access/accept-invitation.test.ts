import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, createTestApp, DEMO_PASSWORD, invitationTokenFor, signIn, type Session, type TestApp } from '../test/harness.ts';

let t: TestApp;
let admin: Session;
beforeAll(async () => {
  t = await createTestApp();
  admin = await signIn(t, 'admin@demo.test');
});
afterAll(async () => t.close());

const accept = (payload: unknown) => api(t, null, 'POST', '/api/v1/auth/invitations/accept', payload);

describe('acceptInvitation', () => {
  it('activates the user with their name and password, verifies the email, and works once', async () => {
    const invited = await api(t, admin, 'POST', '/api/v1/staff/invitations', { email: 'joiner@demo.test', name: 'Jo', apps: ['customer'] });
    const userId = invited.json().userId as string;
    const token = await invitationTokenFor(t.db, 'joiner@demo.test');

    const res = await accept({ token, name: 'Joanna Joiner', password: 'a-long-password' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true });
    const user = await t.db.owner.db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirstOrThrow();
    expect(user).toMatchObject({ status: 'active', name: 'Joanna Joiner' });
    expect(user.emailVerifiedAt).not.toBeNull();
    expect(user.passwordHash).toMatch(/^\$argon2id\$/);

    const session = await signIn(t, 'joiner@demo.test', 'a-long-password');
    const me = await api(t, session, 'GET', '/api/v1/auth/session');
    expect(me.json()).toMatchObject({ user: { name: 'Joanna Joiner', emailVerified: true }, apps: ['customer'] });

    const again = await accept({ token, name: 'Again', password: 'another-password' });
    expect(again.statusCode).toBe(422);
    expect(again.json().code).toBe('token_invalid');

    const [event] = await auditEventsOf(t.db, 'invitation.accepted');
    expect(event).toMatchObject({ targetId: userId, actorId: userId, actorType: 'user', app: 'access' });
    expect(event!.changes).toMatchObject({ status: { before: 'invited', after: 'active' }, password: { after: '[redacted]' } });
  });

  it('refuses expired and unknown links, and validates the body', async () => {
    await api(t, admin, 'POST', '/api/v1/staff/invitations', { email: 'late@demo.test', name: 'Late', apps: [] });
    const token = await invitationTokenFor(t.db, 'late@demo.test');
    await sql`update invitations set expires_at = now() - interval '1 minute' where email = 'late@demo.test'`.execute(t.db.owner.db);
    expect((await accept({ token, name: 'Late', password: DEMO_PASSWORD })).json().code).toBe('token_invalid');
    expect((await accept({ token: 'x'.repeat(43), name: 'Nobody', password: DEMO_PASSWORD })).statusCode).toBe(422);

    const bad = await accept({ token, name: ' ', password: 'short', admin: true });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['name', 'password', 'admin']));
    const user = await t.db.owner.db.selectFrom('users').select('status').where('email', '=', 'late@demo.test').executeTakeFirstOrThrow();
    expect(user.status).toBe('invited');
  });
});
