import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, auditEventsOf, createTestApp, signIn, type Session, type TestApp } from '../test/harness.ts';
import { parseCsvRecords, validateRateCsv } from './rate-csv.ts';

let t: TestApp;
let admin: Session;

beforeAll(async () => {
  t = await createTestApp();
  admin = await signIn(t, 'admin@demo.test');
});
afterAll(async () => t.close());

type ImportView = {
  id: string; status: string; rowCount: number; validCount: number; invalidRowCount: number; errorCount: number; processedRows: number; rowsToImport: number;
  errors: Array<{ line: number; column: string; message: string }>; onlyValidRows: boolean | null; failure: string | null;
};

async function plan(name: string, currency = 'SGD'): Promise<string> {
  const res = await api(t, admin, 'POST', '/api/v1/rate-plans', { name, currency, increment: '60/60' });
  expect(res.statusCode).toBe(201);
  return res.json().id;
}
const upload = (planId: string, csv: string, who: Session = admin) => api(t, who, 'POST', `/api/v1/rate-plans/${planId}/imports`, { fileName: 'rates.csv', csv });
const apply = (importId: string, payload: unknown = {}, who: Session = admin) => api(t, who, 'POST', `/api/v1/rate-imports/${importId}/apply`, payload);
const rates = async (planId: string, query = '') => (await api(t, admin, 'GET', `/api/v1/rate-plans/${planId}/rates?limit=200${query}`)).json<{ data: Array<{ prefix: string; description: string | null; pricePerMinute: string; costPerMinute: string; currency: string; taxCategory: string }>; nextCursor: string | null }>();

describe('CSV parsing', () => {
  it('reads quoted fields, escaped quotes, CRLF, a BOM and blank lines, keeping each record\'s line number', () => {
    const text = '\ufeffprefix,description,price,cost\r\n82,"Korea, Republic of",0.05,0.02\r\n\r\n1,"The ""US""\nmainland",0.02,0.008\n44,UK,0.05,0.02';
    expect(parseCsvRecords(text)).toEqual([
      { line: 1, cells: ['prefix', 'description', 'price', 'cost'] },
      { line: 2, cells: ['82', 'Korea, Republic of', '0.05', '0.02'] },
      { line: 4, cells: ['1', 'The "US"\nmainland', '0.02', '0.008'] },
      { line: 6, cells: ['44', 'UK', '0.05', '0.02'] },
    ]);
    expect(() => parseCsvRecords('1,"open,0.1,0.1')).toThrow(/not closed/);
  });

  it('accepts the columns in any order under a header, and reports each bad cell with line and column', () => {
    const ok = validateRateCsv('Cost Per Minute,Prefix,Price,Destination\n0.01,65,0.03,Singapore\n', 'SGD');
    expect(ok).toMatchObject({ rowCount: 1, errorCount: 0, valid: [{ prefix: '65', description: 'Singapore', pricePerMinuteMicros: 30_000n, costPerMinuteMicros: 10_000n }] });
    const bad = validateRateCsv([
      '65,Singapore,0.03,0.01',
      '6x,Bad prefix,0.03,0.01',
      '66,Thailand,-0.03,0.01',
      '67,Too fine,0.0000001,0.01',
      '65,Duplicate,0.03,0.01',
      '68,Short row,0.03',
      '69,Not numbers,abc,',
      '70,Too dear,20000,0.01',
      '71,Fine,0.123456,0.1',
    ].join('\n'), 'SGD');
    expect(bad.rowCount).toBe(9);
    expect(bad.valid.map((r) => r.prefix)).toEqual(['65', '71']);
    expect(bad.invalidRowCount).toBe(7);
    expect(bad.errors).toEqual([
      { line: 2, column: 'prefix', message: '1 to 15 digits' },
      { line: 3, column: 'pricePerMinute', message: 'must not be negative' },
      { line: 4, column: 'pricePerMinute', message: 'more than 6 decimals' },
      { line: 5, column: 'prefix', message: 'duplicate of line 1' },
      { line: 6, column: 'row', message: '3 columns, expected 4 (or 5 with the tax category)' },
      { line: 7, column: 'pricePerMinute', message: '"abc" is not a number' },
      { line: 7, column: 'costPerMinute', message: 'missing' },
      { line: 8, column: 'pricePerMinute', message: 'more than 10000.00 per minute' },
    ]);
    expect(bad.errorCount).toBe(8);
    expect(() => validateRateCsv('prefix,price,cost,colour\n1,1,1,red', 'SGD')).toThrow(/colour/);
    expect(() => validateRateCsv('prefix,description\n1,x', 'SGD')).toThrow(/missing pricePerMinute, costPerMinute/);
    expect(() => validateRateCsv('prefix,description,price,cost\n\n', 'SGD')).toThrow(/no rates/);
  });

  it('reads an optional tax category per rate (header or fifth column; blank is standard) and names a bad one', () => {
    const headed = validateRateCsv('prefix,description,price,cost,Tax Category\n65,Singapore,0.03,0.01,standard\n1,United States,0.02,0.008,Zero-Rated\n44,UK,0.05,0.02,\n61,Australia,0.05,0.02,ZERO', 'SGD');
    expect(headed.errorCount).toBe(0);
    expect(headed.valid.map((r) => [r.prefix, r.taxCategory])).toEqual([['65', 'standard'], ['1', 'zero_rated'], ['44', 'standard'], ['61', 'zero_rated']]);
    // Without a header, a row's fifth column is its tax category; a row of four is standard.
    const bare = validateRateCsv('65,Singapore,0.03,0.01\n1,United States,0.02,0.008,zero_rated\n44,UK,0.05,0.02,standard\n61,Australia,0.05,0.02,zero,extra', 'SGD');
    expect(bare.valid.map((r) => [r.prefix, r.taxCategory])).toEqual([['65', 'standard'], ['1', 'zero_rated'], ['44', 'standard']]);
    expect(bare.errors).toEqual([{ line: 4, column: 'row', message: '6 columns, expected 4 (or 5 with the tax category)' }]);
    const bad = validateRateCsv('prefix,price,cost,tax\n65,0.03,0.01,exempt\n1,0.02,0.008,9%\n44,0.05,0.02,zero_rated', 'SGD');
    expect(bad.valid.map((r) => r.prefix)).toEqual(['44']);
    expect(bad.errors).toEqual([
      { line: 2, column: 'taxCategory', message: '"exempt": standard or zero_rated' },
      { line: 3, column: 'taxCategory', message: '"9%": standard or zero_rated' },
    ]);
  });
});

