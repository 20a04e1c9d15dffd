import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import pino from 'pino';
import { createTestAppWithGateway, deliverSandboxWebhooks, partnerIdOf, type TestAppWithGateway } from '../../test/harness.ts';
import { checkLedger } from '../../ledger/check-ledger.ts';
import type { Db } from '../../platform/database.ts';
import { RENEWAL_ACTOR, runRenewals } from './run-renewals.ts';
import { renewGroups } from './renew-groups.ts';
import { inScope } from '../../platform/database.ts';
import { DomainError } from '../../platform/errors.ts';
import { issueInvoice } from '../../invoices/issue-invoice.ts';
import type { RenewalDeps } from './renewal-by-card.ts';
import {
  createAddOn, createCustomer, createPrice, createSubscription, givePoints, saveCard, setTaxRate, usableMicros, utcMidnight, monthlyPeriodEndingAt, type PriceFixture,
} from './renewals.fixtures.ts';
import { addDays } from './renewal-dates.ts';

let t: TestAppWithGateway;
let owner: Db;
let deps: RenewalDeps;
let demo: string;
let price20: PriceFixture; // 20.00 SGD, cost 8.00, standard (9% tax): 21.80 a unit with tax
let price10: PriceFixture; // 10.00 SGD, cost 4.00

const SGD = (s: string) => BigInt(Math.round(Number(s) * 100)) * 10_000n;

beforeAll(async () => {
  t = await createTestAppWithGateway();
  owner = t.db.owner.db;
  deps = { db: t.db.app.db, gateway: t.gateway, log: pino({ level: 'silent' }) };
  demo = await partnerIdOf(t.db, 'demo-telecom');
  await setTaxRate(owner, demo, 900);
  price20 = await createPrice(owner, { partnerId: demo, name: 'Wallboard', priceMicros: SGD('20.00'), costMicros: SGD('8.00') });
  price10 = await createPrice(owner, { partnerId: demo, name: 'Virtual line', priceMicros: SGD('10.00'), costMicros: SGD('4.00') });
});
afterAll(async () => t.close());

/** A customer with `points` and subscriptions expiring at `end` (anchored a month before). */
async function customerWith(opts: { points: string; end: string; subs: { price: PriceFixture; quantity?: number; autoRenew?: boolean; renewByCard?: boolean }[] }) {
  const c = await createCustomer(owner, { partnerId: demo });
  if (opts.points !== '0') await givePoints(t.db.app.db, { partnerId: demo, customerId: c.customerId, micros: SGD(opts.points) });
  const end = utcMidnight(opts.end);
  const { anchorAt, periodStart } = monthlyPeriodEndingAt(end);
  const ids: string[] = [];
  for (const s of opts.subs) {
    ids.push(await createSubscription(owner, {
      partnerId: demo, customerId: c.customerId, price: s.price, quantity: s.quantity ?? 1, anchorAt, periodStart, periodEnd: end,
      autoRenew: s.autoRenew ?? true, renewByCard: s.renewByCard ?? false,
    }));
  }
  return { ...c, ids, end };
}

const subsOf = (ids: string[]) => owner.selectFrom('subscriptions').selectAll().where('id', 'in', ids).orderBy('id').execute();
const chargesOf = (ids: string[]) => owner.selectFrom('subscriptionCharges').selectAll().where('subscriptionId', 'in', ids).where('kind', '=', 'renewal').execute();
const mailsOf = (customerId: string, kind?: string) => {
  let q = owner.selectFrom('notifications').selectAll().where('customerId', '=', customerId);
  if (kind) q = q.where('kind', '=', kind);
  return q.orderBy('id').execute();
};
const auditOf = (targetIds: string[], action: string) =>
  owner.selectFrom('auditEvents').selectAll().where('targetId', 'in', targetIds).where('action', '=', action).execute();

async function expectLedgerSound(): Promise<void> {
  expect(await checkLedger(owner)).toEqual([]);
}

