import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { api, auditEventsOf, createTestAppWithGateway, customerIdOf, deliverQueued, partnerIdOf, signIn, type Session, type TestAppWithGateway } from '../test/harness.ts';
import type { OutgoingEmail } from '../notifications/transport.ts';
import { addDays, utcDay } from './dates.ts';
import { NOTICE_DAYS, runTopUpPolicyNotices } from './top-up-policy-notices.ts';

/**
 * Issue 8 §2: dated versions that take effect on their date, notices before a change, the version recorded on every
 * top-up, withdrawal before the date, and bad input refused with nothing written.
 */
let t: TestAppWithGateway;
let admin: Session;
let owner: Session;
let demo: string;
// The server's clock stands at this file's start unless a test moves it: "today" is the same day for both, even past midnight.
const fileStart = new Date();
const today = utcDay(fileStart);
const at = (day: string) => new Date(`${day}T09:00:00Z`);

beforeAll(async () => {
  t = await createTestAppWithGateway();
  t.clock.set(fileStart);
  admin = await signIn(t, 'admin@demo.test');
  owner = await signIn(t, 'owner@acme.test');
  demo = await partnerIdOf(t.db, 'demo-telecom');
});
afterAll(async () => t.close());

const addVersion = (payload: object) => api(t, admin, 'PUT', '/api/v1/settings/top-up-policies', payload);
const withdraw = (id: string) => api(t, admin, 'POST', `/api/v1/settings/top-up-policies/${id}/withdraw`, {});
const notices = (versionId: string) => t.db.owner.db.selectFrom('topUpPolicyNotices').selectAll().where('policyVersionId', '=', versionId).execute();
const mailsOfKind = (kind: string) => t.db.owner.db.selectFrom('notifications').selectAll().where('kind', '=', kind).where('partnerId', '=', demo).orderBy('id').execute();
const versionRows = () => t.db.owner.db.selectFrom('topUpPolicies').select('id').where('partnerId', '=', demo).execute();

describe('bad input: a clear 4xx naming the field, nothing written', () => {
  it.each([
    ['a date in the past', { currency: 'SGD', effectiveFrom: addDays(today, -1), minimum: '5.00', feeThreshold: '0', fee: '0' }, 422, 'effectiveFrom'],
    ['a negative minimum', { currency: 'SGD', effectiveFrom: addDays(today, 3), minimum: '-5.00', feeThreshold: '0', fee: '0' }, 422, 'minimum'],
    ['too many decimals for SGD', { currency: 'SGD', effectiveFrom: addDays(today, 3), minimum: '5.001', feeThreshold: '0', fee: '0' }, 422, 'minimum'],
    ['decimals for VND', { currency: 'VND', effectiveFrom: addDays(today, 3), minimum: '0', feeThreshold: '300000.5', fee: '18000' }, 422, 'feeThreshold'],
    ['an amount that is no number', { currency: 'SGD', effectiveFrom: addDays(today, 3), minimum: 'five', feeThreshold: '0', fee: '0' }, 400, 'minimum'],
    ['a fee without a threshold', { currency: 'SGD', effectiveFrom: addDays(today, 3), minimum: '0', feeThreshold: '0', fee: '1.00' }, 422, 'feeThreshold'],
    ['a threshold without a fee', { currency: 'SGD', effectiveFrom: addDays(today, 3), minimum: '0', feeThreshold: '20.00', fee: '0' }, 422, 'fee'],
    ['an unknown currency', { currency: 'EUR', effectiveFrom: addDays(today, 3), minimum: '5.00', feeThreshold: '0', fee: '0' }, 400, 'currency'],
    ['not a date', { currency: 'SGD', effectiveFrom: '2026-13-01', minimum: '5.00', feeThreshold: '0', fee: '0' }, 400, 'effectiveFrom'],
    ['an amount that is not a decimal string', { currency: 'SGD', effectiveFrom: addDays(today, 3), minimum: 5, feeThreshold: '0', fee: '0' }, 400, 'minimum'],
  ])('%s', async (_name, payload, status, field) => {
    const rows = (await versionRows()).length;
    const events = (await auditEventsOf(t.db, 'top_up_policy.version_added')).length;
    const res = await addVersion(payload);
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json().errors.map((e: { path: string }) => e.path)).toContain(field);
    expect(await versionRows()).toHaveLength(rows);
    expect(await auditEventsOf(t.db, 'top_up_policy.version_added')).toHaveLength(events);
  });

  it('withdrawing: an unknown version is 404, a malformed id 400', async () => {
    expect((await withdraw('tpv_0000000000000000')).statusCode).toBe(404);
    expect((await withdraw('nope')).json()).toMatchObject({ status: 400, errors: [{ path: 'versionId' }] });
  });
});

