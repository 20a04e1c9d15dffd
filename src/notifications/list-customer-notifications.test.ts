import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestApp, customerIdOf, deliverQueued, signIn, userIdOf, type Session, type TestApp } from '../test/harness.ts';
import { MASK } from './notification-view.ts';

let t: TestApp;
let admin: Session;
let acme: string;
let globex: string;
let wombat: string;
beforeAll(async () => {
  t = await createTestApp();
  [acme, globex, wombat] = await Promise.all([customerIdOf(t.db, 'Acme Pte Ltd'), customerIdOf(t.db, 'Globex Sdn Bhd'), customerIdOf(t.db, 'Wombat Pty Ltd')]);
  admin = await signIn(t, 'admin@demo.test');
  for (const email of ['owner@acme.test', 'member@acme.test', 'owner@globex.test', 'owner@wombat.test']) {
    await api(t, null, 'POST', '/api/v1/auth/password-reset', { email });
  }
  await deliverQueued(t.db);
});
afterAll(async () => t.close());

const list = (customerId: string, query = '', who: Session | null = admin) => api(t, who, 'GET', `/api/v1/customers/${customerId}/notifications${query}`);

describe('listCustomerNotifications', () => {
  it("lists only that customer's mail, newest first, masked, with history", async () => {
    const res = await list(acme);
    expect(res.statusCode).toBe(200);
    const body = res.json<{ data: Array<{ toEmail: string; customerId: string; bodyText: string; history: Array<{ status: string }> }>; nextCursor: null }>();
    expect(body.data.map((n) => n.toEmail)).toEqual(['member@acme.test', 'owner@acme.test']);
    expect(body.data.every((n) => n.customerId === acme)).toBe(true);
    expect(body.data[0]!.bodyText).toContain(`?token=${MASK}`);
    expect(body.data[0]!.history.map((h) => h.status)).toEqual(['queued', 'sent']);
    expect(body.nextCursor).toBeNull();

    const globexMail = (await list(globex)).json<{ data: Array<{ toEmail: string }> }>().data;
    expect(globexMail.map((n) => n.toEmail)).toEqual(['owner@globex.test']);
  });

  it('pages with limit and cursor', async () => {
    const first = (await list(acme, '?limit=1')).json<{ data: Array<{ id: string; toEmail: string }>; nextCursor: string }>();
    expect(first.data.map((n) => n.toEmail)).toEqual(['member@acme.test']);
    const second = (await list(acme, `?limit=1&cursor=${first.nextCursor}`)).json<{ data: Array<{ toEmail: string }>; nextCursor: string | null }>();
    expect(second).toEqual({ data: [expect.objectContaining({ toEmail: 'owner@acme.test' })], nextCursor: null });
  });

  it("answers 404 for another partner's customer and for an unknown one", async () => {
    const foreign = await list(wombat);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().code).toBe('not_found');
    expect((await list('cus_0000000000000000000000000')).statusCode).toBe(404);
  });

  it('rejects a malformed id and bad query parameters, naming them', async () => {
    const badId = await list('acme');
    expect(badId.statusCode).toBe(400);
    expect(badId.json().errors.map((e: { path: string }) => e.path)).toContain('id');
    const badLimit = await list(acme, '?limit=500&status=sent');
    expect(badLimit.statusCode).toBe(400);
    expect(badLimit.json().errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['limit', 'status']));
  });

  it('needs the Customer app', async () => {
    expect((await list(acme, '', null)).statusCode).toBe(401);
    await t.db.owner.db.deleteFrom('appGrants').where('userId', '=', await userIdOf(t.db, 'admin@demo.test')).where('app', '=', 'customer').execute();
    const res = await list(acme);
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('app_not_granted');
  });
});
