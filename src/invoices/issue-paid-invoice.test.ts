import { AssertionError } from 'node:assert';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, customerIdOf, partnerIdOf, type TestDb } from '../test/harness.ts';
import { inScope, type Scope, type Trx } from '../platform/database.ts';
import { issuePaidInvoice } from './issue-paid-invoice.ts';

let db: TestDb;
let demo: string;
let north: string;
let acme: string;
let globex: string;
let wombat: string;
const paidAt = new Date('2026-11-30T04:32:00Z');

beforeAll(async () => {
  db = await createTestDb();
  demo = await partnerIdOf(db, 'demo-telecom');
  north = await partnerIdOf(db, 'northwind');
  acme = await customerIdOf(db, 'Acme Pte Ltd');
  globex = await customerIdOf(db, 'Globex Sdn Bhd');
  wombat = await customerIdOf(db, 'Wombat Pty Ltd');
});
afterAll(async () => db.drop());

const run = <T>(scope: Scope, fn: (trx: Trx) => Promise<T>) => inScope(db.app.db, scope, fn);
const partner = (partnerId: string) => ({ kind: 'partner' as const, partnerId });
const paidWith = { source: 'card' as const, entryId: 'je_test_paid_at_issue', chargeRef: 'ch_test_1', paidBy: null };
const issue = (trx: Trx, partnerId: string, customerId: string, cents: bigint[]) =>
  issuePaidInvoice(trx, {
    partnerId, customerId, type: 'top_up', currency: 'SGD', paidAt, paidWith,
    lines: cents.map((c, i) => ({ kind: i === 0 ? 'points' : 'admin_fee', description: `line ${i + 1}`, amountMicros: c * 10_000n })),
  });