describe('renewal from points', () => {
  it('two renewal groups of one customer due in the same run spend the points once: the earlier renews, the later fails', async () => {
    // 30.00 points; two subscriptions expiring on different days, each 21.80 with tax, both inside one run's window.
    const c = await customerWith({ points: '30.00', end: '2033-05-10', subs: [{ price: price20 }] });
    const later = utcMidnight('2033-05-12');
    const { anchorAt, periodStart } = monthlyPeriodEndingAt(later);
    const second = await createSubscription(owner, { partnerId: demo, customerId: c.customerId, price: price20, quantity: 1, anchorAt, periodStart, periodEnd: later, autoRenew: true, renewByCard: false });
    await runRenewals(deps, { asOf: new Date('2033-05-06T01:00:00Z') });
    const subs = await subsOf([c.ids[0]!, second]);
    const first = subs.find((x) => x.id === c.ids[0])!;
    const other = subs.find((x) => x.id === second)!;
    expect(first.currentPeriodEnd!.getTime()).toBeGreaterThan(utcMidnight('2033-05-10').getTime());
    expect(other.currentPeriodEnd!.getTime()).toBe(later.getTime());
    expect(await chargesOf([c.ids[0]!, second])).toHaveLength(1);
    await expectLedgerSound();
  });

  it('7 days before expiry: deducts price + tax, issues the paid Purchase invoice, advances the period on the anchor, records charge, event, audit and mail', async () => {
    // Anchored on 31 Jan: the period 28 Feb - 31 Mar renews to 30 Apr (the day of month clamped, the anchor kept).
    const c = await customerWith({ points: '100.00', end: '2031-03-31', subs: [{ price: price20, quantity: 2 }] });
    await owner.updateTable('customers').set({ billingName: 'Renewals Billing Dept', billingEmail: 'ap@renewals.test', billingAddress: '1 Renewal Road' })
      .where('id', '=', c.customerId).execute();
    await owner.updateTable('partnerSettings').set({ invoiceLegalName: 'Renewals Seller Pte Ltd' }).where('partnerId', '=', demo).execute();
    expect((await subsOf(c.ids))[0]).toMatchObject({ anchorAt: utcMidnight('2031-01-31'), currentPeriodStart: utcMidnight('2031-02-28') });

    // One day early: nothing.
    await runRenewals(deps, { asOf: utcMidnight('2031-03-23') });
    expect((await subsOf(c.ids))[0]!.currentPeriodEnd).toEqual(utcMidnight('2031-03-31'));

    const run = await runRenewals(deps, { asOf: new Date('2031-03-24T01:00:00Z') });
    expect(run.renewedSubscriptions).toBeGreaterThanOrEqual(1);
    const [sub] = await subsOf(c.ids);
    expect(sub).toMatchObject({ status: 'active', currentPeriodStart: utcMidnight('2031-03-31'), currentPeriodEnd: utcMidnight('2031-04-30'), renewalFailedAt: null });
    expect(sub!.lastRenewedAt).toEqual(new Date('2031-03-24T01:00:00Z'));
    // 2 x 20.00 = 40.00 + 9% = 3.60 -> 43.60
    expect(await usableMicros(owner, demo, c.customerId)).toBe(SGD('56.40'));

    const [charge] = await chargesOf(c.ids);
    expect(charge).toMatchObject({ kind: 'renewal', quantity: 2, priceMicros: SGD('40.00').toString(), taxMicros: SGD('3.60').toString(), costMicros: SGD('16.00').toString() });
    expect(charge!.periodStart).toEqual(utcMidnight('2031-03-31'));
    const invoice = await owner.selectFrom('invoices').selectAll().where('id', '=', charge!.invoiceId!).executeTakeFirstOrThrow();
    expect(invoice).toMatchObject({ type: 'purchase', status: 'paid', customerId: c.customerId, totalMicros: SGD('43.60').toString(), amountDueMicros: '0' });
    // Issued with the seller and the bill-to as they were at issue (ADR 0046), taken by the bulk insert itself (migration 0079).
    const partner = await owner.selectFrom('partners').innerJoin('partnerSettings', 'partnerSettings.partnerId', 'partners.id')
      .select(['partners.name', 'partnerSettings.invoiceLegalName', 'partnerSettings.invoiceTaxId']).where('partners.id', '=', demo).executeTakeFirstOrThrow();
    expect(invoice.seller).toMatchObject({ name: partner.name, legalName: 'Renewals Seller Pte Ltd', taxId: partner.invoiceTaxId });
    expect(invoice.billTo).toEqual({ name: 'Renewals Billing Dept', email: 'ap@renewals.test', phone: null, address: '1 Renewal Road' });
    const lines = await owner.selectFrom('invoiceLines').selectAll().where('invoiceId', '=', invoice.id).execute();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ kind: 'subscription_renewal', quantity: '2.000000', amountMicros: SGD('40.00').toString(), taxMicros: SGD('3.60').toString() });
    expect(lines[0]!.description).toContain('2031-03-31 to 2031-04-29');

    const postings = await sql<{ code: string; amount: string }>`
      select a.code, p.amount_micros::text as amount from postings p join ledger_accounts a on a.id = p.account_id
      where p.entry_id = ${charge!.entryId} order by a.code`.execute(owner);
    expect(postings.rows).toEqual([
      { code: 'cost:subscription', amount: SGD('16.00').toString() },
      { code: 'platform_payable', amount: (-SGD('16.00')).toString() },
      { code: 'points', amount: SGD('43.60').toString() },
      { code: 'revenue:subscription', amount: (-SGD('40.00')).toString() },
      { code: 'tax_payable', amount: (-SGD('3.60')).toString() },
    ]);

    const [audit] = await auditOf(c.ids, 'subscription.renewed');
    expect(audit).toMatchObject({ actorType: 'system', actorLabel: 'subscription_renewals', customerId: c.customerId, partnerId: demo });
    expect(audit!.changes).toMatchObject({ invoiceNumber: { after: invoice.number }, total: { after: '43.60' }, subscriptions: { after: [{ id: c.ids[0], price: '40.00', tax: '3.60' }] } });
    const events = await owner.selectFrom('subscriptionEvents').selectAll().where('subscriptionId', '=', c.ids[0]!).where('kind', '=', 'renewed').execute();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ amountMicros: SGD('43.60').toString(), invoiceId: invoice.id, actor: 'system:subscription_renewals', auditEventId: audit!.id });
    const mails = await mailsOf(c.customerId, 'invoice_issued');
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({ toEmail: c.ownerEmail });
    expect(mails[0]!.subject).toContain(invoice.number!);
    expect(mails[0]!.bodyText).toContain('43.60 SGD');

    // A rerun the same day, or the next, changes nothing.
    await runRenewals(deps, { asOf: new Date('2031-03-24T02:00:00Z') });
    await runRenewals(deps, { asOf: new Date('2031-03-25T02:00:00Z') });
    expect(await chargesOf(c.ids)).toHaveLength(1);
    expect(await usableMicros(owner, demo, c.customerId)).toBe(SGD('56.40'));
    expect(await mailsOf(c.customerId, 'invoice_issued')).toHaveLength(1);
    await expectLedgerSound();
  });

  it('add-ons renew with their subscription; a pending lower quantity applies at the renewal (0 removes the add-on)', async () => {
    const c = await customerWith({ points: '200.00', end: '2032-02-10', subs: [{ price: price20 }] });
    const at = utcMidnight('2032-01-10');
    const down = await createAddOn(owner, { partnerId: demo, customerId: c.customerId, subscriptionId: c.ids[0]!, price: price10, quantity: 3, pendingQuantity: 1, at });
    const gone = await createAddOn(owner, { partnerId: demo, customerId: c.customerId, subscriptionId: c.ids[0]!, price: price20, quantity: 1, pendingQuantity: 0, at });
    await runRenewals(deps, { asOf: utcMidnight('2032-02-03') });
    // 20.00 + 1 x 10.00 = 30.00 + 2.70 tax
    expect(await usableMicros(owner, demo, c.customerId)).toBe(SGD('167.30'));
    const [charge] = await chargesOf(c.ids);
    expect(charge).toMatchObject({ priceMicros: SGD('30.00').toString(), taxMicros: SGD('2.70').toString(), costMicros: SGD('12.00').toString() });
    const addOns = await owner.selectFrom('subscriptionAddOns').selectAll().where('id', 'in', [down, gone]).orderBy('id').execute();
    expect(addOns.find((a) => a.id === down)).toMatchObject({ quantity: 1, pendingQuantity: null, removedAt: null });
    expect(addOns.find((a) => a.id === gone)).toMatchObject({ quantity: 1, pendingQuantity: null, removedAt: utcMidnight('2032-02-03') });
    const lines = await owner.selectFrom('invoiceLines').selectAll().where('invoiceId', '=', charge!.invoiceId!).orderBy('position').execute();
    expect(lines.map((l) => [l.kind, l.quantity, l.amountMicros])).toEqual([
      ['subscription_renewal', '1.000000', SGD('20.00').toString()], ['add_on_renewal', '1.000000', SGD('10.00').toString()],
    ]);
    await expectLedgerSound();
  });
  it('a job that missed more than a period catches up: each missed period is charged once, and nothing expires', async () => {
    const c = await customerWith({ points: '100.00', end: '2032-03-10', subs: [{ price: price20 }] });
    await runRenewals(deps, { asOf: utcMidnight('2032-04-20') });
    const [sub] = await subsOf(c.ids);
    expect(sub).toMatchObject({ status: 'active', currentPeriodStart: utcMidnight('2032-04-10'), currentPeriodEnd: utcMidnight('2032-05-10') });
    const charges = await chargesOf(c.ids);
    expect(charges.map((x) => x.periodStart!.toISOString().slice(0, 10)).sort()).toEqual(['2032-03-10', '2032-04-10']);
    expect(await usableMicros(owner, demo, c.customerId)).toBe(SGD('56.40'));
    await runRenewals(deps, { asOf: utcMidnight('2032-04-20') });
    expect(await chargesOf(c.ids)).toHaveLength(2);
    await expectLedgerSound();
  });
});

