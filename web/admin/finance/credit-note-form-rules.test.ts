import { describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/api.ts';
import { creditFieldError, creditFieldMessage, limitProblem, outcomeLimit, shownQuantity, startingChoice } from './credit-note-form-rules.ts';

const limits = (total: string, reduceDue: string, pointsOrRefund: string, card = '0.00') => ({ notCreditableReason: null, total, reduceDue, pointsOrRefund, card });

describe('the choice a credit note form opens on', () => {
  it('an unpaid invoice: the whole of it off the amount due', () => {
    expect(startingChoice(limits('38.15', '38.15', '0.00'))).toEqual({ outcome: 'reduce_due', mode: 'whole', amount: '' });
  });
  it('a paid invoice: the whole of it to points', () => {
    expect(startingChoice(limits('40.00', '0.00', '40.00'))).toEqual({ outcome: 'points', mode: 'whole', amount: '' });
  });
  it('a partly paid invoice (38.15, 20.00 paid): a custom amount at the most the amount due takes', () => {
    expect(startingChoice(limits('38.15', '18.15', '20.00'))).toEqual({ outcome: 'reduce_due', mode: 'amount', amount: '18.15' });
  });
  it('nothing due, part of it paid back already: a custom amount to points', () => {
    expect(startingChoice(limits('38.15', '0.00', '5.00'))).toEqual({ outcome: 'points', mode: 'amount', amount: '5.00' });
  });
});

describe('the outcome limit', () => {
  const c = limits('38.15', '18.15', '20.00', '10.00');
  it('is the outcome’s own', () => {
    expect(outcomeLimit(c, 'reduce_due', 'bank_transfer')).toBe('18.15');
    expect(outcomeLimit(c, 'points', 'bank_transfer')).toBe('20.00');
    expect(outcomeLimit(c, 'refund', 'card')).toBe('10.00');
    expect(outcomeLimit(c, 'refund', 'cheque')).toBe('20.00');
  });
  it('is said in words when the total is above it', () => {
    expect(limitProblem('38.15', '18.15', 'SGD')).toBe('At most SGD 18.15 for this outcome');
    expect(limitProblem('18.15', '18.15', 'SGD')).toBeNull();
    expect(limitProblem('1.00', '0.00', 'SGD')).toMatch(/allows nothing/);
  });
});

describe('server field messages in words', () => {
  it('names outcomes by their labels and amounts as the app writes them', () => {
    expect(creditFieldMessage('reduce_due: at most 18.15 SGD')).toBe('Reduce the amount due: at most SGD 18.15');
    expect(creditFieldMessage('card: at most 1200.00 SGD')).toBe('Refund to the card: at most SGD 1,200.00');
    expect(creditFieldMessage('at most 20.00 SGD')).toBe('At most SGD 20.00');
    expect(creditFieldMessage('choose reduce_due, points or refund to issue')).toBe('Choose an outcome to issue');
  });
  it('drops the field name before the message', () => {
    expect(creditFieldMessage('amount: at most 2 decimals for SGD', 'amount')).toBe('At most 2 decimals for SGD');
    const e = new ApiError(400, 'validation_failed', 'amount: at most 2 decimals for SGD', [{ path: 'amount', message: 'amount: at most 2 decimals for SGD' }]);
    expect(creditFieldError(e, 'amount')).toBe('At most 2 decimals for SGD');
    expect(creditFieldError(e, 'outcome')).toBeUndefined();
  });
});

describe('credited quantities', () => {
  it('a pro-rated remainder to 2 decimals (the exact one kept), a plain one as it is', () => {
    expect(shownQuantity('0.868857', '1')).toEqual({ text: '≈ 0.87', exact: '0.868857' });
    expect(shownQuantity('2', '2')).toEqual({ text: '2', exact: null });
    expect(shownQuantity('1.5', '3')).toEqual({ text: '1.5', exact: null });
  });
  it('as many decimals as the invoiced quantity has, when more than 2', () => {
    expect(shownQuantity('0.868857', '1.125')).toEqual({ text: '≈ 0.869', exact: '0.868857' });
    expect(shownQuantity('0.999999', '1')).toEqual({ text: '≈ 1', exact: '0.999999' });
  });
});