describe('a new version takes effect on its date, and every top-up records the version that applied', () => {
  it('before the date the current policy applies and the portal announces the next; from the date the new one applies', async () => {
    const from = addDays(today, 2);
    const added = await addVersion({ currency: 'SGD', effectiveFrom: from, minimum: '15.00', feeThreshold: '40.00', fee: '2.50' });
    expect(added.statusCode).toBe(201);
    const version = added.json();
    expect(version).toMatchObject({ id: expect.stringMatching(/^tpv_/), status: 'upcoming', inForce: false, withdrawnAt: null, customersNotified: 0 });
    const [event] = await auditEventsOf(t.db, 'top_up_policy.version_added');
    expect(event).toMatchObject({ targetId: version.id, actorLabel: 'admin@demo.test' });

    // Today: the built-in default (below 20.00 a fee of 1.00), the change announced.
    const portalToday = (await api(t, owner, 'GET', '/api/v1/portal/top-up-policy')).json();
    expect(portalToday).toMatchObject({ source: 'default', versionId: null, minimum: '0.00', fee: '1.00', upcoming: { versionId: version.id, effectiveFrom: from, minimum: '15.00' } });
    const small = await api(t, owner, 'POST', '/api/v1/portal/top-ups', { amount: '10.00', cardToken: 'tok_sandbox_success' });
    expect(small.json()).toMatchObject({ status: 'succeeded', fee: '1.00', total: '11.00' });

    // On its date (the server's clock moved): in force; below the new minimum refused; the new fee applies.
    t.clock.set(at(from));
    try {
      const portalThen = (await api(t, owner, 'GET', '/api/v1/portal/top-up-policy')).json();
      expect(portalThen).toMatchObject({ source: 'partner', versionId: version.id, effectiveFrom: from, minimum: '15.00', fee: '2.50', feeThreshold: '40.00', upcoming: null });
      const refused = await api(t, owner, 'POST', '/api/v1/portal/top-ups', { amount: '10.00', cardToken: 'tok_sandbox_success' });
      expect(refused.json()).toMatchObject({ status: 422, code: 'rule_violation', errors: [{ path: 'amount', message: 'at least 15.00 SGD' }] });
      const big = await api(t, owner, 'POST', '/api/v1/portal/top-ups', { amount: '20.00', cardToken: 'tok_sandbox_success' });
      expect(big.json()).toMatchObject({ status: 'succeeded', fee: '2.50', total: '22.50' });
      const list = (await api(t, admin, 'GET', '/api/v1/settings/top-up-policies?currency=SGD')).json().data;
      expect(list.find((v: { id: string }) => v.id === version.id)).toMatchObject({ status: 'in_force', inForce: true });

      // Staff see which version applied to each top-up.
      const acme = await customerIdOf(t.db, 'Acme Pte Ltd');
      const topUps = (await api(t, admin, 'GET', `/api/v1/customers/${acme}/top-ups`)).json().data;
      expect(topUps.find((x: { id: string }) => x.id === big.json().id).policyVersion).toEqual({ id: version.id, effectiveFrom: from });
      expect(topUps.find((x: { id: string }) => x.id === small.json().id).policyVersion).toBeNull();
      const row = await t.db.owner.db.selectFrom('topUps').select('policyVersionId').where('id', '=', big.json().id).executeTakeFirstOrThrow();
      expect(row.policyVersionId).toBe(version.id);
      // Once in force it is history: it cannot be withdrawn.
      const late = await withdraw(version.id);
      expect(late.json()).toMatchObject({ status: 409, code: 'policy_version_in_effect', errors: [{ path: 'versionId' }] });
    } finally {
      t.clock.set(fileStart);
    }
  });

  it('the version on a top-up is frozen in the database', async () => {
    const row = await t.db.owner.db.selectFrom('topUps').select('id').where('policyVersionId', 'is not', null).executeTakeFirstOrThrow();
    await expect(t.db.owner.db.updateTable('topUps').set({ policyVersionId: null } as never).where('id', '=', row.id).execute()).rejects.toThrow(/keeps|never changed/);
  });
});