describe('rate table import', () => {
  it('imports a clean file: validated first, nothing changed until applied, then the table replaced and audited', async () => {
    const id = await plan('Import clean');
    await api(t, admin, 'PUT', `/api/v1/rate-plans/${id}/rates`, { rates: [{ prefix: '99', pricePerMinute: '1', costPerMinute: '0.5' }] });
    const up = await upload(id, 'prefix,description,pricePerMinute,costPerMinute\n65,Singapore fixed,0.03,0.01\n"659","Singapore, mobile",0.06,0.025\n');
    expect(up.statusCode).toBe(201);
    expect(up.json()).toMatchObject({ id: expect.stringMatching(/^rim_/), ratePlanId: id, fileName: 'rates.csv', status: 'validated', rowCount: 2, validCount: 2, errorCount: 0, errors: [], processedRows: 0 });
    expect((await rates(id)).data.map((r) => r.prefix)).toEqual(['99']);
    expect((await auditEventsOf(t.db, 'rate_plan.import_uploaded'))[0]).toMatchObject({ app: 'product', targetId: id, changes: { rowCount: { after: 2 }, errorCount: { after: 0 } } });

    const done = await apply(up.json().id);
    expect(done.statusCode).toBe(200);
    expect(done.json()).toMatchObject({ import: { status: 'imported', processedRows: 2, onlyValidRows: false, completedAt: expect.any(String) }, ratePlan: { id, rateCount: 2, ratesVersion: 3 } });
    expect((await rates(id)).data).toEqual([
      { prefix: '65', description: 'Singapore fixed', pricePerMinute: '0.030000', costPerMinute: '0.010000', currency: 'SGD', taxCategory: 'standard' },
      { prefix: '659', description: 'Singapore, mobile', pricePerMinute: '0.060000', costPerMinute: '0.025000', currency: 'SGD', taxCategory: 'standard' },
    ]);
    expect((await auditEventsOf(t.db, 'rate_plan.rates_imported'))[0]).toMatchObject({
      targetId: id, changes: { rateCount: { before: 1, after: 2 }, ratesVersion: { before: 2, after: 3 }, skippedRows: { after: 0 }, ratesDigest: { after: expect.stringMatching(/^[0-9a-f]{64}$/) } },
    });
    // Applied once only.
    expect((await apply(up.json().id)).json()).toMatchObject({ status: 409, code: 'state_conflict' });

    // A file naming zero-rated destinations: listed back as such, and the table's digest says so.
    const zero = await upload(id, 'prefix,description,pricePerMinute,costPerMinute,taxCategory\n65,Singapore fixed,0.03,0.01,standard\n1,United States,0.02,0.008,zero_rated\n');
    expect(zero.json()).toMatchObject({ status: 'validated', validCount: 2, errorCount: 0 });
    expect((await apply(zero.json().id)).statusCode).toBe(200);
    expect((await rates(id)).data.map((r) => [r.prefix, r.taxCategory])).toEqual([['1', 'zero_rated'], ['65', 'standard']]);
    const events = (await auditEventsOf(t.db, 'rate_plan.rates_imported')).filter((e) => e.targetId === id).map((e) => e.changes as { ratesDigest: { after: string }; zeroRatedCount: unknown });
    expect(new Set(events.map((e) => e.ratesDigest.after)).size).toBe(2);
    expect(events.map((e) => e.zeroRatedCount)).toEqual([{ before: 0, after: 1 }, { before: 0, after: 0 }]);

    // A file that reads differently at apply than at upload (rules of another server version) is not applied.
    const stale = await upload(id, 'prefix,pricePerMinute,costPerMinute\n65,0.03,0.01\n');
    await t.db.owner.db.updateTable('rateImports').set({ csv: 'prefix,pricePerMinute,costPerMinute\n65,0.03,0.01\n44,0.05,0.02\n' }).where('id', '=', stale.json().id).execute();
    expect((await apply(stale.json().id)).json()).toMatchObject({ status: 409, code: 'state_conflict' });
    expect((await rates(id)).data.map((r) => [r.prefix, r.taxCategory])).toEqual([['1', 'zero_rated'], ['65', 'standard']]);
    const stored = await t.db.owner.db.selectFrom('rateImports').select('csv').where('id', '=', up.json().id).executeTakeFirstOrThrow();
    expect(stored.csv).toBeNull();
  });

  it('imports nothing from a file with errors unless asked for only the valid rows', async () => {
    const id = await plan('Import errors');
    const up = await upload(id, 'prefix,description,price,cost\n65,Singapore,0.03,0.01\n44,UK,-0.05,0.02\n1,US,0.02,0.008\n');
    expect(up.json()).toMatchObject({ status: 'validated', rowCount: 3, validCount: 2, invalidRowCount: 1, errorCount: 1, errors: [{ line: 3, column: 'pricePerMinute', message: 'must not be negative' }] });
    const refused = await apply(up.json().id);
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({ code: 'import_has_errors', errors: [{ path: 'onlyValidRows' }] });
    expect((await rates(id)).data).toEqual([]);
    expect((await api(t, admin, 'GET', `/api/v1/rate-imports/${up.json().id}`)).json()).toMatchObject({ status: 'validated', processedRows: 0 });

    const done = await apply(up.json().id, { onlyValidRows: true });
    expect(done.statusCode).toBe(200);
    expect(done.json().import).toMatchObject({ status: 'imported', onlyValidRows: true, processedRows: 2 });
    expect((await rates(id)).data.map((r) => r.prefix)).toEqual(['1', '65']);
    expect((await auditEventsOf(t.db, 'rate_plan.rates_imported'))[0]?.changes).toMatchObject({ onlyValidRows: { after: true }, skippedRows: { after: 1 } });

    const list = await api(t, admin, 'GET', `/api/v1/rate-plans/${id}/imports`);
    expect(list.json().data.map((i: ImportView) => [i.id, i.status])).toEqual([[up.json().id, 'imported']]);
    const badCursor = await api(t, admin, 'GET', `/api/v1/rate-plans/${id}/imports?cursor=garbage`);
    expect(badCursor.statusCode).toBe(400);
    expect(badCursor.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'cursor', message: 'a rim_ id' }] });
  });

  it('refuses a file with no valid rows, file-level problems and bad bodies', async () => {
    const id = await plan('Import bad');
    const none = await upload(id, '1,x,-1,0\n');
    expect(none.json()).toMatchObject({ validCount: 0, errorCount: 1 });
    expect((await apply(none.json().id, { onlyValidRows: true })).statusCode).toBe(422);
    for (const [payload, path] of [
      [{ fileName: 'a.csv', csv: 'prefix,description\n1,x' }, 'csv'],
      [{ fileName: 'a.csv', csv: '\n\n' }, 'csv'],
      [{ fileName: 'a.csv', csv: '' }, 'csv'],
      [{ fileName: '', csv: '1,a,1,1' }, 'fileName'],
      [{ csv: '1,a,1,1' }, 'fileName'],
    ] as const) {
      const res = await api(t, admin, 'POST', `/api/v1/rate-plans/${id}/imports`, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().errors.map((e: { path: string }) => e.path)).toContain(path);
    }
    const tooMany = Array.from({ length: 50_001 }, (_, i) => `${1_000_000 + i},,0.01,0.001`).join('\n');
    const big = await upload(id, tooMany);
    expect(big.statusCode).toBe(400);
    expect(big.json().detail).toMatch(/at most 50000/);
    expect((await apply(none.json().id, { onlyValidRows: 'yes' })).statusCode).toBe(400);
  });

  it('imports 50,000 rows through the API, with progress visible while it runs', async () => {
    const id = await plan('Import big');
    const lines = ['prefix,description,pricePerMinute,costPerMinute'];
    for (let i = 0; i < 50_000; i++) lines.push(`${100000 + i},"Destination ${i}",0.${String(i % 1000).padStart(4, '0')},0.0010`);
    const up = await upload(id, lines.join('\n'));
    expect(up.statusCode).toBe(201);
    expect(up.json()).toMatchObject({ status: 'validated', rowCount: 50_000, validCount: 50_000, errorCount: 0 });

    const seen = new Set<string>();
    let running = true;
    const poller = (async () => {
      while (running) {
        const view = (await api(t, admin, 'GET', `/api/v1/rate-imports/${up.json().id}`)).json<ImportView>();
        seen.add(`${view.status}:${view.processedRows}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const done = await apply(up.json().id);
    running = false;
    await poller;
    expect(done.statusCode).toBe(200);
    expect(done.json()).toMatchObject({ import: { status: 'imported', processedRows: 50_000 }, ratePlan: { rateCount: 50_000 } });
    // Some intermediate progress was visible to the poller (a part of the rows written, the import still running).
    expect([...seen].some((s) => /^importing:[1-9]\d*$/.test(s) && !s.endsWith(':50000'))).toBe(true);
    const page = await rates(id, '&prefix=14999');
    expect(page.data.map((r) => r.prefix)).toEqual(['149990', '149991', '149992', '149993', '149994', '149995', '149996', '149997', '149998', '149999']);
    const count = await t.db.owner.db.selectFrom('rates').select((eb) => eb.fn.countAll<string>().as('n')).where('ratePlanId', '=', id).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(50_000);
  }, 120_000);

  it('is the Product app\'s: 403 without it, 404 for another partner\'s plan or import', async () => {
    const id = await plan('Import access');
    const up = await upload(id, '65,Singapore,0.03,0.01\n');
    const finance = await signIn(t, 'finance@demo.test');
    expect((await upload(id, '65,Singapore,0.03,0.01\n', finance)).statusCode).toBe(403);
    expect((await apply(up.json().id, {}, finance)).statusCode).toBe(403);
    expect((await api(t, finance, 'GET', `/api/v1/rate-imports/${up.json().id}`)).statusCode).toBe(403);
    const north = await signIn(t, 'admin@northwind.test');
    expect((await upload(id, '65,Singapore,0.03,0.01\n', north)).statusCode).toBe(404);
    expect((await apply(up.json().id, {}, north)).statusCode).toBe(404);
    expect((await api(t, north, 'GET', `/api/v1/rate-imports/${up.json().id}`)).statusCode).toBe(404);
    expect((await api(t, north, 'GET', `/api/v1/rate-plans/${id}/imports`)).statusCode).toBe(404);
    expect((await api(t, admin, 'GET', `/api/v1/rate-imports/${up.json().id}`)).json()).toMatchObject({ status: 'validated' });
  });
});
