import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgetPortalTabs } from '../settings/portal-tabs.ts';
import { sql } from 'kysely';
import { api, auditEventsOf, createTestAppWithGateway, customerIdOf, expectUnknownId, deliverSandboxWebhooks, partnerIdOf, signIn, type Session, type TestAppWithGateway } from '../test/harness.ts';
import { checkLedger } from '../ledger/check-ledger.ts';
import { inScope } from '../platform/database.ts';
import type { InvoiceType } from '../platform/db-types.ts';
import { givePoints } from '../subscriptions/renewals/renewals.fixtures.ts';
import { issueInvoice } from './issue-invoice.ts';
import { reverseEntry } from '../ledger/post-entry.ts';
import { pdfText } from './pdf/pdf-text.ts';
import { expireReservations } from '../wallet/reservations.ts';

let t: TestAppWithGateway;
let owner: Session;
let member: Session;
let staff: Session;
let globexOwner: Session;
let demo: string;
let acme: string;
let globex: string;

beforeAll(async () => {
  t = await createTestAppWithGateway();
  owner = await signIn(t, 'owner@acme.test');
  member = await signIn(t, 'member@acme.test');
  staff = await signIn(t, 'admin@demo.test');
  globexOwner = await signIn(t, 'owner@globex.test');
  demo = await partnerIdOf(t.db, 'demo-telecom');
  acme = await customerIdOf(t.db, 'Acme Pte Ltd');
  globex = await customerIdOf(t.db, 'Globex Sdn Bhd');
});
afterAll(async () => t.close());

const cents = (c: number) => BigInt(c) * 10_000n;

/** An issued, unpaid invoice: `pre-tax` + 9% tax, posted Dr receivable / Cr revenue / Cr tax. */
async function invoice(input: { customerId?: string; type?: InvoiceType; preTaxCents?: number; taxCents?: number; currency?: 'SGD' | 'MYR' } = {}) {
  const customerId = input.customerId ?? acme;
  return inScope(t.db.app.db, { kind: 'partner', partnerId: demo }, (trx) => issueInvoice(trx, {
    partnerId: demo, customerId, type: input.type ?? 'purchase', currency: input.currency ?? 'SGD', issuedAt: t.clock.now(),
    lines: [{ kind: 'product', description: 'Wallboard licence', amountMicros: cents(input.preTaxCents ?? 50_00), taxMicros: cents(input.taxCents ?? 4_50), revenueCode: 'revenue:one_time' }],
    entry: { kind: 'invoice_issued', causeType: 'invoice', causeId: 'test', description: 'Test invoice', auditEventId: null },
  }));
}

/** A Monthly statement or a Top-up invoice as those flows leave them: nothing posted to the receivable (no supply billed here). */
async function unbilledInvoice(type: 'monthly' | 'top_up') {
  const id = `inv_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 12)}`;
  const number = `${type === 'monthly' ? 'STM' : 'TOP'}-T-${id.slice(-8)}`;
  await t.db.owner.db.insertInto('invoices').values({
    id, partnerId: demo, customerId: acme, type, number, currency: 'SGD', subtotalMicros: cents(50_00), taxMicros: 0n, totalMicros: cents(50_00),
    // A statement: informational, already paid from points. A top-up invoice: waiting for the deposit.
    ...(type === 'monthly'
      ? { status: 'paid' as const, informational: true, amountDueMicros: 0n, amountPaidMicros: cents(50_00), paidAt: t.clock.now() }
      : { status: 'awaiting_payment' as const, amountDueMicros: cents(50_00), paidAt: null }),
    issuedAt: t.clock.now(), dueAt: t.clock.now(), updatedAt: t.clock.now(),
  }).execute();
  return { id, number };
}

/** Set the customer's points to exactly `c` cents (through the ledger). */
async function setPoints(customerId: string, c: number) {
  const now = await wallet(customerId);
  const delta = cents(c) - now.points;
  if (delta > 0n) await givePoints(t.db.app.db, { partnerId: demo, customerId, micros: delta });
  if (delta < 0n) {
    await inScope(t.db.app.db, { kind: 'partner', partnerId: demo }, async (trx) => {
      const { chargeWallet } = await import('../wallet/charge-wallet.ts');
      await chargeWallet(trx, {
        wallet: { partnerId: demo, customerId, currency: 'SGD' }, amountMicros: -delta, useCreditLimit: false,
        entry: { kind: 'points_taken', causeType: 'test', causeId: `t${Date.now()}`, description: 'Fixture', auditEventId: null },
        counterPostings: [{ code: 'bank', amountMicros: delta }],
      });
    });
  }
}

