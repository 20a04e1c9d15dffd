import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import pino from 'pino';
import { api, auditEventsOf, createTestAppWithGateway, customerIdOf, deliverSandboxWebhooks, partnerIdOf, signIn, type Session, type TestAppWithGateway } from '../test/harness.ts';
import { checkLedger } from '../ledger/check-ledger.ts';
import { inScope } from '../platform/database.ts';
import { chargeWallet } from '../wallet/charge-wallet.ts';
import { issueInvoice } from '../invoices/issue-invoice.ts';
import { parseDecimal } from '../money/money.ts';
import { addDays, utcDay } from './dates.ts';
import { attemptAutoTopUp } from './auto-top-up-sweep.ts';
import type { TopUpDeps } from './charge-top-up.ts';
import { NUMBER_TAKEN_ALERT_EVERY_MINUTES } from './number-taken-alert.ts';

// A card is never charged for a top-up whose paid invoice could not be numbered (docs/adr/0041): a top-up number format
// changed before formats were checked against the numbers issued can reach a number another document carries.

let t: TestAppWithGateway;
let deps: TopUpDeps;
let demo: string;
let acme: string;
let owner: Session;
const today = utcDay(new Date());

beforeAll(async () => {
  t = await createTestAppWithGateway();
  deps = { db: t.db.app.db, gateway: t.gateway, log: pino({ level: 'silent' }) };
  demo = await partnerIdOf(t.db, 'demo-telecom');
  acme = await customerIdOf(t.db, 'Acme Pte Ltd');
  owner = await signIn(t, 'owner@acme.test');
});
afterAll(async () => t.close());

const owned = () => t.db.owner.db;
const counter = async (type: string) => BigInt((await sql<{ last: string }>`
  select coalesce((select last_value from invoice_number_series where partner_id = ${demo} and type = ${type}), 0)::text as last`.execute(owned())).rows[0]!.last);
const setFormats = (formats: Record<string, string>) => sql`update partner_settings set invoice_number_formats = invoice_number_formats || ${JSON.stringify(formats)}::jsonb
  where partner_id = ${demo}`.execute(owned());
const charges = async () => (await sql<{ n: number }>`select count(*)::int as n from gateway_sandbox_charges`.execute(owned())).rows[0]!.n;
const topUpsOf = (customerId: string) => owned().selectFrom('topUps').select(['id', 'status', 'auto', 'failureCode', 'failureReason', 'invoiceId'])
  .where('customerId', '=', customerId).orderBy('id').execute();

/** Staff alerts of top-ups held up by a taken number (docs/adr/0041, fourth amendment), oldest first. */
const staffAlerts = () => owned().selectFrom('notifications').select(['toEmail', 'subject', 'bodyText', 'customerId'])
  .where('partnerId', '=', demo).where('kind', '=', 'top_up_number_taken').orderBy('createdAt').orderBy('id').execute();
/** As if the alerts so far were sent more than an hour ago: the next hold-up is mailed again. */
const ageStaffAlerts = () => sql`update notifications set created_at = created_at - make_interval(mins => ${NUMBER_TAKEN_ALERT_EVERY_MINUTES + 1})
  where partner_id = ${demo} and kind = 'top_up_number_taken'`.execute(owned());

/**
 * Demo's next Top-up number made one a purchase invoice already carries: a purchase issued as `TZ<n>` on 2026-12-01,
 * then the top-up format set to `TZ{seq}` with its counter at n - 1. Gives the number and puts the formats back.
 */
async function collide(): Promise<{ number: string; restore: () => Promise<void> }> {
  const before = (await sql<{ formats: Record<string, string> }>`select invoice_number_formats as formats from partner_settings where partner_id = ${demo}`.execute(owned())).rows[0]!.formats;
  const topUps = await counter('top_up');
  await sql`insert into invoice_number_series (partner_id, type, last_value) values (${demo}, 'purchase', ${topUps.toString()}::bigint)
    on conflict (partner_id, type) do update set last_value = excluded.last_value`.execute(owned());
  await setFormats({ purchase: 'TZ{seq}' });
  const issued = await inScope(t.db.app.db, { kind: 'partner', partnerId: demo }, (trx) => issueInvoice(trx, {
    partnerId: demo, customerId: acme, type: 'purchase', currency: 'SGD', issuedAt: new Date('2026-12-01T03:00:00Z'),
    lines: [{ kind: 'product', description: 'Licence', amountMicros: 1_000_000n, taxMicros: 0n, revenueCode: 'revenue:one_time' }],
    entry: { kind: 'invoice_issued', causeType: 'invoice', causeId: `test_${topUps}`, description: 'Test invoice', auditEventId: null },
  }));
  expect(issued.number).toBe(`TZ${topUps + 1n}`);
  await setFormats({ top_up: 'TZ{seq}' });
  return {
    number: issued.number,
    restore: () => setFormats({ purchase: before.purchase ?? 'INV-{YYYY}-{seq:06}', top_up: before.top_up ?? 'TOP-{YYYY}-{seq:06}' }).then(() => undefined),
  };
}