describe('groups: all subscriptions of an organisation with one renewal date renew or fail together', () => {
  it('points that cover only one of two: both fail, nothing is charged, the owner is told once; a rerun sends nothing more', async () => {
    const c = await customerWith({ points: '30.00', end: '2033-05-20', subs: [{ price: price20 }, { price: price20 }] });
    const run = await runRenewals(deps, { asOf: utcMidnight('2033-05-13') });
    expect(run.failedSubscriptions).toBeGreaterThanOrEqual(2);
    const subs = await subsOf(c.ids);
    for (const s of subs) {
      expect(s.status).toBe('active');
      expect(s.renewalFailedAt).toEqual(utcMidnight('2033-05-13'));
      expect(s.renewalFailureReason).toBe('Not enough points: 43.60 SGD needed, 30.00 SGD usable');
      expect(s.currentPeriodEnd).toEqual(utcMidnight('2033-05-20'));
    }
    expect(await chargesOf(c.ids)).toEqual([]);
    expect(await usableMicros(owner, demo, c.customerId)).toBe(SGD('30.00'));
    const mails = await mailsOf(c.customerId, 'subscription_renewal_failed');
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toBe('Renewal failed: 2 subscriptions (43.60 SGD)');
    const [failedAudit] = await auditOf(c.ids, 'subscription.renewal_failed');
    expect(failedAudit!.changes).toMatchObject({ total: { after: '43.60' }, subscriptions: { after: c.ids.map((id) => ({ id })) } });

    await runRenewals(deps, { asOf: utcMidnight('2033-05-14') });
    expect(await mailsOf(c.customerId, 'subscription_renewal_failed')).toHaveLength(1);
    expect(await auditOf(c.ids, 'subscription.renewal_failed')).toHaveLength(1);

    // Unrenewed, they expire at the end of the period, together.
    await runRenewals(deps, { asOf: utcMidnight('2033-05-20') });
    expect((await subsOf(c.ids)).map((s) => s.status)).toEqual(['expired', 'expired']);
    expect(await mailsOf(c.customerId, 'subscription_expired')).toHaveLength(1);
    await expectLedgerSound();
  });

  it('points that cover both: both renew on one invoice, one ledger entry', async () => {
    const c = await customerWith({ points: '43.60', end: '2033-06-20', subs: [{ price: price20 }, { price: price20 }] });
    await runRenewals(deps, { asOf: utcMidnight('2033-06-13') });
    const charges = await chargesOf(c.ids);
    expect(charges).toHaveLength(2);
    expect(new Set(charges.map((x) => x.invoiceId)).size).toBe(1);
    expect(new Set(charges.map((x) => x.entryId)).size).toBe(1);
    expect(await usableMicros(owner, demo, c.customerId)).toBe(0n);
    await expectLedgerSound();
  });
});