async function wallet(customerId: string) {
  const row = await t.db.owner.db.selectFrom('wallets as w').innerJoin('ledgerAccounts as a', 'a.id', 'w.pointsAccountId')
    .select(['a.balanceMicros', 'w.reservedMicros']).where('w.customerId', '=', customerId).where('w.currency', '=', 'SGD').executeTakeFirst();
  return { points: row ? -BigInt(row.balanceMicros) : 0n, reserved: row ? BigInt(row.reservedMicros) : 0n };
}

const pay = (invoiceId: string, payload: object = {}, who: Session = owner, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url: `/api/v1/portal/invoices/${invoiceId}/pay`, headers: { ...who.headers, ...headers }, payload });

async function invoiceRow(id: string) {
  return t.db.owner.db.selectFrom('invoices').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

async function chargeCount(): Promise<number> {
  return (await sql<{ n: number }>`select count(*)::int as n from gateway_sandbox_charges`.execute(t.db.owner.db)).rows[0]!.n;
}

async function postingsOfInvoicePayment(invoiceId: string) {
  return t.db.owner.db.selectFrom('postings as p').innerJoin('journalEntries as e', 'e.id', 'p.entryId').innerJoin('ledgerAccounts as a', 'a.id', 'p.accountId')
    .select(['a.code', 'p.amountMicros']).where('e.kind', '=', 'invoice_payment').where('e.causeId', '=', invoiceId).orderBy('p.id').execute();
}

describe('portal pay: points first, then card', () => {
  it('points alone pay it: one entry Dr points / Cr receivable, the invoice paid, audited, a receipt, the points feed shows it', async () => {
    await setPoints(acme, 100_00);
    const inv = await invoice();
    const res = await pay(inv.id, {});
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      invoice: { id: inv.id, status: 'paid', amountPaid: '54.50', amountDue: '0.00', canPay: false, payments: [{ source: 'points', amount: '54.50' }] },
      payment: { status: 'succeeded', amount: '54.50', pointsUsed: '54.50', cardCharged: '0.00', chargeRef: null },
    });
    expect((await wallet(acme)).points).toBe(cents(45_50));
    expect(await postingsOfInvoicePayment(inv.id)).toEqual([
      { code: 'points', amountMicros: '54500000' },
      { code: 'receivable', amountMicros: '-54500000' },
    ]);
    expect(await invoiceRow(inv.id)).toMatchObject({ status: 'paid', amountDueMicros: '0', amountPaidMicros: '54500000', paidAt: expect.any(Date) });
    expect((await auditEventsOf(t.db, 'invoice.payment_recorded')).some((e) => e.targetId === inv.id)).toBe(true);
    const mail = await t.db.owner.db.selectFrom('notifications').select(['subject', 'bodyText']).where('kind', '=', 'payment_receipt').where('customerId', '=', acme).orderBy('createdAt', 'desc').executeTakeFirstOrThrow();
    expect(mail.subject).toBe(`Receipt: ${inv.number} paid (54.50 SGD)`);
    expect(mail.bodyText).toContain('Paid with points:     54.50 SGD');
    const feed = await api(t, owner, 'GET', '/api/v1/portal/transactions?type=purchase');
    expect(feed.json().data[0]).toMatchObject({ type: 'purchase', amount: '-54.50' });
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('the preview\'s top-up suggestion says what the card is charged (the admin fee below the threshold), and none past what a card carries', async () => {
    await setPoints(acme, 50_05);
    const small = await invoice();
    const preview = await api(t, owner, 'GET', `/api/v1/portal/invoices/${small.id}/pay-preview`);
    expect(preview.json()).toMatchObject({ cardAmount: '4.45', topUpSuggestion: { amount: '4.45', shortfall: '4.45', fee: '1.00', total: '5.45' } });
    const huge = await invoice({ preTaxCents: 2_000_000_00, taxCents: 180_000_00 });
    const tooBig = await api(t, owner, 'GET', `/api/v1/portal/invoices/${huge.id}/pay-preview`);
    expect(tooBig.json()).toMatchObject({ amountDue: '2180000.00', topUpSuggestion: null });
  });

  it('points and card: the points cover part, the sandbox card the rest; ONE entry Dr points + Dr card_clearing / Cr receivable', async () => {
    await setPoints(acme, 30_00);
    const inv = await invoice();
    const charges = await chargeCount();
    const preview = await api(t, owner, 'GET', `/api/v1/portal/invoices/${inv.id}/pay-preview`);
    expect(preview.json()).toMatchObject({ amountDue: '54.50', amount: '54.50', pointsAvailable: '30.00', pointsToUse: '30.00', cardAmount: '24.50', topUpSuggestion: { amount: '24.50', shortfall: '24.50', fee: '0.00', total: '24.50' } });
    const res = await pay(inv.id, { cardToken: 'tok_sandbox_success' });
    expect(res.statusCode).toBe(200);
    expect(res.json().payment).toMatchObject({ status: 'succeeded', pointsUsed: '30.00', cardCharged: '24.50', chargeRef: expect.any(String) });
    expect(res.json().invoice).toMatchObject({ status: 'paid', amountDue: '0.00' });
    expect(await chargeCount()).toBe(charges + 1);
    expect(await wallet(acme)).toEqual({ points: 0n, reserved: 0n });
    const postings = await postingsOfInvoicePayment(inv.id);
    expect(postings).toHaveLength(3);
    expect(postings).toEqual(expect.arrayContaining([
      { code: 'card_clearing', amountMicros: '24500000' },
      { code: 'receivable', amountMicros: '-54500000' },
      { code: 'points', amountMicros: '30000000' },
    ]));
    const payments = await t.db.owner.db.selectFrom('invoicePayments').select(['source', 'amountMicros']).where('invoiceId', '=', inv.id).orderBy('source').execute();
    expect(payments).toEqual([{ source: 'card', amountMicros: '24500000' }, { source: 'points', amountMicros: '30000000' }]);
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('a declined card charges nothing, releases the points hold, leaves the invoice awaiting payment and payable again', async () => {
    await setPoints(acme, 10_00);
    const inv = await invoice();
    const charges = await chargeCount();
    const res = await pay(inv.id, { cardToken: 'tok_sandbox_declined' });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'card_declined', errors: [{ path: 'cardToken' }] });
    expect(res.json().detail).toMatch(/Nothing was charged and your points were not used\.$/);
    expect(res.json().detail).not.toMatch(/pa_|pay_/);
    expect(await wallet(acme)).toEqual({ points: cents(10_00), reserved: 0n });
    expect(await invoiceRow(inv.id)).toMatchObject({ status: 'awaiting_payment', amountDueMicros: '54500000', amountPaidMicros: '0' });
    expect(await postingsOfInvoicePayment(inv.id)).toEqual([]);
    expect((await auditEventsOf(t.db, 'invoice.payment_failed')).some((e) => e.targetId === inv.id)).toBe(true);
    // The failed attempt took no points: the invoice's attempts say so ("your points were not used").
    const attempts = (await api(t, owner, 'GET', `/api/v1/portal/invoices/${inv.id}`)).json().paymentAttempts;
    expect(attempts).toEqual([expect.objectContaining({ status: 'failed', pointsUsed: '0.00', cardAmount: '44.50' })]);
    const funds = await pay(inv.id, { cardToken: 'tok_sandbox_insufficient_funds' });
    expect(funds.json()).toMatchObject({ code: 'insufficient_funds' });
    const ok = await pay(inv.id, { cardToken: 'tok_sandbox_success' });
    expect(ok.statusCode).toBe(200);
    expect(await chargeCount()).toBeGreaterThan(charges);
    expect(await invoiceRow(inv.id)).toMatchObject({ status: 'paid' });
  });

  it('a card remainder above what one charge carries (999,999.99 SGD) is refused by the gateway: 422, nothing charged, the points hold released', async () => {
    await setPoints(acme, 10_00);
    const inv = await invoice({ preTaxCents: 1_000_000_00, taxCents: 90_000_00 }); // 1,090,000.00 due; the card would take 1,089,990.00
    const charges = await chargeCount();
    const res = await pay(inv.id, { cardToken: 'tok_sandbox_success' });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'rule_violation', detail: expect.stringContaining('amount_too_large') });
    expect(await chargeCount()).toBe(charges);
    expect(await wallet(acme)).toEqual({ points: cents(10_00), reserved: 0n });
    expect(await invoiceRow(inv.id)).toMatchObject({ status: 'awaiting_payment', amountPaidMicros: '0' });
    expect(await postingsOfInvoicePayment(inv.id)).toEqual([]);
  });

  it('another organisation\'s saved card and an unknown one: the same 422 saved_card_not_found naming savedCardId; nothing charged, held or paid', async () => {
    const theirs = (await api(t, globexOwner, 'POST', '/api/v1/portal/top-ups', { amount: '70.00', cardToken: 'tok_sandbox_success', saveCard: true })).json<{ savedCardId: string }>().savedCardId;
    expect(theirs).toMatch(/^card_/);
    await setPoints(acme, 10_00);
    const inv = await invoice();
    const charges = await chargeCount();
    expectUnknownId([await pay(inv.id, { savedCardId: theirs }), await pay(inv.id, { savedCardId: 'card_00000000000000000000000000' })], 'saved_card_not_found', 'savedCardId');
    expect(await chargeCount()).toBe(charges);
    expect(await wallet(acme)).toEqual({ points: cents(10_00), reserved: 0n });
    expect(await invoiceRow(inv.id)).toMatchObject({ status: 'awaiting_payment', amountPaidMicros: '0' });
    expect(await postingsOfInvoicePayment(inv.id)).toEqual([]);
  });

  it('points short and no card: 422 card_required naming the shortfall; nothing held, nothing paid', async () => {
    await setPoints(acme, 12_34);
    const inv = await invoice();
    const res = await pay(inv.id, {});
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'card_required', errors: [{ path: 'cardToken' }] });
    expect(res.json().detail).toContain('42.16 SGD is left to pay by card');
    expect(await wallet(acme)).toEqual({ points: cents(12_34), reserved: 0n });
    expect(await invoiceRow(inv.id)).toMatchObject({ status: 'awaiting_payment', amountPaidMicros: '0' });
  });

  it('pays part of it (partially paid), then the rest; never more than is due', async () => {
    await setPoints(acme, 200_00);
    const inv = await invoice();
    const over = await pay(inv.id, { amount: '54.51' });
    expect(over.statusCode).toBe(422);
    expect(over.json()).toMatchObject({ code: 'amount_exceeds_due', errors: [{ path: 'amount', message: 'at most 54.50' }] });
    // A number against the rules (too many decimals, zero) is a 422; what is no number, a 400 (docs/adr/0040).
    const bad = await pay(inv.id, { amount: '1.005' });
    expect(bad.statusCode).toBe(422);
    expect(bad.json()).toMatchObject({ code: 'rule_violation', errors: [{ path: 'amount', message: 'at most 2 decimals for SGD' }] });
    const zero = await pay(inv.id, { amount: '0.00' });
    expect(zero.statusCode).toBe(422);
    expect(zero.json()).toMatchObject({ code: 'rule_violation', errors: [{ path: 'amount', message: 'more than zero' }] });
    const words = await pay(inv.id, { amount: 'all of it' });
    expect(words.statusCode).toBe(400);
    expect(words.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'amount' }] });
    // The preview answers the same.
    const previewOf = (amount: string) => api(t, owner, 'GET', `/api/v1/portal/invoices/${inv.id}/pay-preview?amount=${amount}`);
    expect((await previewOf('0.00')).json()).toMatchObject({ status: 422, code: 'rule_violation', errors: [{ path: 'amount' }] });
    expect((await previewOf('1.005')).json()).toMatchObject({ status: 422, code: 'rule_violation', errors: [{ path: 'amount' }] });
    expect((await previewOf('abc')).json()).toMatchObject({ status: 400, code: 'validation_failed', errors: [{ path: 'amount' }] });
    const part = await pay(inv.id, { amount: '20.00' });
    expect(part.json().invoice).toMatchObject({ status: 'partially_paid', amountPaid: '20.00', amountDue: '34.50', canPay: true });
    const rest = await pay(inv.id, {});
    expect(rest.json().invoice).toMatchObject({ status: 'paid', amountPaid: '54.50', amountDue: '0.00' });
    expect((await wallet(acme)).points).toBe(cents(145_50));
  });

  it('sub-cent points pay only whole cents: 12.345678 points pay 12.34 and the card the rest', async () => {
    await setPoints(acme, 0);
    await givePoints(t.db.app.db, { partnerId: demo, customerId: acme, micros: 12_345_678n });
    const inv = await invoice({ preTaxCents: 20_00, taxCents: 1_80 });
    const preview = (await api(t, owner, 'GET', `/api/v1/portal/invoices/${inv.id}/pay-preview`)).json();
    expect(preview).toMatchObject({ pointsAvailable: '12.34', pointsBalance: '12.345678', pointsOnHold: '0.00', pointsToUse: '12.34', cardAmount: '9.46' });
    const res = await pay(inv.id, { cardToken: 'tok_sandbox_success' });
    expect(res.json().payment).toMatchObject({ pointsUsed: '12.34', cardCharged: '9.46' });
    expect((await wallet(acme)).points).toBe(5_678n);
  });
});

