import { AssertionError } from 'node:assert';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, customerIdOf, partnerIdOf, type TestDb } from '../test/harness.ts';
import { inScope, type Scope, type Trx } from '../platform/database.ts';
import { formatInvoiceNumber, nextInvoiceNumber } from './invoice-numbers.ts';
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
const issue = (trx: Trx, partnerId: string, customerId: string, cents: bigint[]) =>
  issuePaidInvoice(trx, {
    partnerId, customerId, type: 'top_up', currency: 'SGD', paidAt,
    lines: cents.map((c, i) => ({ kind: i === 0 ? 'points' : 'admin_fee', description: `line ${i + 1}`, amountMicros: c * 10_000n })),
  });

describe('invoice numbers', () => {
  it('are INV-<year>-<6 digits>, from one counter per partner', async () => {
    expect(formatInvoiceNumber(123n, paidAt)).toBe('INV-2026-000123');
    expect(formatInvoiceNumber(1_234_567n, new Date('2027-01-01T00:00:00Z'))).toBe('INV-2027-1234567');
    const a = await run(partner(demo), (trx) => nextInvoiceNumber(trx, demo, paidAt));
    const b = await run(partner(demo), (trx) => nextInvoiceNumber(trx, demo, paidAt));
    const n = await run(partner(north), (trx) => nextInvoiceNumber(trx, north, paidAt));
    expect([a, b, n]).toEqual(['INV-2026-000001', 'INV-2026-000002', 'INV-2026-000001']);
  });

  it('are handed out without gaps: a rolled-back invoice gives its number back; racing issuers get distinct numbers', async () => {
    await expect(run(partner(demo), async (trx) => {
      await nextInvoiceNumber(trx, demo, paidAt);
      throw new Error('rolled back');
    })).rejects.toThrow('rolled back');
    const numbers = await Promise.all(Array.from({ length: 8 }, () => run(partner(demo), (trx) => nextInvoiceNumber(trx, demo, paidAt))));
    expect([...numbers].sort()).toEqual(Array.from({ length: 8 }, (_, i) => formatInvoiceNumber(BigInt(i + 3), paidAt)));
  });

  it('a portal request may number its own partner\'s invoices, never another partner\'s; the counters are not readable', async () => {
    const own = await run({ kind: 'customer', partnerId: demo, customerId: acme }, (trx) => nextInvoiceNumber(trx, demo, paidAt));
    expect(own).toMatch(/^INV-2026-/);
    await expect(run(partner(demo), (trx) => nextInvoiceNumber(trx, north, paidAt))).rejects.toThrow(/another partner/);
    await expect(run(partner(demo), (trx) => trx.selectFrom('invoiceNumberSequences' as never).selectAll().execute())).rejects.toThrow(/permission denied/);
  });
});

describe('issuePaidInvoice', () => {
  it('writes a paid invoice with its lines: subtotal, no tax, nothing due', async () => {
    const inv = await run(partner(demo), (trx) => issue(trx, demo, acme, [50_00n, 1_00n]));
    expect(inv).toMatchObject({ id: expect.stringMatching(/^inv_/), number: expect.stringMatching(/^INV-2026-\d{6}$/), subtotalMicros: 51_000_000n, taxMicros: 0n, totalMicros: 51_000_000n });
    const row = await db.owner.db.selectFrom('invoices').selectAll().where('id', '=', inv.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ partnerId: demo, customerId: acme, type: 'top_up', status: 'paid', totalMicros: '51000000', amountDueMicros: '0', paidAt, issuedAt: paidAt });
    const lines = await db.owner.db.selectFrom('invoiceLines').select(['position', 'kind', 'amountMicros', 'quantity']).where('invoiceId', '=', inv.id).orderBy('position').execute();
    expect(lines).toEqual([
      { position: 1, kind: 'points', amountMicros: '50000000', quantity: 1 },
      { position: 2, kind: 'admin_fee', amountMicros: '1000000', quantity: 1 },
    ]);
  });

  it('a paid invoice is final, its lines append-only; amounts must be whole minor units', async () => {
    const inv = await run(partner(demo), (trx) => issue(trx, demo, acme, [10_00n]));
    await expect(run(partner(demo), (trx) => trx.updateTable('invoices').set({ status: 'void' }).where('id', '=', inv.id).execute())).rejects.toThrow(/never changed again/);
    await expect(run(partner(demo), (trx) => trx.deleteFrom('invoiceLines').where('invoiceId', '=', inv.id).execute())).rejects.toThrow(/permission denied/);
    await expect(run(partner(demo), (trx) => issuePaidInvoice(trx, {
      partnerId: demo, customerId: acme, type: 'top_up', currency: 'SGD', paidAt, lines: [{ kind: 'points', description: 'x', amountMicros: 1_234n }],
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
