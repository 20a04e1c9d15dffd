import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestApp, signIn, type TestApp } from '../test/harness.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

describe('portalListMembers', () => {
  it('shows everyone in the caller\'s organisation, owner first, to any role', async () => {
    const owner = await signIn(t, 'owner@acme.test');
    await api(t, owner, 'POST', '/api/v1/portal/members/invitations', { email: 'guest@acme.test', name: 'Gus Guest', role: 'guest' });
    const member = await signIn(t, 'member@acme.test');
    const res = await api(t, member, 'GET', '/api/v1/portal/members');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      data: [
        { id: expect.stringMatching(/^usr_/), email: 'owner@acme.test', name: 'Olive Owner', role: 'owner', status: 'active', emailVerified: true },
        { id: expect.stringMatching(/^usr_/), email: 'member@acme.test', name: 'Max Member', role: 'member', status: 'active', emailVerified: true },
        { id: expect.stringMatching(/^usr_/), email: 'guest@acme.test', name: 'Gus Guest', role: 'guest', status: 'invited', emailVerified: false },
      ],
    });
    const globex = (await api(t, await signIn(t, 'owner@globex.test'), 'GET', '/api/v1/portal/members')).json();
    expect(globex.data.map((m: { email: string }) => m.email)).toEqual(['owner@globex.test']);
  });

  it('is for user-portal users only', async () => {
    expect((await api(t, await signIn(t, 'admin@demo.test'), 'GET', '/api/v1/portal/members')).statusCode).toBe(403);
    expect((await api(t, null, 'GET', '/api/v1/portal/members')).statusCode).toBe(401);
  });
});
