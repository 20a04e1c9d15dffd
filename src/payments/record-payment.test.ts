import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, createTestApp, customerIdOf, expectUnknownId, signIn, type Session, type TestApp } from '../test/harness.ts';
import { balanceOf, expectSound, newCustomer, record } from './payments.test-kit.ts';

let t: TestApp;
let finance: Session;
let admin: Session;
let payer: string;

beforeAll(async () => {
  t = await createTestApp();
  finance = await signIn(t, 'finance@demo.test');
  admin = await signIn(t, 'admin@demo.test');
  payer = await newCustomer(t, finance);
});
afterAll(async () => t.close());

const postingsOf = (entryId: string) => t.db.owner.db.selectFrom('postings as p').innerJoin('ledgerAccounts as a', 'a.id', 'p.accountId')
  .select(['a.code', 'a.customerId', 'p.amountMicros']).where('p.entryId', '=', entryId).orderBy('p.id').execute();
const entryOf = async (paymentId: string, kind: string) =>
  (await t.db.owner.db.selectFrom('journalEntries').select('id').where('causeId', '=', paymentId).where('kind', '=', kind).executeTakeFirstOrThrow()).id;

describe('POST /api/v1/payments (recordPayment)', () => {
  it('records a known customer\'s payment: Dr bank · Cr unapplied, status unallocated, audited', async () => {
    const res = await record(t, finance, { amount: '150.00', customerId: payer, reference: 'DBS 991', remark: 'March fees' });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ status: 'unallocated', method: 'bank_transfer', amount: '150.00', unallocated: '150.00', allocated: '0.00', toPoints: '0.00',
      currency: 'SGD', receivedOn: '2026-01-10', reference: 'DBS 991', remark: 'March fees', customer: { id: payer }, allocations: [] });
    expect(await postingsOf(await entryOf(body.id, 'payment_received'))).toEqual([
      { code: 'bank', customerId: null, amountMicros: '150000000' }, { code: 'unapplied', customerId: payer, amountMicros: '-150000000' },
    ]);
    const [event] = await auditEventsOf(t.db, 'payment.recorded');
    expect(event).toMatchObject({ app: 'finance', targetId: body.id, customerId: payer, changes: { amount: { after: '150.00' }, method: { after: 'bank_transfer' } } });
    await expectSound(t);
  });

  it('a card payment lands in card clearing', async () => {
    const res = await record(t, finance, { method: 'card', amount: '10.00', customerId: payer });
    expect(res.statusCode).toBe(201);
    expect((await postingsOf(await entryOf(res.json().id, 'payment_received')))[0]).toMatchObject({ code: 'card_clearing', amountMicros: '10000000' });
  });

  it('an unknown payer: Dr bank · Cr unassigned, waits as unassigned; assigning moves it to the customer\'s unapplied', async () => {
    const unassignedBefore = await balanceOf(t, 'unassigned');
    const res = await record(t, finance, { method: 'giro', amount: '42.50', reference: 'GIRO unknown' });
    expect(res.statusCode).toBe(201);
    const id = res.json().id;
    expect(res.json()).toMatchObject({ status: 'unassigned', customer: null });
    expect(await balanceOf(t, 'unassigned')).toBe(unassignedBefore - 42_500_000n);
    const waiting = await api(t, finance, 'GET', '/api/v1/payments?status=unassigned');
    expect(waiting.json().data.map((p: { id: string }) => p.id)).toContain(id);

    const unappliedBefore = await balanceOf(t, 'unapplied', payer);
    const assigned = await api(t, finance, 'POST', `/api/v1/payments/${id}/assign`, { customerId: payer });
    expect(assigned.statusCode, assigned.body).toBe(200);
    expect(assigned.json()).toMatchObject({ status: 'unallocated', customer: { id: payer }, unallocated: '42.50' });
    expect(await balanceOf(t, 'unassigned')).toBe(unassignedBefore);
    expect(await balanceOf(t, 'unapplied', payer)).toBe(unappliedBefore - 42_500_000n);
    expect(await postingsOf(await entryOf(id, 'payment_assigned'))).toEqual([
      { code: 'unassigned', customerId: null, amountMicros: '42500000' }, { code: 'unapplied', customerId: payer, amountMicros: '-42500000' },
    ]);
    expect((await auditEventsOf(t.db, 'payment.assigned'))[0]).toMatchObject({ targetId: id, changes: { customerId: { before: null, after: payer } } });

    const again = await api(t, finance, 'POST', `/api/v1/payments/${id}/assign`, { customerId: payer });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('payment_already_assigned');
    await expectSound(t);
  });

  it('assigning to a customer billed in another currency is 422 currency_mismatch, nothing written', async () => {
    const aud = await newCustomer(t, finance, 'AUD');
    const id = (await record(t, finance, { amount: '5.00' })).json().id;
    const res = await api(t, finance, 'POST', `/api/v1/payments/${id}/assign`, { customerId: aud });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'currency_mismatch', errors: [{ path: 'customerId', message: 'billed in AUD, the payment is in SGD' }] });
    expect((await api(t, finance, 'GET', `/api/v1/payments/${id}`)).json()).toMatchObject({ status: 'unassigned', customer: null });
    const direct = await record(t, finance, { amount: '5.00', customerId: aud });
    expect(direct.statusCode).toBe(422);
    expect(direct.json()).toMatchObject({ code: 'currency_mismatch', errors: [{ path: 'currency', message: 'the customer is billed in AUD' }] });
    await expectSound(t);
  });

  it('refuses bad input: 400 naming the field when malformed, 422 when well-formed against a rule', async () => {
    // Zero, negative, too many decimals, over the most, a day to come: 422 rule_violation naming the field (docs/adr/0040).
    for (const [body, field] of [
      [{ amount: '0' }, 'amount'], [{ amount: '-5.00' }, 'amount'], [{ amount: '1.001' }, 'amount'], [{ amount: '100000000.01' }, 'amount'],
      [{ amount: '1.00', receivedOn: '2999-01-01' }, 'receivedOn'],
    ] as const) {
      const res = await record(t, finance, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(422);
      expect(res.json(), JSON.stringify(body)).toMatchObject({ code: 'rule_violation', errors: [{ path: field }] });
    }
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ amount: 'ten' }, 'amount'], [{ amount: 10 }, 'amount'],
      [{ amount: '1.00', method: 'bitcoin' }, 'method'], [{ amount: '1.00', receivedOn: '2026-02-30' }, 'receivedOn'],
      [{ amount: '1.00', currency: 'XXX' }, 'currency'],
      [{ amount: '1.00', customerId: 'nope' }, 'customerId'], [{ amount: ' 12.50' }, 'amount'], [{ amount: '12.50 ' }, 'amount'], [{ amount: '-0.00' }, 'amount'],
      [{ amount: '+5' }, 'amount'], [{ amount: '.5' }, 'amount'], [{ amount: '5.' }, 'amount'], [{ amount: '1.00', extra: true }, ''],
    ];
    for (const [body, field] of cases) {
      const res = await record(t, finance, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      if (field) expect(JSON.stringify(res.json().errors ?? []), JSON.stringify(body)).toContain(field);
    }
  });

  it('an unknown payer id and another partner\'s customer: the same 422 customer_not_found naming customerId, to record and to assign; nothing written', async () => {
    const wombat = await customerIdOf(t.db, 'Wombat Pty Ltd');
    const unknown = 'cus_00000000000000000000000000';
    const id = (await record(t, finance, { amount: '5.00' })).json<{ id: string }>().id;
    const payments = async () => (await t.db.owner.db.selectFrom('payments').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n;
    const entries = async () => (await t.db.owner.db.selectFrom('journalEntries').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n;
    const before = [await payments(), await entries()];
    expectUnknownId([
      await record(t, finance, { amount: '1.00', customerId: wombat }),
      await record(t, finance, { amount: '1.00', customerId: unknown }),
    ], 'customer_not_found', 'customerId');
    expectUnknownId([
      await api(t, finance, 'POST', `/api/v1/payments/${id}/assign`, { customerId: wombat }),
      await api(t, finance, 'POST', `/api/v1/payments/${id}/assign`, { customerId: unknown }),
    ], 'customer_not_found', 'customerId');
    expect([await payments(), await entries()]).toEqual(before);
    expect((await api(t, finance, 'GET', `/api/v1/payments/${id}`)).json()).toMatchObject({ status: 'unassigned', customer: null });
    await expectSound(t);
  });

  it('needs the Finance app: admin without it and customers get 403', async () => {
    expect((await record(t, admin, { amount: '1.00' })).statusCode).toBe(403);
    expect((await api(t, admin, 'GET', '/api/v1/payments')).statusCode).toBe(403);
    const member = await signIn(t, 'owner@acme.test');
    expect((await record(t, member, { amount: '1.00' })).statusCode).toBe(403);
  });

  it('honours Idempotency-Key: a retry records once', async () => {
    const headers = { ...finance.headers, 'idempotency-key': 'pay-retry-1' };
    const payload = { method: 'cash', amount: '7.00', currency: 'SGD', receivedOn: '2026-01-11', customerId: payer };
    const first = await t.app.inject({ method: 'POST', url: '/api/v1/payments', headers, payload });
    const second = await t.app.inject({ method: 'POST', url: '/api/v1/payments', headers, payload });
    expect(first.statusCode).toBe(201);
    expect(second.json().id).toBe(first.json().id);
    const n = await t.db.owner.db.selectFrom('payments').select((eb) => eb.fn.countAll<string>().as('n')).where('method', '=', 'cash').executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(1);
  });
});

