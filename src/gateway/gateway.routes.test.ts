import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { api, auditEventsOf, createTestAppWithGateway, customerIdOf, deliverSandboxWebhooks, signIn, TEST_SANDBOX_WEBHOOK_SECRET, type Session, type TestAppWithGateway } from '../test/harness.ts';
import { checkLedger } from '../ledger/check-ledger.ts';
import { inScope } from '../platform/database.ts';
import { newId } from '../platform/ids.ts';
import { completeTopUp } from '../topup/complete-top-up.ts';
import { chargeKey } from '../topup/charge-top-up.ts';
import { WEBHOOK_ACTOR } from '../topup/topup-tasks.ts';
import type { WebhookDelivery } from './gateway.ts';
import { signWebhook } from './webhook-signature.ts';

let t: TestAppWithGateway;
let owner: Session;
let acme: string;
let partnerId: string;
const SETTLE_MS = 60_000; // far beyond the few steps between a delayed charge and the check that it has not settled yet
const later = () => new Date(Date.now() + SETTLE_MS + 1_000);

beforeAll(async () => {
  t = await createTestAppWithGateway({ settleAfterMs: SETTLE_MS });
  owner = await signIn(t, 'owner@acme.test');
  acme = await customerIdOf(t.db, 'Acme Pte Ltd');
  partnerId = (await t.db.owner.db.selectFrom('customers').select('partnerId').where('id', '=', acme).executeTakeFirstOrThrow()).partnerId;
});
afterAll(async () => t.close());