describe('renewal by card', () => {
  it('points short, renew-by-card on and a saved card: tops up exactly the fee by card, then renews', async () => {
    const c = await customerWith({ points: '5.00', end: '2034-01-15', subs: [{ price: price20, renewByCard: true }, { price: price10 }] });
    await saveCard(owner, t.gateway, { partnerId: demo, customerId: c.customerId, cardToken: 'tok_sandbox_success' });
    const run = await runRenewals(deps, { asOf: utcMidnight('2034-01-08') });
    expect(run.cardRenewedGroups).toBeGreaterThanOrEqual(1);
    const topUps = await owner.selectFrom('topUps').selectAll().where('customerId', '=', c.customerId).execute();
    expect(topUps).toHaveLength(1);
    // 30.00 + 2.70 tax
    expect(topUps[0]).toMatchObject({ status: 'succeeded', auto: true, amountMicros: SGD('32.70').toString(), feeMicros: '0' });
    expect(topUps[0]!.renewalFor).toEqual(utcMidnight('2034-01-15'));
    expect(await chargesOf(c.ids)).toHaveLength(2);
    expect(await usableMicros(owner, demo, c.customerId)).toBe(SGD('5.00'));
    expect(await mailsOf(c.customerId, 'top_up_receipt')).toHaveLength(1);
    expect(await mailsOf(c.customerId, 'invoice_issued')).toHaveLength(1);
    // What paid each invoice: the top-up's by the card (its charge, its entry; no user: the job), the renewal's by points.
    const paymentsOf = (invoiceId: string) => owner.selectFrom('invoicePayments').select(['source', 'amountMicros', 'entryId', 'chargeRef', 'paidBy'])
      .where('invoiceId', '=', invoiceId).execute();
    expect(await paymentsOf(topUps[0]!.invoiceId!)).toEqual([
      { source: 'card', amountMicros: SGD('32.70').toString(), entryId: topUps[0]!.entryId, chargeRef: topUps[0]!.chargeRef, paidBy: null },
    ]);
    const [renewal] = await chargesOf(c.ids);
    expect(await paymentsOf(renewal!.invoiceId!)).toEqual([
      { source: 'points', amountMicros: SGD('32.70').toString(), entryId: renewal!.entryId, chargeRef: null, paidBy: null },
    ]);
    await runRenewals(deps, { asOf: utcMidnight('2034-01-09') });
    expect(await owner.selectFrom('topUps').select('id').where('customerId', '=', c.customerId).execute()).toHaveLength(1);
    await expectLedgerSound();
  });

  it('a declined card: the top-up fails, the renewal fails with the reason, the owner is told', async () => {
    const c = await customerWith({ points: '0', end: '2034-02-15', subs: [{ price: price20, renewByCard: true }] });
    await saveCard(owner, t.gateway, { partnerId: demo, customerId: c.customerId, cardToken: 'tok_sandbox_insufficient_funds' });
    const run = await runRenewals(deps, { asOf: utcMidnight('2034-02-08') });
    expect(run.cardFailedGroups).toBeGreaterThanOrEqual(1);
    const [topUp] = await owner.selectFrom('topUps').selectAll().where('customerId', '=', c.customerId).execute();
    expect(topUp).toMatchObject({ status: 'failed', failureCode: 'insufficient_funds' });
    const [sub] = await subsOf(c.ids);
    expect(sub!.renewalFailureReason).toBe('the renewal card was declined for insufficient funds');
    expect(await chargesOf(c.ids)).toEqual([]);
    const mails = await mailsOf(c.customerId);
    expect(mails.map((m) => m.kind)).toEqual(['subscription_renewal_failed']);
    expect(mails[0]!.bodyText).toContain('declined for insufficient funds');
    expect(await auditOf([topUp!.id], 'top_up.failed')).toHaveLength(1);
    await runRenewals(deps, { asOf: utcMidnight('2034-02-09') });
    expect(await owner.selectFrom('topUps').select('id').where('customerId', '=', c.customerId).execute()).toHaveLength(1);
    await expectLedgerSound();
  });

  it('a card that settles later: the top-up waits (no second charge on reruns), its webhook adds the points, the next run renews', async () => {
    const c = await customerWith({ points: '0', end: '2034-04-15', subs: [{ price: price20, renewByCard: true }] });
    await saveCard(owner, t.gateway, { partnerId: demo, customerId: c.customerId, cardToken: 'tok_sandbox_delayed' });
    const run = await runRenewals(deps, { asOf: utcMidnight('2034-04-08') });
    expect(run.cardPendingGroups).toBeGreaterThanOrEqual(1);
    await runRenewals(deps, { asOf: new Date('2034-04-08T01:00:00Z') });
    let topUps = await owner.selectFrom('topUps').selectAll().where('customerId', '=', c.customerId).execute();
    expect(topUps.map((x) => x.status)).toEqual(['pending']);
    expect(await chargesOf(c.ids)).toEqual([]);

    await deliverSandboxWebhooks(t, t.gateway, new Date(Date.now() + 60_000));
    topUps = await owner.selectFrom('topUps').selectAll().where('customerId', '=', c.customerId).execute();
    expect(topUps.map((x) => x.status)).toEqual(['succeeded']);
    expect(await usableMicros(owner, demo, c.customerId)).toBe(SGD('21.80'));
    await runRenewals(deps, { asOf: new Date('2034-04-08T02:00:00Z') });
    expect(await chargesOf(c.ids)).toHaveLength(1);
    expect(await usableMicros(owner, demo, c.customerId)).toBe(0n);
    expect(await owner.selectFrom('topUps').select('id').where('customerId', '=', c.customerId).execute()).toHaveLength(1);
    await expectLedgerSound();
  });

  it('renew-by-card on but no saved card: the renewal fails', async () => {
    const c = await customerWith({ points: '0', end: '2034-03-15', subs: [{ price: price20, renewByCard: true }] });
    await runRenewals(deps, { asOf: utcMidnight('2034-03-08') });
    const [sub] = await subsOf(c.ids);
    expect(sub!.renewalFailureReason).toMatch(/^Not enough points/);
  });
});