describe('GET /api/v1/payments (listPayments, getPayment)', () => {
  it('filters by method, status, customer, days and reference, pages by id, and exports CSV', async () => {
    const other = await newCustomer(t, finance);
    const a = (await record(t, finance, { method: 'cheque', amount: '11.00', customerId: other, reference: 'CHQ-000777', receivedOn: '2026-01-02' })).json().id;
    const b = (await record(t, finance, { method: 'cheque', amount: '12.00', customerId: other, reference: 'chq-000778', receivedOn: '2026-01-04' })).json().id;
    const list = async (qs: string) => (await api(t, finance, 'GET', `/api/v1/payments?${qs}`)).json().data.map((p: { id: string }) => p.id);
    expect(await list(`customerId=${other}`)).toEqual([b, a]);
    expect(await list(`customerId=${other}&q=000777`)).toEqual([a]);
    expect(await list(`customerId=${other}&q=CHQ-0007`)).toEqual([b, a]);
    expect(await list(`customerId=${other}&receivedFrom=2026-01-03`)).toEqual([b]);
    expect(await list(`customerId=${other}&receivedTo=2026-01-03`)).toEqual([a]);
    expect(await list(`customerId=${other}&method=cash`)).toEqual([]);
    expect(await list(`customerId=${other}&status=unallocated&method=cheque`)).toEqual([b, a]);
    const page1 = (await api(t, finance, 'GET', `/api/v1/payments?customerId=${other}&limit=1`)).json();
    expect(page1.data.map((p: { id: string }) => p.id)).toEqual([b]);
    expect(await list(`customerId=${other}&limit=1&cursor=${page1.nextCursor}`)).toEqual([a]);
    expect((await api(t, finance, 'GET', '/api/v1/payments?receivedFrom=2026-01-05&receivedTo=2026-01-01')).json())
      .toMatchObject({ status: 422, code: 'rule_violation', errors: [{ path: 'receivedTo' }] });
    expect((await api(t, finance, 'GET', '/api/v1/payments?status=lost')).statusCode).toBe(400);

    const csv = await api(t, finance, 'GET', `/api/v1/payments?format=csv&customerId=${other}`);
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toBe('id,receiptNumber,status,method,customerId,customer,currency,amount,allocated,toPoints,unallocated,receivedOn,reference,remark,reversedAt,reversalReason,createdAt');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(new RegExp(`^${b},RCT-\\d{4}-\\d{6},unallocated,cheque,${other}`));

    const detail = await api(t, finance, 'GET', `/api/v1/payments/${a}`);
    expect(detail.json()).toMatchObject({ id: a, amount: '11.00', reference: 'CHQ-000777', allocations: [] });
  });

  it('another partner never sees them (404)', async () => {
    const id = (await record(t, finance, { amount: '3.00', customerId: payer })).json().id;
    const north = await signIn(t, 'admin@northwind.test');
    const res = await api(t, north, 'GET', `/api/v1/payments/${id}`);
    expect([403, 404]).toContain(res.statusCode);
    const rows = await t.db.app.db.transaction().execute(async (trx) => {
      const { sql } = await import('kysely');
      await sql`select set_config('folio.partner_id', 'ptn_other', true)`.execute(trx);
      return trx.selectFrom('payments').select('id').where('id', '=', id).execute();
    });
    expect(rows).toEqual([]);
  });
});
