import { describe, expect, it } from 'vitest';
import { anchorPoint, firstPeriod, isoDay, periodAfter, reactivationDeadline, renewalDueAt, wholeMonthsBetween } from './periods.ts';
import { computeRefund } from './refunds.ts';
import { quoteOf, type ChargeLine } from './pricing.ts';

const d = (s: string) => new Date(`${s}T00:00:00Z`);

describe('periods follow the anchor', () => {
  it('a 31st anchor is clamped in short months without drifting', () => {
    const { anchor, start, end } = firstPeriod(new Date('2026-01-31T22:15:00Z'), 'monthly');
    expect([isoDay(anchor), isoDay(start), isoDay(end)]).toEqual(['2026-01-31', '2026-01-31', '2026-02-28']);
    const next = periodAfter(anchor, 'monthly', end);
    expect([isoDay(next.start), isoDay(next.end)]).toEqual(['2026-02-28', '2026-03-31']);
    expect(isoDay(periodAfter(anchor, 'monthly', next.end).end)).toBe('2026-04-30');
    expect(isoDay(anchorPoint(anchor, 'monthly', 13))).toBe('2027-02-28');
  });

  it('a 29 Feb yearly anchor lands on 28 Feb in common years and back on 29 Feb in leap years', () => {
    const anchor = d('2028-02-29');
    expect([1, 2, 3, 4].map((k) => isoDay(anchorPoint(anchor, 'yearly', k)))).toEqual(['2029-02-28', '2030-02-28', '2031-02-28', '2032-02-29']);
  });

  it('refuses a boundary that is not on the anchor', () => {
    expect(() => periodAfter(d('2026-01-31'), 'monthly', d('2026-03-01'))).toThrow(/not on the anchor/);
  });

  it('renewal 7 days before expiry; reactivation until the end of day 28 after it', () => {
    expect(isoDay(renewalDueAt(d('2026-03-03')))).toBe('2026-02-24');
    expect(reactivationDeadline(d('2026-02-28')).toISOString()).toBe('2026-03-28T00:00:00.000Z');
  });

  it('counts whole months with the day of month kept', () => {
    expect(wholeMonthsBetween(d('2026-05-20'), d('2027-01-15'))).toBe(7);
    expect(wholeMonthsBetween(d('2026-05-15'), d('2027-01-15'))).toBe(8);
    expect(wholeMonthsBetween(d('2026-01-31'), d('2026-02-28'))).toBe(1); // the same clamping as the periods
    expect(wholeMonthsBetween(d('2026-02-01'), d('2026-02-28'))).toBe(0);
    expect(wholeMonthsBetween(d('2026-01-31'), d('2026-03-31'))).toBe(2);
    expect(wholeMonthsBetween(d('2026-03-10'), d('2026-03-01'))).toBe(0);
  });
});

describe('tax once per invoice', () => {
  const line = (amount: bigint, taxable = true, kind: ChargeLine['kind'] = 'subscription'): ChargeLine =>
    ({ kind, description: 'x', amountMicros: amount, costMicros: 0n, taxable, taxCategory: taxable ? 'standard' : 'zero_rated', priceId: 'prc_x', productId: 'prd_x', variantId: 'var_x', quantity: 1, unitPriceMicros: amount });

  it('rounds the invoice tax once and spreads it so the lines add up to it', () => {
    const q = quoteOf('SGD', [line(30_150_000n), line(50_000n, true, 'activation_fee'), line(5_000_000n, false)], 900);
    expect(q.taxMicros).toBe(2_720_000n); // 9% of 30.20 = 2.718 -> 2.72
    expect(q.lineTaxMicros).toEqual([2_720_000n, 0n, 0n]);
    expect(q.totalMicros).toBe(30_150_000n + 50_000n + 5_000_000n + 2_720_000n);
    const many = quoteOf('SGD', [line(1_010_000n), line(1_010_000n), line(1_010_000n)], 900);
    expect(many.taxMicros).toBe(270_000n); // 9% of 3.03 = 0.2727 -> 0.27 (per line: 3 x 0.09 = 0.27)
    expect(many.lineTaxMicros.reduce((s, x) => s + x, 0n)).toBe(many.taxMicros);
  });

  it('VND has no minor unit', () => {
    expect(quoteOf('VND', [line(123_456_000_000n)], 1000).taxMicros).toBe(12_346_000_000n);
  });
});

describe('refund rule (docs/adr/0010)', () => {
  const yearly = { kind: 'purchase' as const, periodStart: d('2026-01-15'), periodEnd: d('2027-01-15'), priceMicros: 120_000_000n, activationFeeMicros: 10_000_000n, taxMicros: 11_700_000n, costMicros: 50_000_000n };

  it('in full within 14 days of the last charge, fee and tax included', () => {
    const r = computeRefund({ currency: 'SGD', cycle: 'yearly', now: new Date('2026-01-28T23:59:59Z'), periodStart: d('2026-01-15'), periodEnd: d('2027-01-15'), lastChargedAt: new Date('2026-01-15T09:00:00Z'), charges: [yearly] });
    expect(r).toEqual({ rule: 'full', months: 0, priceMicros: 130_000_000n, taxMicros: 11_700_000n, costMicros: 50_000_000n });
  });

  it('after that, whole months of the price part; tax and cost in proportion, each rounded once', () => {
    const r = computeRefund({ currency: 'SGD', cycle: 'yearly', now: new Date('2026-05-20T12:00:00Z'), periodStart: d('2026-01-15'), periodEnd: d('2027-01-15'), lastChargedAt: new Date('2026-01-15T09:00:00Z'), charges: [yearly] });
    // 120 x 7/12 = 70.00; tax 11.70 x 70/130 = 6.30; cost 50 x 70/120 = 29.1666 -> 29.17
    expect(r).toEqual({ rule: 'whole_months', months: 7, priceMicros: 70_000_000n, taxMicros: 6_300_000n, costMicros: 29_170_000n });
  });

  it('a pro rata add-on charge counts at its full-period equivalent, never more than it took', () => {
    // An add-on of 24.00/year bought with 100 of 365 days left took 6.58; 2 whole months left refund 24 x 2/12 = 4.00.
    const addOn = { kind: 'add_on' as const, periodStart: d('2026-10-07'), periodEnd: d('2027-01-15'), priceMicros: 6_580_000n, activationFeeMicros: 0n, taxMicros: 0n, costMicros: 0n };
    const r = computeRefund({ currency: 'SGD', cycle: 'yearly', now: new Date('2026-11-14T00:00:00Z'), periodStart: d('2026-01-15'), periodEnd: d('2027-01-15'), lastChargedAt: d('2026-01-15'), charges: [{ ...addOn }] });
    expect(r.months).toBe(2);
    expect(r.priceMicros).toBe(4_000_000n);
    // With 3 whole months left the equivalent (6.00) still fits; it never exceeds what the charge took.
    const late = computeRefund({ currency: 'SGD', cycle: 'yearly', now: new Date('2026-10-08T00:00:00Z'), periodStart: d('2026-01-15'), periodEnd: d('2027-01-15'), lastChargedAt: d('2026-01-15'), charges: [{ ...addOn }] });
    expect(late.months).toBe(3);
    expect(late.priceMicros <= addOn.priceMicros).toBe(true);
  });
});
