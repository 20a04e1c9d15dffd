import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, createTestApp, DEMO_PASSWORD, invitationTokenFor, signIn, type Session, type TestApp } from '../test/harness.ts';

let t: TestApp;
let admin: Session;
beforeAll(async () => {
  t = await createTestApp();
  admin = await signIn(t, 'admin@demo.test');
});
afterAll(async () => t.close());

describe('revokeInvitation', () => {
  it('kills the link of a pending invitation and is audited; a second revoke is a conflict', async () => {
    const invitation = (await api(t, admin, 'POST', '/api/v1/staff/invitations', { email: 'gone@demo.test', name: 'Gone', apps: [] })).json();
    const token = await invitationTokenFor(t.db, 'gone@demo.test');
    const res = await api(t, admin, 'POST', `/api/v1/staff/invitations/${invitation.id}/revoke`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: invitation.id, status: 'revoked' });
    expect((await api(t, null, 'GET', `/api/v1/auth/invitations/${token}`)).statusCode).toBe(404);
    expect((await api(t, null, 'POST', '/api/v1/auth/invitations/accept', { token, name: 'Gone', password: DEMO_PASSWORD })).statusCode).toBe(422);
    const [event] = await auditEventsOf(t.db, 'invitation.revoked');
    expect(event).toMatchObject({ targetId: invitation.id, changes: { status: { before: 'pending', after: 'revoked' } } });

    const again = await api(t, admin, 'POST', `/api/v1/staff/invitations/${invitation.id}/revoke`);
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('state_conflict');
  });

  it('is 404 for another partner\'s invitation and for an unknown id; 400 for a malformed one', async () => {
    const invitation = (await api(t, admin, 'POST', '/api/v1/staff/invitations', { email: 'mine@demo.test', name: 'Mine', apps: [] })).json();
    const north = await signIn(t, 'admin@northwind.test');
    const theirs = await api(t, north, 'POST', `/api/v1/staff/invitations/${invitation.id}/revoke`);
    expect(theirs.statusCode).toBe(404);
    expect(theirs.json().code).toBe('not_found');
    expect((await api(t, admin, 'POST', `/api/v1/staff/invitations/ivt_${'0'.repeat(26)}/revoke`)).statusCode).toBe(404);
    const bad = await api(t, admin, 'POST', '/api/v1/staff/invitations/nonsense/revoke');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].path).toBe('id');
    const noApp = await api(t, await signIn(t, 'finance@demo.test'), 'POST', `/api/v1/staff/invitations/${invitation.id}/revoke`);
    expect(noApp.json().code).toBe('app_not_granted');
    const stillPending = await t.db.owner.db.selectFrom('invitations').select('revokedAt').where('id', '=', invitation.id).executeTakeFirstOrThrow();
    expect(stillPending.revokedAt).toBeNull();
  });
});
