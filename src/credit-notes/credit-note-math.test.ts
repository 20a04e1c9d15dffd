import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DomainError } from '../platform/errors.ts';
import { computeCredit, creditableOf, creditedByLine, type InvoiceLineFacts } from './credit-note-math.ts';
import type { StoredCreditLine } from './credit-notes.db-types.ts';

const fmt = (m: bigint) => (Number(m) / 1e6).toFixed(2);
const line = (position: number, quantity: string, amountCents: number, taxCents: number, unitCostCents: number | null = null): InvoiceLineFacts => ({
  position, description: `Line ${position}`, quantity, amountMicros: BigInt(amountCents) * 10_000n, taxMicros: BigInt(taxCents) * 10_000n,
  unitCostMicros: unitCostCents === null ? null : BigInt(unitCostCents) * 10_000n, creditedAmountMicros: 0n, creditedTaxMicros: 0n, creditedQuantity: 0n, creditedAmountByQuantityMicros: 0n,
});

/** The invoice lines after these credit notes were issued (what `loadInvoiceCreditFacts` reads back). */
function after(lines: readonly InvoiceLineFacts[], notes: ReadonlyArray<{ lines: StoredCreditLine[] }>): InvoiceLineFacts[] {
  const by = creditedByLine(notes);
  return lines.map((l) => {
    const c = by.get(l.position);
    return {
      ...l, creditedAmountMicros: c?.amountMicros ?? 0n, creditedTaxMicros: c?.taxMicros ?? 0n, creditedQuantity: c?.quantity ?? 0n,
      creditedAmountByQuantityMicros: c?.amountByQuantityMicros ?? 0n,
    };
  });
}

describe('computeCredit', () => {
  it('credits by quantity with its share of tax and cost; the last unit takes exactly the remainder', () => {
    const lines = [line(1, '3', 3600, 324, 500)];
    const first = computeCredit('SGD', lines, { mode: 'lines', lines: [{ position: 1, quantity: '1' }] }, fmt);
    expect(first).toMatchObject({ subtotalMicros: 12_000_000n, taxMicros: 1_080_000n, costMicros: 5_000_000n, costKnown: 'all' });
    const rest = computeCredit('SGD', after(lines, [first]), { mode: 'whole' }, fmt);
    expect(rest.subtotalMicros + first.subtotalMicros).toBe(36_000_000n);
    expect(rest.taxMicros + first.taxMicros).toBe(3_240_000n);
    expect(rest.lines[0]!.quantity).toBe('2');
  });

  it('a third of a line, three times: the quantity left is what was not credited, not what the rounded amounts leave', () => {
    let lines = [line(1, '1', 5, 0)];
    const third = { mode: 'lines' as const, lines: [{ position: 1, quantity: '0.333333' }] };
    const notes = [computeCredit('SGD', lines, third, fmt)];
    lines = after([line(1, '1', 5, 0)], notes);
    notes.push(computeCredit('SGD', lines, third, fmt));
    lines = after([line(1, '1', 5, 0)], notes);
    expect(notes.map((n) => n.subtotalMicros)).toEqual([20_000n, 20_000n]);
    const left = computeCredit('SGD', lines, { mode: 'whole' }, fmt);
    expect(left.lines[0]).toMatchObject({ quantity: '0.333334' });
    expect(left.subtotalMicros).toBe(10_000n);
    // The rest of it, by quantity: exactly what is left, the last cent included.
    const last = computeCredit('SGD', lines, { mode: 'lines', lines: [{ position: 1, quantity: '0.333334' }] }, fmt);
    expect(last.subtotalMicros).toBe(10_000n);
    expect(() => computeCredit('SGD', lines, { mode: 'lines', lines: [{ position: 1, quantity: '0.333335' }] }, fmt)).toThrow(/0\.333334 left to credit/);
  });

  it('refuses more than a line has left, and more than the invoice has left', () => {
    const lines = [line(1, '2', 2000, 0)];
    expect(() => computeCredit('SGD', lines, { mode: 'lines', lines: [{ position: 1, quantity: '2.5' }] }, fmt)).toThrow(DomainError);
    expect(() => computeCredit('SGD', lines, { mode: 'amount', amountMicros: 20_010_000n }, fmt)).toThrow(/left to credit/);
  });

  it('property: any sequence of credit notes never exceeds the invoice, per line and in total, and whole takes exactly what is left', () => {
    const lineArb = fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 50_000 }), fc.integer({ min: 0, max: 900 }));
    const reqArb = fc.oneof(
      fc.record({ kind: fc.constant('amount' as const), cents: fc.integer({ min: 1, max: 60_000 }) }),
      fc.record({ kind: fc.constant('qty' as const), pos: fc.nat(3), q: fc.integer({ min: 1, max: 5 }) }),
      fc.record({ kind: fc.constant('net' as const), pos: fc.nat(3), cents: fc.integer({ min: 1, max: 50_000 }) }),
    );
    fc.assert(fc.property(fc.array(lineArb, { minLength: 1, maxLength: 4 }), fc.array(reqArb, { maxLength: 8 }), (spec, reqs) => {
      const lines = spec.map(([q, cents, taxBps], i) => line(i + 1, String(q), cents, Math.round((cents * taxBps) / 10_000)));
      const total = lines.reduce((s, l) => s + l.amountMicros + l.taxMicros, 0n);
      const notes: ComputedLike[] = [];
      for (const r of reqs) {
        const now = after(lines, notes);
        const request = r.kind === 'amount' ? { mode: 'amount' as const, amountMicros: BigInt(r.cents) * 10_000n }
          : { mode: 'lines' as const, lines: [r.kind === 'qty' ? { position: (r.pos % lines.length) + 1, quantity: String(r.q) } : { position: (r.pos % lines.length) + 1, amount: (r.cents / 100).toFixed(2) }] };
        try {
          notes.push(computeCredit('SGD', now, request, fmt));
        } catch (err) {
          if (!(err instanceof DomainError)) throw err;
        }
        const left = after(lines, notes);
        for (const l of left) {
          expect(l.creditedAmountMicros).toBeLessThanOrEqual(l.amountMicros);
          expect(l.creditedTaxMicros).toBeLessThanOrEqual(l.taxMicros);
        }
        expect(creditableOf(left).totalMicros).toBe(total - notes.reduce((s, n) => s + n.totalMicros, 0n));
      }
      const left = after(lines, notes);
      if (creditableOf(left).totalMicros > 0n) {
        const whole = computeCredit('SGD', left, { mode: 'whole' }, fmt);
        expect(whole.totalMicros).toBe(creditableOf(left).totalMicros);
      }
    }), { numRuns: 300 });
  });
});

type ComputedLike = { lines: StoredCreditLine[]; totalMicros: bigint };
