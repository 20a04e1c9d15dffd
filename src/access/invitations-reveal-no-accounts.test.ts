import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptInvitationFor, api, auditEventsOf, DEMO_PASSWORD, createTestApp, invitationTokenFor, lastMailTo, signIn, type Session, type TestApp } from '../test/harness.ts';

/**
 * ADR 0042: one address holds one account, but an invitation to an address the inviter cannot see is answered, mailed,
 * listed and revoked exactly as one to a new address. Only the person holding the link learns that the address already
 * has an account, and cannot accept with it.
 */
let t: TestApp;
let demoAdmin: Session;
let acmeOwner: Session;
beforeAll(async () => {
  t = await createTestApp();
  demoAdmin = await signIn(t, 'admin@demo.test');
  acmeOwner = await signIn(t, 'owner@acme.test');
});
afterAll(async () => t.close());

const inviteStaff = (payload: unknown) => api(t, demoAdmin, 'POST', '/api/v1/staff/invitations', payload);
const inviteMember = (payload: unknown) => api(t, acmeOwner, 'POST', '/api/v1/portal/members/invitations', payload);
const preview = (token: string) => api(t, null, 'GET', `/api/v1/auth/invitations/${encodeURIComponent(token)}`);
const accept = (token: string, password = 'another-password-2026') => api(t, null, 'POST', '/api/v1/auth/invitations/accept', { token, name: 'Someone', password });
const usersWith = (email: string) => t.db.owner.db.selectFrom('users').select(['id', 'partnerId', 'customerId', 'status', 'name']).where('email', '=', email).orderBy('id').execute();
/** What an inviter can compare between two answers: everything but the ids, the address and the moment. */
const shape = (body: Record<string, unknown>) => ({ ...body, id: typeof body.id, userId: typeof body.userId, email: typeof body.email, expiresAt: typeof body.expiresAt });
const mailShape = (mail: { kind: string; subject: string; bodyText: string } | undefined, email: string, name: string) => ({
  kind: mail?.kind, subject: mail?.subject, body: mail?.bodyText.replaceAll(name, '<name>').replaceAll(email, '<email>').replace(/token=\S+/, 'token=<token>'),
});