describe('notices, expiry and termination', () => {
  it('"renewal coming" goes out once, 7 days before the renewal, one message per group, whatever the reruns', async () => {
    const c = await customerWith({ points: '10.00', end: '2035-04-30', subs: [{ price: price20 }, { price: price10, quantity: 2 }] });
    await runRenewals(deps, { asOf: utcMidnight('2035-04-15') }); // 15 days before expiry: too early
    expect(await mailsOf(c.customerId, 'subscription_renewal_upcoming')).toEqual([]);
    await runRenewals(deps, { asOf: utcMidnight('2035-04-16') });
    await runRenewals(deps, { asOf: utcMidnight('2035-04-16') });
    await runRenewals(deps, { asOf: utcMidnight('2035-04-20') });
    const mails = await mailsOf(c.customerId, 'subscription_renewal_upcoming');
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toBe('Renewal on 2035-04-23: 2 subscriptions (43.60 SGD)');
    expect(mails[0]!.bodyText).toContain('do not cover it today');
    expect((await subsOf(c.ids)).map((s) => s.renewalNoticeFor)).toEqual([utcMidnight('2035-04-30'), utcMidnight('2035-04-30')]);
  });

  it('auto-renew off: not renewed, expires at the end of the period, then is terminated automatically on day 29', async () => {
    const c = await customerWith({ points: '500.00', end: '2036-07-01', subs: [{ price: price20, autoRenew: false }] });
    await runRenewals(deps, { asOf: utcMidnight('2036-06-24') });
    await runRenewals(deps, { asOf: new Date('2036-06-30T23:00:00Z') });
    expect(await chargesOf(c.ids)).toEqual([]);
    expect(await mailsOf(c.customerId, 'subscription_renewal_upcoming')).toEqual([]);
    expect((await subsOf(c.ids))[0]!.status).toBe('active');

    await runRenewals(deps, { asOf: utcMidnight('2036-07-01') });
    let [sub] = await subsOf(c.ids);
    expect(sub).toMatchObject({ status: 'expired', expiredAt: utcMidnight('2036-07-01') });
    const expired = await mailsOf(c.customerId, 'subscription_expired');
    expect(expired).toHaveLength(1);
    expect(expired[0]!.bodyText).toContain('until 2036-07-28');
    expect(await auditOf(c.ids, 'subscription.expired')).toHaveLength(1);

    // Day 28 after expiry: still expired (can be reactivated); day 29: terminated.
    await runRenewals(deps, { asOf: new Date('2036-07-28T23:59:00Z') });
    expect((await subsOf(c.ids))[0]!.status).toBe('expired');
    await runRenewals(deps, { asOf: addDays(utcMidnight('2036-07-01'), 28) });
    [sub] = await subsOf(c.ids);
    expect(sub).toMatchObject({ status: 'terminated', terminationKind: 'automatic', terminatedAt: utcMidnight('2036-07-29') });
    const [audit] = await auditOf(c.ids, 'subscription.terminated');
    expect(audit).toMatchObject({ actorType: 'system', customerId: c.customerId });
    const mails = await mailsOf(c.customerId, 'subscription_terminated');
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toMatch(/^Terminated: /);
    expect(mails[0]!.bodyText).toContain('not reactivated within 28 days');
    await runRenewals(deps, { asOf: utcMidnight('2036-08-30') });
    expect(await mailsOf(c.customerId, 'subscription_terminated')).toHaveLength(1);
    expect(await mailsOf(c.customerId, 'subscription_expired')).toHaveLength(1);
    const history = await owner.selectFrom('subscriptionEvents').select('kind').where('subscriptionId', '=', c.ids[0]!).orderBy('id').execute();
    expect(history.map((h) => h.kind)).toEqual(['expired', 'terminated']);
    await expectLedgerSound();
  });
});

