import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, createTestApp, lastMailTo, signIn, userIdOf, type Session, type TestApp } from '../test/harness.ts';

let t: TestApp;
let operator: Session;
beforeAll(async () => {
  t = await createTestApp();
  operator = await signIn(t, 'operator@folio.test');
});
afterAll(async () => t.close());

describe('operatorApproveAccessRequest', () => {
  it('grants Finance, visible at the requester\'s next request, mails them, and audits under their partner (the operator holds no app: ADR 0039 does not bind it)', async () => {
    const admin = await signIn(t, 'admin@demo.test');
    const request = (await api(t, admin, 'POST', '/api/v1/access-requests', { app: 'finance', note: 'month end' })).json();
    expect((await api(t, admin, 'GET', '/api/v1/auth/session')).json().apps).not.toContain('finance');

    expect((await api(t, operator, 'GET', '/api/v1/auth/session')).json().apps).toEqual([]);
    const res = await api(t, operator, 'POST', `/api/v1/operator/access-requests/${request.id}/approve`, { note: 'Approved by ops' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: request.id, status: 'approved', decisionNote: 'Approved by ops', decidedAt: expect.any(String), partner: { name: 'Demo Telecom' } });

    expect((await api(t, admin, 'GET', '/api/v1/auth/session')).json().apps).toContain('finance');
    const grant = await t.db.owner.db.selectFrom('appGrants').selectAll().where('userId', '=', request.user.id).where('app', '=', 'finance').executeTakeFirstOrThrow();
    expect(grant.grantedBy).toBe(await userIdOf(t.db, 'operator@folio.test'));

    const mail = await lastMailTo(t.db, 'admin@demo.test');
    expect(mail).toMatchObject({ kind: 'access_request_decided', subject: expect.stringContaining('approved') });
    expect(mail!.bodyText).toContain('Approved by ops');

    const partnerId = res.json().partner.id;
    const [approved] = await auditEventsOf(t.db, 'access_request.approved');
    expect(approved).toMatchObject({ partnerId, actorType: 'operator', actorLabel: 'operator@folio.test', targetId: request.id, changes: { status: { before: 'pending', after: 'approved' } } });
    const [granted] = await auditEventsOf(t.db, 'app.granted');
    expect(granted).toMatchObject({ partnerId, actorType: 'operator', targetId: request.user.id });
    expect((granted!.changes.apps!.after as string[])).toContain('finance');

    const again = await api(t, operator, 'POST', `/api/v1/operator/access-requests/${request.id}/approve`, {});
    expect(again.statusCode).toBe(409);
  });

  it('gives back an app nobody at the partner holds any more: its last holder asks the operator (docs/adr/0039, amendment)', async () => {
    const north = await signIn(t, 'admin@northwind.test');
    const me = (await api(t, north, 'GET', '/api/v1/auth/session')).json();
    // Nora is Northwind's only holder of Discount; once she removes it from herself, no one there can give it.
    expect((await api(t, north, 'DELETE', `/api/v1/staff/${me.user.id}/apps/discount`)).statusCode).toBe(200);
    expect((await api(t, north, 'GET', '/api/v1/apps/discount/grantors')).json()).toEqual({ data: [] });
    expect((await api(t, north, 'PUT', `/api/v1/staff/${me.user.id}/apps/discount`)).statusCode).toBe(403);

    const request = await api(t, north, 'POST', '/api/v1/access-requests', { app: 'discount', note: 'removed it by mistake' });
    expect(request.statusCode, request.body).toBe(201);
    const pending = (await api(t, operator, 'GET', '/api/v1/operator/access-requests?status=pending')).json().data;
    expect(pending.find((r: { id: string }) => r.id === request.json().id)).toMatchObject({ app: 'discount', note: 'removed it by mistake', partner: { name: 'Northwind Comms' } });

    const res = await api(t, operator, 'POST', `/api/v1/operator/access-requests/${request.json().id}/approve`, {});
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ app: 'discount', status: 'approved' });
    expect((await api(t, north, 'GET', '/api/v1/auth/session')).json().apps).toContain('discount');
    const mail = await lastMailTo(t.db, 'admin@northwind.test');
    expect(mail).toMatchObject({ kind: 'access_request_decided', subject: 'Your request for the Discount app was approved' });
    const granted = (await auditEventsOf(t.db, 'app.granted')).find((e) => e.targetId === me.user.id && e.actorType === 'operator');
    expect(granted!.changes.apps!.after as string[]).toContain('discount');
    expect(granted!.changes.apps!.before as string[]).not.toContain('discount');
  });

  it('refuses a request of a staff member disabled since (409): no grant waits for the day they are enabled again', async () => {
    const north = await signIn(t, 'admin@northwind.test');
    const request = (await api(t, north, 'POST', '/api/v1/access-requests', { app: 'finance' })).json();
    await t.db.owner.db.updateTable('users').set({ status: 'disabled' }).where('id', '=', request.user.id).execute();
    try {
      const res = await api(t, operator, 'POST', `/api/v1/operator/access-requests/${request.id}/approve`, {});
      expect(res.statusCode).toBe(409);
      expect(res.json().detail).toMatch(/admin@northwind\.test is disabled/);
      expect(await t.db.owner.db.selectFrom('appGrants').select('app').where('userId', '=', request.user.id).where('app', '=', 'finance').execute()).toEqual([]);
      expect((await api(t, operator, 'POST', `/api/v1/operator/access-requests/${request.id}/decline`, {})).statusCode).toBe(200);
    } finally {
      await t.db.owner.db.updateTable('users').set({ status: 'active' }).where('id', '=', request.user.id).execute();
    }
  });

  it('accepts no body at all, refuses unknown fields, unknown ids (404) and non-operators (403)', async () => {
    const north = await signIn(t, 'admin@northwind.test');
    const request = (await api(t, north, 'POST', '/api/v1/access-requests', { app: 'finance' })).json();
    expect((await api(t, north, 'POST', `/api/v1/operator/access-requests/${request.id}/approve`, {})).statusCode).toBe(403);
    const unknown = await api(t, operator, 'POST', `/api/v1/operator/access-requests/${request.id}/approve`, { note: 'ok', grantAll: true });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().errors[0].path).toBe('grantAll');
    expect((await api(t, operator, 'POST', `/api/v1/operator/access-requests/acr_${'0'.repeat(26)}/approve`, {})).statusCode).toBe(404);
    const bare = await t.app.inject({ method: 'POST', url: `/api/v1/operator/access-requests/${request.id}/approve`, headers: operator.headers });
    expect(bare.statusCode, bare.body).toBe(200);
    expect(bare.json()).toMatchObject({ status: 'approved', decisionNote: null });
  });
});
