import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, createTestApp, signIn, type TestApp } from '../test/harness.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

const patchMe = (who: Parameters<typeof api>[1], payload: unknown) => api(t, who, 'PATCH', '/api/v1/auth/me', payload);

describe('updateMyProfile', () => {
  it('changes a customer user\'s name and two-factor choice, answering with the session view', async () => {
    const member = await signIn(t, 'member@acme.test');
    const res = await patchMe(member, { name: 'Maxine Member', twoFactorEnabled: true });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ user: { name: 'Maxine Member', email: 'member@acme.test' }, customer: { name: 'Acme Pte Ltd' }, csrfToken: member.csrfToken });
    const user = await t.db.owner.db.selectFrom('users').select(['name', 'twoFactorEnabled']).where('email', '=', 'member@acme.test').executeTakeFirstOrThrow();
    expect(user).toEqual({ name: 'Maxine Member', twoFactorEnabled: true });
    const [event] = await auditEventsOf(t.db, 'user.profile_updated');
    expect(event).toMatchObject({ app: 'auth', customerId: expect.stringMatching(/^cus_/), changes: { name: { before: 'Max Member', after: 'Maxine Member' }, twoFactorEnabled: { before: false, after: true } } });

    // Next sign-in asks for a code.
    const login = await api(t, null, 'POST', '/api/v1/auth/login', { email: 'member@acme.test', password: 'folio-demo-2026' });
    expect(login.json().status).toBe('two_factor_required');
  });

  it('keeps staff on two-factor when their partner requires it (422), and lets them off when it does not', async () => {
    const admin = await signIn(t, 'admin@demo.test');
    const refused = await patchMe(admin, { twoFactorEnabled: false });
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({ code: 'rule_violation', errors: [{ path: 'twoFactorEnabled' }] });

    await api(t, admin, 'PATCH', '/api/v1/settings/portal', { staffTwoFactorRequired: false });
    expect((await patchMe(admin, { twoFactorEnabled: false })).statusCode).toBe(200);
    const operator = await signIn(t, 'operator@folio.test');
    expect((await patchMe(operator, { twoFactorEnabled: false })).statusCode).toBe(422);
    const renamed = await patchMe(operator, { name: 'Olivia Ops' });
    expect(renamed.json()).toMatchObject({ user: { name: 'Olivia Ops', kind: 'operator' }, partner: null });
  });

  it('validates the body and needs a signed-in person', async () => {
    const owner = await signIn(t, 'owner@acme.test');
    const empty = await patchMe(owner, {});
    expect(empty.statusCode).toBe(400);
    const bad = await patchMe(owner, { name: '', email: 'new@acme.test' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['name', 'email']));
    expect((await patchMe(null, { name: 'X' })).statusCode).toBe(401);
    const admin = await signIn(t, 'admin@demo.test');
    const key = (await api(t, admin, 'POST', '/api/v1/api-keys', { name: 'k', apps: ['customer'] })).json();
    expect((await patchMe({ authorization: `Bearer ${key.token}` }, { name: 'Robot' })).statusCode).toBe(403);
  });
});
