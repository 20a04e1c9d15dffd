import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { acceptInvitationFor, api, createTestApp, signIn, type Session, type TestApp } from '../test/harness.ts';

let t: TestApp;
let admin: Session;
beforeAll(async () => {
  t = await createTestApp();
  admin = await signIn(t, 'admin@demo.test');
});
afterAll(async () => t.close());

describe('listStaffInvitations', () => {
  it('shows each staff invitation with its state: pending, accepted, revoked, expired', async () => {
    const invite = async (email: string) => (await api(t, admin, 'POST', '/api/v1/staff/invitations', { email, name: 'Someone', apps: [] })).json();
    await invite('accepts@demo.test');
    await acceptInvitationFor(t, 'accepts@demo.test');
    const revoked = await invite('revoked@demo.test');
    await api(t, admin, 'POST', `/api/v1/staff/invitations/${revoked.id}/revoke`);
    await invite('expired@demo.test');
    await sql`update invitations set expires_at = now() - interval '1 second' where email = 'expired@demo.test'`.execute(t.db.owner.db);
    await invite('pending@demo.test');
    // A customer-user invitation is not a staff invitation.
    await api(t, await signIn(t, 'owner@acme.test'), 'POST', '/api/v1/portal/members/invitations', { email: 'guest@acme.test', name: 'Guest', role: 'guest' });

    const res = await api(t, admin, 'GET', '/api/v1/staff/invitations');
    expect(res.statusCode).toBe(200);
    const { data } = res.json();
    expect(data.map((i: { email: string; status: string }) => [i.email, i.status])).toEqual([
      ['pending@demo.test', 'pending'],
      ['expired@demo.test', 'expired'],
      ['revoked@demo.test', 'revoked'],
      ['accepts@demo.test', 'accepted'],
    ]);
    expect(data[0]).toEqual({ id: expect.stringMatching(/^ivt_/), email: 'pending@demo.test', userId: expect.stringMatching(/^usr_/), status: 'pending', expiresAt: expect.any(String), createdAt: expect.any(String) });

    const page = (await api(t, admin, 'GET', '/api/v1/staff/invitations?limit=3')).json();
    expect(page.data).toHaveLength(3);
    expect(page.nextCursor).toBe(page.data[2].id);
  });

  it('shows nothing of another partner, and needs the Access Control app', async () => {
    const north = await signIn(t, 'admin@northwind.test');
    expect((await api(t, north, 'GET', '/api/v1/staff/invitations')).json().data).toEqual([]);
    expect((await api(t, await signIn(t, 'finance@demo.test'), 'GET', '/api/v1/staff/invitations')).statusCode).toBe(403);
  });
});
