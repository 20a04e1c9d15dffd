import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, customerIdOf, partnerIdOf, type TestDb } from '../test/harness.ts';
import { inScope, type Scope, type Trx } from '../platform/database.ts';
import { checkInvoiceNumberFormat, checkInvoiceNumberFormats, DEFAULT_INVOICE_NUMBER_FORMATS, formatInvoiceNumber, nextInvoiceNumber, nextInvoiceNumbers, OTHER_DOCUMENT_PREFIXES } from './invoice-numbers.ts';
import { RECEIPT_NUMBER_FORMAT } from '../payments/receipts/receipt-numbers.ts';
import { DEFAULT_CREDIT_NOTE_FORMAT } from '../credit-notes/issue-credit-note.ts';

let db: TestDb;
let demo: string;
let north: string;
let acme: string;
const at = new Date('2026-11-30T04:32:00Z');

beforeAll(async () => {
  db = await createTestDb();
  demo = await partnerIdOf(db, 'demo-telecom');
  north = await partnerIdOf(db, 'northwind');
  acme = await customerIdOf(db, 'Acme Pte Ltd');
});
afterAll(async () => db.drop());

const run = <T>(scope: Scope, fn: (trx: Trx) => Promise<T>) => inScope(db.app.db, scope, fn);
const partner = (partnerId: string) => ({ kind: 'partner' as const, partnerId });

describe('formatInvoiceNumber', () => {
  it('fills the placeholders: year, short year, month, day, counter padded or not (a longer counter is never cut)', () => {
    expect(formatInvoiceNumber('INV-{YYYY}-{seq:06}', 123n, at)).toBe('INV-2026-000123');
    expect(formatInvoiceNumber('INV-{YYYY}-{seq:06}', 1_234_567n, new Date('2027-01-01T00:00:00Z'))).toBe('INV-2027-1234567');
    expect(formatInvoiceNumber('S/{YY}{MM}{DD}/{seq}', 7n, new Date('2031-03-04T23:59:59Z'))).toBe('S/310304/7');
    expect(formatInvoiceNumber('TOP{seq:3}', 5n, at)).toBe('TOP005');
  });

  it('accepts a well-formed format and names what is wrong with a bad one', () => {
    expect(checkInvoiceNumberFormat('INV-{YYYY}-{seq:06}', 'f')).toEqual([]);
    expect(checkInvoiceNumberFormat('INV-{YYYY}', 'f')).toEqual([{ path: 'f', message: expect.stringMatching(/counter exactly once/) }]);
    expect(checkInvoiceNumberFormat('INV-{seq}-{seq}', 'f')).toEqual([{ path: 'f', message: expect.stringMatching(/counter exactly once/) }]);
    expect(checkInvoiceNumberFormat('{YYYY}-{seq}', 'f')).toEqual([{ path: 'f', message: expect.stringMatching(/fixed text/) }]);
    expect(checkInvoiceNumberFormat('INV {seq}', 'f')).toEqual([{ path: 'f', message: expect.stringMatching(/only letters/) }]);
    expect(checkInvoiceNumberFormat('INV-{WEEK}-{seq}', 'f')).toEqual([{ path: 'f', message: expect.stringMatching(/only letters/) }]);
    expect(checkInvoiceNumberFormat(`INV-${'x'.repeat(40)}{seq}`, 'f')).toContainEqual({ path: 'f', message: 'between 1 and 40 characters' });
  });

  it('refuses formats of two types whose fixed prefixes could produce the same number', () => {
    expect(checkInvoiceNumberFormats(DEFAULT_INVOICE_NUMBER_FORMATS)).toEqual([]);
    expect(checkInvoiceNumberFormats({ purchase: 'INV-{seq}', monthly: 'INV-{seq}', top_up: 'TOP-{seq}' }))
      .toContainEqual({ path: 'invoiceNumberFormats.purchase', message: expect.stringMatching(/must differ/) });
    expect(checkInvoiceNumberFormats({ purchase: 'A{seq}', monthly: 'A1{seq}', top_up: 'T{seq}' }))
      .toContainEqual({ path: 'invoiceNumberFormats.purchase', message: expect.stringMatching(/must differ/) });
  });

  it('refuses an invoice format that starts like receipts or credit notes, which number from their own counters', () => {
    for (const [format, document] of [['RCT-{YYYY}-{seq:06}', 'receipt'], ['rct-{seq}', 'receipt'], ['R{seq}', 'receipt'], ['CN-2-{seq}', 'credit note']]) {
      expect(checkInvoiceNumberFormats({ ...DEFAULT_INVOICE_NUMBER_FORMATS, purchase: format! }), format)
        .toContainEqual({ path: 'invoiceNumberFormats.purchase', message: expect.stringContaining(`${document} numbers`) });
    }
    expect(checkInvoiceNumberFormats({ ...DEFAULT_INVOICE_NUMBER_FORMATS, purchase: 'RC-{seq}' })).toEqual([]);
    // The prefixes are those of the other documents' formats.
    expect(RECEIPT_NUMBER_FORMAT.startsWith(OTHER_DOCUMENT_PREFIXES.find((o) => o.document === 'receipt')!.prefix)).toBe(true);
    expect(DEFAULT_CREDIT_NOTE_FORMAT.startsWith(OTHER_DOCUMENT_PREFIXES.find((o) => o.document === 'credit note')!.prefix)).toBe(true);
  });
});

