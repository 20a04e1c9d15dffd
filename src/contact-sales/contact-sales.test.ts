import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, createTestApp, customerIdOf, deliverQueued, partnerIdOf, signIn, startSmtpPeer, type Session, type TestApp } from '../test/harness.ts';
import { createMailTransport } from '../notifications/transport.ts';
import { enqueueNotification } from '../notifications/enqueue-notification.ts';
import { inScope } from '../platform/database.ts';
import type { OutgoingEmail } from '../notifications/transport.ts';
import { MESSAGE_MAX, MESSAGES_PER_HOUR, SUBJECT_MAX, TEST_EMAILS_PER_HOUR } from './contact-sales.ts';

/** Issue 8 §3: the contact-sales address and reply-to name, the test email, the portal's Contact sales form. */
let t: TestApp;
let admin: Session;
let owner: Session;
let demo: string;
let acme: string;

beforeAll(async () => {
  t = await createTestApp();
  admin = await signIn(t, 'admin@demo.test');
  owner = await signIn(t, 'owner@acme.test');
  demo = await partnerIdOf(t.db, 'demo-telecom');
  acme = await customerIdOf(t.db, 'Acme Pte Ltd');
});
afterAll(async () => t.close());

const patch = (payload: unknown) => api(t, admin, 'PATCH', '/api/v1/settings/portal', payload);
const testEmail = (who: Session = admin) => api(t, who, 'POST', '/api/v1/settings/portal/contact-sales-test', {});
const contactSales = (payload: unknown, who: Session = owner) => api(t, who, 'POST', '/api/v1/portal/contact-sales', payload);
const mails = (kind: string) => t.db.owner.db.selectFrom('notifications').selectAll().where('partnerId', '=', demo).where('kind', '=', kind).orderBy('id').execute();
const capture = async () => {
  const sent: OutgoingEmail[] = [];
  await deliverQueued(t.db, { name: 'local_mailbox', send: async (m) => void sent.push(m) });
  return sent;
};

describe('the contact-sales address and reply-to name (Portal Settings)', () => {
  it('saves both, audited; the portal reads where its messages go', async () => {
    const res = await patch({ contactSalesEmail: 'Deals@Demo-Telecom.test', contactSalesReplyToName: '  Demo Telecom Sales  ' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ contactSalesEmail: 'deals@demo-telecom.test', contactSalesReplyToName: 'Demo Telecom Sales' });
    const [event] = (await auditEventsOf(t.db, 'portal_config.updated')).slice(-1);
    expect(event!.changes).toMatchObject({ contactSalesReplyToName: { before: null, after: 'Demo Telecom Sales' } });
    expect((await api(t, owner, 'GET', '/api/v1/portal/contact-sales')).json()).toEqual({ configured: true, email: 'deals@demo-telecom.test', name: 'Demo Telecom Sales' });
  });

  it.each([
    ['not an email', { contactSalesEmail: 'not-mail' }, 'contactSalesEmail'],
    ['an email with spaces', { contactSalesEmail: 'sales team@demo.test' }, 'contactSalesEmail'],
    ['an email over 254 characters', { contactSalesEmail: `${'a'.repeat(250)}@demo.test` }, 'contactSalesEmail'],
    ['a number', { contactSalesEmail: 42 }, 'contactSalesEmail'],
    ['an empty name', { contactSalesReplyToName: '   ' }, 'contactSalesReplyToName'],
    ['a name over 100 characters', { contactSalesReplyToName: 'n'.repeat(101) }, 'contactSalesReplyToName'],
  ])('refuses %s: 400 naming the field, nothing written', async (_name, payload, field) => {
    const before = await api(t, admin, 'GET', '/api/v1/settings/portal');
    const res = await patch(payload);
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.map((e: { path: string }) => e.path)).toContain(field);
    const after = await api(t, admin, 'GET', '/api/v1/settings/portal');
    expect(after.json()).toEqual(before.json());
    expect(after.headers.etag).toBe(before.headers.etag);
  });
});