describe('crashes and concurrency', () => {
  it('a crash in the middle of a run, then a rerun: every subscription is renewed exactly once', async () => {
    const customers = [];
    for (let i = 0; i < 4; i++) customers.push(await customerWith({ points: '100.00', end: '2037-09-10', subs: [{ price: price20 }, { price: price10 }] }));
    const victim = customers[2]!.customerId;
    // The third group's charge insert fails: its batch rolls back, the run stops there.
    await sql.raw(`
      create function renewals_test_crash() returns trigger language plpgsql as $f$
      begin if new.customer_id = '${victim}' then raise exception 'simulated crash'; end if; return new; end $f$;
      create trigger renewals_test_crash before insert on subscription_charges for each row execute function renewals_test_crash();`).execute(owner);
    await expect(runRenewals(deps, { asOf: utcMidnight('2037-09-03'), batchSize: 1 })).rejects.toThrow(/simulated crash/);
    await sql.raw('drop trigger renewals_test_crash on subscription_charges; drop function renewals_test_crash();').execute(owner);
    const ids = customers.flatMap((c) => c.ids);
    const before = await chargesOf(ids);
    expect(before.length).toBeLessThan(8);
    expect(before.some((x) => x.customerId === victim)).toBe(false);

    await runRenewals(deps, { asOf: utcMidnight('2037-09-03'), batchSize: 1 });
    const after = await chargesOf(ids);
    expect(after).toHaveLength(8);
    for (const c of customers) expect(await usableMicros(owner, demo, c.customerId)).toBe(SGD('67.30'));
    for (const c of customers) expect(await mailsOf(c.customerId, 'invoice_issued')).toHaveLength(1);
    await expectLedgerSound();
  });

  it('two runs at the same time charge every group once (one of them by card: the saved sandbox card expires 12/2034)', async () => {
    const customers = [];
    for (let i = 0; i < 6; i++) customers.push(await customerWith({ points: '50.00', end: '2034-06-10', subs: [{ price: price20 }] }));
    const withCard = await customerWith({ points: '0', end: '2034-06-10', subs: [{ price: price20, renewByCard: true }] });
    await saveCard(owner, t.gateway, { partnerId: demo, customerId: withCard.customerId, cardToken: 'tok_sandbox_success' });
    const [a, b] = await Promise.all([
      runRenewals(deps, { asOf: utcMidnight('2034-06-03'), batchSize: 2 }),
      runRenewals(deps, { asOf: utcMidnight('2034-06-03'), batchSize: 3 }),
    ]);
    const ids = [...customers.flatMap((c) => c.ids), ...withCard.ids];
    const charges = await chargesOf(ids);
    expect(charges).toHaveLength(7);
    expect(a.renewedSubscriptions + b.renewedSubscriptions).toBeGreaterThanOrEqual(7);
    for (const c of customers) expect(await usableMicros(owner, demo, c.customerId)).toBe(SGD('28.20'));
    const topUps = await owner.selectFrom('topUps').select(['status']).where('customerId', '=', withCard.customerId).execute();
    expect(topUps).toEqual([{ status: 'succeeded' }]);
    expect(await usableMicros(owner, demo, withCard.customerId)).toBe(0n);
    await expectLedgerSound();
  });
});

