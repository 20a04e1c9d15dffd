import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptInvitationFor, api, createTestApp, invitationTokenFor, signIn, type TestApp } from '../test/harness.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

describe('getInvitation', () => {
  it('shows who a staff or customer invitation is for, without signing in', async () => {
    const admin = await signIn(t, 'admin@demo.test');
    await api(t, admin, 'POST', '/api/v1/staff/invitations', { email: 'preview@demo.test', name: 'Pre View', apps: [] });
    const staff = await api(t, null, 'GET', `/api/v1/auth/invitations/${await invitationTokenFor(t.db, 'preview@demo.test')}`);
    expect(staff.statusCode).toBe(200);
    expect(staff.json()).toEqual({ email: 'preview@demo.test', name: 'Pre View', partnerName: 'Demo Telecom', customerName: null, expiresAt: expect.any(String), addressHasAccount: false });

    const owner = await signIn(t, 'owner@acme.test');
    await api(t, owner, 'POST', '/api/v1/portal/members/invitations', { email: 'colleague@acme.test', name: 'Col League', role: 'member' });
    const member = await api(t, null, 'GET', `/api/v1/auth/invitations/${await invitationTokenFor(t.db, 'colleague@acme.test')}`);
    expect(member.json()).toMatchObject({ partnerName: 'Demo Telecom', customerName: 'Acme Pte Ltd' });
  });

  it('is 404 for unknown and used links, 400 for a malformed one', async () => {
    expect((await api(t, null, 'GET', `/api/v1/auth/invitations/${'y'.repeat(43)}`)).json().code).toBe('not_found');
    const token = await invitationTokenFor(t.db, 'preview@demo.test');
    await acceptInvitationFor(t, 'preview@demo.test');
    expect((await api(t, null, 'GET', `/api/v1/auth/invitations/${token}`)).statusCode).toBe(404);
    const short = await api(t, null, 'GET', '/api/v1/auth/invitations/abc');
    expect(short.statusCode).toBe(400);
    expect(short.json().errors[0].path).toBe('token');
  });
});