describe('a portal top-up whose invoice could not be numbered', () => {
  it('is refused before the card is charged: 409 document_number_taken, nothing written; with the format changed it goes through', async () => {
    const { number, restore } = await collide();
    const counterBefore = await counter('top_up');
    const chargesBefore = await charges();
    const rowsBefore = (await topUpsOf(acme)).length;
    const auditsBefore = (await auditEventsOf(t.db, 'top_up.failed')).length + (await auditEventsOf(t.db, 'top_up.succeeded')).length;
    try {
      const refused = await api(t, owner, 'POST', '/api/v1/portal/top-ups', { amount: '25.00', cardToken: 'tok_sandbox_success' });
      expect(refused.statusCode, refused.body).toBe(409);
      expect(refused.json()).toMatchObject({
        code: 'document_number_taken',
        detail: `Card top-ups are not available just now: the next top-up invoice number, ${number}, was already issued on 2026-12-01, `
          + 'so the top-up could not be invoiced. Nothing was charged. Please contact your provider.',
      });
      expect(await charges()).toBe(chargesBefore);
      expect(await topUpsOf(acme)).toHaveLength(rowsBefore);
      expect((await auditEventsOf(t.db, 'top_up.failed')).length + (await auditEventsOf(t.db, 'top_up.succeeded')).length).toBe(auditsBefore);
      expect(await counter('top_up')).toBe(counterBefore);

      // Staff who can change the format (Portal Settings holders: not Finance's) are told, once within the hour.
      const [alert, ...more] = await staffAlerts();
      expect(more).toEqual([]);
      expect(alert).toMatchObject({ toEmail: 'admin@demo.test', customerId: null, subject: 'Top-ups are held up: the next top-up invoice number was already issued' });
      expect(alert!.bodyText).toContain("Acme Pte Ltd's top-up of 25.00 SGD was refused in the portal, and nothing was charged.");
      expect(alert!.bodyText).toContain(`The next top-up invoice number, ${number}, was already issued on 2026-12-01`);
      expect(alert!.bodyText).toContain('Change the Top-up number format in Portal Settings > Invoicing');
      expect((await api(t, owner, 'POST', '/api/v1/portal/top-ups', { amount: '26.00', cardToken: 'tok_sandbox_success' })).statusCode).toBe(409);
      expect(await staffAlerts()).toHaveLength(1);
    } finally {
      await restore();
    }
    const paid = await api(t, owner, 'POST', '/api/v1/portal/top-ups', { amount: '25.00', cardToken: 'tok_sandbox_success' });
    expect(paid.statusCode, paid.body).toBe(201);
    expect(paid.json().invoice.number).toMatch(new RegExp(`^TOP-\\d{4}-0*${counterBefore + 1n}$`));
    expect(await charges()).toBe(chargesBefore + 1);
  });
});

describe('an automatic top-up whose invoice could not be numbered', () => {
  it('fails before the saved card is charged, with a reason the owner is told and the trail keeps; the next day, format changed, it charges', async () => {
    const saved = await api(t, owner, 'POST', '/api/v1/portal/top-ups', { amount: '10.00', cardToken: 'tok_sandbox_success', saveCard: true });
    expect(saved.statusCode, saved.body).toBe(201);
    const savedCardId = saved.json<{ savedCardId: string }>().savedCardId;
    expect((await api(t, owner, 'PUT', '/api/v1/portal/auto-top-up', { enabled: true, threshold: '5.00', amount: '50.00', savedCardId })).statusCode).toBe(200);
    const usable = parseDecimal((await api(t, owner, 'GET', '/api/v1/portal/wallet')).json<{ usable: string }>().usable, 'SGD', 6)!;
    await inScope(t.db.app.db, { kind: 'partner', partnerId: demo }, (trx) => chargeWallet(trx, {
      wallet: { partnerId: demo, customerId: acme, currency: 'SGD' }, amountMicros: usable - 1_000_000n, useCreditLimit: false,
      entry: { kind: 'call_charge', causeType: 'test', causeId: 'cal_number_test', description: 'Call', auditEventId: null },
      counterPostings: [{ code: 'revenue:usage', amountMicros: -(usable - 1_000_000n) }],
    }));

    const { number, restore } = await collide();
    const chargesBefore = await charges();
    await ageStaffAlerts();
    let failed;
    try {
      failed = await attemptAutoTopUp(deps, { partnerId: demo, customerId: acme }, today);
    } finally {
      await restore();
    }
    const reason = `the top-up invoice could not be numbered: ${number} was already issued on 2026-12-01; the provider must change its top-up number format in Portal Settings`;
    expect(failed).toMatchObject({ status: 'failed', failureCode: 'document_number_taken', failureReason: reason, invoiceId: null });
    if (!failed) throw new Error('the attempt made no top-up');
    expect(await charges()).toBe(chargesBefore);
    const mail = await owned().selectFrom('notifications').select('bodyText').where('kind', '=', 'auto_top_up_failed').where('toEmail', '=', 'owner@acme.test')
      .executeTakeFirstOrThrow();
    expect(mail.bodyText).toContain(`${number} was already issued on 2026-12-01`);
    const [audit] = await auditEventsOf(t.db, 'top_up.failed');
    expect(audit).toMatchObject({ partnerId: demo, customerId: acme, targetId: failed.id });
    expect(JSON.stringify(audit!.changes)).toContain(reason);
    const alert = (await staffAlerts()).at(-1);
    expect(alert).toMatchObject({ toEmail: 'admin@demo.test' });
    expect(alert!.bodyText).toContain("Acme Pte Ltd's automatic top-up of 50.00 SGD could not be made, and nothing was charged.");
    expect(alert!.bodyText).toContain(`Top-up reference: ${failed.id}`);

    // Once a day: the next day's attempt, the format changed, charges the card.
    const next = await attemptAutoTopUp(deps, { partnerId: demo, customerId: acme }, addDays(today, 1));
    expect(next).toMatchObject({ status: 'succeeded', auto: true });
    expect(await charges()).toBe(chargesBefore + 1);
    expect(await checkLedger(owned())).toEqual([]);
  });
});

