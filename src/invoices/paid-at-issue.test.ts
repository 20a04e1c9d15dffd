import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import pino from 'pino';
import { api, createTestAppWithGateway, customerIdOf, partnerIdOf, signIn, userIdOf, type Session, type TestAppWithGateway } from '../test/harness.ts';
import { checkLedger } from '../ledger/check-ledger.ts';
import { catalogPrice, givePoints, type CatalogPrice } from '../subscriptions/test-support.ts';
import { runRenewals } from '../subscriptions/renewals/run-renewals.ts';
import { createAddOn, createCustomer, createSubscription, givePoints as giveFixturePoints, monthlyPeriodEndingAt, utcMidnight } from '../subscriptions/renewals/renewals.fixtures.ts';
import { pdfText } from './pdf/pdf-text.ts';
import type { InvoiceDetail } from './invoice-view-types.ts';

/**
 * Invoices paid as they are issued (acceptance review of issue 5): a purchase or add-on from points, a renewal from points and
 * a card top-up each record what paid them (one `invoice_payments` row: source, amount, the ledger entry, the card's
 * charge reference), so the screen and the PDF list the payment; and their lines keep what they sell (product, variant,
 * units at the unit price, tax category and rate). Totals and the books are unchanged.
 */
let t: TestAppWithGateway;
let demo: string;
let acme: string;
let admin: Session;
let owner: Session;
let line: CatalogPrice; // 10.00, standard
let support: CatalogPrice; // 5.00, exempt
let seats: CatalogPrice; // 10.00, fee 2.00, standard
let screens: CatalogPrice; // 12.00, standard
const issued: string[] = [];

beforeAll(async () => {
  t = await createTestAppWithGateway();
  demo = await partnerIdOf(t.db, 'demo-telecom');
  acme = await customerIdOf(t.db, 'Acme Pte Ltd');
  await t.db.owner.db.updateTable('partnerSettings').set({ taxRateBps: 900 }).where('partnerId', '=', demo).execute();
  line = await catalogPrice(t, demo, { name: 'Virtual Line', price: '10.00', cost: '4.00' });
  support = await catalogPrice(t, demo, { name: 'Support Plan', price: '5.00', cost: '1.00', taxCategory: 'exempt' });
  seats = await catalogPrice(t, demo, { name: 'Extra Seat', price: '10.00', cost: '4.00', activationFee: '2.00' });
  screens = await catalogPrice(t, demo, { name: 'Wall Screen', price: '12.00', cost: '5.00' });
  admin = await signIn(t, 'admin@demo.test');
  owner = await signIn(t, 'owner@acme.test');
  await givePoints(t, demo, acme, '500.00');
});
afterAll(async () => t.close());