const topUp = (payload: object) => t.app.inject({ method: 'POST', url: '/api/v1/portal/top-ups', headers: owner.headers, payload });
const post = (body: string | Buffer, headers: Record<string, string>) => t.app.inject({ method: 'POST', url: '/api/v1/gateway/webhooks', payload: body, headers });
const signed = (body: string, at = Math.floor(Date.now() / 1000)) => ({ 'content-type': 'application/json', 'folio-sandbox-signature': signWebhook(body, TEST_SANDBOX_WEBHOOK_SECRET, at) });
const count = async (table: string, where = sql`true`) =>
  (await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)} where ${where}`.execute(t.db.owner.db)).rows[0]!.n;
const points = async () => (await api(t, owner, 'GET', '/api/v1/portal/wallet')).json<{ points: string }>().points;

/** Collect the sandbox's due events (at `at`) without delivering them to the route. */
async function collectEvents(at: Date): Promise<WebhookDelivery[]> {
  const got: WebhookDelivery[] = [];
  await t.gateway.deliverDueEvents(async (d) => void got.push(d), { now: at });
  return got;
}

describe('a delayed card payment completed by webhook', () => {
  it('answers 202 pending, adds nothing until the webhook; the webhook completes it once even when delivered twice, and at the same time', async () => {
    await deliverSandboxWebhooks(t, t.gateway); // start from an empty queue
    const before = await points();
    const res = await topUp({ amount: '40.00', cardToken: 'tok_sandbox_delayed' });
    expect(res.statusCode).toBe(202);
    const pending = res.json();
    expect(pending).toMatchObject({ status: 'pending', invoice: null, amount: '40.00', fee: '0.00' });
    expect(await points()).toBe(before);
    expect((await auditEventsOf(t.db, 'top_up.pending'))[0]?.targetId).toBe(pending.id);
    expect(await collectEvents(new Date())).toEqual([]); // not settled yet

    const events = await collectEvents(later());
    expect(events).toHaveLength(1);
    const [event] = events;
    const deliveries = await Promise.all([1, 2, 3].map(() => post(event!.rawBody, { 'content-type': 'application/json', 'folio-sandbox-signature': event!.signatureHeader })));
    expect(deliveries.map((d) => d.statusCode)).toEqual([200, 200, 200]);
    expect(deliveries.filter((d) => d.json().applied)).toHaveLength(1);
    expect(deliveries.map((d) => d.json().topUpId)).toEqual([pending.id, pending.id, pending.id]);
    // Delivered once more, later (a gateway retry).
    const repeat = await post(event!.rawBody, { 'content-type': 'application/json', 'folio-sandbox-signature': event!.signatureHeader });
    expect(repeat.json()).toEqual({ received: true, eventType: 'charge.succeeded', applied: false, topUpId: pending.id });

    const done = (await api(t, owner, 'GET', `/api/v1/portal/top-ups/${pending.id}`)).json();
    expect(done).toMatchObject({ status: 'succeeded', invoice: { number: expect.stringMatching(/^TOP-/) } });
    expect(await points()).toBe((Number(before) + 40).toFixed(2));
    expect(await count('journal_entries', sql`cause_id = ${pending.id}`)).toBe(1);
    expect(await count('invoices', sql`id = ${done.invoice.id}`)).toBe(1);
    expect(await count('notifications', sql`kind = 'top_up_receipt' and body_text like ${`%${pending.id}%`}`)).toBe(1);
    const audits = (await auditEventsOf(t.db, 'top_up.succeeded')).filter((a) => a.targetId === pending.id);
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ actorType: 'system', actorLabel: 'gateway_webhook', app: 'finance' });
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('the receipt of a delayed top-up goes to whoever may see the points when it settles: an admin made member meanwhile gets none, the owner does', async () => {
    await deliverSandboxWebhooks(t, t.gateway);
    const setRole = (role: 'admin' | 'member') => t.db.owner.db.updateTable('users').set({ customerRole: role }).where('email', '=', 'member@acme.test').execute();
    await setRole('admin');
    try {
      const admin = await signIn(t, 'member@acme.test');
      const started = await t.app.inject({ method: 'POST', url: '/api/v1/portal/top-ups', headers: admin.headers, payload: { amount: '33.00', cardToken: 'tok_sandbox_delayed' } });
      expect(started.statusCode, started.body).toBe(202);
      const pending = started.json<{ id: string }>();
      await setRole('member'); // the owner changed the role before the card network answered
      await deliverSandboxWebhooks(t, t.gateway, later());
      expect((await api(t, owner, 'GET', `/api/v1/portal/top-ups/${pending.id}`)).json().status).toBe('succeeded');
      const mails = await t.db.owner.db.selectFrom('notifications').select(['toEmail', 'bodyText']).where('kind', '=', 'top_up_receipt')
        .where('bodyText', 'like', `%${pending.id}%`).execute();
      expect(mails.map((m) => m.toEmail)).toEqual(['owner@acme.test']);
    } finally {
      await setRole('member');
    }
  });

  it('a delayed payment that fails: the top-up fails with the reason, the user is told, nothing is posted', async () => {
    const before = await points();
    const pending = (await topUp({ amount: '40.00', cardToken: 'tok_sandbox_delayed_insufficient_funds' })).json();
    expect(pending.status).toBe('pending');
    const answers = await deliverSandboxWebhooks(t, t.gateway, later());
    expect(answers.map((a) => a.json())).toContainEqual({ received: true, eventType: 'charge.failed', applied: true, topUpId: pending.id });
    const done = (await api(t, owner, 'GET', `/api/v1/portal/top-ups/${pending.id}`)).json();
    expect(done).toMatchObject({ status: 'failed', failure: { code: 'insufficient_funds', reason: 'insufficient_funds' }, invoice: null });
    expect(await points()).toBe(before);
    expect(await count('journal_entries', sql`cause_id = ${pending.id}`)).toBe(0);
    const mail = await t.db.owner.db.selectFrom('notifications').selectAll().where('kind', '=', 'top_up_failed').executeTakeFirstOrThrow();
    expect(mail).toMatchObject({ toEmail: 'owner@acme.test' });
    expect(mail.bodyText).toContain(pending.id);
    expect((await auditEventsOf(t.db, 'top_up.failed'))[0]).toMatchObject({ targetId: pending.id, actorLabel: 'gateway_webhook' });
  });

  it('an immediate charge\'s own event, arriving after its answer, changes nothing', async () => {
    await deliverSandboxWebhooks(t, t.gateway);
    const ok = (await topUp({ amount: '21.00', cardToken: 'tok_sandbox_success' })).json();
    const declined = await topUp({ amount: '21.00', cardToken: 'tok_sandbox_declined' });
    expect(declined.statusCode).toBe(422);
    const entries = await count('journal_entries');
    const answers = (await deliverSandboxWebhooks(t, t.gateway)).map((a) => a.json());
    expect(answers).toHaveLength(2);
    expect(answers.every((a) => a.applied === false)).toBe(true);
    expect(answers[0].topUpId).toBe(ok.id);
    expect(await count('journal_entries')).toBe(entries);
  });

  it('when the charge\'s answer was lost, the webhook completes the top-up by the id in its metadata, and the late answer changes nothing', async () => {
    // A pending top-up whose charge succeeded at the gateway, but whose answer never came back (no charge reference kept).
    const id = newId('top');
    const userId = (await t.db.owner.db.selectFrom('users').select('id').where('email', '=', 'owner@acme.test').executeTakeFirstOrThrow()).id;
    await t.db.owner.db.insertInto('topUps').values({
      id, partnerId, customerId: acme, userId, currency: 'SGD', amountMicros: 15_000_000n, feeMicros: 1_000_000n, gateway: 'sandbox',
      savedCardId: null, requestKey: null, chargeRef: null, invoiceId: null, entryId: null, failureCode: null, failureReason: null, updatedAt: new Date(), completedAt: null,
    }).execute();
    await deliverSandboxWebhooks(t, t.gateway);
    const charge = await t.gateway.charge({
      amountMicros: 16_000_000n, currency: 'SGD', cardToken: 'tok_sandbox_success', idempotencyKey: chargeKey(id), description: 'Top-up', metadata: { topUpId: id, partnerId, customerId: acme },
    });
    const answers = await deliverSandboxWebhooks(t, t.gateway);
    expect(answers.map((a) => a.json())).toEqual([{ received: true, eventType: 'charge.succeeded', applied: true, topUpId: id }]);
    const late = await inScope(t.db.app.db, { kind: 'partner', partnerId }, (trx) =>
      completeTopUp(trx, WEBHOOK_ACTOR, { partnerId, topUpId: id, outcome: { status: 'succeeded', chargeRef: charge.chargeRef! }, source: 'charge' }),
    );
    expect(late.applied).toBe(false);
    expect(late.row).toMatchObject({ status: 'succeeded', chargeRef: charge.chargeRef });
    expect(await count('journal_entries', sql`cause_id = ${id}`)).toBe(1);
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('an event whose amount does not match its top-up is not applied', async () => {
    const pending = (await topUp({ amount: '40.00', cardToken: 'tok_sandbox_delayed' })).json();
    const [event] = await collectEvents(later());
    const forged = JSON.stringify({ ...JSON.parse(event!.rawBody), data: { ...JSON.parse(event!.rawBody).data, amountMinor: '1' } });
    const res = await post(forged, signed(forged));
    expect(res.json()).toMatchObject({ applied: false, topUpId: pending.id });
    expect((await api(t, owner, 'GET', `/api/v1/portal/top-ups/${pending.id}`)).json().status).toBe('pending');
    const real = await post(event!.rawBody, signed(event!.rawBody));
    expect(real.json()).toMatchObject({ applied: true, topUpId: pending.id });
  });
});

describe('the webhook route', () => {
  const body = JSON.stringify({ id: 'evt_sbx_x', object: 'event', created: Math.floor(Date.now() / 1000), type: 'charge.succeeded', data: { chargeRef: 'ch_sbx_unknown', amountMinor: '100', currency: 'SGD', metadata: {} } });

  it('refuses a missing, wrong or stale signature (400) and writes nothing', async () => {
    const rows = await count('audit_events');
    for (const headers of [
      { 'content-type': 'application/json' },
      { 'content-type': 'application/json', 'folio-sandbox-signature': signWebhook(body, 'whsec_someone_else', Math.floor(Date.now() / 1000)) },
      signed(body, Math.floor(Date.now() / 1000) - 3600),
    ]) {
      const res = await post(body, headers);
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('webhook_signature_invalid');
    }
    const tampered = await post(body.replace('"100"', '"900"'), signed(body));
    expect(tampered.json().code).toBe('webhook_signature_invalid');
    expect(await count('audit_events')).toBe(rows);
  });

  it('acknowledges events that are not about a top-up, or of a type Folio does not use', async () => {
    expect((await post(body, signed(body))).json()).toEqual({ received: true, eventType: 'charge.succeeded', applied: false, topUpId: null });
    const other = JSON.stringify({ id: 'evt_sbx_y', object: 'event', created: Math.floor(Date.now() / 1000), type: 'customer.updated', data: {} });
    expect((await post(other, signed(other))).json()).toEqual({ received: true, eventType: 'customer.updated', applied: false, topUpId: null });
  });

  it('takes the raw JSON bytes only: another content type is 415, a signed body that is not JSON is 400; JSON elsewhere is untouched', async () => {
    const res = await post('a=b', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(res.statusCode).toBe(415);
    const junk = '{"not json';
    const bad = await post(junk, signed(junk));
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('malformed_request');
    // The rest of the API still parses JSON bodies (and refuses malformed ones) as before.
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'owner@acme.test', password: 'wrong-password-1' } })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: '{"email": ', headers: { 'content-type': 'application/json' } })).json().code).toBe('malformed_request');
  });

  it('is in the API description as gatewayWebhook', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    expect(doc.paths['/api/v1/gateway/webhooks'].post.operationId).toBe('gatewayWebhook');
  });
});