describe('notices to customers before a change', () => {
  it(`one notice per customer, ${NOTICE_DAYS} days before the date; a second run sends nothing more; logged; sales as Reply-To`, async () => {
    const from = addDays(today, NOTICE_DAYS + 6);
    const version = (await addVersion({ currency: 'SGD', effectiveFrom: from, minimum: '25.00', feeThreshold: '0', fee: '0' })).json();
    const deps = { db: t.db.app.db };

    // Too early: nobody is told yet (a run today announces only the versions due today).
    await runTopUpPolicyNotices(deps, { asOf: at(today) });
    expect(await notices(version.id)).toEqual([]);

    // NOTICE_DAYS before the date: every active SGD customer of Demo Telecom, once, to its owner.
    const sgdCustomers = await t.db.owner.db.selectFrom('customers').select('id').where('partnerId', '=', demo).where('currency', '=', 'SGD').where('status', '=', 'active').execute();
    const first = await runTopUpPolicyNotices(deps, { asOf: at(addDays(from, -NOTICE_DAYS)) });
    expect(first.notified).toBeGreaterThanOrEqual(sgdCustomers.length);
    const again = await runTopUpPolicyNotices(deps, { asOf: at(addDays(from, -NOTICE_DAYS + 1)) });
    expect(again.notified).toBe(0);
    const sent = await notices(version.id);
    expect(sent.map((n) => n.customerId).sort()).toEqual(sgdCustomers.map((c) => c.id).sort());
    const mails = (await mailsOfKind('top_up_policy_notice')).filter((m) => m.subject.includes(from));
    const acme = await customerIdOf(t.db, 'Acme Pte Ltd');
    const acmeMails = mails.filter((m) => m.customerId === acme);
    expect(acmeMails).toHaveLength(1);
    expect(acmeMails[0]).toMatchObject({ toEmail: 'owner@acme.test', subject: `Top-up policy change from ${from} (SGD)` });
    expect(acmeMails[0]!.bodyText).toContain('New: minimum top-up 25.00 SGD; no admin fee.');
    // Globex pays in MYR: not told of an SGD change.
    const globex = await customerIdOf(t.db, 'Globex Sdn Bhd');
    expect(sent.map((n) => n.customerId)).not.toContain(globex);

    // Staff see how many were told; the customer's notifications log has it; delivery names sales as Reply-To.
    const listed = (await api(t, admin, 'GET', '/api/v1/settings/top-up-policies?currency=SGD')).json().data.find((v: { id: string }) => v.id === version.id);
    expect(listed.customersNotified).toBe(sgdCustomers.length);
    const log = (await api(t, admin, 'GET', `/api/v1/customers/${acme}/notifications`)).json();
    expect(log.data.find((n: { kind: string; subject: string }) => n.kind === 'top_up_policy_notice' && n.subject.includes(from))).toBeTruthy();
    const outgoing: OutgoingEmail[] = [];
    await deliverQueued(t.db, { name: 'local_mailbox', send: async (m) => void outgoing.push(m) });
    expect(outgoing.find((m) => m.messageId === acmeMails[0]!.id)?.replyTo).toEqual({ address: 'sales@demo-telecom.test', name: null });
    const delivered = await t.db.owner.db.selectFrom('notifications').select(['status', 'replyToEmail']).where('id', '=', acmeMails[0]!.id).executeTakeFirstOrThrow();
    expect(delivered).toEqual({ status: 'sent', replyToEmail: 'sales@demo-telecom.test' });
  });

  it('a version dated within the notice period is announced by the next run (adding it queues one); a version dated today the same day', async () => {
    const version = (await addVersion({ currency: 'SGD', effectiveFrom: today, minimum: '1.00', feeThreshold: '0', fee: '0' })).json();
    const queued = await sql<{ task: string }>`select task_identifier as task from graphile_worker.jobs`.execute(t.db.owner.db);
    expect(queued.rows.map((j) => j.task)).toContain('top_up_policy_notices');
    await runTopUpPolicyNotices({ db: t.db.app.db }, { asOf: fileStart });
    const mail = (await mailsOfKind('top_up_policy_notice')).find((m) => m.toEmail === 'owner@acme.test' && m.subject.includes(today));
    expect(mail?.bodyText).toContain(`From today, ${today}`);
    expect((await notices(version.id)).length).toBeGreaterThan(0);
  });
});