describe('an invoice number already issued (docs/adr/0041)', () => {
  it('fails the renewal it would number, with that reason, and the partner\'s renewals after it in the batch; the others renew', async () => {
    // Demo's purchase format reaches a number already issued: as a database changed before formats were checked.
    const counter = async () => BigInt((await sql<{ last: string }>`select last_value::text as last from invoice_number_series
      where partner_id = ${demo} and type = 'purchase'`.execute(owner)).rows[0]!.last);
    const setCounter = (last: bigint) => sql`update invoice_number_series set last_value = ${last.toString()}::bigint where partner_id = ${demo} and type = 'purchase'`.execute(owner);
    const setFormat = (format: string) => sql`update partner_settings set invoice_number_formats = invoice_number_formats || jsonb_build_object('purchase', ${format}::text)
      where partner_id = ${demo}`.execute(owner);
    const last = await counter();
    await setFormat('RN{seq}');
    await setCounter(last + 1n);
    const other = await createCustomer(owner, { partnerId: demo });
    const issuedAt = new Date('2035-02-01T00:00:00Z');
    const taken = await inScope(t.db.app.db, { kind: 'partner', partnerId: demo }, (trx) => issueInvoice(trx, {
      partnerId: demo, customerId: other.customerId, type: 'purchase', currency: 'SGD', issuedAt,
      lines: [{ kind: 'product', description: 'Licence', amountMicros: SGD('1.00'), taxMicros: 0n, revenueCode: 'revenue:one_time' }],
      entry: { kind: 'invoice_issued', causeType: 'invoice', causeId: 'test', description: 'Test invoice', auditEventId: null },
    }));
    expect(taken.number).toBe(`RN${last + 2n}`);
    await setCounter(last);

    // Three groups due, in this order: the first takes RN<last+1>, the second would take RN<last+2> (taken), the third after it.
    const first = await customerWith({ points: '100.00', end: '2035-03-10', subs: [{ price: price20 }] });
    const second = await customerWith({ points: '100.00', end: '2035-03-11', subs: [{ price: price20 }] });
    const third = await customerWith({ points: '100.00', end: '2035-03-12', subs: [{ price: price10 }] });
    const keys = [first, second, third].map((c) => ({ partnerId: demo, customerId: c.customerId, currency: 'SGD', periodEnd: c.end }));
    const asOf = new Date('2035-03-05T01:00:00Z');
    const options = { asOf, actor: RENEWAL_ACTOR.actor, retryFailed: false, cardGateway: null };

    // A staff recovery (which throws rather than records) is refused with the 409, nothing written.
    const recovery = await inScope(t.db.app.db, { kind: 'system' }, (trx) => renewGroups(trx, keys, { ...options, onShort: 'throw' })).catch((err: unknown) => err);
    expect(recovery).toBeInstanceOf(DomainError);
    expect((recovery as DomainError).code).toBe('document_number_taken');
    expect(await counter()).toBe(last);

    // The job's batch records it: the first renews, the second and third fail with the reason, nothing crashes.
    const outcomes = await inScope(t.db.app.db, { kind: 'system' }, (trx) => renewGroups(trx, keys, { ...options, onShort: 'fail' }));
    const reason = `the renewal invoice could not be numbered: RN${last + 2n} was already issued on 2035-02-01; the purchase number format must be changed in Portal Settings`;
    expect(outcomes.map((o) => [o.key.customerId, o.status, o.invoiceNumber, o.reason])).toEqual([
      [first.customerId, 'renewed', `RN${last + 1n}`, null],
      [second.customerId, 'failed', null, reason],
      [third.customerId, 'failed', null, reason],
    ]);
    const subs = await subsOf([...second.ids, ...third.ids]);
    expect(subs.map((x) => x.renewalFailureReason)).toEqual([reason, reason]);
    expect(await auditOf(second.ids, 'subscription.renewal_failed')).toHaveLength(1);
    expect(await mailsOf(second.customerId)).not.toHaveLength(0);
    expect(await counter()).toBe(last + 1n);
    await expectLedgerSound();

    await setFormat('INV-{YYYY}-{seq:06}');
    await setCounter(last + 2n);
  });
});