describe('issuePaidInvoice', () => {
  it('writes a paid invoice with its lines: subtotal, no tax, nothing due', async () => {
    const inv = await run(partner(demo), (trx) => issue(trx, demo, acme, [50_00n, 1_00n]));
    expect(inv).toMatchObject({ id: expect.stringMatching(/^inv_/), number: expect.stringMatching(/^TOP-2026-\d{6}$/), subtotalMicros: 51_000_000n, taxMicros: 0n, totalMicros: 51_000_000n });
    const row = await db.owner.db.selectFrom('invoices').selectAll().where('id', '=', inv.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ partnerId: demo, customerId: acme, type: 'top_up', status: 'paid', totalMicros: '51000000', amountDueMicros: '0', amountPaidMicros: '51000000', paidAt, issuedAt: paidAt });
    const lines = await db.owner.db.selectFrom('invoiceLines').select(['position', 'kind', 'amountMicros', 'quantity']).where('invoiceId', '=', inv.id).orderBy('position').execute();
    expect(lines).toEqual([
      { position: 1, kind: 'points', amountMicros: '50000000', quantity: '1.000000' },
      { position: 2, kind: 'admin_fee', amountMicros: '1000000', quantity: '1.000000' },
    ]);
    // What paid it: one row for the whole total, naming the entry, the source and the card charge.
    const payments = await db.owner.db.selectFrom('invoicePayments').selectAll().where('invoiceId', '=', inv.id).execute();
    expect(payments).toEqual([expect.objectContaining({
      id: expect.stringMatching(/^ipy_/), partnerId: demo, customerId: acme, source: 'card', currency: 'SGD', amountMicros: '51000000',
      entryId: 'je_test_paid_at_issue', chargeRef: 'ch_test_1', paidBy: null, attemptId: null, paymentId: null, createdAt: paidAt,
    })]);
  });

  it('keeps what a line sells: product, variant, units at their unit price, tax category and rate', async () => {
    const product = await db.owner.db.selectFrom('products as p').innerJoin('productVariants as v', 'v.productId', 'p.id')
      .select(['p.id as productId', 'v.id as variantId']).where('p.partnerId', '=', demo).executeTakeFirstOrThrow();
    const inv = await run(partner(demo), (trx) => issuePaidInvoice(trx, {
      partnerId: demo, customerId: acme, type: 'purchase', currency: 'SGD', paidAt, paidWith: { source: 'points', entryId: 'je_test_units', paidBy: null },
      lines: [
        { kind: 'subscription', description: 'Line x 3', amountMicros: 27_000_000n, discountMicros: 3_000_000n, taxMicros: 2_430_000n, ...product, quantity: 3, unitAmountMicros: 10_000_000n, taxCategory: 'standard', taxRateBps: 900 },
        { kind: 'subscription', description: 'Exempt', amountMicros: 5_000_000n, ...product, quantity: 2, unitAmountMicros: 2_500_000n, taxCategory: 'exempt' },
      ],
    }));
    expect(inv).toMatchObject({ subtotalMicros: 32_000_000n, taxMicros: 2_430_000n, totalMicros: 34_430_000n });
    const lines = await db.owner.db.selectFrom('invoiceLines')
      .select(['productId', 'variantId', 'quantity', 'unitAmountMicros', 'grossMicros', 'discountMicros', 'amountMicros', 'taxCategory', 'taxRateBps', 'taxMicros'])
      .where('invoiceId', '=', inv.id).orderBy('position').execute();
    expect(lines).toEqual([
      { ...product, quantity: '3.000000', unitAmountMicros: '10000000', grossMicros: '30000000', discountMicros: '3000000', amountMicros: '27000000', taxCategory: 'standard', taxRateBps: 900, taxMicros: '2430000' },
      { ...product, quantity: '2.000000', unitAmountMicros: '2500000', grossMicros: '5000000', discountMicros: '0', amountMicros: '5000000', taxCategory: 'exempt', taxRateBps: 0, taxMicros: '0' },
    ]);
    const payments = await db.owner.db.selectFrom('invoicePayments').select(['source', 'amountMicros', 'entryId', 'chargeRef']).where('invoiceId', '=', inv.id).execute();
    expect(payments).toEqual([{ source: 'points', amountMicros: '34430000', entryId: 'je_test_units', chargeRef: null }]);
  });

  it('refuses a unit price that does not make the gross exactly, and tax on an exempt line', async () => {
    const base = { partnerId: demo, customerId: acme, type: 'purchase' as const, currency: 'SGD' as const, paidAt, paidWith };
    await expect(run(partner(demo), (trx) => issuePaidInvoice(trx, {
      ...base, lines: [{ kind: 'subscription', description: 'x', amountMicros: 10_000_000n, quantity: 3, unitAmountMicros: 3_333_333n }],
    }))).rejects.toBeInstanceOf(AssertionError);
    await expect(run(partner(demo), (trx) => issuePaidInvoice(trx, {
      ...base, lines: [{ kind: 'subscription', description: 'x', amountMicros: 10_000_000n, taxMicros: 900_000n, taxCategory: 'exempt' }],
    }))).rejects.toBeInstanceOf(AssertionError);
  });

  it('a paid invoice is final, its lines append-only; amounts must be whole minor units', async () => {
    const inv = await run(partner(demo), (trx) => issue(trx, demo, acme, [10_00n]));
    await expect(run(partner(demo), (trx) => trx.updateTable('invoices').set({ status: 'void' }).where('id', '=', inv.id).execute())).rejects.toThrow(/never changed again/);
    await expect(run(partner(demo), (trx) => trx.deleteFrom('invoiceLines').where('invoiceId', '=', inv.id).execute())).rejects.toThrow(/permission denied/);
    await expect(run(partner(demo), (trx) => issuePaidInvoice(trx, {
      partnerId: demo, customerId: acme, type: 'top_up', currency: 'SGD', paidAt, paidWith, lines: [{ kind: 'points', description: 'x', amountMicros: 1_234n }],
    }))).rejects.toBeInstanceOf(AssertionError);
  });

  it('an invoice belongs to a customer of its own partner, and a portal user sees only its own organisation\'s', async () => {
    await expect(run(partner(demo), (trx) => issue(trx, demo, wombat, [5_00n]))).rejects.toThrow();
    await run(partner(demo), (trx) => issue(trx, demo, globex, [5_00n]));
    const seen = await run({ kind: 'customer', partnerId: demo, customerId: acme }, (trx) => trx.selectFrom('invoices').select('customerId').execute());
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((r) => r.customerId === acme)).toBe(true);
    const theirs = await run(partner(north), (trx) => trx.selectFrom('invoices').select('id').execute());
    expect(theirs).toEqual([]);
  });
});
