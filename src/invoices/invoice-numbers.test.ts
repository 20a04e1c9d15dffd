import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, customerIdOf, partnerIdOf, type TestDb } from '../test/harness.ts';
import { inScope, type Scope, type Trx } from '../platform/database.ts';
import { checkInvoiceNumberFormat, checkInvoiceNumberFormats, DEFAULT_NUMBER_FORMATS, formatInvoiceNumber, storedNumberFormats, nextInvoiceNumber, nextInvoiceNumbers, OTHER_DOCUMENT_PREFIXES } from './invoice-numbers.ts';
import { RECEIPT_NUMBER_FORMAT } from '../payments/receipts/receipt-numbers.ts';

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

  it('reads the stored formats by their stored names; a name written back camelCased is read only without the stored one', () => {
    expect(storedNumberFormats(null)).toEqual(DEFAULT_NUMBER_FORMATS);
    expect(storedNumberFormats('{"purchase": "P-{seq}", "top_up": "T-{seq}", "credit_note": "C-{seq}"}'))
      .toEqual({ purchase: 'P-{seq}', monthly: DEFAULT_NUMBER_FORMATS.monthly, top_up: 'T-{seq}', credit_note: 'C-{seq}' });
    expect(storedNumberFormats('{"top_up": "T-{seq}", "topUp": "OLD-{seq}", "creditNote": "CR-{seq}"}'))
      .toMatchObject({ top_up: 'T-{seq}', credit_note: 'CR-{seq}' });
  });

  it('refuses formats of two documents whose fixed prefixes could produce the same number', () => {
    expect(checkInvoiceNumberFormats(DEFAULT_NUMBER_FORMATS)).toEqual([]);
    expect(checkInvoiceNumberFormats({ ...DEFAULT_NUMBER_FORMATS, purchase: 'INV-{seq}', monthly: 'INV-{seq}' }))
      .toContainEqual({ path: 'invoiceNumberFormats.purchase', message: expect.stringMatching(/must differ/) });
    expect(checkInvoiceNumberFormats({ ...DEFAULT_NUMBER_FORMATS, purchase: 'A{seq}', monthly: 'A1{seq}', top_up: 'T{seq}' }))
      .toContainEqual({ path: 'invoiceNumberFormats.purchase', message: expect.stringMatching(/must differ/) });
  });

  it('holds the credit note format to the same rules: valid, its prefix apart from the invoice types\' and receipts\'', () => {
    const names = (d: string) => `numberFormats.${d}`;
    expect(checkInvoiceNumberFormats({ ...DEFAULT_NUMBER_FORMATS, credit_note: 'CRN/{YY}/{seq:05}' }, names)).toEqual([]);
    expect(checkInvoiceNumberFormats({ ...DEFAULT_NUMBER_FORMATS, credit_note: 'CN-{YYYY}' }, names))
      .toEqual([{ path: 'numberFormats.credit_note', message: expect.stringMatching(/counter exactly once/) }]);
    // A credit note starting like an invoice type, or an invoice type like the credit note: refused, naming the one whose prefix is the start of the other's.
    expect(checkInvoiceNumberFormats({ ...DEFAULT_NUMBER_FORMATS, credit_note: 'INV-C-{seq}' }, names)).toEqual([
      { path: 'numberFormats.purchase', message: 'its fixed prefix "INV-" must differ from the start of the credit note format' },
      { path: 'numberFormats.credit_note', message: 'must not start with the fixed prefix of the purchase format ("INV-")' },
    ]);
    expect(checkInvoiceNumberFormats({ ...DEFAULT_NUMBER_FORMATS, top_up: 'CN-T-{seq}' }, names)).toEqual([
      { path: 'numberFormats.credit_note', message: 'its fixed prefix "CN-" must differ from the start of the top-up format' },
      { path: 'numberFormats.top_up', message: 'must not start with the fixed prefix of the credit note format ("CN-")' },
    ]);
    expect(checkInvoiceNumberFormats({ ...DEFAULT_NUMBER_FORMATS, credit_note: 'RCT-C-{seq}' }, names))
      .toEqual([{ path: 'numberFormats.credit_note', message: 'its fixed prefix "RCT-C-" must differ from the start of receipt numbers (RCT-)' }]);
    // Once credit notes number otherwise, CN- is free for an invoice type.
    expect(checkInvoiceNumberFormats({ ...DEFAULT_NUMBER_FORMATS, credit_note: 'CR-{seq}', purchase: 'CN-{seq}' }, names)).toEqual([]);
  });

  it('refuses a format that starts like receipts, which number from their own counter, or like the credit notes\' format', () => {
    for (const [format, document] of [['RCT-{YYYY}-{seq:06}', 'receipt numbers'], ['rct-{seq}', 'receipt numbers'], ['R{seq}', 'receipt numbers'], ['CN-2-{seq}', 'credit note format']]) {
      expect(checkInvoiceNumberFormats({ ...DEFAULT_NUMBER_FORMATS, purchase: format! }), format)
        .toContainEqual({ path: 'invoiceNumberFormats.purchase', message: expect.stringContaining(document!) });
    }
    expect(checkInvoiceNumberFormats({ ...DEFAULT_NUMBER_FORMATS, purchase: 'RC-{seq}' })).toEqual([]);
    // The prefixes are those of the other documents' formats.
    expect(RECEIPT_NUMBER_FORMAT.startsWith(OTHER_DOCUMENT_PREFIXES.find((o) => o.document === 'receipt')!.prefix)).toBe(true);
    expect(DEFAULT_NUMBER_FORMATS.credit_note).toBe('CN-{YYYY}-{seq:06}');
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