describe('the test email', () => {
  it('queues a test email to the saved address through the outbox, audited, sent with the reply-to name', async () => {
    const res = await testEmail();
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ notificationId: expect.stringMatching(/^ntf_/), toEmail: 'deals@demo-telecom.test', status: 'queued' });
    const [event] = await auditEventsOf(t.db, 'contact_sales.test_email_sent');
    expect(event).toMatchObject({ app: 'settings', targetId: res.json().notificationId, actorLabel: 'admin@demo.test' });
    const sent = (await capture()).find((m) => m.messageId === res.json().notificationId);
    expect(sent).toMatchObject({ to: 'deals@demo-telecom.test', subject: "Test: Demo Telecom's contact-sales address works", replyTo: { address: 'deals@demo-telecom.test', name: 'Demo Telecom Sales' } });
    // Logged like every other notification (the partner's notifications log).
    const log = (await api(t, admin, 'GET', '/api/v1/notifications?kind=contact_sales_test')).json();
    expect(log.data[0]).toMatchObject({ id: res.json().notificationId, status: 'sent', replyTo: 'Demo Telecom Sales <deals@demo-telecom.test>' });
  });

  it(`at most ${TEST_EMAILS_PER_HOUR} an hour: then 429, nothing written`, async () => {
    for (let i = (await mails('contact_sales_test')).length; i < TEST_EMAILS_PER_HOUR; i++) expect((await testEmail()).statusCode).toBe(202);
    const count = (await mails('contact_sales_test')).length;
    const refused = await testEmail();
    expect(refused.statusCode).toBe(429);
    expect(refused.json().code).toBe('too_many_requests');
    // Sent just now: the oldest of them is an hour old in (at most) an hour.
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(55 * 60);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60 * 60);
    expect(await mails('contact_sales_test')).toHaveLength(count);
  });

  it('needs the Portal Settings app; customers cannot send it', async () => {
    const finance = await signIn(t, 'finance@demo.test');
    expect((await testEmail(finance)).statusCode).toBe(403);
    expect((await testEmail(owner)).statusCode).toBe(403);
  });
});