describe('invitations to an address that has an account elsewhere', () => {
  it('staff: answered, mailed and listed as a new address; revocable; the link says why it cannot be accepted, and accepting changes nothing', async () => {
    // admin@northwind.test is another partner's staff member; fresh@demo.test has no account anywhere.
    const hidden = await inviteStaff({ email: 'ADMIN@northwind.test', name: 'Pat Probe', apps: ['audit'] });
    const fresh = await inviteStaff({ email: 'fresh@demo.test', name: 'Pat Probe', apps: ['audit'] });
    expect(hidden.statusCode, hidden.body).toBe(201);
    expect(fresh.statusCode).toBe(201);
    expect(shape(hidden.json())).toEqual(shape(fresh.json()));

    const hiddenMail = await lastMailTo(t.db, 'admin@northwind.test');
    const freshMail = await lastMailTo(t.db, 'fresh@demo.test');
    expect(mailShape(hiddenMail, 'admin@northwind.test', 'Pat Probe')).toEqual(mailShape(freshMail, 'fresh@demo.test', 'Pat Probe'));

    // The Staff tab lists both the same way: invited, with the apps chosen.
    const staff = (await api(t, demoAdmin, 'GET', '/api/v1/staff?limit=100')).json().data as Array<{ email: string; status: string; apps: string[] }>;
    const listed = (email: string) => staff.find((s) => s.email === email);
    expect(listed('admin@northwind.test')).toMatchObject({ status: 'invited', apps: ['audit'] });
    expect(listed('fresh@demo.test')).toMatchObject({ status: 'invited', apps: ['audit'] });

    // The other partner's account is untouched, and still signs in.
    const [northwindAccount, ...invited] = (await usersWith('admin@northwind.test')).sort((a) => (a.status === 'invited' ? 1 : -1));
    expect(northwindAccount).toMatchObject({ status: 'active', name: 'Nora North' });
    expect(invited).toHaveLength(1);
    await signIn(t, 'admin@northwind.test');

    // Whoever holds the link learns it, and only there.
    const token = await invitationTokenFor(t.db, 'admin@northwind.test');
    expect((await preview(token)).json()).toMatchObject({ email: 'admin@northwind.test', partnerName: 'Demo Telecom', addressHasAccount: true });
    expect((await preview(await invitationTokenFor(t.db, 'fresh@demo.test'))).json()).toMatchObject({ addressHasAccount: false });
    const refused = await accept(token);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'already_exists', errors: [{ path: 'token' }] });
    expect(refused.json().detail).toContain('already has a Folio account');
    // Nothing written: the invitation is still pending, the account's password is the old one.
    expect((await usersWith('admin@northwind.test')).map((u) => u.status).sort()).toEqual(['active', 'invited']);
    expect((await preview(token)).statusCode).toBe(200);
    const oldPassword = await api(t, null, 'POST', '/api/v1/auth/login', { email: 'admin@northwind.test', password: DEMO_PASSWORD });
    expect(oldPassword.statusCode).toBe(200);
    const newPassword = await api(t, null, 'POST', '/api/v1/auth/login', { email: 'admin@northwind.test', password: 'another-password-2026' });
    expect(newPassword.statusCode).toBe(401);

    // The inviter may withdraw it as any other.
    const revoked = await api(t, demoAdmin, 'POST', `/api/v1/staff/invitations/${hidden.json().id}/revoke`);
    expect(revoked.statusCode, revoked.body).toBe(200);
    expect((await preview(token)).statusCode).toBe(404);
  });

  it('portal: another organisation\'s member and the provider\'s staff are invited as new addresses; the owner can remove them', async () => {
    for (const email of ['owner@globex.test', 'finance@demo.test']) {
      const res = await inviteMember({ email, name: 'Gil Guest', role: 'guest' });
      expect(res.statusCode, `${email}: ${res.body}`).toBe(201);
      expect(res.json()).toMatchObject({ email, role: 'guest', userId: expect.stringMatching(/^usr_/) });
      expect(await lastMailTo(t.db, email)).toMatchObject({ kind: 'invitation', subject: 'You are invited to join Acme Pte Ltd on Folio' });
    }
    const members = (await api(t, acmeOwner, 'GET', '/api/v1/portal/members')).json().data as Array<{ id: string; email: string; status: string }>;
    const globexInvite = members.find((m) => m.email === 'owner@globex.test');
    expect(globexInvite).toMatchObject({ status: 'invited' });
    const removed = await api(t, acmeOwner, 'POST', `/api/v1/portal/members/${globexInvite!.id}/remove`);
    expect(removed.statusCode, removed.body).toBe(200);
    // The other organisation's owner is still its owner, and signs in there.
    const globex = await signIn(t, 'owner@globex.test');
    expect((await api(t, globex, 'GET', '/api/v1/auth/session')).json()).toMatchObject({ customer: { name: 'Globex Sdn Bhd', role: 'owner' } });

    const staffLink = await invitationTokenFor(t.db, 'finance@demo.test');
    expect((await preview(staffLink)).json()).toMatchObject({ customerName: 'Acme Pte Ltd', addressHasAccount: true });
    expect((await accept(staffLink)).statusCode).toBe(409);
  });

  it('two organisations may invite the same new address: the first accepted makes the account, the other link is then refused', async () => {
    const byPartner = await inviteStaff({ email: 'twice.invited@example.test', name: 'Tess Twice', apps: ['customer'] });
    const byCustomer = await inviteMember({ email: 'Twice.Invited@example.test', name: 'Tess Twice', role: 'member' });
    expect(byPartner.statusCode).toBe(201);
    expect(byCustomer.statusCode, byCustomer.body).toBe(201);
    const [staffToken, memberToken] = await Promise.all(['staff', 'customer'].map(async (kind) => {
      const mails = await t.db.owner.db.selectFrom('notifications').select(['bodyText', 'customerId']).where('toEmail', '=', 'twice.invited@example.test').where('kind', '=', 'invitation').execute();
      const mail = mails.find((m) => (kind === 'staff' ? m.customerId === null : m.customerId !== null));
      return decodeURIComponent(/token=(\S+)/.exec(mail!.bodyText)![1]!);
    }));
    expect((await preview(memberToken!)).json()).toMatchObject({ addressHasAccount: false });

    expect((await accept(memberToken!, DEMO_PASSWORD)).statusCode).toBe(200);
    const member = await signIn(t, 'twice.invited@example.test');
    expect((await api(t, member, 'GET', '/api/v1/auth/session')).json()).toMatchObject({ user: { kind: 'customer' }, customer: { name: 'Acme Pte Ltd', role: 'member' } });

    expect((await preview(staffToken!)).json()).toMatchObject({ addressHasAccount: true });
    const late = await accept(staffToken!);
    expect(late.statusCode).toBe(409);
    expect(late.json().code).toBe('already_exists');
    expect((await usersWith('twice.invited@example.test')).map((u) => u.status).sort()).toEqual(['active', 'invited']);
  });

  it('the same two links accepted at once make one account', async () => {
    await inviteStaff({ email: 'race@example.test', name: 'Rae Race', apps: ['customer'] });
    await inviteMember({ email: 'race@example.test', name: 'Rae Race', role: 'member' });
    const mails = await t.db.owner.db.selectFrom('notifications').select('bodyText').where('toEmail', '=', 'race@example.test').where('kind', '=', 'invitation').execute();
    const tokens = mails.map((m) => decodeURIComponent(/token=(\S+)/.exec(m.bodyText)![1]!));
    expect(tokens).toHaveLength(2);
    const answers = await Promise.all(tokens.map((token) => accept(token)));
    expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 409]);
    expect((await usersWith('race@example.test')).map((u) => u.status).sort()).toEqual(['active', 'invited']);
  });

  it('sign-in and password resets reach the account, not the invitations to its address', async () => {
    // Two invitations to an address that has an account (the partner's staff first: they would see the customer's).
    expect((await inviteStaff({ email: 'owner@wombat.test', name: 'Will Probe', apps: [] })).statusCode).toBe(201);
    expect((await inviteMember({ email: 'owner@wombat.test', name: 'Will Probe', role: 'member' })).statusCode).toBe(201);
    expect((await usersWith('owner@wombat.test')).filter((u) => u.status === 'invited')).toHaveLength(2);
    const wombat = await signIn(t, 'owner@wombat.test');
    expect((await api(t, wombat, 'GET', '/api/v1/auth/session')).json()).toMatchObject({ customer: { name: 'Wombat Pty Ltd', role: 'owner' } });
    const reset = await api(t, null, 'POST', '/api/v1/auth/password-reset', { email: 'owner@wombat.test' });
    expect(reset.statusCode).toBe(202);
    const mail = await lastMailTo(t.db, 'owner@wombat.test');
    const [account] = (await usersWith('owner@wombat.test')).filter((u) => u.status === 'active');
    expect(mail).toMatchObject({ kind: 'password_reset', userId: account!.id });

    // An address only invited (nowhere an account) signs in to nothing and is sent no reset link.
    await inviteStaff({ email: 'only.invited@example.test', name: 'Olly', apps: [] });
    const login = await api(t, null, 'POST', '/api/v1/auth/login', { email: 'only.invited@example.test', password: DEMO_PASSWORD });
    expect(login.statusCode).toBe(401);
    expect((await api(t, null, 'POST', '/api/v1/auth/password-reset', { email: 'only.invited@example.test' })).statusCode).toBe(202);
    expect(await lastMailTo(t.db, 'only.invited@example.test')).toMatchObject({ kind: 'invitation' });
  });

  it('addresses the inviter can see keep their 409, and an organisation invites an address once (the link sent again)', async () => {
    expect((await inviteStaff({ email: 'member@acme.test', name: 'X', apps: [] })).statusCode).toBe(409);
    expect((await inviteMember({ email: 'member@acme.test', name: 'X', role: 'guest' })).statusCode).toBe(409);
    const first = await inviteMember({ email: 'once@example.test', name: 'Once', role: 'guest' });
    const again = await inviteMember({ email: 'once@example.test', name: 'Once', role: 'guest' });
    expect(first.statusCode).toBe(201);
    // Sent again within minutes: throttled, the first link still works; never a second person.
    expect(again.statusCode).toBe(429);
    expect((await usersWith('once@example.test'))).toHaveLength(1);
    await acceptInvitationFor(t, 'once@example.test', 'Once');
  });
});

