import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, createTestApp, customerIdOf, lastMailTo, signIn, type Session, type TestApp } from '../test/harness.ts';

let t: TestApp;
let admin: Session;
beforeAll(async () => {
  t = await createTestApp();
  admin = await signIn(t, 'admin@demo.test');
});
afterAll(async () => t.close());

const resend = (who: Session | Record<string, string>, id: string) => api(t, who, 'POST', `/api/v1/notifications/${id}/resend`);
const notificationsTo = (email: string) =>
  t.db.owner.db.selectFrom('notifications').selectAll().where('toEmail', '=', email).orderBy('id').execute();

describe('resendNotification', () => {
  it('queues a copy of an invitation to the same person, logs it, and shows it in the customer\'s notifications (masked)', async () => {
    const created = await api(t, admin, 'POST', '/api/v1/customers', { name: 'Resend Co', currency: 'SGD', ownerEmail: 'owner@resend.test', ownerName: 'Owner' });
    const customerId = created.json().id as string;
    const [original] = await notificationsTo('owner@resend.test');
    expect(original).toMatchObject({ kind: 'invitation', customerId });

    const res = await resend(admin, original!.id);
    expect(res.statusCode, res.body).toBe(201);
    const copy = res.json();
    expect(copy).toMatchObject({ kind: 'invitation', toEmail: 'owner@resend.test', customerId, subject: original!.subject, status: 'queued', attempts: 0 });
    expect(copy.id).not.toBe(original!.id);
    expect(copy.bodyText).toContain('token=••••••');
    expect(copy.history.map((h: { status: string }) => h.status)).toEqual(['queued']);

    const stored = await notificationsTo('owner@resend.test');
    expect(stored).toHaveLength(2);
    expect(stored[1]).toMatchObject({ kind: 'invitation', bodyText: original!.bodyText, userId: original!.userId, partnerId: original!.partnerId });
    expect(stored[0]).toMatchObject({ id: original!.id, status: original!.status, attempts: original!.attempts });
    // Its delivery job is queued in the same transaction, keyed by the copy.
    const { rows: jobs } = await sql<{ key: string }>`select key from graphile_worker._private_jobs where key = ${copy.id}`.execute(t.db.owner.db);
    expect(jobs).toHaveLength(1);

    const [event] = await auditEventsOf(t.db, 'notification.resent');
    expect(event).toMatchObject({
      app: 'customer', customerId, targetType: 'notification', targetId: copy.id,
      changes: { resentFrom: { after: original!.id }, kind: { after: 'invitation' }, toEmail: { after: 'owner@resend.test' } },
    });
    const listed = (await api(t, admin, 'GET', `/api/v1/customers/${customerId}/notifications`)).json().data;
    expect(listed.map((n: { id: string }) => n.id)).toEqual([copy.id, original!.id]);
  });

  it('refuses sign-in codes and password-reset links (409 notification_not_resendable), sending nothing', async () => {
    await signIn(t, 'admin@demo.test');
    const code = await lastMailTo(t.db, 'admin@demo.test');
    expect(code?.kind).toBe('two_factor_code');
    await t.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset', payload: { email: 'member@acme.test' } });
    const reset = await lastMailTo(t.db, 'member@acme.test');
    expect(reset).toMatchObject({ kind: 'password_reset', customerId: await customerIdOf(t.db, 'Acme Pte Ltd') });

    const before = (await t.db.owner.db.selectFrom('notifications').select('id').execute()).length;
    // A colleague's sign-in code is staff mail, not the customers': not found in the Customer app.
    expect((await resend(admin, code!.id)).statusCode).toBe(404);
    for (const [n, text] of [[reset!, 'Password-reset links']] as const) {
      const res = await resend(admin, n.id);
      expect(res.statusCode, n.kind).toBe(409);
      expect(res.json()).toMatchObject({ code: 'notification_not_resendable', detail: expect.stringContaining(text) });
    }
    expect(await t.db.owner.db.selectFrom('notifications').select('id').execute()).toHaveLength(before);
    expect((await auditEventsOf(t.db, 'notification.resent')).filter((e) => e.targetId === code!.id || e.targetId === reset!.id)).toEqual([]);
  });

  it('is 404 for another partner\'s notification or an unknown one, 400 for a malformed id', async () => {
    const north = await signIn(t, 'admin@northwind.test');
    const northMail = await lastMailTo(t.db, 'admin@northwind.test');
    const wombatInvite = await api(t, north, 'POST', '/api/v1/customers', { name: 'Roo Co', currency: 'AUD', ownerEmail: 'roo@roo.test', ownerName: 'Roo' });
    expect(wombatInvite.statusCode).toBe(201);
    const [northInvitation] = await notificationsTo('roo@roo.test');
    for (const id of [northInvitation!.id, northMail!.id, `ntf_${'0'.repeat(26)}`]) {
      const res = await resend(admin, id);
      expect(res.statusCode, id).toBe(404);
      expect(res.json().code).toBe('not_found');
    }
    expect(await notificationsTo('roo@roo.test')).toHaveLength(1);
    const bad = await resend(admin, 'abc');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].path).toBe('id');
  });

  it('needs the Customer app', async () => {
    const [original] = await notificationsTo('owner@resend.test');
    const key = (await api(t, admin, 'POST', '/api/v1/api-keys', { name: 'audit only', apps: ['audit'] })).json();
    const res = await resend({ authorization: `Bearer ${key.token}` }, original!.id);
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('app_not_granted');
    expect((await resend(await signIn(t, 'owner@acme.test'), original!.id)).statusCode).toBe(403);
  });
});