describe('the portal\'s Contact sales form', () => {
  it('sends the message to the contact-sales address with the customer in it and the writer as Reply-To; audited; logged', async () => {
    const member = await signIn(t, 'member@acme.test');
    const res = await contactSales({ subject: 'Ten more lines', message: 'Hello,\nwe need ten more virtual lines next month.' }, member);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ toEmail: 'deals@demo-telecom.test', status: 'queued' });
    const id = res.json().notificationId;
    const row = await t.db.owner.db.selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      kind: 'contact_sales_message', toEmail: 'deals@demo-telecom.test', customerId: acme, replyToEmail: 'member@acme.test', replyToName: 'Max Member',
      subject: '[Contact sales] Acme Pte Ltd: Ten more lines',
    });
    expect(row.bodyText).toContain('From: Max Member <member@acme.test> (member) at Acme Pte Ltd');
    expect(row.bodyText).toContain('we need ten more virtual lines next month.');
    const [event] = await auditEventsOf(t.db, 'contact_sales.message_sent');
    expect(event).toMatchObject({ app: 'portal', customerId: acme, targetId: id, actorLabel: 'member@acme.test' });

    const sent = (await capture()).find((m) => m.messageId === id);
    expect(sent?.replyTo).toEqual({ address: 'member@acme.test', name: 'Max Member' });
    // The partner sees it in the customer's notifications, like every other email.
    const log = (await api(t, admin, 'GET', `/api/v1/customers/${acme}/notifications`)).json();
    expect(log.data.find((n: { id: string }) => n.id === id)).toMatchObject({ kind: 'contact_sales_message', status: 'sent', replyTo: 'Max Member <member@acme.test>' });
  });

  it('over SMTP the message carries the Reply-To header (the writer, by name)', async () => {
    const peer = await startSmtpPeer();
    try {
      const res = await contactSales({ subject: 'By SMTP', message: 'Hello over SMTP' });
      expect(res.statusCode).toBe(202);
      await deliverQueued(t.db, createMailTransport(peer.url, 'Folio <no-reply@folio.test>'));
      const mail = peer.received.find((m) => m.subject?.includes('By SMTP'));
      expect(mail?.to).toEqual(['deals@demo-telecom.test']);
      expect(mail?.raw).toMatch(/^Reply-To: Olive Owner <owner@acme\.test>/m);
    } finally {
      await peer.close();
    }
  });

  it.each([
    ['an empty subject', { subject: '', message: 'Hello' }, 400, 'subject'],
    ['a blank subject', { subject: '   ', message: 'Hello' }, 400, 'subject'],
    ['an empty message', { subject: 'Hi', message: '' }, 400, 'message'],
    ['a blank message', { subject: 'Hi', message: ' \n ' }, 400, 'message'],
    ['an oversize subject', { subject: 's'.repeat(SUBJECT_MAX + 1), message: 'Hello' }, 400, 'subject'],
    ['an oversize message', { subject: 'Hi', message: 'm'.repeat(MESSAGE_MAX + 1) }, 400, 'message'],
    ['a missing message', { subject: 'Hi' }, 400, 'message'],
    ['an unknown field', { subject: 'Hi', message: 'Hello', cc: 'x@y.test' }, 400, 'cc'],
  ])('refuses %s: 4xx naming the field, nothing written', async (_name, payload, status, field) => {
    const before = (await mails('contact_sales_message')).length;
    const res = await contactSales(payload);
    expect(res.statusCode).toBe(status);
    expect(res.json().errors.map((e: { path: string }) => e.path)).toContain(field);
    expect(await mails('contact_sales_message')).toHaveLength(before);
  });

  it(`at most ${MESSAGES_PER_HOUR} messages an hour per organisation: then 429, nothing written; other organisations unaffected`, async () => {
    const acmeSent = async () => (await mails('contact_sales_message')).filter((m) => m.customerId === acme).length;
    for (let i = await acmeSent(); i < MESSAGES_PER_HOUR; i++) expect((await contactSales({ subject: `Question ${i}`, message: 'Hello' })).statusCode).toBe(202);
    const refused = await contactSales({ subject: 'One more', message: 'Hello' });
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ code: 'too_many_requests', detail: expect.stringContaining(`${MESSAGES_PER_HOUR} messages to sales an hour`) });
    expect(await acmeSent()).toBe(MESSAGES_PER_HOUR);
    // Retry-After: when the oldest of them is an hour old; sent 50 minutes ago, that is in 10 minutes.
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60 * 60);
    const [oldest] = (await mails('contact_sales_message')).filter((m) => m.customerId === acme);
    await t.db.owner.db.updateTable('notifications').set({ createdAt: sql`now() - interval '50 minutes'` }).where('id', '=', oldest!.id).execute();
    const later = await contactSales({ subject: 'One more', message: 'Hello' });
    expect(later.statusCode).toBe(429);
    expect(Number(later.headers['retry-after'])).toBeGreaterThan(9 * 60);
    expect(Number(later.headers['retry-after'])).toBeLessThanOrEqual(10 * 60);
    const initech = await signIn(t, 'owner@initech.test');
    expect((await contactSales({ subject: 'Hi', message: 'Hello' }, initech)).statusCode).toBe(202);
  });

  it('without an address the action is off: the portal is told, the API answers 409 contact_sales_not_configured, nothing written', async () => {
    expect((await patch({ contactSalesEmail: null })).statusCode).toBe(200);
    expect((await api(t, owner, 'GET', '/api/v1/portal/contact-sales')).json()).toEqual({ configured: false, email: null, name: null });
    expect((await api(t, owner, 'GET', '/api/v1/auth/session')).json().contactSalesEmail).toBeNull();
    const before = (await mails('contact_sales_message')).length;
    const globex = await signIn(t, 'owner@globex.test');
    const res = await contactSales({ subject: 'Hi', message: 'Hello' }, globex);
    expect(res.json()).toMatchObject({ status: 409, code: 'contact_sales_not_configured', errors: [{ path: 'contactSalesEmail' }] });
    expect(await mails('contact_sales_message')).toHaveLength(before);
    expect((await testEmail()).json().code).toBe('contact_sales_not_configured');
    // Sales notifications then go without a Reply-To.
    const id = await inScope(t.db.app.db, { kind: 'system' }, (trx) => enqueueNotification(trx, {
      partnerId: demo, customerId: acme, userId: null, toEmail: 'owner@acme.test', kind: 'low_balance', subject: 'Low balance', bodyText: 'Top up soon.',
    }));
    const sent = (await capture()).find((m) => m.messageId === id);
    expect(sent).toMatchObject({ to: 'owner@acme.test' });
    expect(sent?.replyTo ?? null).toBeNull();
  });

  it('staff cannot use the portal form; another partner\'s customers write to their own partner', async () => {
    expect((await contactSales({ subject: 'Hi', message: 'Hello' }, admin)).statusCode).toBe(403);
    const wombat = await signIn(t, 'owner@wombat.test');
    const res = await contactSales({ subject: 'Hi', message: 'Hello' }, wombat);
    expect(res.json()).toMatchObject({ toEmail: 'sales@northwind.test' });
  });
});