describe('a disabled account gives its address up to the invitation accepted with it (ADR 0042, amendment)', () => {
  const login = (email: string, password: string) => api(t, null, 'POST', '/api/v1/auth/login', { email, password });
  const rowOf = (id: string) => t.db.owner.db.selectFrom('users').select(['status', 'passwordHash', 'customerId']).where('id', '=', id).executeTakeFirstOrThrow();

  it('a removed member joins another organisation with the same address; the old one keeps a disabled person and says the sign-in went', async () => {
    const members = (await api(t, acmeOwner, 'GET', '/api/v1/portal/members')).json().data as Array<{ id: string; email: string }>;
    const max = members.find((m) => m.email === 'member@acme.test')!;
    expect((await api(t, acmeOwner, 'POST', `/api/v1/portal/members/${max.id}/remove`)).statusCode).toBe(200);
    // Removed: the old password opens nothing.
    expect((await login('member@acme.test', DEMO_PASSWORD)).statusCode).toBe(401);

    const globexOwner = await signIn(t, 'owner@globex.test');
    const invited = await api(t, globexOwner, 'POST', '/api/v1/portal/members/invitations', { email: 'member@acme.test', name: 'Max Member', role: 'admin' });
    expect(invited.statusCode, invited.body).toBe(201);
    const token = await invitationTokenFor(t.db, 'member@acme.test');
    // The link offers the password form, not "sign in instead" (that sign-in would be refused: the account is disabled).
    expect((await preview(token)).json()).toMatchObject({ customerName: 'Globex Sdn Bhd', addressHasAccount: false });
    const accepted = await accept(token, 'globex-password-2026');
    expect(accepted.statusCode, accepted.body).toBe(200);

    const max2 = await signIn(t, 'member@acme.test', 'globex-password-2026');
    expect((await api(t, max2, 'GET', '/api/v1/auth/session')).json()).toMatchObject({ customer: { name: 'Globex Sdn Bhd', role: 'admin' } });
    expect((await login('member@acme.test', DEMO_PASSWORD)).statusCode).toBe(401);

    // Acme keeps its removed member, without a password, and its trail says the sign-in was released, naming nobody else.
    expect(await rowOf(max.id)).toMatchObject({ status: 'disabled', passwordHash: null });
    const [released] = (await auditEventsOf(t.db, 'user.sign_in_released')).filter((e) => e.targetId === max.id);
    expect(released).toMatchObject({ app: 'portal', customerId: (await rowOf(max.id)).customerId, actorType: 'system', actorId: null });
    expect(JSON.stringify(released)).not.toMatch(/globex/i);
    const trail = (await api(t, acmeOwner, 'GET', '/api/v1/portal/audit-events?type=members&limit=50')).json().data as Array<{ action: string; target: { id: string | null } }>;
    expect(trail.find((e) => e.action === 'user.sign_in_released')).toMatchObject({ target: { id: max.id } });

    // Acme may invite the address back as any other; the link then meets the new account and cannot be accepted.
    const back = await inviteMember({ email: 'member@acme.test', name: 'Max Member', role: 'member' });
    expect(back.statusCode, back.body).toBe(201);
    const backLink = await invitationTokenFor(t.db, 'member@acme.test');
    expect((await preview(backLink)).json()).toMatchObject({ customerName: 'Acme Pte Ltd', addressHasAccount: true });
    expect((await accept(backLink)).statusCode).toBe(409);
    expect(await signIn(t, 'member@acme.test', 'globex-password-2026')).toBeTruthy();
  });

  it('disabled staff join a customer of another partner; enabled again, they come back invited, their sign-in gone', async () => {
    const staff = (await api(t, demoAdmin, 'GET', '/api/v1/staff?limit=100')).json().data as Array<{ id: string; email: string }>;
    const fiona = staff.find((s) => s.email === 'finance@demo.test')!;
    expect((await api(t, demoAdmin, 'POST', `/api/v1/staff/${fiona.id}/disable`)).statusCode).toBe(200);

    const wombatOwner = await signIn(t, 'owner@wombat.test');
    const invited = await api(t, wombatOwner, 'POST', '/api/v1/portal/members/invitations', { email: 'finance@demo.test', name: 'Fiona Finance', role: 'member' });
    expect(invited.statusCode, invited.body).toBe(201);
    const token = await invitationTokenFor(t.db, 'finance@demo.test');
    expect((await preview(token)).json()).toMatchObject({ customerName: 'Wombat Pty Ltd', addressHasAccount: false });
    expect((await accept(token, 'wombat-password-2026')).statusCode).toBe(200);
    const member = await signIn(t, 'finance@demo.test', 'wombat-password-2026');
    expect((await api(t, member, 'GET', '/api/v1/auth/session')).json()).toMatchObject({ user: { kind: 'customer' }, customer: { name: 'Wombat Pty Ltd' } });

    const [released] = (await auditEventsOf(t.db, 'user.sign_in_released')).filter((e) => e.targetId === fiona.id);
    expect(released).toMatchObject({ app: 'access', customerId: null, actorType: 'system' });
    const enabled = await api(t, demoAdmin, 'POST', `/api/v1/staff/${fiona.id}/enable`);
    expect(enabled.statusCode, enabled.body).toBe(200);
    expect(enabled.json()).toMatchObject({ status: 'invited' });
    expect((await login('finance@demo.test', DEMO_PASSWORD)).statusCode).toBe(401);
  });

  it('an account that is not disabled is never released: its address still refuses the link, its password still works', async () => {
    await inviteMember({ email: 'owner@initech.test', name: 'Ian Probe', role: 'guest' });
    const token = await invitationTokenFor(t.db, 'owner@initech.test');
    expect((await preview(token)).json()).toMatchObject({ addressHasAccount: true });
    expect((await accept(token)).statusCode).toBe(409);
    expect((await auditEventsOf(t.db, 'user.sign_in_released')).map((e) => e.targetId)).not.toContain(await t.db.owner.db.selectFrom('users').select('id').where('email', '=', 'owner@initech.test').where('status', '=', 'active').executeTakeFirstOrThrow().then((u) => u.id));
    expect(await signIn(t, 'owner@initech.test')).toBeTruthy();
  });
});
