import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, customerIdOf, createTestApp, partnerIdOf, signIn, type Session, type TestApp } from '../test/harness.ts';
import { inScope } from '../platform/database.ts';
import { checkLedger } from '../ledger/check-ledger.ts';
import { reservePoints, releaseReservation } from '../wallet/reservations.ts';
import { readWallet } from '../wallet/wallets.repo.ts';
import { newCustomer } from '../payments/payments.test-kit.ts';

let t: TestApp;
let finance: Session;
let partnerId: string;
let acme: string;
let initech: string;

beforeAll(async () => {
  t = await createTestApp();
  finance = await signIn(t, 'finance@demo.test');
  partnerId = await partnerIdOf(t.db, 'demo-telecom');
  acme = await customerIdOf(t.db, 'Acme Pte Ltd');
  initech = await customerIdOf(t.db, 'Initech Pte Ltd');
});
afterAll(async () => t.close());

const post = (action: 'issue' | 'take-back', customerId: string, amount: string, reason = 'Correction', who: Session = finance) =>
  api(t, who, 'POST', `/api/v1/customers/${customerId}/points/${action}`, { amount, reason });
const wallet = (customerId: string) => inScope(t.db.app.db, { kind: 'partner', partnerId }, (trx) => readWallet(trx, { partnerId, customerId, currency: 'SGD' }));