const detailOf = async (invoiceId: string): Promise<InvoiceDetail> => {
  const res = await api(t, admin, 'GET', `/api/v1/invoices/${invoiceId}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<InvoiceDetail>();
};
const storedPayments = (invoiceId: string) =>
  t.db.owner.db.selectFrom('invoicePayments').selectAll().where('invoiceId', '=', invoiceId).execute();
const pdfOf = async (url: string, who: Session): Promise<string> => {
  const res = await api(t, who, 'GET', url);
  expect(res.statusCode).toBe(200);
  return (await pdfText(res.rawPayload)).text;
};
/** The entry's postings on the customer's points (what left or reached them), as micros. */
const pointsPosted = async (entryId: string): Promise<bigint> => {
  const { rows } = await sql<{ sum: string }>`
    select coalesce(sum(p.amount_micros), 0)::text as sum from postings p join ledger_accounts a on a.id = p.account_id
    where p.entry_id = ${entryId} and a.code = 'points'`.execute(t.db.owner.db);
  return BigInt(rows[0]!.sum);
};
const mailKinds = async (customerId: string, since: string) =>
  (await t.db.owner.db.selectFrom('notifications').select('kind').where('customerId', '=', customerId).where('id', '>', since).orderBy('id').execute()).map((n) => n.kind);
const lastMailId = async () =>
  (await t.db.owner.db.selectFrom('notifications').select('id').orderBy('id', 'desc').executeTakeFirst())?.id ?? '';

describe('a purchase paid from points', () => {
  let subscriptionId: string;

  it('3 units of a standard product: quantity 3 at the catalog price, standard at the partner\'s rate; one points payment naming the entry', async () => {
    t.clock.set('2026-03-01T09:00:00Z');
    const mailsBefore = await lastMailId();
    const res = await api(t, admin, 'POST', `/api/v1/customers/${acme}/subscriptions`, { priceId: line.priceId, quantity: 3 });
    expect(res.statusCode, res.body).toBe(201);
    const { subscription, invoice } = res.json<{ subscription: { id: string }; invoice: { id: string } }>();
    subscriptionId = subscription.id;
    issued.push(invoice.id);

    const detail = await detailOf(invoice.id);
    // Totals as before: 3 x 10.00 = 30.00, 9% = 2.70.
    expect(detail).toMatchObject({ status: 'paid', subtotal: '30.00', tax: '2.70', total: '32.70', amountDue: '0.00' });
    expect(detail.lines).toEqual([expect.objectContaining({
      kind: 'subscription', productId: line.productId, variantId: line.variantId, quantity: '3', unitPrice: '10.00', gross: '30.00', discount: '0.00',
      amount: '30.00', taxCategory: 'standard', taxRateBps: 900, tax: '2.70',
    })]);
    expect(detail.payments).toEqual([{ id: expect.stringMatching(/^ipy_/), source: 'points', amount: '32.70', paidAt: '2026-03-01T09:00:00.000Z', reference: null, paymentId: null }]);

    const charge = await t.db.owner.db.selectFrom('subscriptionCharges').select(['invoiceId', 'entryId']).where('subscriptionId', '=', subscriptionId).executeTakeFirstOrThrow();
    const [payment] = await storedPayments(invoice.id);
    expect(payment).toMatchObject({
      source: 'points', amountMicros: '32700000', entryId: charge.entryId, chargeRef: null, attemptId: null, paymentId: null, paidBy: await userIdOf(t.db, 'admin@demo.test'),
    });
    expect(await pointsPosted(charge.entryId!)).toBe(32_700_000n); // the entry it names took exactly that from the points
    // The purchase still tells the customer once (its receipt), nothing more.
    expect(await mailKinds(acme, mailsBefore)).toEqual(['subscription_purchased']);
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('the PDF lists the payment and keeps the tax rate in its label', async () => {
    const text = await pdfOf(`/api/v1/invoices/${issued[0]}/pdf`, admin);
    expect(text).toContain('Payments and credits applied');
    expect(text).toMatch(/Points\s+\u2013\s+32\.70/);
    expect(text).toContain('Tax 9%');
    expect(text).toMatch(/\b3\s+10\.00\s+\u2013\s+30\.00\s+2\.70/); // Qty, unit price, no discount, amount, tax
  });

  it('an exempt product: exempt at 0 bps, no tax', async () => {
    const res = await api(t, admin, 'POST', `/api/v1/customers/${acme}/subscriptions`, { priceId: support.priceId, quantity: 2 });
    expect(res.statusCode, res.body).toBe(201);
    const { invoice } = res.json<{ invoice: { id: string } }>();
    issued.push(invoice.id);
    const detail = await detailOf(invoice.id);
    expect(detail).toMatchObject({ subtotal: '10.00', tax: '0.00', total: '10.00' });
    expect(detail.lines).toEqual([expect.objectContaining({
      productId: support.productId, variantId: support.variantId, quantity: '2', unitPrice: '5.00', taxCategory: 'exempt', taxRateBps: 0, tax: '0.00',
    })]);
    expect(detail.payments).toEqual([expect.objectContaining({ source: 'points', amount: '10.00' })]);
  });

  it('add-ons pro rata: units at the pro-rated unit price when it divides exactly, else one at the whole amount; the fee at its price', async () => {
    // Bought 1 March: the period ends 1 April (31 days); on 15 March 17 days remain.
    t.clock.set('2026-03-15T10:00:00Z');
    const add = async (price: CatalogPrice, quantity: number) => {
      const res = await api(t, admin, 'POST', `/api/v1/subscriptions/${subscriptionId}/add-ons`, { priceId: price.priceId, quantity });
      expect(res.statusCode, res.body).toBe(201);
      const charge = await t.db.owner.db.selectFrom('subscriptionCharges as c').innerJoin('subscriptionAddOns as a', 'a.id', 'c.addOnId')
        .select(['c.invoiceId', 'c.entryId']).where('c.subscriptionId', '=', subscriptionId).where('a.priceId', '=', price.priceId).executeTakeFirstOrThrow();
      issued.push(charge.invoiceId!);
      return { charge, detail: await detailOf(charge.invoiceId!) };
    };

    // 3 x 10.00 x 17/31 = 16.45 (no unit price x 3 gives it), + 2.00 fee; 9% of 18.45 = 1.66.
    const seat = await add(seats, 3);
    expect(seat.detail).toMatchObject({ subtotal: '18.45', tax: '1.66', total: '20.11' });
    expect(seat.detail.lines).toEqual([
      expect.objectContaining({ kind: 'add_on', productId: seats.productId, variantId: seats.variantId, quantity: '1', unitPrice: '16.45', gross: '16.45', taxCategory: 'standard', taxRateBps: 900 }),
      expect.objectContaining({ kind: 'activation_fee', productId: seats.productId, variantId: seats.variantId, quantity: '1', unitPrice: '2.00', gross: '2.00', taxCategory: 'standard', taxRateBps: 900 }),
    ]);
    expect(seat.detail.lines[0]!.description).toMatch(/x 3, 17 of 31 days$/);
    expect(seat.detail.payments).toEqual([expect.objectContaining({ source: 'points', amount: '20.11' })]);
    expect((await storedPayments(seat.charge.invoiceId!))[0]!.entryId).toBe(seat.charge.entryId);

    // 2 x 12.00 x 17/31 = 13.16 = 2 x 6.58.
    const screen = await add(screens, 2);
    expect(screen.detail.lines).toEqual([expect.objectContaining({ quantity: '2', unitPrice: '6.58', gross: '13.16', amount: '13.16' })]);
    expect(screen.detail).toMatchObject({ subtotal: '13.16', tax: '1.18', total: '14.34' });
    expect(screen.detail.payments).toEqual([expect.objectContaining({ source: 'points', amount: '14.34' })]);
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });
});

describe('a purchase the points do not cover', () => {
  it('its unpaid invoice carries the same line detail, and no payment until it is paid', async () => {
    const c = await createCustomer(t.db.owner.db, { partnerId: demo });
    const res = await api(t, admin, 'POST', `/api/v1/customers/${c.customerId}/subscriptions`, { priceId: line.priceId, quantity: 3 });
    expect(res.statusCode, res.body).toBe(201);
    const { invoice } = res.json<{ invoice: { id: string; status: string } }>();
    expect(invoice.status).toBe('awaiting_payment');
    const detail = await detailOf(invoice.id);
    expect(detail).toMatchObject({ subtotal: '30.00', tax: '2.70', total: '32.70', amountDue: '32.70', payments: [] });
    expect(detail.lines).toEqual([expect.objectContaining({
      productId: line.productId, variantId: line.variantId, quantity: '3', unitPrice: '10.00', gross: '30.00', taxCategory: 'standard', taxRateBps: 900, tax: '2.70',
    })]);
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });
});

describe('a renewal paid from points', () => {
  it('the renewal invoice names product, variant, units, tax category and rate, and its points payment (no one acted: the job)', async () => {
    const c = await createCustomer(t.db.owner.db, { partnerId: demo });
    await giveFixturePoints(t.db.app.db, { partnerId: demo, customerId: c.customerId, micros: 100_000_000n });
    const end = utcMidnight('2033-05-10');
    const { anchorAt, periodStart } = monthlyPeriodEndingAt(end);
    const subId = await createSubscription(t.db.owner.db, { partnerId: demo, customerId: c.customerId, price: line, quantity: 2, anchorAt, periodStart, periodEnd: end });
    await createAddOn(t.db.owner.db, { partnerId: demo, customerId: c.customerId, subscriptionId: subId, price: support, quantity: 1, at: periodStart });
    const mailsBefore = await lastMailId();

    await runRenewals({ db: t.db.app.db, gateway: t.gateway, log: pino({ level: 'silent' }) }, { asOf: new Date('2033-05-06T01:00:00Z') });

    const charge = await t.db.owner.db.selectFrom('subscriptionCharges').select(['invoiceId', 'entryId']).where('subscriptionId', '=', subId).where('kind', '=', 'renewal').executeTakeFirstOrThrow();
    issued.push(charge.invoiceId!);
    const detail = await detailOf(charge.invoiceId!);
    // 2 x 10.00 (9%: 1.80) + 1 x 5.00 exempt = 26.80.
    expect(detail).toMatchObject({ status: 'paid', subtotal: '25.00', tax: '1.80', total: '26.80', amountDue: '0.00' });
    expect(detail.lines).toEqual([
      expect.objectContaining({ kind: 'subscription_renewal', productId: line.productId, variantId: line.variantId, quantity: '2', unitPrice: '10.00', gross: '20.00', taxCategory: 'standard', taxRateBps: 900, tax: '1.80' }),
      expect.objectContaining({ kind: 'add_on_renewal', productId: support.productId, variantId: support.variantId, quantity: '1', unitPrice: '5.00', gross: '5.00', taxCategory: 'exempt', taxRateBps: 0, tax: '0.00' }),
    ]);
    expect(detail.payments).toEqual([expect.objectContaining({ source: 'points', amount: '26.80', paidAt: '2033-05-06T01:00:00.000Z', reference: null })]);
    const [payment] = await storedPayments(charge.invoiceId!);
    expect(payment).toMatchObject({ source: 'points', amountMicros: '26800000', entryId: charge.entryId, paidBy: null, chargeRef: null });
    expect(await pointsPosted(charge.entryId!)).toBe(26_800_000n);
    // The renewal mails its invoice to the owner, as before: no extra receipt.
    expect(await mailKinds(c.customerId, mailsBefore)).toEqual(['invoice_issued']);

    const text = await pdfOf(`/api/v1/invoices/${charge.invoiceId}/pdf`, admin);
    expect(text).toContain('Payments and credits applied');
    expect(text).toMatch(/Points\s+\u2013\s+26\.80/);
    expect(text).toContain('Tax 9%');
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });
});

describe('a card top-up', () => {
  it('its invoice records the card payment: the charge reference, the entry, who paid; the portal and the PDF show it', async () => {
    const mailsBefore = await lastMailId();
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/portal/top-ups', headers: owner.headers, payload: { amount: '10.00', cardToken: 'tok_sandbox_success' } });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json<{ id: string; status: string; invoice: { id: string } }>();
    expect(body.status).toBe('succeeded');
    issued.push(body.invoice.id);
    const topUp = await t.db.owner.db.selectFrom('topUps').select(['chargeRef', 'entryId']).where('id', '=', body.id).executeTakeFirstOrThrow();
    expect(topUp.chargeRef).toBeTruthy();

    const portal = await api(t, owner, 'GET', `/api/v1/portal/invoices/${body.invoice.id}`);
    expect(portal.statusCode, portal.body).toBe(200);
    const detail = portal.json<InvoiceDetail>();
    // 10.00 of points and the 1.00 admin fee (below the fee threshold): a deposit and a fee, no tax (docs/adr/0008).
    expect(detail).toMatchObject({ type: 'top_up', status: 'paid', subtotal: '11.00', tax: '0.00', total: '11.00', amountDue: '0.00' });
    expect(detail.lines).toEqual([
      expect.objectContaining({ kind: 'points', productId: null, variantId: null, quantity: '1', unitPrice: '10.00', taxRateBps: 0, tax: '0.00' }),
      expect.objectContaining({ kind: 'admin_fee', productId: null, variantId: null, quantity: '1', unitPrice: '1.00', taxRateBps: 0, tax: '0.00' }),
    ]);
    expect(detail.payments).toEqual([expect.objectContaining({ source: 'card', amount: '11.00', reference: topUp.chargeRef })]);
    const [payment] = await storedPayments(body.invoice.id);
    expect(payment).toMatchObject({
      source: 'card', amountMicros: '11000000', entryId: topUp.entryId, chargeRef: topUp.chargeRef, paidBy: await userIdOf(t.db, 'owner@acme.test'), attemptId: null,
    });
    expect(await mailKinds(acme, mailsBefore)).toEqual(['top_up_receipt']);

    const text = await pdfOf(`/api/v1/portal/invoices/${body.invoice.id}/pdf`, owner);
    expect(text).toContain('Payments and credits applied');
    expect(text).toMatch(/Card\s+\S+\s+11\.00/);
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });
});

describe('the books', () => {
  it('every invoice paid at issue is paid exactly by its payment rows, once', async () => {
    expect(issued).toHaveLength(6);
    const { rows } = await sql<{ id: string; paid: string; payments: string; count: number }>`
      select i.id, i.amount_paid_micros::text as paid, coalesce(sum(p.amount_micros), 0)::text as payments, count(p.id)::int as count
      from invoices i left join invoice_payments p on p.invoice_id = i.id
      where i.id = any(${issued}::text[])
      group by i.id`.execute(t.db.owner.db);
    expect(rows).toHaveLength(6);
    for (const r of rows) expect({ id: r.id, payments: r.payments, count: r.count }).toEqual({ id: r.id, payments: r.paid, count: 1 });
  });
});
