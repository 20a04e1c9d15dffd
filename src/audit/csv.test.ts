import { describe, expect, it } from 'vitest';
import { csvCell, csvRow } from './csv.ts';

describe('CSV (RFC 4180) with formula-injection guard', () => {
  it('quotes fields with commas, quotes and line breaks, doubling quotes; ends rows with CRLF', () => {
    expect(csvRow(['plain', 'a,b', 'say "hi"', 'two\nlines', 'cr\r', null, undefined, 42])).toBe('plain,"a,b","say ""hi""","two\nlines","cr\r",,,42\r\n');
  });

  it('prefixes cells a spreadsheet would run as a formula with a single quote', () => {
    expect(csvCell('=HYPERLINK("http://evil","x")')).toBe(`"'=HYPERLINK(""http://evil"",""x"")"`);
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-2+3')).toBe("'-2+3");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\tcmd')).toBe("'\tcmd");
    expect(csvCell('a=b')).toBe('a=b');
    expect(csvCell('')).toBe('');
  });

  it('leaves numbers as numbers', () => {
    expect(csvCell(-5)).toBe('-5');
  });
});
