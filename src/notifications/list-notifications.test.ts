import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestApp, customerIdOf, deliverQueued, signIn, userIdOf, type Session, type TestApp } from '../test/harness.ts';
import { MASK } from './notification-view.ts';

let t: TestApp;
let admin: Session;
let acme: string;
let wombat: string;
beforeAll(async () => {
  t = await createTestApp();
  acme = await customerIdOf(t.db, 'Acme Pte Ltd');
  wombat = await customerIdOf(t.db, 'Wombat Pty Ltd');
  admin = await signIn(t, 'admin@demo.test'); // mails admin a sign-in code
  await signIn(t, 'admin@northwind.test'); // another partner's mail
  await api(t, null, 'POST', '/api/v1/auth/password-reset', { email: 'owner@acme.test' }); // a reset link to an Acme user
  await api(t, null, 'POST', '/api/v1/auth/password-reset', { email: 'owner@globex.test' });
  await api(t, null, 'POST', '/api/v1/auth/password-reset', { email: 'owner@initech.test' });
  await deliverQueued(t.db);
  await api(t, null, 'POST', '/api/v1/auth/password-reset', { email: 'member@acme.test' }); // still queued
});
afterAll(async () => t.close());

interface Item {
  id: string; kind: string; toEmail: string; customerId: string | null; subject: string; bodyText: string; status: string;
  attempts: number; transport: string | null; sentAt: string | null; history: Array<{ status: string; detail: string | null; at: string }>;
}
const list = async (query = '', who: Session | null = admin) => {
  const res = await api(t, who, 'GET', `/api/v1/notifications${query}`);
  return { res, body: res.json<{ data: Item[]; nextCursor: string | null }>() };
};

describe('listNotifications', () => {
  it("lists the partner's mail, newest first, with secrets masked and the delivery history", async () => {
    const { res, body } = await list();
    expect(res.statusCode).toBe(200);
    const emails = body.data.map((n) => n.toEmail);
    expect(emails).toEqual(expect.arrayContaining(['owner@acme.test', 'member@acme.test']));
    expect(emails).not.toContain('admin@northwind.test');
    // A staff member's account mail (a colleague's sign-in code) is not listed, not resendable.
    expect(emails).not.toContain('admin@demo.test');
    const staffCode = await t.db.owner.db.selectFrom('notifications').select('id').where('toEmail', '=', 'admin@demo.test').executeTakeFirstOrThrow();
    expect((await api(t, admin, 'POST', `/api/v1/notifications/${staffCode.id}/resend`)).statusCode).toBe(404);
    expect(body.data.map((n) => n.id)).toEqual([...body.data.map((n) => n.id)].sort().reverse());

    const reset = body.data.find((n) => n.toEmail === 'owner@acme.test' && n.kind === 'password_reset')!;
    expect(reset).toMatchObject({ customerId: acme, status: 'sent', attempts: 1, transport: 'local_mailbox' });
    expect(reset.history.map((h) => h.status)).toEqual(['queued', 'sent']);
    expect(reset.bodyText).toContain(`/reset-password?token=${MASK}`);
    expect(reset.bodyText).not.toMatch(/token=(?!•)/);

    const queued = body.data.find((n) => n.toEmail === 'member@acme.test')!;
    expect(queued).toMatchObject({ status: 'queued', attempts: 0, sentAt: null });
    expect(queued.history).toEqual([{ status: 'queued', detail: null, at: expect.any(String) }]);
  });

  it('filters by customer, status and kind', async () => {
    const byCustomer = (await list(`?customerId=${acme}`)).body.data;
    expect(byCustomer.length).toBeGreaterThanOrEqual(2);
    expect(byCustomer.every((n) => n.customerId === acme)).toBe(true);

    const queued = (await list('?status=queued')).body.data;
    expect(queued.map((n) => n.toEmail)).toEqual(['member@acme.test']);

    const resets = (await list('?kind=password_reset')).body.data;
    expect(resets.length).toBeGreaterThan(0);
    expect(resets.every((n) => n.kind === 'password_reset')).toBe(true);
    expect((await list('?kind=two_factor_code')).body.data).toEqual([]); // only staff got codes here
  });

  it("pages with limit and cursor, and another partner's customer id matches nothing", async () => {
    const all = (await list('?limit=200')).body.data.map((n) => n.id);
    const first = await list('?limit=2');
    expect(first.body.data.map((n) => n.id)).toEqual(all.slice(0, 2));
    expect(first.body.nextCursor).toBe(all[1]);
    const second = await list(`?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.data.map((n) => n.id)).toEqual(all.slice(2, 4));
    const last = await list(`?limit=200&cursor=${all[all.length - 2]}`);
    expect(last.body).toEqual({ data: [expect.objectContaining({ id: all[all.length - 1] })], nextCursor: null });

    const foreign = await list(`?customerId=${wombat}`);
    expect(foreign.res.statusCode).toBe(200);
    expect(foreign.body).toEqual({ data: [], nextCursor: null });
  });

  it('rejects bad query parameters, naming each', async () => {
    for (const [query, field] of [
      ['?limit=0', 'limit'], ['?limit=201', 'limit'], ['?limit=ten', 'limit'], ['?status=bounced', 'status'],
      ['?kind=Two-Factor', 'kind'], ['?customerId=acme', 'customerId'], ['?cursor=abc', 'cursor'], ['?surprise=1', 'surprise'],
    ] as const) {
      const { res } = await list(query);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().code).toBe('validation_failed');
      expect(res.json().errors.map((e: { path: string }) => e.path), query).toContain(field);
    }
  });

  it('needs the Customer app, a staff member, and a session', async () => {
    expect((await list('', null)).res.statusCode).toBe(401);
    const owner = await signIn(t, 'owner@acme.test');
    const asCustomer = await list('', owner);
    expect(asCustomer.res.statusCode).toBe(403);
    expect(asCustomer.res.json().code).toBe('forbidden');

    const finance = await signIn(t, 'finance@demo.test');
    await t.db.owner.db.deleteFrom('appGrants').where('userId', '=', await userIdOf(t.db, 'finance@demo.test')).where('app', '=', 'customer').execute();
    const noApp = await list('', finance);
    expect(noApp.res.statusCode).toBe(403);
    expect(noApp.res.json().code).toBe('app_not_granted');
  });
});
