import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestApp, lastMailTo, partnerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';

let t: TestApp;
let operator: Session;
let northwind: string;
beforeAll(async () => {
  t = await createTestApp();
  northwind = await partnerIdOf(t.db, 'northwind');
  operator = await signIn(t, 'operator@folio.test'); // the operator's own code: mail without a partner
  await signIn(t, 'admin@demo.test');
  await signIn(t, 'admin@northwind.test');
  await api(t, null, 'POST', '/api/v1/auth/password-reset', { email: 'owner@acme.test' });
});
afterAll(async () => t.close());

interface Item { id: string; toEmail: string; partnerId: string | null; subject: string; bodyText: string; status: string; history: Array<{ status: string }> }
const mailbox = async (query = '', who: Session = operator) => {
  const res = await api(t, who, 'GET', `/api/v1/operator/mailbox${query}`);
  return { res, body: res.json<{ data: Item[]; nextCursor: string | null }>() };
};

describe('operatorListMailbox', () => {
  it('shows every partner’s mail, newest first, with history; sign-in codes and reset links masked', async () => {
    const { res, body } = await mailbox();
    expect(res.statusCode).toBe(200);
    const emails = body.data.map((n) => n.toEmail);
    expect(emails).toEqual(expect.arrayContaining(['operator@folio.test', 'admin@demo.test', 'admin@northwind.test', 'owner@acme.test']));
    expect(body.data.map((n) => n.id)).toEqual([...body.data.map((n) => n.id)].sort().reverse());

    const code = body.data.find((n) => n.toEmail === 'admin@northwind.test')!;
    const sent = (await lastMailTo(t.db, 'admin@northwind.test'))!;
    expect(sent.subject).toMatch(/\d{6}/);
    expect(code.subject).toBe(sent.subject.replace(/\d{6}/, '••••••'));
    expect(code.bodyText).not.toMatch(/\d{6}/);
    expect(code.partnerId).toBe(northwind);
    expect(code.history.map((h) => h.status)).toEqual(['queued']);

    const reset = body.data.find((n) => n.toEmail === 'owner@acme.test')!;
    expect(reset.bodyText).toMatch(/reset-password\?token=••••••/);
    expect(reset.bodyText).not.toMatch(/token=[A-Za-z0-9_-]{20,}/);
  });

  it('filters by recipient (any case) and by partner, or the platform', async () => {
    const to = (await mailbox('?to=Admin@Northwind.test')).body.data;
    expect(to.length).toBeGreaterThan(0);
    expect(to.every((n) => n.toEmail === 'admin@northwind.test')).toBe(true);
    // Any part of the address, as typed in a search box; `%` and `_` are plain characters.
    expect((await mailbox('?to=NORTHWIND')).body.data.map((n) => n.toEmail)).toEqual(to.map((n) => n.toEmail));
    expect((await mailbox('?to=%25')).body.data).toEqual([]);
    expect((await mailbox('?to=')).body.data.length).toBe((await mailbox()).body.data.length);

    const byPartner = (await mailbox(`?partnerId=${northwind}`)).body.data;
    expect(byPartner.map((n) => n.toEmail)).toEqual(['admin@northwind.test']);

    const platform = (await mailbox('?partnerId=platform')).body.data;
    expect(platform.map((n) => [n.toEmail, n.partnerId])).toEqual([['operator@folio.test', null]]);
  });

  it('pages with limit and cursor', async () => {
    const all = (await mailbox()).body.data.map((n) => n.id);
    const first = (await mailbox('?limit=1')).body;
    expect(first.data.map((n) => n.id)).toEqual([all[0]]);
    const rest = (await mailbox(`?cursor=${first.nextCursor}`)).body;
    expect(rest.data.map((n) => n.id)).toEqual(all.slice(1));
    expect(rest.nextCursor).toBeNull();
  });

  it('rejects bad query parameters, naming them', async () => {
    for (const [query, field] of [[`?to=${'x'.repeat(255)}`, 'to'], ['?partnerId=demo', 'partnerId'], ['?limit=-1', 'limit'], ['?status=sent', 'status']] as const) {
      const { res } = await mailbox(query);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().errors.map((e: { path: string }) => e.path), query).toContain(field);
    }
  });

  it('is for the operator only', async () => {
    const staff = await signIn(t, 'admin@demo.test');
    const res = await api(t, staff, 'GET', '/api/v1/operator/mailbox');
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('forbidden');
    expect((await api(t, null, 'GET', '/api/v1/operator/mailbox')).statusCode).toBe(401);
  });
});
