import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, customerIdOf, inRolledBackOwner, partnerIdOf, type TestDb } from '../test/harness.ts';
import { inScope, type Scope, type Trx } from '../platform/database.ts';
import { sql } from 'kysely';
import {
  checkFormatsNeverRepeat, checkInvoiceNumberFormat, checkInvoiceNumberFormats, DEFAULT_NUMBER_FORMATS, documentNumberFormats, formatInvoiceNumber,
  storedNumberFormats, nextInvoiceNumber, nextInvoiceNumbers, OTHER_DOCUMENT_PREFIXES, plannedInvoiceNumbers, repeatedNumber, type DocumentNumberFormats,
} from './invoice-numbers.ts';
import { RECEIPT_NUMBER_FORMAT } from '../payments/receipts/receipt-numbers.ts';
import { nextCreditNoteNumber } from '../credit-notes/issue-credit-note.ts';
import { issueInvoice } from './issue-invoice.ts';
import { DomainError } from '../platform/errors.ts';

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

describe('a number already issued is never issued again (docs/adr/0041)', () => {
  const december = new Date('2026-12-03T04:00:00Z');
  let initech: string;
  beforeAll(async () => {
    initech = await customerIdOf(db, 'Initech Pte Ltd');
  });
  /** Set the partner's stored formats as the database holds them (a change made before formats were checked, or by a test). */
  const setFormats = async (partnerId: string, formats: Partial<DocumentNumberFormats>) => {
    const current = await run(partner(partnerId), (trx) => documentNumberFormats(trx, partnerId));
    await db.owner.db.updateTable('partnerSettings').set({ invoiceNumberFormats: JSON.stringify({ ...current, ...formats }) }).where('partnerId', '=', partnerId).execute();
  };
  const setCounter = (partnerId: string, type: string, last: bigint) =>
    sql`insert into invoice_number_series (partner_id, type, last_value) values (${partnerId}, ${type}, ${last.toString()}::bigint)
      on conflict (partner_id, type) do update set last_value = excluded.last_value`.execute(db.owner.db);
  const counter = async (partnerId: string, type: string) => {
    const { rows } = await sql<{ last: string }>`select last_value::text as last from invoice_number_series where partner_id = ${partnerId} and type = ${type}`.execute(db.owner.db);
    return BigInt(rows[0]!.last);
  };
  const issue = (partnerId: string, customerId: string, at = december, trx?: Trx) => {
    const work = (t: Trx) => issueInvoice(t, {
      partnerId, customerId, type: 'purchase', currency: 'SGD', issuedAt: at,
      lines: [{ kind: 'product', description: 'Licence', amountMicros: 1_000_000n, taxMicros: 0n, revenueCode: 'revenue:one_time' }],
      entry: { kind: 'invoice_issued', causeType: 'invoice', causeId: 'test', description: 'Test invoice', auditEventId: null },
    });
    return trx ? work(trx) : run(partner(partnerId), work);
  };
  const codeOf = async (p: Promise<unknown>) => p.then(() => 'issued', (err: unknown) => (err instanceof DomainError ? `${err.code}: ${err.message}` : String(err)));
  const pending = async (p: Promise<unknown>) => {
    let settled = false;
    void p.then(() => (settled = true), () => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 300));
    return !settled;
  };

  it('refuses a number an issued document carries, whoever it was issued to, with 409 document_number_taken; the counter stays', async () => {
    await setFormats(demo, { purchase: 'Y{seq}{MM}' });
    const old = await issue(demo, initech);
    const seq = await counter(demo, 'purchase');
    expect(old.number).toBe(`Y${seq}12`);
    // The format changed without the check (data from before it): the counter reaches Y<seq>12 as Y{seq}.
    await setFormats(demo, { purchase: 'Y{seq}' });
    await setCounter(demo, 'purchase', BigInt(`${seq}12`) - 1n);
    const expected = `document_number_taken: The next purchase number, ${old.number}, was already issued on 2026-12-03: the purchase number format would issue it again. `
      + 'Staff with Portal Settings: change the purchase number format (e.g. a different fixed prefix), then try again.';
    expect(await codeOf(issue(demo, acme))).toBe(expected);
    // A portal request, which sees only its own customer's invoices, is refused all the same.
    expect(await codeOf(run({ kind: 'customer', partnerId: demo, customerId: acme }, (trx) => nextInvoiceNumber(trx, demo, 'purchase', at)))).toBe(expected);
    expect(await codeOf(run(partner(demo), (trx) => nextInvoiceNumbers(trx, demo, 'purchase', at, 3)))).toMatch(/^document_number_taken: The next purchase number, Y\d+12,/);
    expect(await counter(demo, 'purchase')).toBe(BigInt(`${seq}12`) - 1n);
    // The renewal job plans its numbers first: how many can be issued before the one taken.
    await setCounter(demo, 'purchase', BigInt(`${seq}12`) - 3n);
    expect(await run(partner(demo), (trx) => plannedInvoiceNumbers(trx, demo, 'purchase', at, 5)))
      .toEqual({ issuable: 2, taken: { number: old.number, issuedAt: december } });
    expect(await run(partner(demo), (trx) => plannedInvoiceNumbers(trx, demo, 'purchase', at, 2))).toEqual({ issuable: 2, taken: null });
    await setCounter(demo, 'purchase', BigInt(`${seq}12`));
    expect(await run(partner(demo), (trx) => nextInvoiceNumber(trx, demo, 'purchase', at))).toBe(`Y${seq}13`);
    await setFormats(demo, { purchase: DEFAULT_NUMBER_FORMATS.purchase });
  });

  it('refuses a credit note number an issued document carries (an invoice\'s too)', async () => {
    const { rows } = await sql<{ last: string }>`select coalesce((select last_value from credit_note_number_series where partner_id = ${north}), 0)::text as last`.execute(db.owner.db);
    const next = BigInt(rows[0]!.last) + 1n;
    // An invoice numbered as the next credit note would be: the credit notes' format was moved onto the invoices' prefix.
    await setFormats(north, { purchase: 'NW-{seq}' });
    await setCounter(north, 'purchase', next - 1n);
    const northCustomer = (await db.owner.db.selectFrom('customers').select('id').where('partnerId', '=', north).executeTakeFirstOrThrow()).id;
    expect((await issue(north, northCustomer)).number).toBe(`NW-${next}`);
    await setFormats(north, { credit_note: 'NW-{seq}', purchase: 'NW2-{seq}' });
    expect(await codeOf(run(partner(north), (trx) => nextCreditNoteNumber(trx, north, at)))).toMatch(new RegExp(`^document_number_taken: The next credit note number, NW-${next}, was already issued on 2026-12-03`));
    await setFormats(north, { credit_note: DEFAULT_NUMBER_FORMATS.credit_note, purchase: DEFAULT_NUMBER_FORMATS.purchase });
  });

  it('finds a repeated number through pages of the issued numbers, the lowest counter of the first page holding any', async () => {
    await setFormats(demo, { purchase: 'K{seq}{MM}' });
    const numbers = [];
    for (let i = 0; i < 5; i++) numbers.push((await issue(demo, acme)).number);
    const first = await counter(demo, 'purchase') - 4n;
    expect(numbers).toEqual([0n, 1n, 2n, 3n, 4n].map((i) => `K${first + i}12`));
    for (const pageSize of [1, 2, 3, 5000]) {
      // K{seq} reaches K<first>12 .. K<first+4>12 as counters <first>12 ..; from the counter after <first+1>12 only the last three.
      expect(await run(partner(demo), (trx) => repeatedNumber(trx, demo, 'K{seq}', 1n, pageSize)), String(pageSize))
        .toEqual({ number: `K${first}12`, counter: BigInt(`${first}12`), issuedAt: december });
      expect(await run(partner(demo), (trx) => repeatedNumber(trx, demo, 'K{seq}', BigInt(`${first + 1n}12`) + 1n, pageSize)))
        .toMatchObject({ number: `K${first + 2n}12` });
      expect(await run(partner(demo), (trx) => repeatedNumber(trx, demo, 'K{seq}', BigInt(`${first + 4n}12`) + 1n, pageSize))).toBeNull();
    }
    // Only numbers with the fixed prefix are read: K_ (an underscore is no LIKE wildcard here) finds none of them.
    expect(await run(partner(demo), (trx) => repeatedNumber(trx, demo, 'K_{seq}', 1n))).toBeNull();
    await setFormats(demo, { purchase: DEFAULT_NUMBER_FORMATS.purchase });
  });

  it('reads a page of the numbers with a prefix as a range of the partner\'s unique index, not every number of the partner', async () => {
    const plans = await inRolledBackOwner(db, async (client, notices) => {
      await client.query(`load 'auto_explain'`);
      await client.query('set auto_explain.log_min_duration = 0; set auto_explain.log_nested_statements = on; set auto_explain.log_level = notice; set client_min_messages = notice');
      await client.query(`select set_config('folio.scope', 'partner', true), set_config('folio.partner_id', $1, true)`, [demo]);
      await client.query(`select * from folio_document_numbers_page($1, 'invoices', 'INV-%', '^INV\\-[0-9]{4}\\-[0-9]{6,}$', '', 5000)`, [demo]);
      return notices.join('\n');
    });
    // A memcmp-ordered database (the builtin C.UTF-8 provider, ADR 0023) turns the prefix into a range of the index; on a
    // libc-collated one (CI's PostgreSQL 15, initdb --locale=C.UTF-8) the LIKE stays a filter, still on the partner's range.
    const { rows } = await sql<{ provider: string }>`select datlocprovider::text as provider from pg_database where datname = current_database()`.execute(db.owner.db);
    expect(plans).toMatch(rows[0]!.provider === 'b'
      ? /Index Scan using invoices_partner_id_number_key[^\n]*\n\s*Index Cond: \(\(partner_id = '[^']+'::text\) AND \(number >= 'INV-'::text\) AND \(number < 'INV\.'::text\)/
      : /Index Scan using invoices_partner_id_number_key[^\n]*\n\s*Index Cond: \(\(partner_id = '[^']+'::text\) AND \(number > ''::text\)\)/);
    // Another partner's numbers: refused (a staff scope sees its own partner's only).
    await expect(run(partner(north), (trx) => repeatedNumber(trx, demo, 'INV-{seq}', 1n))).rejects.toThrow(/another partner/);
  });

  it('a partner that has issued nothing may take any valid format; its counters start then, locked', async () => {
    const fresh = 'prt_numbers_fresh';
    await db.owner.db.insertInto('partners').values({ id: fresh, name: 'Fresh', slug: 'numbers-fresh', defaultCurrency: 'SGD', status: 'active' }).execute();
    const after: DocumentNumberFormats = { purchase: 'A{seq}', monthly: 'B{seq}{MM}', top_up: 'C{YY}{seq}', credit_note: 'D{seq:01}' };
    expect(await run(partner(fresh), (trx) => checkFormatsNeverRepeat(trx, fresh, DEFAULT_NUMBER_FORMATS, after, (d) => d))).toEqual([]);
    const { rows } = await sql<{ n: number }>`select (select count(*)::int from invoice_number_series where partner_id = ${fresh})
      + (select count(*)::int from credit_note_number_series where partner_id = ${fresh}) as n`.execute(db.owner.db);
    expect(rows[0]!.n).toBe(4); // created at 0 to be locked (a first document waits for the change too); the first number is 1
    expect(await run(partner(fresh), (trx) => nextInvoiceNumber(trx, fresh, 'purchase', at))).toBe('INV-2026-000001');
  });

  it('a document issued while a format changes cannot slip past the check: the change waits for it, and sees it', async () => {
    await setFormats(demo, { purchase: 'W{seq}{MM}' });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let taken!: () => void;
    const numbered = new Promise<void>((resolve) => (taken = resolve));
    const issuing = run(partner(demo), async (trx) => {
      const invoice = await issue(demo, acme, december, trx);
      taken();
      await gate;
      return invoice;
    });
    await numbered;
    const before = await run(partner(demo), (trx) => documentNumberFormats(trx, demo));
    const changing = run(partner(demo), (trx) => checkFormatsNeverRepeat(trx, demo, before, { ...before, purchase: 'W{seq}' }, (d) => d));
    expect(await pending(changing)).toBe(true); // waiting for the issuer's counter row
    release();
    const { number } = await issuing;
    expect(await changing).toEqual([{ path: 'purchase', message: expect.stringContaining(`this format would issue ${number} again`) }]);
    await setFormats(demo, { purchase: DEFAULT_NUMBER_FORMATS.purchase });
  });

  it('a document issued while a format changes waits for the change, then is numbered in the new format', async () => {
    await setFormats(demo, { purchase: 'V{seq}{MM}' });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let checked!: () => void;
    const locked = new Promise<void>((resolve) => (checked = resolve));
    const changing = run(partner(demo), async (trx) => {
      const before = await documentNumberFormats(trx, demo);
      const after = { ...before, purchase: 'V-{seq}' };
      expect(await checkFormatsNeverRepeat(trx, demo, before, after, (d) => d)).toEqual([]);
      await trx.updateTable('partnerSettings').set({ invoiceNumberFormats: JSON.stringify(after) }).where('partnerId', '=', demo).execute();
      checked();
      await gate;
    });
    await locked;
    const issuing = run(partner(demo), (trx) => nextInvoiceNumber(trx, demo, 'purchase', december));
    expect(await pending(issuing)).toBe(true); // waiting for the change's lock on the counter
    release();
    await changing;
    expect(await issuing).toMatch(/^V-\d+$/);
    await setFormats(demo, { purchase: DEFAULT_NUMBER_FORMATS.purchase });
  });
});
