import { describe, expect, it } from 'vitest';
import { DomainError } from '../platform/errors.ts';
import { parseStatementAmount, parseStatementCsv, parseStatementDate } from './statement-csv.ts';

const opts = { defaultCurrency: 'SGD' as const, today: '2026-11-30' };
const parse = (csv: string) => parseStatementCsv(csv, opts);
const failure = (csv: string) => {
  try {
    parse(csv);
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    const e = err as DomainError;
    return { code: e.code, message: e.message, paths: e.errors?.map((x) => x.path) };
  }
  throw new Error('expected a failure');
};

describe('statement dates', () => {
  it.each([
    ['2026-11-05', '2026-11-05'], ['2026/11/05', '2026-11-05'], ['05/11/2026', '2026-11-05'], ['5/1/2026', '2026-01-05'],
    ['05.11.2026', '2026-11-05'], ['05-11-2026', '2026-11-05'], ['05 Nov 2026', '2026-11-05'], ['5-Sep-2026', '2026-09-05'],
  ])('%s is %s', (text, iso) => expect(parseStatementDate(text)).toBe(iso));
  it.each(['2026-02-30', '31/04/2026', '2026-13-01', 'yesterday', '', '20261105', '05 Foo 2026'])('%s is not a date', (text) => expect(parseStatementDate(text)).toBeNull());
});

describe('statement amounts', () => {
  it.each([
    ['1234.56', 1_234_560_000n], ['1,234.56', 1_234_560_000n], ['12,345,678.9', 12_345_678_900_000n], ['+5', 5_000_000n],
    ['-1,234.56', -1_234_560_000n], ['(12.00)', -12_000_000n], ['12.00 DR', -12_000_000n], ['12.00CR', 12_000_000n], [' 7.5 ', 7_500_000n],
  ])('%s', (text, micros) => expect(parseStatementAmount(text, 'SGD')).toBe(micros));
  it('too many decimals for the currency', () => {
    expect(parseStatementAmount('12.345', 'SGD')).toMatch(/3 decimals; SGD allows at most 2/);
    expect(parseStatementAmount('1000.5', 'VND')).toMatch(/VND allows at most 0/);
    expect(parseStatementAmount('1000', 'VND')).toBe(1_000_000_000n);
  });
  it.each(['12,34.00', '1.234,56', 'abc', '', '0.00', '1e5', '12.', '999999999999.00'])('%s is refused', (text) => expect(typeof parseStatementAmount(text, 'SGD')).toBe('string'));
});

describe('parseStatementCsv', () => {
  it('reads a header in any order with name variants, quoted fields, a BOM, CRLF, and debits', () => {
    const csv = '\uFEFFBooking Date,Description,Payer Name,Amount,CCY\r\n'
      + '2026-11-02,"Payment INV-2026-000001, thanks","Acme ""Pte"" Ltd","1,250.00",SGD\r\n'
      + '02/11/2026,Bank fee,,-3.00,\r\n\r\n'
      + '2026-11-03,"multi\nline ref",Someone,10.00,usd\r\n';
    const out = parse(csv);
    expect(out.errors).toEqual([]);
    expect(out.recordCount).toBe(3);
    expect(out.lines).toEqual([
      { lineNo: 2, bookedOn: '2026-11-02', currency: 'SGD', amountMicros: 1_250_000_000n, reference: 'Payment INV-2026-000001, thanks', payerName: 'Acme "Pte" Ltd', payerAccount: null },
      { lineNo: 3, bookedOn: '2026-11-02', currency: 'SGD', amountMicros: -3_000_000n, reference: 'Bank fee', payerName: null, payerAccount: null },
      { lineNo: 5, bookedOn: '2026-11-03', currency: 'USD', amountMicros: 10_000_000n, reference: 'multi line ref', payerName: 'Someone', payerAccount: null },
    ]);
  });

  it('reads credit and debit columns, and joins several reference columns', () => {
    const out = parse('Date,Details,Reference,Debit,Credit,Account\n2026-11-01,GIRO,INV-9,,50.00,123-456\n2026-11-01,Rent,,900.00,,\n');
    expect(out.lines.map((l) => [l.amountMicros, l.reference, l.payerAccount])).toEqual([[50_000_000n, 'GIRO / INV-9', '123-456'], [-900_000_000n, 'Rent', null]]);
  });

  it('without a header: date, amount, currency, reference, payer name, payer account', () => {
    const out = parse('2026-11-01,20.00,,INV-1,Acme,ACC1\n2026-11-02,30.00,MYR,INV-2\n');
    expect(out.lines.map((l) => [l.bookedOn, l.amountMicros, l.currency, l.reference, l.payerName, l.payerAccount])).toEqual([
      ['2026-11-01', 20_000_000n, 'SGD', 'INV-1', 'Acme', 'ACC1'], ['2026-11-02', 30_000_000n, 'MYR', 'INV-2', null, null],
    ]);
  });

  it('reports every bad line by number and field, and keeps the good ones', () => {
    const csv = 'date,amount,currency,reference\n'
      + '2026-11-01,10.00,SGD,ok\n'
      + '2026-11-31,10.00,SGD,bad day\n'
      + '2026-12-25,10.00,SGD,future\n'
      + '2026-11-01,10.001,SGD,too many decimals\n'
      + '2026-11-01,10.00,XYZ,unknown currency\n'
      + '2026-11-01,ten,SGD,not a number\n'
      + 'just one cell\n'
      + `2026-11-01,1.00,SGD,${'x'.repeat(501)}\n`;
    const out = parse(csv);
    expect(out.lines.map((l) => l.lineNo)).toEqual([2]);
    expect(out.errorCount).toBe(7);
    expect(out.errors.map((e) => [e.line, e.field])).toEqual([[3, 'date'], [4, 'date'], [5, 'amount'], [6, 'currency'], [7, 'amount'], [8, 'row'], [9, 'reference']]);
    expect(out.errors[2]!.message).toMatch(/SGD allows at most 2/);
    expect(out.errors[1]!.message).toMatch(/in the future/);
  });

  it('refuses what is not a statement with a 400 naming csv', () => {
    for (const csv of ['\n\n', 'date,amount\n', 'date,reference\n2026-11-01,x\n', 'amount,reference\n1.00,x\n', 'hello world\nthis is not csv\n', '"unclosed,1\n', 'a\u0000b']) {
      const f = failure(csv);
      expect(f.code, csv).toBe('validation_failed');
      expect(f.paths?.[0], csv).toBe('csv');
    }
    expect(failure('Date,Amount\n').message).toMatch(/no lines after/);
    expect(failure('2026-11-01\n2026-11-02\n').message).toMatch(/not one line could be read/);
  });

  it('bounds the number of lines', () => {
    const csv = `date,amount\n${'2026-11-01,1.00\n'.repeat(20_001)}`;
    expect(failure(csv).message).toMatch(/at most 20000 lines/);
    expect(parse(`date,amount\n${'2026-11-01,1.00\n'.repeat(20_000)}`).lines).toHaveLength(20_000);
  });
});
