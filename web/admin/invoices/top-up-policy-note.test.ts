import { describe, expect, it } from 'vitest';
import { topUpPolicyNote, type InvoiceTopUpPolicy } from './top-up-policy-note.ts';

const base: InvoiceTopUpPolicy = {
  versionId: null, currency: 'SGD', effectiveFrom: null, source: 'default', minimum: '0.00', feeThreshold: '20.00', fee: '1.00', upcoming: null,
};
const SGD = (cents: bigint) => cents * 10_000n;

describe('the draft editor\'s words for the top-up policy', () => {
  it('says the fee below the threshold, and what it adds to this draft; none at the threshold', () => {
    expect(topUpPolicyNote(base, SGD(15_00n))).toEqual({
      rules: ['Below SGD 20.00 an admin fee of SGD 1.00 is added when issued.'],
      thisOne: 'Issued today, this one asks for SGD 15.00 of points + SGD 1.00 admin fee = SGD 16.00.',
      upcoming: null,
    });
    expect(topUpPolicyNote(base, SGD(20_00n)).thisOne).toBeNull();
    expect(topUpPolicyNote(base, null).thisOne).toBeNull();
    expect(topUpPolicyNote(base, 0n).thisOne).toBeNull();
  });

  it('says the minimum and refuses below it; names the next version by its date', () => {
    const aud: InvoiceTopUpPolicy = {
      ...base, currency: 'AUD', source: 'partner', versionId: 'tpv_x', effectiveFrom: '2026-12-07', minimum: '10.00', feeThreshold: '30.00', fee: '2.00',
      upcoming: { versionId: 'tpv_y', currency: 'AUD', effectiveFrom: '2026-12-08', source: 'partner', minimum: '0.00', feeThreshold: '0.00', fee: '0.00' },
    };
    const note = topUpPolicyNote(aud, 9_990_000n);
    expect(note.rules).toEqual(['The minimum top-up is AUD 10.00: a smaller one is refused when issued.', 'Below AUD 30.00 an admin fee of AUD 2.00 is added when issued.']);
    expect(note.thisOne).toBe('This one buys AUD 9.99 of points, below the minimum: issuing it today is refused.');
    expect(note.upcoming).toMatch(/^From .*2026: no minimum and no admin fee\.$/);
    expect(topUpPolicyNote(aud, 10_000_000n).thisOne).toBe('Issued today, this one asks for AUD 10.00 of points + AUD 2.00 admin fee = AUD 12.00.');
  });

  it('with no minimum and no fee, says so', () => {
    expect(topUpPolicyNote({ ...base, currency: 'HKD', feeThreshold: '0.00', fee: '0.00' }, 5_000_000n)).toEqual({
      rules: ['No minimum and no admin fee apply to a top-up in HKD today.'], thisOne: null, upcoming: null,
    });
  });
});