describe('takeBackPoints', () => {
  it('takes points back: Dr points, Cr sales returns, audited; the feed shows a negative credit', async () => {
    expect((await post('issue', acme, '10.00')).statusCode).toBe(200);
    const res = await post('take-back', acme, '4.25', 'Issued twice by mistake');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ type: 'take_back', amount: '4.25', currency: 'SGD', reason: 'Issued twice by mistake', wallet: { points: '5.75', usable: '5.75' } });
    const entry = await t.db.owner.db.selectFrom('journalEntries').selectAll().where('id', '=', body.entryId).executeTakeFirstOrThrow();
    expect(entry).toMatchObject({ kind: 'points_taken_back', auditEventId: body.auditEventId });
    const postings = await t.db.owner.db.selectFrom('postings as p').innerJoin('ledgerAccounts as a', 'a.id', 'p.accountId')
      .select(['a.code', 'p.amountMicros']).where('p.entryId', '=', body.entryId).orderBy('p.id').execute();
    expect(postings).toEqual([{ code: 'points', amountMicros: '4250000' }, { code: 'sales_returns', amountMicros: '-4250000' }]);
    const [event] = await auditEventsOf(t.db, 'points.taken_back');
    expect(event).toMatchObject({ id: body.auditEventId, app: 'finance', customerId: acme, changes: { amount: { after: '4.25' }, reason: { after: 'Issued twice by mistake' }, points: { before: '10.00', after: '5.75' } } });
    const feed = await api(t, finance, 'GET', `/api/v1/customers/${acme}/transactions?type=credit`);
    expect(feed.json().data.map((d: { amount: string }) => d.amount)).toEqual(['-4.25', '10.00']);
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('never takes more than the points not held, nor borrows on the credit limit (422 insufficient_points, nothing changes)', async () => {
    const before = await wallet(acme);
    const tooMuch = await post('take-back', acme, '5.76');
    expect(tooMuch.statusCode).toBe(422);
    expect(tooMuch.json()).toMatchObject({ code: 'insufficient_points', detail: expect.stringContaining('5.75 SGD'), errors: [{ path: 'amount', message: 'at most 5.75' }] });

    // Points held by a call cannot be taken back while held.
    const hold = await inScope(t.db.app.db, { kind: 'partner', partnerId }, (trx) => reservePoints(trx, {
      wallet: { partnerId, customerId: acme, currency: 'SGD' }, amountMicros: 5_000_000n, useCreditLimit: false, causeType: 'test', causeId: 'hold-1', ttlSeconds: 60,
    }));
    const held = await post('take-back', acme, '1.00');
    expect(held.statusCode).toBe(422);
    expect(held.json().detail).toContain('0.75 SGD');
    expect((await post('take-back', acme, '0.75')).statusCode).toBe(200);
    await inScope(t.db.app.db, { kind: 'partner', partnerId }, (trx) => releaseReservation(trx, { partnerId, reservationId: hold.id }));

    // A credit limit lets a customer spend, never lets Finance take points that are not there.
    expect((await api(t, finance, 'PUT', `/api/v1/customers/${acme}/credit-limit`, { amount: '100.00' })).statusCode).toBe(200);
    const borrowed = await post('take-back', acme, '5.01');
    expect(borrowed.statusCode).toBe(422);
    expect((await wallet(acme))?.pointsMicros).toBe(before!.pointsMicros - 750_000n);
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('refunds unused points by bank transfer or cheque: Dr points, Cr bank (money leaves, no revenue moves), with its reference', async () => {
    const payer = await newCustomer(t, finance);
    expect((await post('issue', payer, '30.00')).statusCode).toBe(200);
    const returnsBefore = await t.db.owner.db.selectFrom('ledgerAccounts').select('balanceMicros')
      .where('partnerId', '=', partnerId).where('code', '=', 'sales_returns').where('currency', '=', 'SGD').executeTakeFirstOrThrow();
    const res = await api(t, finance, 'POST', `/api/v1/customers/${payer}/points/take-back`,
      { amount: '12.00', reason: 'Unused top-up refunded on request', refundMethod: 'bank_transfer', refundReference: 'TT-2026-118' });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ type: 'take_back', refundMethod: 'bank_transfer', refundReference: 'TT-2026-118', amount: '12.00', wallet: { points: '18.00' } });
    const entry = await t.db.owner.db.selectFrom('journalEntries').selectAll().where('id', '=', body.entryId).executeTakeFirstOrThrow();
    expect(entry.kind).toBe('points_refunded');
    const postings = await t.db.owner.db.selectFrom('postings as p').innerJoin('ledgerAccounts as a', 'a.id', 'p.accountId')
      .select(['a.code', 'p.amountMicros']).where('p.entryId', '=', body.entryId).orderBy('p.id').execute();
    expect(postings).toEqual([{ code: 'points', amountMicros: '12000000' }, { code: 'bank', amountMicros: '-12000000' }]);
    const returnsAfter = await t.db.owner.db.selectFrom('ledgerAccounts').select('balanceMicros')
      .where('partnerId', '=', partnerId).where('code', '=', 'sales_returns').where('currency', '=', 'SGD').executeTakeFirstOrThrow();
    expect(returnsAfter.balanceMicros).toBe(returnsBefore.balanceMicros);
    const event = (await auditEventsOf(t.db, 'points.taken_back')).find((e) => e.id === body.auditEventId);
    expect(event?.changes).toMatchObject({ refundMethod: { after: 'bank_transfer' }, refundReference: { after: 'TT-2026-118' } });
    expect(await checkLedger(t.db.owner.db)).toEqual([]);

    // A method needs its reference and a reference its method (400 naming the field); a card or unknown method is refused.
    for (const [extra, field] of [
      [{ refundMethod: 'cheque' }, 'refundReference'], [{ refundReference: 'CHQ-1' }, 'refundMethod'], [{ refundMethod: 'card', refundReference: 'x' }, 'refundMethod'],
    ] as const) {
      const bad = await api(t, finance, 'POST', `/api/v1/customers/${payer}/points/take-back`, { amount: '1.00', reason: 'x', ...extra });
      expect(bad.statusCode, JSON.stringify(extra)).toBe(400);
      expect(bad.json().errors.map((e: { path: string }) => e.path)).toContain(field);
    }
    // Issuing points takes no refund fields.
    expect((await api(t, finance, 'POST', `/api/v1/customers/${payer}/points/issue`, { amount: '1.00', reason: 'x', refundMethod: 'cheque', refundReference: 'C' })).statusCode).toBe(400);
    expect((await wallet(payer))?.pointsMicros).toBe(18_000_000n);
  });

  it('validates like issue: malformed amounts 400, amounts against the rules 422, unknown customer 404, no Finance app 403', async () => {
    for (const amount of ['0', '-1.00', '0.001']) expect((await post('take-back', acme, amount)).statusCode, amount).toBe(422);
    for (const amount of ['abc', '1.', '']) expect((await post('take-back', acme, amount)).statusCode, amount).toBe(400);
    expect((await api(t, finance, 'POST', `/api/v1/customers/${acme}/points/take-back`, { amount: 1, reason: 'x' })).statusCode).toBe(400);
    expect((await post('take-back', 'cus_00000000000000000000000000', '1.00')).statusCode).toBe(404);
    const admin = await signIn(t, 'admin@demo.test');
    expect((await post('take-back', acme, '1.00', 'x', admin)).statusCode).toBe(403);
    const member = await signIn(t, 'member@acme.test');
    expect((await post('take-back', acme, '1.00', 'x', member)).statusCode).toBe(403);
  });

  it('concurrent take-backs never overdraw: exactly as many succeed as the points allow', async () => {
    expect((await post('issue', initech, '10.00')).statusCode).toBe(200);
    const results = await Promise.all(Array.from({ length: 24 }, () => post('take-back', initech, '1.00', 'Race')));
    const codes = results.map((r) => r.statusCode);
    expect(codes.filter((c) => c === 200)).toHaveLength(10);
    expect(codes.filter((c) => c === 422)).toHaveLength(14);
    const w = await wallet(initech);
    expect(w?.pointsMicros).toBe(0n);
    expect(w?.usableMicros).toBe(0n);
    expect((await auditEventsOf(t.db, 'points.taken_back')).filter((e) => e.customerId === initech)).toHaveLength(10);
    expect(await checkLedger(t.db.owner.db)).toEqual([]);
  });

  it('a replayed take-back with the same Idempotency-Key takes nothing more', async () => {
    await post('issue', initech, '3.00');
    const send = () => t.app.inject({
      method: 'POST', url: `/api/v1/customers/${initech}/points/take-back`, headers: { ...finance.headers, 'idempotency-key': 'take-back-1' }, payload: { amount: '2.00', reason: 'Once' },
    });
    const first = await send();
    const second = await send();
    expect(first.statusCode).toBe(200);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect((await wallet(initech))?.pointsMicros).toBe(1_000_000n);
  });
});
