import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, createTestApp, signIn, type Session, type TestApp } from '../test/harness.ts';

let t: TestApp;
let admin: Session;
beforeAll(async () => {
  t = await createTestApp();
  admin = await signIn(t, 'admin@demo.test');
});
afterAll(async () => t.close());

const request = (who: Session | Record<string, string> | null, payload: unknown) => api(t, who, 'POST', '/api/v1/access-requests', payload);

describe('requestAppAccess', () => {
  it('files a pending request for Finance, once at a time', async () => {
    const res = await request(admin, { app: 'finance', note: 'I reconcile bank transfers' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      id: expect.stringMatching(/^acr_/), app: 'finance', status: 'pending', note: 'I reconcile bank transfers',
      user: { email: 'admin@demo.test', name: 'Adam Admin' }, decidedAt: null, decisionNote: null,
    });
    const [event] = await auditEventsOf(t.db, 'access_request.created');
    expect(event).toMatchObject({ app: 'access', targetId: res.json().id, actorLabel: 'admin@demo.test' });

    const again = await request(admin, { app: 'finance' });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('conflict');
  });

  it('refuses an app already held (409), other apps (400), API keys and customers (403)', async () => {
    const finance = await signIn(t, 'finance@demo.test');
    expect((await request(finance, { app: 'finance' })).statusCode).toBe(409);
    const other = await request(finance, { app: 'audit', reason: 'x' });
    expect(other.statusCode).toBe(400);
    expect(other.json().errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['app', 'reason']));
    const tooLong = await request(finance, { app: 'finance', note: 'x'.repeat(1001) });
    expect(tooLong.json().errors[0].path).toBe('note');

    const key = (await api(t, admin, 'POST', '/api/v1/api-keys', { name: 'k', apps: ['access'] })).json();
    expect((await request({ authorization: `Bearer ${key.token}` }, { app: 'finance' })).statusCode).toBe(403);
    expect((await request(await signIn(t, 'owner@acme.test'), { app: 'finance' })).statusCode).toBe(403);
    expect((await request(null, { app: 'finance' })).statusCode).toBe(401);
  });
});