describe('nextInvoiceNumber', () => {
  it('keeps one counter per partner and type, in the partner\'s format for that type', async () => {
    const p1 = await run(partner(demo), (trx) => nextInvoiceNumber(trx, demo, 'purchase', at));
    const p2 = await run(partner(demo), (trx) => nextInvoiceNumber(trx, demo, 'purchase', at));
    const t1 = await run(partner(demo), (trx) => nextInvoiceNumber(trx, demo, 'top_up', at));
    const m1 = await run(partner(demo), (trx) => nextInvoiceNumber(trx, demo, 'monthly', at));
    const n1 = await run(partner(north), (trx) => nextInvoiceNumber(trx, north, 'purchase', at));
    expect([p1, p2, t1, m1, n1]).toEqual(['INV-2026-000001', 'INV-2026-000002', 'TOP-2026-000001', 'STM-202611-000001', 'INV-2026-000001']);
    await db.owner.db.updateTable('partnerSettings')
      .set({ invoiceNumberFormats: JSON.stringify({ purchase: 'DT/{YY}/{seq:04}', monthly: 'STM-{YYYY}{MM}-{seq:06}', top_up: 'TOP-{YYYY}-{seq:06}' }) })
      .where('partnerId', '=', demo).execute();
    expect(await run(partner(demo), (trx) => nextInvoiceNumbers(trx, demo, 'purchase', at, 3))).toEqual(['DT/26/0003', 'DT/26/0004', 'DT/26/0005']);
  });

  it('is gapless: a rolled-back invoice gives its number back; 12 racing issuers get 12 consecutive distinct numbers', async () => {
    const before = await run(partner(north), (trx) => nextInvoiceNumber(trx, north, 'top_up', at));
    await expect(run(partner(north), async (trx) => {
      await nextInvoiceNumber(trx, north, 'top_up', at);
      throw new Error('rolled back');
    })).rejects.toThrow('rolled back');
    const numbers = await Promise.all(Array.from({ length: 12 }, () => run(partner(north), (trx) => nextInvoiceNumber(trx, north, 'top_up', at))));
    const first = Number(before.slice(-6));
    expect([...numbers].sort()).toEqual(Array.from({ length: 12 }, (_, i) => `TOP-2026-${String(first + 1 + i).padStart(6, '0')}`));
  });

  it('a portal request numbers its own partner\'s invoices only; the counters are not readable', async () => {
    const own = await run({ kind: 'customer', partnerId: demo, customerId: acme }, (trx) => nextInvoiceNumber(trx, demo, 'monthly', at));
    expect(own).toMatch(/^STM-202611-/);
    await expect(run(partner(demo), (trx) => nextInvoiceNumber(trx, north, 'purchase', at))).rejects.toThrow(/another partner/);
    await expect(run(partner(demo), (trx) => trx.selectFrom('invoiceNumberSeries' as never).selectAll().execute())).rejects.toThrow(/permission denied/);
  });
});
