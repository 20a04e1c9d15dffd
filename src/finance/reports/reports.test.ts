import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { api, createTestApp, partnerIdOf, signIn, type Session, type TestApp } from '../../test/harness.ts';
import { inScope } from '../../platform/database.ts';
import type { InvoiceType } from '../../platform/db-types.ts';
import { checkLedger } from '../../ledger/check-ledger.ts';
import { postEntry } from '../../ledger/post-entry.ts';
import { issueInvoice } from '../../invoices/issue-invoice.ts';
import { applyInvoicePayment } from '../../invoices/apply-invoice-payment.ts';
import { createCustomer, givePoints } from '../../subscriptions/renewals/renewals.fixtures.ts';
import { addDays } from '../../topup/dates.ts';

let t: TestApp;
let finance: Session;
let admin: Session;
let demo: string;
let north: string;

beforeAll(async () => {
  t = await createTestApp();
  finance = await signIn(t, 'finance@demo.test');
  admin = await signIn(t, 'admin@demo.test');
  demo = await partnerIdOf(t.db, 'demo-telecom');
  north = await partnerIdOf(t.db, 'northwind');
});
afterAll(async () => t.close());

const cents = (c: number) => BigInt(c) * 10_000n;
const TODAY = '2026-06-15';
const noon = (day: string) => new Date(`${day}T12:00:00.000Z`);

/** An issued invoice of `cents` (no tax) due on `dueDay` (issued `dueDays` before). */
async function invoice(customerId: string, amountCents: number, dueDay: string, opts: { partnerId?: string; currency?: 'SGD' | 'MYR' | 'AUD'; type?: InvoiceType } = {}) {
  const partnerId = opts.partnerId ?? demo;
  return inScope(t.db.app.db, { kind: 'partner', partnerId }, (trx) => issueInvoice(trx, {
    partnerId, customerId, type: opts.type ?? 'purchase', currency: opts.currency ?? 'SGD', issuedAt: noon(addDays(dueDay, -10)), dueDays: 10,
    lines: [{ kind: 'product', description: 'Licence', amountMicros: cents(amountCents), revenueCode: 'revenue:one_time' }],
    entry: { kind: 'invoice_issued', causeType: 'invoice', causeId: `test-${amountCents}-${dueDay}`, description: 'Test invoice', auditEventId: null },
  }));
}

/** A Top-up invoice as the top-up flow leaves it: waiting for the deposit, nothing posted to the receivable (ledger-design.md). */
async function topUpInvoice(customerId: string, amountCents: number, dueDay: string) {
  const id = `inv_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 12)}`;
  await t.db.owner.db.insertInto('invoices').values({
    id, partnerId: demo, customerId, type: 'top_up', number: `TOP-T-${id.slice(-8)}`, currency: 'SGD', subtotalMicros: cents(amountCents), taxMicros: 0n,
    totalMicros: cents(amountCents), status: 'awaiting_payment', amountDueMicros: cents(amountCents), paidAt: null,
    issuedAt: noon(addDays(dueDay, -10)), dueAt: noon(dueDay), updatedAt: t.clock.now(),
  }).execute();
}

/** A bank payment of `amountCents` against an invoice (Dr bank / Cr receivable), recorded on it. */
async function pay(invoiceId: string, customerId: string, amountCents: number) {
  await inScope(t.db.app.db, { kind: 'partner', partnerId: demo }, async (trx) => {
    const entry = await postEntry(trx, {
      partnerId: demo, currency: 'SGD', customerId, kind: 'invoice_payment', causeType: 'invoice', causeId: invoiceId, description: 'Bank transfer', auditEventId: null,
      postings: [{ code: 'bank', amountMicros: cents(amountCents) }, { code: 'receivable', customerId, amountMicros: -cents(amountCents) }],
    });
    await applyInvoicePayment(trx, { principal: { kind: 'system', job: 'test' }, requestId: null, ip: null, userAgent: null, clock: t.clock }, {
      partnerId: demo, invoiceId, entryId: entry.entryId, parts: [{ source: 'points', amountMicros: cents(amountCents) }], paidBy: null, at: t.clock.now(),
    });
  });
}