describe('a card top-up whose invoice number is taken between its check and its charge', () => {
  it('keeps the money it charged: pending with its charge and the reason, then completed once by the charge\'s webhook when the format is changed', async () => {
    const wallet = async () => parseDecimal((await api(t, owner, 'GET', '/api/v1/portal/wallet')).json<{ points: string }>().points, 'SGD', 6)!;
    const pointsBefore = await wallet();
    // The check before the charge finds the number free; a document is issued with it while the card is charged (an
    // earlier format's series reaching it: docs/adr/0041), so the completion meets it taken.
    await ageStaffAlerts();
    const alertsBefore = (await staffAlerts()).length;
    const charge = t.gateway.charge.bind(t.gateway);
    let collision: Awaited<ReturnType<typeof collide>> | undefined;
    t.gateway.charge = async (input) => {
      collision = await collide();
      return charge(input);
    };
    let res;
    try {
      res = await api(t, owner, 'POST', '/api/v1/portal/top-ups', { amount: '30.00', cardToken: 'tok_sandbox_success' });
    } finally {
      t.gateway.charge = charge;
    }
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toMatchObject({ status: 'pending' });
    const topUp = await owned().selectFrom('topUps').select(['id', 'chargeRef']).where('id', '=', res.json<{ id: string }>().id).executeTakeFirstOrThrow();
    expect(topUp.chargeRef).toMatch(/^ch_sbx_/);
    const [pending] = await auditEventsOf(t.db, 'top_up.pending');
    expect(pending).toMatchObject({ targetId: topUp.id, customerId: acme });
    expect(JSON.stringify(pending!.changes)).toContain(`charged, not yet invoiced: The next top-up number, ${collision!.number}, was already issued on 2026-12-01`);
    expect(await wallet()).toBe(pointsBefore);
    expect((await owned().selectFrom('topUps').select(['status', 'invoiceId']).where('id', '=', topUp.id).executeTakeFirstOrThrow())).toEqual({ status: 'pending', invoiceId: null });
    // Staff are told the money is taken and waits for them.
    const alerts = await staffAlerts();
    expect(alerts).toHaveLength(alertsBefore + 1);
    expect(alerts.at(-1)!.bodyText).toContain("Acme Pte Ltd's top-up of 30.00 SGD was charged to their card, but it cannot be invoiced yet, so its points are not added.");
    expect(alerts.at(-1)!.bodyText).toContain('completes by itself when the card gateway confirms the charge again');
    expect(alerts.at(-1)!.bodyText).toContain(`Top-up reference: ${topUp.id}`);

    // The charge's webhook comes while the format still repeats the number: refused, kept for later; nothing written.
    const early = await deliverSandboxWebhooks(t, t.gateway);
    expect(early.some((r) => r.statusCode >= 400)).toBe(true);
    expect(await wallet()).toBe(pointsBefore);

    // Staff change the format; the webhook, delivered again, completes the top-up once: points, paid invoice, receipt.
    await collision!.restore();
    const later = await deliverSandboxWebhooks(t, t.gateway, new Date(Date.now() + 60_000));
    expect(later.every((r) => r.statusCode < 300)).toBe(true);
    const done = await owned().selectFrom('topUps').select(['status', 'invoiceId', 'chargeRef']).where('id', '=', topUp.id).executeTakeFirstOrThrow();
    expect(done).toMatchObject({ status: 'succeeded', chargeRef: topUp.chargeRef, invoiceId: expect.stringMatching(/^inv_/) });
    expect(await wallet()).toBe(pointsBefore + 30_000_000n);
    expect(await deliverSandboxWebhooks(t, t.gateway, new Date(Date.now() + 600_000))).toEqual([]);
    expect(await wallet()).toBe(pointsBefore + 30_000_000n);
    expect(await checkLedger(owned())).toEqual([]);
  });
});
