import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, createTestApp, lastMailTo, signIn, type Session, type TestApp } from '../test/harness.ts';

let t: TestApp;
let operator: Session;
beforeAll(async () => {
  t = await createTestApp();
  operator = await signIn(t, 'operator@folio.test');
});
afterAll(async () => t.close());

describe('operatorDeclineAccessRequest', () => {
  it('declines, grants nothing, mails the requester and audits under their partner', async () => {
    const admin = await signIn(t, 'admin@demo.test');
    const request = (await api(t, admin, 'POST', '/api/v1/access-requests', { app: 'finance' })).json();
    const res = await api(t, operator, 'POST', `/api/v1/operator/access-requests/${request.id}/decline`, { note: 'Not without a manager\'s OK' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'declined', decisionNote: 'Not without a manager\'s OK' });
    expect((await api(t, admin, 'GET', '/api/v1/auth/session')).json().apps).not.toContain('finance');
    const mail = await lastMailTo(t.db, 'admin@demo.test');
    expect(mail).toMatchObject({ kind: 'access_request_decided', subject: expect.stringContaining('declined') });
    const [event] = await auditEventsOf(t.db, 'access_request.declined');
    expect(event).toMatchObject({ partnerId: res.json().partner.id, actorType: 'operator', targetId: request.id });

    expect((await api(t, operator, 'POST', `/api/v1/operator/access-requests/${request.id}/approve`, {})).statusCode).toBe(409);
    // A new request may follow a declined one.
    expect((await api(t, admin, 'POST', '/api/v1/access-requests', { app: 'finance' })).statusCode).toBe(201);
  });

  it('declines a request for an app other than Finance with its note, as for Finance', async () => {
    const finance = await signIn(t, 'finance@demo.test');
    const request = (await api(t, finance, 'POST', '/api/v1/access-requests', { app: 'settings' })).json();
    const res = await api(t, operator, 'POST', `/api/v1/operator/access-requests/${request.id}/decline`, { note: 'Ask Adam Admin, who holds it' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ app: 'settings', status: 'declined', decisionNote: 'Ask Adam Admin, who holds it' });
    expect((await api(t, finance, 'GET', '/api/v1/auth/session')).json().apps).not.toContain('settings');
    const mail = await lastMailTo(t.db, 'finance@demo.test');
    expect(mail).toMatchObject({ kind: 'access_request_decided', subject: 'Your request for the Portal Settings app was declined' });
    expect(mail!.bodyText).toContain('Note from the Folio operator: Ask Adam Admin, who holds it');
  });

  it('is for the operator only; unknown requests are 404', async () => {
    const admin = await signIn(t, 'admin@demo.test');
    expect((await api(t, admin, 'POST', `/api/v1/operator/access-requests/acr_${'0'.repeat(26)}/decline`, {})).statusCode).toBe(403);
    expect((await api(t, operator, 'POST', `/api/v1/operator/access-requests/acr_${'0'.repeat(26)}/decline`, {})).statusCode).toBe(404);
  });
});
