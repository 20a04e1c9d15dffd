import { describe, expect, it } from 'vitest';
import { MASK, maskSecrets } from './notification-view.ts';

describe('maskSecrets', () => {
  it('masks six-digit codes in the secret kinds', () => {
    expect(maskSecrets('two_factor_code', 'Your Folio sign-in code: 482913')).toBe(`Your Folio sign-in code: ${MASK}`);
    expect(maskSecrets('two_factor_code', 'Your sign-in code is 482913.\nIt expires in 10 minutes.')).toBe(`Your sign-in code is ${MASK}.\nIt expires in 10 minutes.`);
  });

  it('masks link tokens, to the end of the query value', () => {
    const body = 'Choose a new one here: http://localhost:3000/reset-password?token=AbC_d-9%2Fz&lang=en (valid 60 minutes)';
    expect(maskSecrets('password_reset', body)).toBe(`Choose a new one here: http://localhost:3000/reset-password?token=${MASK}&lang=en (valid 60 minutes)`);
    expect(maskSecrets('invitation', 'Join: /accept-invitation?token=xyz123456789')).toBe(`Join: /accept-invitation?token=${MASK}`);
    expect(maskSecrets('email_verification', 'Confirm: /verify-email?TOKEN=abc.')).toBe(`Confirm: /verify-email?TOKEN=${MASK}`);
  });

  it('leaves other numbers alone, and other kinds keep their six-digit numbers but never a token', () => {
    expect(maskSecrets('two_factor_code', 'call 1234567 or 12345')).toBe('call 1234567 or 12345');
    expect(maskSecrets('invoice_issued', 'Invoice 202611 is ready')).toBe('Invoice 202611 is ready');
    expect(maskSecrets('invoice_issued', 'Pay here: /pay?access_token=secret')).toBe(`Pay here: /pay?access_token=${MASK}`);
  });
});