/** Unapplied money held for a customer (Dr bank / Cr unapplied:{c}). */
async function unapplied(customerId: string, amountCents: number) {
  await inScope(t.db.app.db, { kind: 'partner', partnerId: demo }, (trx) => postEntry(trx, {
    partnerId: demo, currency: 'SGD', customerId, kind: 'payment_received', causeType: 'test', causeId: `unapplied-${customerId}`, description: 'Overpayment', auditEventId: null,
    postings: [{ code: 'bank', amountMicros: cents(amountCents) }, { code: 'unapplied', customerId, amountMicros: -cents(amountCents) }],
  }));
}

interface AgingRow { customer: { id: string; name: string }; openInvoices: number; current: string; days1To30: string; days31To60: string; days61To90: string; over90: string; totalDue: string; unappliedCredit: string; topUpDueNotReceivable: string }
const aging = (query: string, who: Session = finance) => api(t, who, 'GET', `/api/v1/finance/reports/ar-aging${query}`);
const rowOf = (body: { rows: AgingRow[] }, customerId: string) => body.rows.find((r) => r.customer.id === customerId);

/** A naive CSV reader (RFC 4180 quoting), enough to check what we write. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (ch === '"') quoted = false; else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { row.push(cell); cell = ''; } else if (ch === '\r' && text[i + 1] === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; i++; } else cell += ch;
  }
  return rows;
}

describe('AR aging', () => {
  it('buckets amount due by days past due at the as-of day: due that day is current, 30 late is 1-30, 31 is 31-60, 90 is 61-90, 91 is over 90', async () => {
    t.clock.set(`${TODAY}T08:00:00.000Z`);
    const { customerId } = await createCustomer(t.db.owner.db, { partnerId: demo, name: 'Aging Buckets Pte Ltd' });
    await invoice(customerId, 1_00, addDays(TODAY, 5)); // not yet due
    await invoice(customerId, 2_00, TODAY); // due today: current
    await invoice(customerId, 4_00, addDays(TODAY, -1)); // 1 day late
    await invoice(customerId, 8_00, addDays(TODAY, -30));
    await invoice(customerId, 16_00, addDays(TODAY, -31));
    await invoice(customerId, 32_00, addDays(TODAY, -60));
    await invoice(customerId, 64_00, addDays(TODAY, -61));
    await invoice(customerId, 128_00, addDays(TODAY, -90));
    await invoice(customerId, 256_00, addDays(TODAY, -91));

    const res = await aging('?currency=SGD');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ currency: 'SGD', asOf: TODAY });
    expect(rowOf(body, customerId)).toEqual({
      customer: { id: customerId, name: 'Aging Buckets Pte Ltd' }, openInvoices: 9,
      current: '3.00', days1To30: '12.00', days31To60: '48.00', days61To90: '192.00', over90: '256.00', totalDue: '511.00', unappliedCredit: '0.00',
      topUpDueNotReceivable: '0.00',
    });

    // A day later, everything moves one day: the invoice due "today" is now 1 day late, the 90-day one over 90.
    const later = (await aging(`?currency=SGD&asOf=${addDays(TODAY, 1)}`)).json();
    expect(rowOf(later, customerId)).toMatchObject({ current: '1.00', days1To30: '6.00', days31To60: '24.00', days61To90: '96.00', over90: '384.00', totalDue: '511.00' });
    // A past day is refused, naming asOf: what was owed then is the trial balance's receivable at that day.
    const past = await aging(`?currency=SGD&asOf=${addDays(TODAY, -1)}`);
    expect(past.statusCode).toBe(422);
    expect(past.json()).toMatchObject({ code: 'rule_violation', errors: [{ path: 'asOf' }] });
    // The clock decides the default day.
    t.clock.set(`${addDays(TODAY, 1)}T23:59:00.000Z`);
    expect(rowOf((await aging('?currency=SGD')).json(), customerId)).toMatchObject({ current: '1.00', over90: '384.00' });
  });

  it('uses the amount still due on partly paid invoices, leaves paid and void ones out, shows unapplied credit and unpaid Top-up invoices (not receivable) apart; sorted by total due', async () => {
    t.clock.set(`${TODAY}T08:00:00.000Z`);
    const big = await createCustomer(t.db.owner.db, { partnerId: demo, name: 'Aging Big Pte Ltd' });
    const small = await createCustomer(t.db.owner.db, { partnerId: demo, name: 'Aging Small Pte Ltd' });
    const partly = await invoice(big.customerId, 100_00, addDays(TODAY, -40));
    await pay(partly.id, big.customerId, 30_00);
    const paid = await invoice(big.customerId, 50_00, addDays(TODAY, -40));
    await pay(paid.id, big.customerId, 50_00);
    const voided = await api(t, admin, 'POST', '/api/v1/invoices', {
      customerId: big.customerId, type: 'purchase', issue: true, dueDays: 0, lines: [{ description: 'Mistake', quantity: '1', unitPrice: '70.00' }],
    });
    expect(voided.statusCode).toBe(201);
    expect((await api(t, admin, 'POST', `/api/v1/invoices/${voided.json().id}/void`, { reason: 'Billing error' })).statusCode).toBe(200);
    await topUpInvoice(big.customerId, 9_00, addDays(TODAY, 1));
    await invoice(small.customerId, 5_00, addDays(TODAY, -100));
    await unapplied(small.customerId, 12_34);

    const body = (await aging('?currency=SGD')).json<{ rows: AgingRow[]; totals: Record<string, unknown> }>();
    // The Top-up invoice posts no receivable: in no bucket, not in the total due, shown apart.
    expect(rowOf(body, big.customerId)).toMatchObject({ openInvoices: 1, current: '0.00', days31To60: '70.00', totalDue: '70.00', unappliedCredit: '0.00', topUpDueNotReceivable: '9.00' });
    expect(rowOf(body, small.customerId)).toMatchObject({ openInvoices: 1, over90: '5.00', totalDue: '5.00', unappliedCredit: '12.34', topUpDueNotReceivable: '0.00' });
    const dues = body.rows.map((r) => Number(r.totalDue));
    expect(dues).toEqual([...dues].sort((a, b) => b - a));
    // The totals row adds up the rows.
    const sum = (k: keyof AgingRow) => body.rows.reduce((s, r) => s + Math.round(Number(r[k]) * 100), 0) / 100;
    for (const k of ['current', 'days1To30', 'days31To60', 'days61To90', 'over90', 'totalDue', 'unappliedCredit', 'topUpDueNotReceivable'] as const) {
      expect(Number(body.totals[k])).toBeCloseTo(sum(k), 2);
    }
    expect(body.totals.customers).toBe(body.rows.length);
    expect(await checkLedger(t.db.owner.db, demo)).toEqual([]);
  });

  it("keeps to the currency asked for and never shows another partner's invoices", async () => {
    t.clock.set(`${TODAY}T08:00:00.000Z`);
    const myr = await createCustomer(t.db.owner.db, { partnerId: demo, currency: 'MYR', name: 'Aging Ringgit Sdn Bhd' });
    await invoice(myr.customerId, 40_00, addDays(TODAY, -3), { currency: 'MYR' });
    const wombat = await createCustomer(t.db.owner.db, { partnerId: north, currency: 'AUD', name: 'Aging Wombat Pty' });
    await invoice(wombat.customerId, 77_00, addDays(TODAY, -3), { partnerId: north, currency: 'AUD' });

    expect(rowOf((await aging('?currency=SGD')).json(), myr.customerId)).toBeUndefined();
    const ringgit = (await aging('?currency=MYR')).json();
    expect(ringgit.currency).toBe('MYR');
    expect(ringgit.rows).toEqual([expect.objectContaining({ customer: { id: myr.customerId, name: 'Aging Ringgit Sdn Bhd' }, days1To30: '40.00' })]);
    const aud = (await aging('?currency=AUD')).json();
    expect(aud.rows).toEqual([]);
    expect(aud.totals).toMatchObject({ customers: 0, totalDue: '0.00' });
    // Default: the partner's default currency.
    expect((await aging('')).json().currency).toBe('SGD');
  });

  it('exports the same rows as CSV with a header and a TOTAL line', async () => {
    t.clock.set(`${TODAY}T08:00:00.000Z`);
    const evil = await createCustomer(t.db.owner.db, { partnerId: demo, name: '=HYPERLINK("x"), Ltd' });
    await invoice(evil.customerId, 3_00, addDays(TODAY, -2));
    const json = (await aging('?currency=SGD')).json<{ rows: AgingRow[]; totals: { totalDue: string } }>();
    const res = await aging('?currency=SGD&format=csv');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toBe(`attachment; filename="ar-aging-SGD-${TODAY}.csv"`);
    const rows = parseCsv(res.body);
    expect(rows[0]).toEqual(['customerId', 'customer', 'currency', 'asOf', 'openInvoices', 'current', 'days1To30', 'days31To60', 'days61To90', 'over90', 'totalDue', 'unappliedCredit', 'topUpDueNotReceivable']);
    expect(rows.slice(1, -1).map((r) => r[0])).toEqual(json.rows.map((r) => r.customer.id));
    expect(rows.find((r) => r[0] === evil.customerId)).toEqual([evil.customerId, `'=HYPERLINK("x"), Ltd`, 'SGD', TODAY, '1', '0.00', '3.00', '0.00', '0.00', '0.00', '3.00', '0.00', '0.00']);
    expect(rows.at(-1)?.[0]).toBe('TOTAL');
    expect(rows.at(-1)?.[10]).toBe(json.totals.totalDue);

    // Accept: text/csv asks for the same file, as on every list; ?format=json still answers JSON.
    const accepted = await t.app.inject({ method: 'GET', url: '/api/v1/finance/reports/ar-aging?currency=SGD', headers: { ...finance.headers, accept: 'text/csv' } });
    expect(accepted.statusCode).toBe(200);
    expect(accepted.headers['content-type']).toMatch(/^text\/csv/);
    expect(accepted.body).toBe(res.body);
    const json2 = await t.app.inject({ method: 'GET', url: '/api/v1/finance/reports/ar-aging?currency=SGD&format=json', headers: { ...finance.headers, accept: 'text/csv' } });
    expect(json2.headers['content-type']).toMatch(/^application\/json/);
  });

  it('is for the Finance app only, and refuses bad input with a 400 naming the field', async () => {
    expect((await aging('?currency=SGD', admin)).statusCode).toBe(403);
    expect((await api(t, null, 'GET', '/api/v1/finance/reports/ar-aging')).statusCode).toBe(401);
    for (const [query, field] of [['?currency=XXX', 'currency'], ['?asOf=2026-02-30', 'asOf'], ['?asOf=yesterday', 'asOf'], ['?format=xml', 'format'], ['?page=2', '']] as const) {
      const res = await aging(query);
      expect(res.statusCode, query).toBe(400);
      if (field) expect(JSON.stringify(res.json()), query).toContain(field);
    }
  });
});

interface TbRow { code: string; kind: string; customer: { id: string; name: string } | null; customers: number | null; debit: string; credit: string }
const tb = (query: string, who: Session = finance) => api(t, who, 'GET', `/api/v1/finance/reports/trial-balance${query}`);
const micros = (s: string) => BigInt(s.replace('.', '')) * 10_000n;

describe('trial balance', () => {
  it('lists every account with debits equal to credits, matching the ledger balances checkLedger sees', async () => {
    t.clock.reset();
    const { customerId } = await createCustomer(t.db.owner.db, { partnerId: demo, name: 'Trial Points Pte Ltd' });
    await givePoints(t.db.app.db, { partnerId: demo, customerId, micros: cents(25_00) });
    expect(await checkLedger(t.db.owner.db, demo)).toEqual([]);

    const res = await tb('?currency=SGD');
    expect(res.statusCode).toBe(200);
    const body = res.json<{ rows: TbRow[]; totals: { debit: string; credit: string }; balanced: boolean; byCustomer: boolean }>();
    expect(body).toMatchObject({ currency: 'SGD', balanced: true, byCustomer: false });
    expect(body.totals.debit).toBe(body.totals.credit);
    expect(micros(body.totals.debit)).toBeGreaterThan(0n);

    // Each code's row is the sum of the account balances stored by the ledger.
    const stored = await t.db.owner.db.selectFrom('ledgerAccounts').select(['code', 'customerId', 'balanceMicros'])
      .where('partnerId', '=', demo).where('currency', '=', 'SGD').execute();
    const byCode = new Map<string, { sum: bigint; customers: number }>();
    for (const a of stored) {
      const e = byCode.get(a.code) ?? { sum: 0n, customers: 0 };
      e.sum += BigInt(a.balanceMicros);
      if (a.customerId) e.customers += 1;
      byCode.set(a.code, e);
    }
    expect(body.rows.map((r) => r.code).sort()).toEqual([...byCode.keys()].sort());
    for (const r of body.rows) {
      expect(micros(r.debit) - micros(r.credit), r.code).toBe(byCode.get(r.code)!.sum);
    }
    const points = body.rows.find((r) => r.code === 'points')!;
    expect(points).toMatchObject({ kind: 'liability', customer: null, customers: byCode.get('points')!.customers });
    expect(body.rows.find((r) => r.code === 'bank')).toMatchObject({ customers: null });

    // byCustomer: one row per customer account, the same totals.
    const each = (await tb('?currency=SGD&byCustomer=true')).json<{ rows: TbRow[]; totals: { debit: string; credit: string }; balanced: boolean }>();
    expect(each.balanced).toBe(true);
    expect(each.rows).toHaveLength(stored.length);
    expect(each.rows).toContainEqual({ code: 'points', kind: 'liability', customer: { id: customerId, name: 'Trial Points Pte Ltd' }, customers: null, debit: '0.00', credit: '25.00' });
    expect(micros(each.totals.debit)).toBeGreaterThanOrEqual(micros(body.totals.debit));
  });

  it('as at a past day leaves out the postings made after it; a day to come is refused (422 naming asOf)', async () => {
    t.clock.reset();
    const today = new Date().toISOString().slice(0, 10);
    // The day before the first entry of this fresh database (the seed's, or this file's first, should the run have
    // passed midnight since).
    const firstDay = (await sql<{ day: string }>`select to_char(min(posted_at) at time zone 'UTC', 'YYYY-MM-DD') as day from journal_entries`.execute(t.db.owner.db)).rows[0]!.day;
    const yesterday = addDays(firstDay, -1);
    const before = (await tb(`?currency=SGD&asOf=${yesterday}&byCustomer=true`)).json<{ rows: TbRow[]; balanced: boolean }>();
    const { customerId } = await createCustomer(t.db.owner.db, { partnerId: demo, name: 'Trial Later Pte Ltd' });
    await givePoints(t.db.app.db, { partnerId: demo, customerId, micros: cents(40_00) });

    const past = (await tb(`?currency=SGD&asOf=${yesterday}&byCustomer=true`)).json<{ rows: TbRow[]; balanced: boolean; asOf: string }>();
    expect(past).toMatchObject({ asOf: yesterday, balanced: true });
    expect(past.rows).toEqual(before.rows);
    expect(past.rows.find((r) => r.customer?.id === customerId)).toBeUndefined();
    // Every posting of the demo was made today (the test database is fresh): yesterday, everything is nil.
    expect(past.rows.every((r) => r.debit === '0.00' && r.credit === '0.00')).toBe(true);

    const now = (await tb(`?currency=SGD&asOf=${today}&byCustomer=true`)).json<{ rows: TbRow[] }>();
    expect(now.rows).toContainEqual(expect.objectContaining({ code: 'points', customer: { id: customerId, name: 'Trial Later Pte Ltd' }, credit: '40.00' }));
    // A day to come has no balances yet: refused (it once read today's as if they were that day's), naming asOf.
    const future = await tb(`?currency=SGD&asOf=${addDays(today, 3)}&byCustomer=true`);
    expect(future.statusCode).toBe(422);
    expect(future.json()).toMatchObject({ code: 'rule_violation', errors: [{ path: 'asOf' }] });
    expect((await tb(`?currency=SGD&asOf=${addDays(today, 1)}`)).statusCode).toBe(422);
  });

  it('exports CSV with the header and a TOTAL line; Finance only; bad input is a 400', async () => {
    t.clock.reset();
    const res = await tb('?currency=SGD&format=csv');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const accepted = await t.app.inject({ method: 'GET', url: '/api/v1/finance/reports/trial-balance?currency=SGD', headers: { ...finance.headers, accept: 'text/csv' } });
    expect(accepted.headers['content-type']).toMatch(/^text\/csv/);
    expect(accepted.body).toBe(res.body);
    expect((await tb('?currency=SGD')).headers['content-type']).toMatch(/^application\/json/);
    const rows = parseCsv(res.body);
    expect(rows[0]).toEqual(['code', 'kind', 'customerId', 'customer', 'customers', 'currency', 'asOf', 'debit', 'credit']);
    const total = rows.at(-1)!;
    expect(total[0]).toBe('TOTAL');
    expect(total[7]).toBe(total[8]);
    const body = rows.slice(1, -1);
    const sum = (i: number) => body.reduce((s, r) => s + micros(r[i]!), 0n);
    expect(sum(7)).toBe(micros(total[7]!));
    expect(sum(8)).toBe(micros(total[8]!));

    expect((await tb('?currency=SGD', admin)).statusCode).toBe(403);
    for (const query of ['?byCustomer=yes', '?asOf=2026-13-01', '?currency=sgd', '?extra=1']) {
      expect((await tb(query)).statusCode, query).toBe(400);
    }
  });
});
