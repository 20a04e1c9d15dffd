import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestApp, deliverQueued, lastMailTo, signIn, type TestApp } from '../test/harness.ts';
import { inScope } from '../platform/database.ts';
import { enqueueNotification } from './enqueue-notification.ts';
import { DEV_MAILBOX_SIZE } from './dev-list-mailbox.ts';

let t: TestApp;
let off: TestApp;
beforeAll(async () => {
  [t, off] = await Promise.all([createTestApp({ devMailbox: true }), createTestApp({ devMailbox: false })]);
  await signIn(t, 'admin@northwind.test');
  await deliverQueued(t.db);
  await api(t, null, 'POST', '/api/v1/auth/login', { email: 'operator@folio.test', password: 'folio-demo-2026' });
});
afterAll(async () => Promise.all([t.close(), off.close()]));

interface Item { id: string; toEmail: string; kind: string; subject: string; bodyText: string; status: string; createdAt: string; history: Array<{ status: string }> }
const mailbox = async (app: TestApp, query = '') => {
  const res = await api(app, null, 'GET', `/api/v1/dev/mailbox${query}`);
  return { res, body: res.json<{ data: Item[] }>() };
};

describe('devListMailbox', () => {
  it('shows the newest mail of everyone, unmasked, to anyone, when the dev mailbox is on', async () => {
    const { res, body } = await mailbox(t);
    expect(res.statusCode).toBe(200);
    expect(body.data[0]!.toEmail).toBe('operator@folio.test');
    const code = body.data.find((n) => n.toEmail === 'admin@northwind.test')!;
    expect(code.subject).toBe((await lastMailTo(t.db, 'admin@northwind.test'))!.subject);
    expect(code.subject).toMatch(/\d{6}$/);
    expect(code).toMatchObject({ kind: 'two_factor_code', status: 'sent' });
    expect(code.history.map((h) => h.status)).toEqual(['queued', 'sent']);
    expect(Object.keys(code).sort()).toEqual(['bodyText', 'createdAt', 'history', 'id', 'kind', 'replyTo', 'status', 'subject', 'toEmail']);
  });

  it('filters by recipient and keeps only the newest 50', async () => {
    const only = (await mailbox(t, '?to=ADMIN@northwind.test')).body.data;
    expect(only.map((n) => n.toEmail)).toEqual(['admin@northwind.test']);
    expect((await mailbox(t, '?to=northw')).body.data.map((n) => n.toEmail)).toEqual(['admin@northwind.test']);

    await inScope(t.db.app.db, { kind: 'system' }, async (trx) => {
      for (let i = 0; i < DEV_MAILBOX_SIZE + 5; i++) {
        await enqueueNotification(trx, { partnerId: null, customerId: null, userId: null, toEmail: 'bulk@folio.test', kind: 'low_balance', subject: `Bulk ${i}`, bodyText: 'x' });
      }
    });
    const bulk = (await mailbox(t, '?to=bulk@folio.test')).body.data;
    expect(bulk).toHaveLength(DEV_MAILBOX_SIZE);
    expect(bulk[0]!.subject).toBe(`Bulk ${DEV_MAILBOX_SIZE + 4}`);
  });

  it('rejects bad query parameters, naming them', async () => {
    const { res } = await mailbox(t, `?to=${'x'.repeat(255)}&limit=5`);
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['to', 'limit']));
  });

  it('answers 404 not_found when the dev mailbox is off', async () => {
    const { res } = await mailbox(off);
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('not_found');
    const signedIn = await signIn(off, 'admin@demo.test');
    expect((await api(off, signedIn, 'GET', '/api/v1/dev/mailbox')).statusCode).toBe(404);
  });
});