describe('portal pay: what cannot be paid, and who cannot pay', () => {
  it('Monthly and Top-up invoices, void, paid and draft invoices, another customer\'s: clear 4xx, nothing charged', async () => {
    await setPoints(acme, 500_00);
    const before = await wallet(acme);
    const topUp = await unbilledInvoice('top_up');
    const monthly = await unbilledInvoice('monthly');
    for (const inv of [topUp, monthly]) {
      const res = await pay(inv.id, {});
      expect(res.statusCode).toBe(409);
      expect(res.json().code).toBe('invoice_not_payable');
    }
    const paid = await invoice();
    expect((await pay(paid.id, {})).statusCode).toBe(200);
    const again = await pay(paid.id, {});
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'invoice_not_payable', detail: expect.stringContaining('is paid') });
    const voided = await invoice();
    await inScope(t.db.app.db, { kind: 'partner', partnerId: demo }, async (trx) => {
      await reverseEntry(trx, voided.entryId, { kind: 'invoice_voided', description: 'Voided in a test', auditEventId: null });
      await sql`update invoices set status = 'void', amount_due_micros = 0, voided_at = now(), void_reason = 'test' where id = ${voided.id}`.execute(trx);
    });
    expect((await pay(voided.id, {})).json()).toMatchObject({ code: 'invoice_not_payable', detail: expect.stringContaining('void') });
    const theirs = await invoice({ customerId: globex });
    expect((await pay(theirs.id, {})).statusCode).toBe(404);
    expect((await api(t, owner, 'GET', `/api/v1/portal/invoices/${theirs.id}`)).statusCode).toBe(404);
    expect((await api(t, owner, 'GET', `/api/v1/portal/invoices/${theirs.id}/pay-preview`)).statusCode).toBe(404);
    expect((await pay('inv_0000000000000000000000000', {})).statusCode).toBe(404);
    expect((await wallet(acme)).points).toBe(before.points - cents(54_50));
    expect((await invoiceRow(theirs.id)).status).toBe('awaiting_payment');
    expect(globexOwner.headers).toBeDefined();
  });

  it('members and guests see and download but cannot pay (403, and the list says why); staff cannot use the portal route', async () => {
    const inv = await invoice();
    const res = await pay(inv.id, {}, member);
    expect(res.statusCode).toBe(403);
    expect((await api(t, member, 'GET', `/api/v1/portal/invoices/${inv.id}/pay-preview`)).statusCode).toBe(403);
    const list = await api(t, member, 'GET', '/api/v1/portal/invoices?type=purchase&status=awaiting_payment');
    expect(list.statusCode).toBe(200);
    const row = list.json().data.find((r: { id: string }) => r.id === inv.id);
    expect(row).toMatchObject({ canPay: false, cannotPayReason: 'Only owners and admins of your organisation can pay invoices.' });
    const mine = (await api(t, owner, 'GET', '/api/v1/portal/invoices?type=purchase&status=awaiting_payment')).json().data.find((r: { id: string }) => r.id === inv.id);
    expect(mine).toMatchObject({ canPay: true, cannotPayReason: null });
    expect((await pay(inv.id, {}, staff)).statusCode).toBe(403);
    expect((await invoiceRow(inv.id)).status).toBe('awaiting_payment');
  });

  it('members see what a paid Purchase invoice cost, not how it was paid: the points it took show what the company held', async () => {
    await setPoints(acme, 100_00);
    const inv = await invoice({ preTaxCents: 1_00, taxCents: 9 });
    const paid = await pay(inv.id, {});
    expect(paid.statusCode, paid.body).toBe(200);
    const theirs = (await api(t, owner, 'GET', `/api/v1/portal/invoices/${inv.id}`)).json();
    expect(theirs.payments).toEqual([expect.objectContaining({ source: 'points', amount: '1.09' })]);
    expect(theirs.paymentAttempts).toEqual([expect.objectContaining({ pointsUsed: '1.09' })]);
    const res = await api(t, member, 'GET', `/api/v1/portal/invoices/${inv.id}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'paid', total: '1.09', amountDue: '0.00', payments: [], paymentAttempts: [] });
    const pdf = await api(t, member, 'GET', `/api/v1/portal/invoices/${inv.id}/pdf`);
    expect(pdf.statusCode).toBe(200);
    const text = (await pdfText(pdf.rawPayload)).text;
    expect(text).toContain(inv.number);
    expect(text).not.toMatch(/Points/);
    expect((await pdfText((await api(t, owner, 'GET', `/api/v1/portal/invoices/${inv.id}/pdf`)).rawPayload)).text).toMatch(/Points/);
  });

  it('the list is newest issued first, whatever order the invoices were made in, and pages by cursor in that order', async () => {
    const later = await invoice({ preTaxCents: 3_00, taxCents: 27 });
    t.clock.set(new Date(Date.now() - 30 * 86_400_000)); // made after `later`, issued a month before it (a back-dated issue)
    const earlier = await (async () => { try { return await invoice({ preTaxCents: 2_00, taxCents: 18 }); } finally { t.clock.reset(); } })();
    expect(earlier.id > later.id).toBe(true);
    const all = (await api(t, owner, 'GET', '/api/v1/portal/invoices?limit=100')).json().data as Array<{ id: string; issuedAt: string }>;
    const at = (id: string) => all.findIndex((r) => r.id === id);
    expect(at(later.id)).toBeGreaterThanOrEqual(0);
    expect(at(later.id)).toBeLessThan(at(earlier.id));
    const issued = all.map((r) => r.issuedAt);
    expect(issued).toEqual([...issued].sort().reverse());
    // Page by page, one at a time: the same order, nothing twice, nothing left out.
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { data: Array<{ id: string }>; nextCursor: string | null } = (await api(t, owner, 'GET', `/api/v1/portal/invoices?limit=7${cursor ? `&cursor=${cursor}` : ''}`)).json();
      paged.push(...page.data.map((r) => r.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(paged).toEqual(all.map((r) => r.id));
  });

  it('members see Purchase invoices only: Top-up invoices and Monthly statements show company points (404 to them, as unknown)', async () => {
    const ownerRows = (await api(t, owner, 'GET', '/api/v1/portal/invoices?limit=100')).json().data as Array<{ id: string; type: string }>;
    const statement = ownerRows.find((r) => r.type === 'monthly');
    expect(statement).toBeDefined();
    const memberRows = (await api(t, member, 'GET', '/api/v1/portal/invoices?limit=100')).json().data as Array<{ id: string; type: string }>;
    expect(memberRows.length).toBeGreaterThan(0);
    expect(new Set(memberRows.map((r) => r.type))).toEqual(new Set(['purchase']));
    expect(memberRows.map((r) => r.id)).toEqual(ownerRows.filter((r) => r.type === 'purchase').map((r) => r.id));
    expect((await api(t, member, 'GET', '/api/v1/portal/invoices?type=monthly')).json().data).toEqual([]);
    for (const path of [`/api/v1/portal/invoices/${statement!.id}`, `/api/v1/portal/invoices/${statement!.id}/pdf`]) {
      expect((await api(t, member, 'GET', path)).statusCode).toBe(404);
      expect((await api(t, owner, 'GET', path)).statusCode).toBe(200);
    }
  });

  it('with the Invoices tab hidden the API refuses too (403 tab_hidden): list, detail, PDF, pay', async () => {
    const inv = await invoice();
    await sql`update partner_settings set portal_tabs = portal_tabs || '{"invoices": false}'::jsonb where partner_id = ${demo}`.execute(t.db.owner.db);
    forgetPortalTabs(t.db.app.db, demo); // as another server process would see it, at the latest after PORTAL_TABS_CACHE_MS
    try {
      for (const url of ['/api/v1/portal/invoices', `/api/v1/portal/invoices/${inv.id}`, `/api/v1/portal/invoices/${inv.id}/pay-preview`]) {
        const res = await api(t, owner, 'GET', url);
        expect(res.statusCode).toBe(403);
        expect(res.json().code).toBe('tab_hidden');
      }
      expect((await pay(inv.id, {})).json().code).toBe('tab_hidden');
    } finally {
      await sql`update partner_settings set portal_tabs = portal_tabs || '{"invoices": true}'::jsonb where partner_id = ${demo}`.execute(t.db.owner.db);
      forgetPortalTabs(t.db.app.db, demo); // as another server process would see it, at the latest after PORTAL_TABS_CACHE_MS
    }
    expect((await invoiceRow(inv.id)).status).toBe('awaiting_payment');
  });
});

describe('portal pay: once, whatever the clicks', () => {
  it('20 simultaneous pays of one invoice: exactly one succeeds, the points are charged once, the card once', async () => {
    await setPoints(acme, 20_00);
    const inv = await invoice();
    const charges = await chargeCount();
    const answers = await Promise.all(Array.from({ length: 20 }, () => pay(inv.id, { cardToken: 'tok_sandbox_success' })));
    const codes = answers.map((a) => a.statusCode);
    expect(codes.filter((c) => c === 200)).toHaveLength(1);
    expect(codes.filter((c) => c === 409)).toHaveLength(19);
    for (const a of answers.filter((x) => x.statusCode === 409)) expect(['payment_in_progress', 'invoice_not_payable']).toContain(a.json().code);
    expect(await chargeCount()).toBe(charges + 1);
    expect(await wallet(acme)).toEqual({ points: 0n, reserved: 0n });
    expect(await invoiceRow(inv.id)).toMatchObject({ status: 'paid', amountPaidMicros: '54500000' });
    const payments = await t.db.owner.db.selectFrom('invoicePayments').select(['source', 'amountMicros']).where('invoiceId', '=', inv.id).execute();
    expect(payments).toHaveLength(2);
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('a retried request with the same Idempotency-Key answers the first payment again and charges nothing more', async () => {
    await setPoints(acme, 0);
    const inv = await invoice();
    const charges = await chargeCount();
    const key = { 'idempotency-key': `pay-${inv.id}` };
    const first = await pay(inv.id, { cardToken: 'tok_sandbox_success' }, owner, key);
    const [second, third] = await Promise.all([pay(inv.id, { cardToken: 'tok_sandbox_success' }, owner, key), pay(inv.id, { cardToken: 'tok_sandbox_success' }, owner, key)]);
    expect(first.statusCode).toBe(200);
    for (const r of [second, third]) expect([200, 409]).toContain(r.statusCode);
    expect(second.statusCode === 200 ? second.json().payment.id : first.json().payment.id).toBe(first.json().payment.id);
    expect(await chargeCount()).toBe(charges + 1);
    const other = await pay(inv.id, { cardToken: 'tok_sandbox_success', amount: '1.00' }, owner, key);
    expect(other.statusCode).toBe(422);
  });

  it('a delayed card: 202 with the points held, then the webhook pays it (once, however often it is delivered)', async () => {
    await setPoints(acme, 4_50);
    const inv = await invoice();
    const res = await pay(inv.id, { cardToken: 'tok_sandbox_delayed' });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ payment: { status: 'pending' }, invoice: { status: 'awaiting_payment', amountDue: '54.50' } });
    expect(await wallet(acme)).toEqual({ points: cents(4_50), reserved: cents(4_50) });
    const busy = await pay(inv.id, { cardToken: 'tok_sandbox_success' });
    expect(busy.json().code).toBe('payment_in_progress');
    await deliverSandboxWebhooks(t, t.gateway, new Date(Date.now() + 60_000));
    expect(await invoiceRow(inv.id)).toMatchObject({ status: 'paid' });
    expect(await wallet(acme)).toEqual({ points: 0n, reserved: 0n });
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });
});

describe('portal pay: a delayed card that fails later', () => {
  it('202 with the points held; the failing webhook releases them, charges nothing, and the invoice detail says why', async () => {
    await setPoints(acme, 5_00);
    const inv = await invoice();
    const res = await pay(inv.id, { cardToken: 'tok_sandbox_delayed_insufficient_funds' });
    expect(res.statusCode).toBe(202);
    const paymentId = res.json().payment.id as string;
    expect(await wallet(acme)).toEqual({ points: cents(5_00), reserved: cents(5_00) });
    await deliverSandboxWebhooks(t, t.gateway, new Date(Date.now() + 60_000));
    expect(await wallet(acme)).toEqual({ points: cents(5_00), reserved: 0n });
    const detail = (await api(t, owner, 'GET', `/api/v1/portal/invoices/${inv.id}`)).json();
    expect(detail).toMatchObject({ status: 'awaiting_payment', amountDue: '54.50', canPay: true, payments: [] });
    expect(detail.paymentAttempts[0]).toMatchObject({ id: paymentId, status: 'failed', amount: '54.50', failureReason: expect.any(String) });
    const mail = await t.db.owner.db.selectFrom('notifications').select('subject').where('kind', '=', 'payment_receipt').where('customerId', '=', acme).orderBy('createdAt', 'desc').executeTakeFirstOrThrow();
    expect(mail.subject).toBe(`Payment of ${inv.number} failed`);
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });
});

describe('portal pay: the points hold lapses before a delayed card settles', () => {
  it('the card money is applied; points spent meanwhile are not taken again; the invoice stays partly due', async () => {
    await setPoints(acme, 10_00);
    const inv = await invoice();
    const res = await pay(inv.id, { cardToken: 'tok_sandbox_delayed' });
    expect(res.statusCode).toBe(202);
    // The hold expires and the points are spent on something else before the card settles.
    await sql`update wallet_reservations set expires_at = now() - interval '1 second' where cause_id = ${res.json().payment.id}`.execute(t.db.owner.db);
    await inScope(t.db.app.db, { kind: 'system' }, (trx) => expireReservations(trx, 100));
    await setPoints(acme, 3_00);
    await deliverSandboxWebhooks(t, t.gateway, new Date(Date.now() + 60_000));
    expect(await invoiceRow(inv.id)).toMatchObject({ status: 'partially_paid', amountPaidMicros: '44500000', amountDueMicros: '10000000' });
    expect(await wallet(acme)).toEqual({ points: cents(3_00), reserved: 0n });
    const audit = (await auditEventsOf(t.db, 'invoice.payment_recorded')).find((e) => e.targetId === inv.id);
    expect(JSON.stringify(audit)).toContain('points hold lapsed');
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });
});

describe('portal pay: a Purchase invoice left by a subscription bought without enough points', () => {
  it('paying it activates the subscription', async () => {
    await setPoints(acme, 0);
    const price = await t.db.owner.db.selectFrom('productPrices').select('id').where('partnerId', '=', demo).where('currency', '=', 'SGD')
      .where('cycle', '=', 'monthly').where('archivedAt', 'is', null).orderBy('id').executeTakeFirstOrThrow();
    const bought = await api(t, staff, 'POST', `/api/v1/customers/${acme}/subscriptions`, { priceId: price.id });
    expect(bought.statusCode).toBe(201);
    const sub = await t.db.owner.db.selectFrom('subscriptions').select(['id', 'status', 'pendingInvoiceId']).where('customerId', '=', acme).where('status', '=', 'pending_payment').executeTakeFirstOrThrow();
    const res = await pay(sub.pendingInvoiceId!, { cardToken: 'tok_sandbox_success' });
    expect(res.statusCode).toBe(200);
    expect(res.json().invoice.status).toBe('paid');
    const after = await t.db.owner.db.selectFrom('subscriptions').select('status').where('id', '=', sub.id).executeTakeFirstOrThrow();
    expect(after.status).toBe('active');
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });
});

describe('portal invoices list', () => {
  it('filters by type, status and issue date, newest first, never drafts; rejects a bad cursor or date range', async () => {
    const all = (await api(t, owner, 'GET', '/api/v1/portal/invoices?limit=200')).json().data as { type: string; status: string; customer: { id: string } }[];
    expect(all.length).toBeGreaterThan(5);
    expect(all.every((r) => r.customer.id === acme && r.status !== 'draft')).toBe(true);
    const topUps = (await api(t, owner, 'GET', '/api/v1/portal/invoices?type=top_up')).json().data as { type: string }[];
    expect(topUps.length).toBeGreaterThan(0);
    expect(topUps.every((r) => r.type === 'top_up')).toBe(true);
    const paid = (await api(t, owner, 'GET', '/api/v1/portal/invoices?status=paid&type=purchase')).json().data as { status: string; type: string }[];
    expect(paid.every((r) => r.status === 'paid' && r.type === 'purchase')).toBe(true);
    const future = (await api(t, owner, 'GET', '/api/v1/portal/invoices?issuedFrom=2099-01-01')).json().data;
    expect(future).toEqual([]);
    const page1 = (await api(t, owner, 'GET', '/api/v1/portal/invoices?limit=2')).json();
    const page2 = (await api(t, owner, 'GET', `/api/v1/portal/invoices?limit=2&cursor=${page1.nextCursor}`)).json();
    expect(page2.data[0].id < page1.data[1].id).toBe(true);
    expect((await api(t, owner, 'GET', '/api/v1/portal/invoices?cursor=zzz')).statusCode).toBe(400);
    expect((await api(t, owner, 'GET', '/api/v1/portal/invoices?issuedFrom=2026-12-01&issuedTo=2026-11-01')).json()).toMatchObject({ errors: [{ path: 'issuedFrom' }] });
    expect((await api(t, owner, 'GET', '/api/v1/portal/invoices?type=refund')).statusCode).toBe(400);
  });
});

describe('portal invoice PDF', () => {
  it('owners and members download it: the same number, lines and totals as the screen; another customer\'s is a 404', async () => {
    const inv = await invoice({ preTaxCents: 123_45, taxCents: 11_11 });
    for (const who of [owner, member]) {
      const res = await t.app.inject({ method: 'GET', url: `/api/v1/portal/invoices/${inv.id}/pdf`, headers: who.headers });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/pdf');
      expect(res.headers['content-disposition']).toBe(`attachment; filename="${inv.number}.pdf"`);
      const { text } = await pdfText(res.rawPayload);
      expect(text).toContain(inv.number);
      expect(text).toContain('134.56');
      expect(text).toContain('Wallboard licence');
      expect(text).toContain('Demo Telecom Pte Ltd');
    }
    const theirs = await invoice({ customerId: globex });
    expect((await t.app.inject({ method: 'GET', url: `/api/v1/portal/invoices/${theirs.id}/pdf`, headers: owner.headers })).statusCode).toBe(404);
  });

  it('a draft the partner is still preparing is not there for the customer: detail and PDF are 404', async () => {
    const staff = await signIn(t, 'admin@demo.test');
    const draft = await api(t, staff, 'POST', '/api/v1/invoices', { customerId: acme, type: 'purchase', lines: [{ description: 'Not yet', unitPrice: '10.00' }] });
    expect(draft.statusCode, draft.body).toBe(201);
    expect(draft.json().status).toBe('draft');
    for (const url of [`/api/v1/portal/invoices/${draft.json().id}`, `/api/v1/portal/invoices/${draft.json().id}/pdf`]) {
      const res = await api(t, owner, 'GET', url);
      expect(res.statusCode, url).toBe(404);
      expect(res.json().code).toBe('not_found');
    }
  });
});