describe('withdrawing a version before it takes effect', () => {
  it('it never applies, its date is free again, customers already told are told it is off; audited; twice is a no-op', async () => {
    const from = addDays(today, 5);
    const version = (await addVersion({ currency: 'SGD', effectiveFrom: from, minimum: '30.00', feeThreshold: '0', fee: '0' })).json();
    await runTopUpPolicyNotices({ db: t.db.app.db }, { asOf: fileStart });
    const told = await notices(version.id);
    expect(told.length).toBeGreaterThan(0);

    const res = await withdraw(version.id);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: version.id, status: 'withdrawn', inForce: false, withdrawnAt: expect.any(String) });
    const [event] = await auditEventsOf(t.db, 'top_up_policy.version_withdrawn');
    expect(event).toMatchObject({ targetId: version.id, actorLabel: 'admin@demo.test' });
    const off = (await mailsOfKind('top_up_policy_withdrawn')).filter((m) => m.subject.includes(from));
    expect(off.map((m) => m.customerId).sort()).toEqual(told.map((n) => n.customerId).sort());
    expect(off[0]!.bodyText).toContain(`announced for ${from} will not happen`);

    // Not announced or applied any more; a later run does not tell anyone again.
    t.clock.set(at(addDays(from, -1)));
    try {
      expect((await api(t, owner, 'GET', '/api/v1/portal/top-up-policy')).json().upcoming?.versionId ?? null).not.toBe(version.id);
    } finally {
      t.clock.set(fileStart);
    }
    expect(await runTopUpPolicyNotices({ db: t.db.app.db }, { asOf: fileStart })).toEqual({ notified: 0 });

    const second = await withdraw(version.id);
    expect(second.statusCode).toBe(200);
    expect(await auditEventsOf(t.db, 'top_up_policy.version_withdrawn')).toHaveLength(1);
    // The date is free for another version.
    expect((await addVersion({ currency: 'SGD', effectiveFrom: from, minimum: '12.00', feeThreshold: '0', fee: '0' })).statusCode).toBe(201);
    // A withdrawn version is never edited again, even by hand.
    await expect(t.db.owner.db.updateTable('topUpPolicies').set({ withdrawnAt: new Date() }).where('id', '=', version.id).execute()).rejects.toThrow(/never changed again/);
  });

  it('needs the Portal Settings app', async () => {
    const finance = await signIn(t, 'finance@demo.test');
    const version = (await addVersion({ currency: 'MYR', effectiveFrom: addDays(today, 30), minimum: '10.00', feeThreshold: '0', fee: '0' })).json();
    expect((await api(t, finance, 'POST', `/api/v1/settings/top-up-policies/${version.id}/withdraw`, {})).statusCode).toBe(403);
    const north = await signIn(t, 'admin@northwind.test');
    expect((await api(t, north, 'POST', `/api/v1/settings/top-up-policies/${version.id}/withdraw`, {})).statusCode).toBe(404);
  });
});
